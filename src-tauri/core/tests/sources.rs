//! Knowledge sources against the fake Notion and Google APIs (tests/fixtures/knowledge-fake,
//! real response shapes on loopback), signed in through the real OAuth server with tokens in a
//! real keychain: run through scripts/with-keychain.sh.

mod support;

use std::time::Duration;

use pitchbar_core::connections::ConnectionStatus;
use pitchbar_core::sources::{PickerItem, SourceKind, SourceStatus};
use pitchbar_core::workspace::Actor;
use pitchbar_core::Error;
use serde_json::json;
use support::knowledge::{settled, world};
use support::oauth::actor;

const HANDBOOK: &str = "1a000000-0000-4000-8000-000000000001";
const RELEASE_NOTES: &str = "1a000000-0000-4000-8000-000000000002";
const FAQ_DATABASE: &str = "1a000000-0000-4000-8000-000000000004";

fn item(id: &str, kind: SourceKind, title: &str) -> PickerItem {
    PickerItem {
        external_id: id.into(),
        kind,
        title: title.into(),
        url: None,
        edited_at: None,
        added: false,
    }
}

/// Adds one Notion page as a source; its id.
fn add_page(core: &pitchbar_core::Core, owner: &Actor, id: &str, title: &str) -> String {
    core.sources()
        .add(owner, "notion", &[item(id, SourceKind::Page, title)])
        .unwrap()[0]
        .id
        .clone()
}

/// The text of every hit for `query`, hits and context joined.
fn found(core: &pitchbar_core::Core, query: &str) -> Vec<(String, String)> {
    core.sources()
        .search(query, 20)
        .unwrap()
        .into_iter()
        .map(|h| {
            (
                h.source_title,
                h.snippet
                    .iter()
                    .map(|p| p.text.as_str())
                    .collect::<String>(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn notion_picker_pages_and_ingestion_reads_every_block_and_page() {
    let w = world();
    let core = w.core();
    let owner = actor(&core);
    w.connect(&core, "notion").await;

    // The picker: 116 pages and databases, 50 at a time, then a search.
    let sources = core.sources();
    let first = sources.browse(&owner, "notion", "", None).await.unwrap();
    assert_eq!(first.items.len(), 50);
    let cursor = first.next_cursor.clone().expect("more than one page");
    let second = sources
        .browse(&owner, "notion", "", Some(&cursor))
        .await
        .unwrap();
    assert_eq!(second.items.len(), 50);
    assert!(second.items.iter().all(|i| !first.items.contains(i)));
    let handbook = sources
        .browse(&owner, "notion", "handbook", None)
        .await
        .unwrap();
    assert_eq!(handbook.items.len(), 1);
    assert_eq!(handbook.items[0].title, "Pitchbar Handbook");
    assert_eq!(handbook.items[0].kind, SourceKind::Page);
    assert!(!handbook.items[0].added);

    let added = sources
        .add(
            &owner,
            "notion",
            &[
                handbook.items[0].clone(),
                item(RELEASE_NOTES, SourceKind::Page, "Release Notes Archive"),
            ],
        )
        .unwrap();
    assert_eq!(added.len(), 2);
    for s in &added {
        let s = settled(&core, &s.id).await;
        assert_eq!(s.status, SourceStatus::Ready, "{s:?}");
        assert!(s.last_indexed_at.is_some() && s.size_bytes > 0 && s.chunk_count > 0);
    }
    // Added once: picked again, it is marked and not added twice.
    let again = sources
        .browse(&owner, "notion", "handbook", None)
        .await
        .unwrap();
    assert!(again.items[0].added);
    assert!(sources
        .add(&owner, "notion", &[again.items[0].clone()])
        .unwrap()
        .is_empty());

    // Every kind of block, at every depth, in child pages and databases, on every page.
    for phrase in [
        "purple walrus approves every refund",
        "saffron lighthouse",
        "marmalade protocol",
        "quokka-sentinel",
        "Cobalt tier costs 42 euros",
        "lavender checklist",
        "velvet compass",
        "carrier pigeon",
        "tangerine ribbon",
        "obsidian heron",
    ] {
        let hits = found(&core, phrase);
        assert!(!hits.is_empty(), "nothing found for {phrase:?}");
    }
    let hits = core.sources().search("purple walrus", 5).unwrap();
    assert_eq!(hits[0].source_title, "Pitchbar Handbook");
    assert_eq!(hits[0].heading, "Refund policy");
    let marked: Vec<&str> = hits[0]
        .snippet
        .iter()
        .filter(|p| p.hit)
        .map(|p| p.text.as_str())
        .collect();
    assert_eq!(marked, ["purple", "walrus"]);

    // Paged answers were all read, each with the Notion-Version header.
    let calls = w.fake.calls().await;
    let children_of_notes: Vec<_> = calls
        .iter()
        .filter(|c| {
            c["path"]
                .as_str()
                .unwrap()
                .contains(&format!("{RELEASE_NOTES}/children"))
        })
        .collect();
    assert_eq!(children_of_notes.len(), 3, "250 blocks, 100 a page");
    assert!(children_of_notes[1]["query"]["start_cursor"].is_string());
    assert!(calls.iter().all(|c| c["notionVersion"].is_string()));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_notion_database_is_read_row_by_row() {
    let w = world();
    let core = w.core();
    let owner = actor(&core);
    w.connect(&core, "notion").await;
    let added = core
        .sources()
        .add(
            &owner,
            "notion",
            &[item(FAQ_DATABASE, SourceKind::Database, "Customer FAQ")],
        )
        .unwrap();
    let s = settled(&core, &added[0].id).await;
    assert_eq!(s.status, SourceStatus::Ready, "{s:?}");
    assert_eq!(s.title, "Customer FAQ");
    for phrase in [
        "carrier pigeon",
        "tangerine ribbon",
        "cobalt tier only",
        "reset my password",
    ] {
        assert!(!found(&core, phrase).is_empty(), "{phrase}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_429_waits_for_retry_after_and_the_ingestion_goes_on() {
    let w = world();
    let core = w.core();
    let owner = actor(&core);
    w.connect(&core, "notion").await;
    w.fake
        .control(
            "POST",
            "script",
            json!({"path": "/children$", "status": 429, "retry_after": 1, "times": 1}),
        )
        .await;
    let started = std::time::Instant::now();
    let added = core
        .sources()
        .add(
            &owner,
            "notion",
            &[item(RELEASE_NOTES, SourceKind::Page, "Release Notes")],
        )
        .unwrap();
    let s = settled(&core, &added[0].id).await;
    assert_eq!(s.status, SourceStatus::Ready, "{s:?}");
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "Retry-After: 1 was honoured"
    );
    let statuses: Vec<u64> = w
        .fake
        .calls()
        .await
        .iter()
        .filter(|c| c["path"].as_str().unwrap().ends_with("/children"))
        .map(|c| c["status"].as_u64().unwrap())
        .collect();
    assert_eq!(statuses, [429, 200, 200, 200]);
    assert!(!found(&core, "obsidian heron").is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_reindex_keeps_the_old_text_and_a_retry_replaces_it() {
    let w = world();
    let core = w.core();
    let owner = actor(&core);
    w.connect(&core, "notion").await;
    let id = add_page(&core, &owner, HANDBOOK, "Pitchbar Handbook");
    assert_eq!(settled(&core, &id).await.status, SourceStatus::Ready);
    let first = core.sources().get(&id).unwrap();

    w.fake
        .control(
            "PATCH",
            &format!("notion/pages/{HANDBOOK}"),
            json!({"replace": {"from": "purple walrus", "to": "green narwhal"}}),
        )
        .await;
    w.fake
        .control("POST", "fail", json!({"match": "/children", "status": 500}))
        .await;
    core.sources().reindex(&owner, &id).unwrap();
    let failed = settled(&core, &id).await;
    assert_eq!(failed.status, SourceStatus::Failed);
    let reason = failed.status_reason.unwrap();
    assert!(reason.contains("Notion had an error"), "{reason}");
    assert!(reason.contains("Retry later"), "{reason}");
    assert_eq!(failed.last_indexed_at, first.last_indexed_at);
    let told = core.notices().list().unwrap();
    assert_eq!(
        told.notices.iter().map(|n| n.kind).collect::<Vec<_>>(),
        [pitchbar_core::notices::NoticeKind::SourceFailing]
    );
    assert!(
        told.notices[0].body.contains("Notion had an error"),
        "{:?}",
        told.notices[0]
    );
    assert!(!found(&core, "purple walrus").is_empty(), "old text kept");
    assert!(found(&core, "green narwhal").is_empty());

    w.fake.control("DELETE", "fail", json!({})).await;
    core.sources().reindex(&owner, &id).unwrap();
    assert_eq!(settled(&core, &id).await.status, SourceStatus::Ready);
    assert!(
        found(&core, "purple walrus").is_empty(),
        "old text replaced"
    );
    assert!(!found(&core, "green narwhal").is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_page_notion_cannot_find_fails_with_what_to_do() {
    let w = world();
    let core = w.core();
    let owner = actor(&core);
    w.connect(&core, "notion").await;
    let gone = "1a000000-0000-4000-8000-000000000003";
    w.fake
        .control("DELETE", &format!("notion/pages/{gone}"), json!({}))
        .await;
    let id = add_page(&core, &owner, gone, "Onboarding");
    let s = settled(&core, &id).await;
    assert_eq!(s.status, SourceStatus::Failed);
    let reason = s.status_reason.unwrap();
    assert!(reason.contains("object_not_found"), "{reason}");
    assert!(reason.contains("Share it in Notion"), "{reason}");
    // Nothing half-written: no text, never indexed.
    assert_eq!(s.chunk_count, 0);
    assert!(s.last_indexed_at.is_none());
}

#[tokio::test(flavor = "multi_thread")]
async fn google_docs_picker_and_documents_to_text() {
    let w = world();
    let core = w.core();
    let owner = actor(&core);
    w.connect(&core, "google-docs").await;
    let all = core
        .sources()
        .browse(&owner, "google-docs", "", None)
        .await
        .unwrap();
    // Docs only, not trashed: not the PDF, not the trashed draft.
    assert_eq!(all.items.len(), 13, "{:?}", all.items);
    assert!(all.items.iter().all(|i| i.kind == SourceKind::Doc));
    let sales = core
        .sources()
        .browse(&owner, "google-docs", "Sales", None)
        .await
        .unwrap();
    assert_eq!(sales.items.len(), 1);
    // Quotes in a search are escaped, not a broken Drive query.
    core.sources()
        .browse(&owner, "google-docs", "it's \\ odd", None)
        .await
        .unwrap();
    let id = core
        .sources()
        .add(&owner, "google-docs", &sales.items)
        .unwrap()[0]
        .id
        .clone();
    let s = settled(&core, &id).await;
    assert_eq!(s.status, SourceStatus::Ready, "{s:?}");
    assert_eq!(s.title, "Sales Playbook");
    for phrase in [
        "tangerine question",
        "silver kestrel discount",
        "emerald SLA",
        "mango recap",
    ] {
        assert!(!found(&core, phrase).is_empty(), "{phrase}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn disconnecting_orphans_sources_and_reconnecting_makes_them_reindexable() {
    let w = world();
    let core = w.core();
    let owner = actor(&core);
    let connection = w.connect(&core, "notion").await;
    let id = add_page(&core, &owner, HANDBOOK, "Pitchbar Handbook");
    assert_eq!(settled(&core, &id).await.status, SourceStatus::Ready);

    core.oauth()
        .disconnect(&owner, &connection.id)
        .await
        .unwrap();
    let orphan = core.sources().list().unwrap().remove(0);
    assert!(orphan.orphaned);
    assert_eq!(orphan.status, SourceStatus::Ready);
    assert!(
        !found(&core, "saffron lighthouse").is_empty(),
        "still searchable"
    );
    match core.sources().reindex(&owner, &id) {
        Err(Error::Conflict(m)) => {
            assert!(m.contains("reconnect Notion to reindex"), "{m}")
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        core.sources().browse(&owner, "notion", "", None).await,
        Err(Error::Conflict(_))
    ));

    let again = w.connect(&core, "notion").await;
    assert_eq!(
        again.id, connection.id,
        "reconnecting re-binds the connection"
    );
    let source = core.sources().get(&id).unwrap();
    assert!(!source.orphaned);
    core.sources().reindex(&owner, &id).unwrap();
    assert_eq!(settled(&core, &id).await.status, SourceStatus::Ready);
    assert!(!found(&core, "saffron lighthouse").is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn queued_sources_resume_when_the_app_starts_again() {
    let w = world();
    let id = {
        // No worker: the app quits before the source is read.
        let core = support::oauth::core(
            w.data.path(),
            support::oauth::config(w.data.path(), &w.providers, &w.clock),
        );
        w.connect(&core, "notion").await;
        add_page(&core, &actor(&core), HANDBOOK, "Pitchbar Handbook")
    };
    let core = w.core();
    assert_eq!(settled(&core, &id).await.status, SourceStatus::Ready);
}

#[tokio::test(flavor = "multi_thread")]
async fn removing_a_source_removes_its_text_and_members_change_nothing() {
    let w = world();
    let core = w.core();
    let owner = actor(&core);
    w.connect(&core, "notion").await;
    let id = add_page(&core, &owner, HANDBOOK, "Pitchbar Handbook");
    assert_eq!(settled(&core, &id).await.status, SourceStatus::Ready);

    let mia = support::workspace::member_actor(&core, &owner);
    assert!(matches!(
        core.sources().remove(&mia, &id),
        Err(Error::Forbidden(_))
    ));
    assert!(matches!(
        core.sources().reindex(&mia, &id),
        Err(Error::Forbidden(_))
    ));
    assert!(matches!(
        core.sources().add(
            &mia,
            "notion",
            &[item(RELEASE_NOTES, SourceKind::Page, "x")]
        ),
        Err(Error::Forbidden(_))
    ));
    // Members search like everyone.
    assert!(!core.sources().search("walrus", 5).unwrap().is_empty());

    core.sources().remove(&owner, &id).unwrap();
    assert!(core.sources().list().unwrap().is_empty());
    // The audit trail: added and removed by the Owner; the Member's refusals left nothing.
    let acts = support::audit::actions(
        &core,
        &pitchbar_core::audit::AuditQuery {
            area: Some(pitchbar_core::audit::Area::Knowledge),
            ..Default::default()
        },
    );
    assert_eq!(acts, ["source.added", "source.removed"]);
    assert!(found(&core, "walrus").is_empty());
    assert!(matches!(
        core.sources().remove(&owner, &id),
        Err(Error::NotFound(_))
    ));
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_input_is_refused_clearly() {
    let w = world();
    let core = w.core();
    let owner = actor(&core);
    // Not connected yet.
    match core
        .sources()
        .add(&owner, "notion", &[item(HANDBOOK, SourceKind::Page, "x")])
    {
        Err(Error::Conflict(m)) => assert!(m.contains("Notion is not connected"), "{m}"),
        other => panic!("{other:?}"),
    }
    w.connect(&core, "notion").await;
    for bad in [
        item("../../v1/users", SourceKind::Page, "x"),
        item(HANDBOOK, SourceKind::Doc, "x"),
    ] {
        assert!(matches!(
            core.sources().add(&owner, "notion", &[bad]),
            Err(Error::InvalidInput(_))
        ));
    }
    assert!(matches!(
        core.sources().add(&owner, "slack", &[]),
        Err(Error::InvalidInput(_))
    ));
    assert!(
        core.sources().list().unwrap().is_empty(),
        "nothing half-added"
    );
    // Any text is a valid search.
    for q in [
        "",
        "\"",
        "a AND OR NOT (",
        "*",
        "näive café",
        "x\"y*z^",
        "NEAR(a b)",
    ] {
        core.sources().search(q, 10).unwrap();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_token_the_provider_refuses_marks_the_connection_for_reconnecting() {
    let w = world();
    let core = w.core();
    let owner = actor(&core);
    let connection = w.connect(&core, "notion").await;
    // Notion refuses the token from now on, as when the integration was removed in Notion.
    w.fake
        .control("POST", "fail", json!({"match": "/children", "status": 401}))
        .await;
    let id = add_page(&core, &owner, HANDBOOK, "Pitchbar Handbook");
    let failed = settled(&core, &id).await;
    assert_eq!(failed.status, SourceStatus::Failed);
    let reason = failed.status_reason.unwrap();
    assert!(reason.contains("Reconnect Notion"), "{reason}");
    // Not only this source: the connection's card says so, and nothing else is tried with it.
    let marked = pitchbar_core::connections::get(core.store(), &connection.id).unwrap();
    assert_eq!(marked.status, ConnectionStatus::NeedsReauth);
    assert!(marked.status_detail.unwrap().contains("Reconnect Notion"));
    let refused = core.sources().reindex(&owner, &id).unwrap_err().to_string();
    assert!(refused.contains("Reconnect Notion"), "{refused}");

    // Reconnected: the same connection, active again, and the source reads.
    w.fake.control("DELETE", "fail", json!({})).await;
    let again = w.connect(&core, "notion").await;
    assert_eq!(again.id, connection.id);
    assert_eq!(again.status, ConnectionStatus::Active);
    core.sources().reindex(&owner, &id).unwrap();
    assert_eq!(settled(&core, &id).await.status, SourceStatus::Ready);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_source_opens_only_on_its_providers_site() {
    let w = world();
    let core = w.core();
    let owner = actor(&core);
    w.connect(&core, "notion").await;
    let with_url = |id: &str, title: &str, url: Option<&str>| PickerItem {
        url: url.map(str::to_string),
        ..item(id, SourceKind::Page, title)
    };
    let page = "https://www.notion.so/Pitchbar-Handbook-1a000000000040008000000000000001";
    let added = core
        .sources()
        .add(
            &owner,
            "notion",
            &[
                with_url(HANDBOOK, "Pitchbar Handbook", Some(page)),
                with_url(
                    RELEASE_NOTES,
                    "Release Notes",
                    Some("https://notion.so.evil.test/x"),
                ),
                with_url(FAQ_DATABASE, "FAQ", None),
            ],
        )
        .unwrap();
    assert_eq!(core.sources().link(&added[0].id).unwrap(), page);
    for refused in &added[1..] {
        let err = core.sources().link(&refused.id).unwrap_err();
        assert!(matches!(err, Error::NotFound(_)), "{err:?}");
        assert!(
            err.to_string().contains("Open it from Notion itself"),
            "{err}"
        );
    }
}
