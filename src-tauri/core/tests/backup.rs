//! Backing up while the app writes, and restoring: the data as it was at the backup, the
//! keychain's secrets still usable in the same workspace, another workspace's backup said so;
//! every file that cannot be restored refused with the data left as it was.

mod support;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use pitchbar_core::workspace::Role;
use pitchbar_core::Error;
use support::endpoints::input;
use support::workspace::{member_input, owner_core};

fn names(core: &pitchbar_core::Core) -> (String, Vec<String>) {
    let s = core.workspaces().session().unwrap().unwrap();
    (
        s.workspace.name,
        s.members.into_iter().map(|m| m.name).collect(),
    )
}

#[test]
fn a_backup_made_while_writing_restores_the_workspace_as_it_was() {
    support::require::keychain();
    let (dir, core, owner) = owner_core();
    let core = Arc::new(core);
    let ep = core
        .webhook_endpoints()
        .create(&owner, input("https://crm.example.com/hooks"))
        .unwrap();
    let secret = core
        .webhook_endpoints()
        .reveal_secret(&owner, &ep.id)
        .unwrap();
    let gone = core
        .webhook_endpoints()
        .create(&owner, input("https://old.example.com/hooks"))
        .unwrap();

    // Writes go on while the backup is made (the app keeps running).
    let writing = Arc::new(AtomicBool::new(true));
    let writer = {
        let (core, writing) = (core.clone(), writing.clone());
        std::thread::spawn(move || {
            let owner = core.workspaces().actor().unwrap();
            let mut n = 0;
            while writing.load(Ordering::SeqCst) {
                core.agents()
                    .create(
                        &owner,
                        pitchbar_core::agents::AgentInput {
                            name: format!("Agent {n}"),
                            lead_fields: Vec::new(),
                        },
                    )
                    .unwrap();
                n += 1;
            }
            n
        })
    };
    let out = tempfile::tempdir().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(50));
    let path = core.backups().back_up(&owner, out.path()).unwrap();
    writing.store(false, Ordering::SeqCst);
    let written = writer.join().unwrap();
    assert!(written > 0);
    let name = path.file_name().unwrap().to_str().unwrap();
    assert!(
        name.starts_with("pitchbar-backup-") && name.ends_with(".db"),
        "{name}"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "a backup is its owner's only");
    }
    let info = core.backups().inspect(&path).unwrap();
    assert!(info.same_workspace);
    assert_eq!(
        (info.workspace_name.as_str(), info.members, info.endpoints),
        ("Acme", 1, 2)
    );
    // The secret itself is not in the file.
    let bytes = std::fs::read(&path).unwrap();
    assert!(!bytes
        .windows(secret.expose().len())
        .any(|w| w == secret.expose().as_bytes()));

    // Changed after the backup.
    core.workspaces().rename(&owner, "Acme Changed").unwrap();
    core.workspaces()
        .add_member(
            &owner,
            member_input("Late Comer", "late@acme.test", Role::Admin),
        )
        .unwrap();
    core.webhook_endpoints().delete(&owner, &gone.id).unwrap();

    let restored = core.backups().restore(&owner, &path).unwrap();
    assert!(
        restored.secrets.contains("stay as they were"),
        "{}",
        restored.secrets
    );
    assert_eq!(names(&core), ("Acme".into(), vec!["Ada Owner".into()]));
    let endpoints = core.webhook_endpoints().list().unwrap();
    assert_eq!(endpoints.len(), 2);
    // The signing secret, in the keychain all along, still serves the restored endpoint.
    assert_eq!(
        core.webhook_endpoints()
            .reveal_secret(&owner, &ep.id)
            .unwrap()
            .expose(),
        secret.expose()
    );
    // The one deleted since (its secret left the keychain with it) says to rotate, as the
    // restore said.
    let err = core
        .webhook_endpoints()
        .reveal_secret(&owner, &gone.id)
        .unwrap_err();
    assert!(err.to_string().contains("Rotate its secret"), "{err}");
    let trail = support::audit::actions(&core, &Default::default());
    assert!(
        trail.contains(&"workspace.restored".to_string()),
        "{trail:?}"
    );
    drop(dir);
}

#[test]
fn what_cannot_be_restored_is_refused_and_changes_nothing() {
    let (dir, core, owner) = owner_core();
    let out = tempfile::tempdir().unwrap();
    let good = core.backups().back_up(&owner, out.path()).unwrap();
    core.workspaces().rename(&owner, "Acme Now").unwrap();

    let refused = |path: &std::path::Path| {
        let err = core.backups().restore(&owner, path).unwrap_err();
        assert_eq!(names(&core).0, "Acme Now", "nothing changed");
        err.to_string()
    };
    let text = out.path().join("notes.txt");
    std::fs::write(&text, "not a database at all, just some words".repeat(200)).unwrap();
    assert!(refused(&text).contains("is not a Pitchbar Admin backup"));

    let other_db = out.path().join("other.db");
    rusqlite::Connection::open(&other_db)
        .unwrap()
        .execute_batch("CREATE TABLE t (x); INSERT INTO t VALUES (1);")
        .unwrap();
    assert!(refused(&other_db).contains("is not a Pitchbar Admin backup"));

    let newer = out.path().join("newer.db");
    std::fs::copy(&good, &newer).unwrap();
    rusqlite::Connection::open(&newer)
        .unwrap()
        .execute_batch("PRAGMA user_version = 999")
        .unwrap();
    assert!(refused(&newer).contains("newer version"));

    let truncated = out.path().join("truncated.db");
    let bytes = std::fs::read(&good).unwrap();
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    let msg = refused(&truncated);
    assert!(
        msg.contains("damaged") || msg.contains("not a Pitchbar Admin backup"),
        "{msg}"
    );

    assert!(refused(&out.path().join("missing.db")).contains("cannot be read"));

    // An Admin may back up but not restore; a Member may do neither.
    let ann = core
        .workspaces()
        .add_member(
            &owner,
            member_input("Ann Admin", "ann@acme.test", Role::Admin),
        )
        .unwrap();
    core.workspaces().switch_to(&ann.id).unwrap();
    let admin = core.workspaces().actor().unwrap();
    assert!(matches!(
        core.backups().restore(&admin, &good),
        Err(Error::Forbidden(_))
    ));
    core.backups().back_up(&admin, out.path()).ok();
    core.workspaces().switch_to(&owner.member().id).unwrap();
    let mia = support::workspace::member_actor(&core, &owner);
    assert!(matches!(
        core.backups().back_up(&mia, out.path()),
        Err(Error::Forbidden(_))
    ));
    let err = core
        .backups()
        .back_up(&owner, &out.path().join("no-such-folder"))
        .unwrap_err();
    assert!(err.to_string().contains("could not be saved"), "{err}");

    // Another workspace's backup restores, saying its secrets must be set up again.
    let (_other_dir, other, other_owner) = owner_core();
    other.workspaces().rename(&other_owner, "Other Co").unwrap();
    let foreign = other.backups().back_up(&other_owner, out.path()).unwrap();
    let info = core.backups().inspect(&foreign).unwrap();
    assert!(!info.same_workspace);
    let restored = core.backups().restore(&owner, &foreign).unwrap();
    assert!(
        restored.secrets.contains("Reconnect"),
        "{}",
        restored.secrets
    );
    assert_eq!(names(&core).0, "Other Co");
    drop(dir);
}
