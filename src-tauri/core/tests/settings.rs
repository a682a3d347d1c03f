//! The local API's port as chosen in the app: moved live without a gap, refused with a clear
//! message when taken or reserved, and remembered in the database across restarts.

mod support;

use std::net::{Ipv4Addr, TcpListener};

use pitchbar_core::api::ApiConfig;
use pitchbar_core::Error;

use support::workspace::{member_actor, owner_core};

async fn answers(port: u16) -> bool {
    support::install_crypto();
    reqwest::get(format!("http://127.0.0.1:{port}/v1/leads"))
        .await
        .is_ok_and(|r| r.status() == 401)
}

#[tokio::test]
async fn the_api_moves_to_a_chosen_port_and_remembers_it() {
    let (dir, core, owner) = owner_core();
    let old = core.start_api(ApiConfig::on_port(0)).unwrap().port();
    assert!(answers(old).await);

    let port = support::free_port();
    let addr = core.change_api_port(&owner, port).await.unwrap();
    assert_eq!(addr.port(), port);
    assert_eq!(core.api_addr(), Some(addr));
    assert!(answers(port).await);
    assert!(!answers(old).await, "the old port is released");

    // The same port again is a no-op that keeps serving.
    core.change_api_port(&owner, port).await.unwrap();
    assert!(answers(port).await);
    core.stop_api().await;
    drop(core);

    // The saved choice wins over PITCHBAR_API_PORT and the default.
    let core = pitchbar_core::Core::open(dir.path()).unwrap();
    assert_eq!(core.settings().api_port().unwrap(), Some(port));
    assert_eq!(core.settings().api_config().unwrap().port, port);
}

#[tokio::test]
async fn a_taken_or_reserved_port_leaves_the_api_where_it_was() {
    let (_dir, core, owner) = owner_core();
    let old = core.start_api(ApiConfig::on_port(0)).unwrap().port();

    let taken = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let taken_port = taken.local_addr().unwrap().port();
    let err = core.change_api_port(&owner, taken_port).await.unwrap_err();
    let Error::Conflict(message) = &err else {
        panic!("{err:?}")
    };
    assert!(message.contains(&taken_port.to_string()), "{message}");
    assert!(message.contains("Choose another port"), "{message}");

    let err = core.change_api_port(&owner, 80).await.unwrap_err();
    assert!(
        matches!(&err, Error::InvalidInput(m) if m.contains("1024 to 65535")),
        "{err:?}"
    );

    assert_eq!(core.api_addr().map(|a| a.port()), Some(old));
    assert!(answers(old).await);
    assert_eq!(core.settings().api_port().unwrap(), None, "nothing saved");
    core.stop_api().await;
}

#[tokio::test]
async fn a_member_cannot_move_the_api() {
    let (_dir, core, owner) = owner_core();
    let actor = member_actor(&core, &owner);
    let err = core
        .change_api_port(&actor, support::free_port())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Forbidden(_)), "{err:?}");
    assert_eq!(core.settings().api_port().unwrap(), None);
}
