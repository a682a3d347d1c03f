//! The window's commands: thin wrappers over the core, one file per area; with the events the
//! shell emits (`crate::events`), what the TypeScript bindings are generated from.

mod api_key;
mod audit;
mod catalog;
mod connections;
mod desktop;
mod destinations;
mod leads;
mod notices;
mod notify;
mod oauth_apps;
mod receiver;
mod sources;
mod webhooks;
mod workspace;

use tauri_specta::{collect_commands, Builder, ErrorHandlingMode};

/// The commands the window may call and the events it hears, for the invoke handler, mounting
/// the events, and the TypeScript export.
pub fn builder() -> Builder<tauri::Wry> {
    Builder::<tauri::Wry>::new()
        .error_handling(ErrorHandlingMode::Throw)
        // Types go one way (Rust → UI) or are symmetric: one TypeScript type each.
        .disable_serde_phases()
        // Row ids, counts and durations stay far below 2^53.
        .dangerously_cast_bigints_to_number()
        .events(crate::events::all())
        .commands(collect_commands![
            workspace::startup,
            workspace::set_up_workspace,
            workspace::rename_workspace,
            workspace::switch_member,
            workspace::set_device_user,
            workspace::add_member,
            workspace::update_member,
            workspace::remove_member,
            catalog::list_integrations,
            catalog::list_connections,
            connections::connect_integration,
            connections::connect_api_key,
            connections::cancel_connect,
            connections::disconnect_integration,
            oauth_apps::list_oauth_apps,
            oauth_apps::oauth_app,
            oauth_apps::save_oauth_app,
            oauth_apps::oauth_app_removal,
            oauth_apps::remove_oauth_app,
            oauth_apps::open_oauth_console,
            api_key::api_key,
            api_key::reveal_api_key,
            api_key::regenerate_api_key,
            api_key::api_status,
            api_key::set_api_port,
            desktop::background_status,
            desktop::pause_deliveries,
            desktop::resume_deliveries,
            desktop::desktop_settings,
            desktop::set_desktop_settings,
            desktop::start_at_login,
            desktop::set_start_at_login,
            notices::list_notices,
            notices::mark_notices_read,
            notices::notice_switches,
            notices::set_notice_switch,
            audit::list_audit,
            audit::export_audit,
            audit::show_audit_export,
            leads::list_agents,
            leads::create_agent,
            leads::update_agent,
            leads::delete_agent,
            leads::list_leads,
            leads::submit_playground_lead,
            webhooks::list_event_types,
            webhooks::event_schema_and_sample,
            webhooks::list_endpoints,
            webhooks::create_endpoint,
            webhooks::update_endpoint,
            webhooks::enable_endpoint,
            webhooks::endpoint_disable_after,
            webhooks::set_endpoint_disable_after,
            webhooks::endpoint_delete_impact,
            webhooks::delete_endpoint,
            webhooks::rotate_endpoint_secret,
            webhooks::reveal_endpoint_secret,
            webhooks::endpoint_health,
            webhooks::send_test_event,
            webhooks::redeliver,
            webhooks::count_failed_since,
            webhooks::replay_failed_since,
            webhooks::list_attempts,
            webhooks::get_attempt,
            webhooks::attempt_curl,
            webhooks::endpoint_snippet,
            receiver::receiver_status,
            receiver::start_receiver,
            receiver::stop_receiver,
            receiver::set_receiver_response,
            receiver::set_receiver_forward,
            receiver::list_received,
            receiver::get_received,
            receiver::clear_received,
            receiver::receiver_retention,
            receiver::set_receiver_retention,
            receiver::send_test_events_here,
            receiver::verify_signature,
            sources::list_sources,
            sources::browse_sources,
            sources::add_sources,
            sources::reindex_source,
            sources::open_source,
            sources::remove_source,
            sources::search_sources,
            notify::list_notification_targets,
            notify::list_slack_channels,
            notify::configure_slack,
            notify::configure_webhook_target,
            notify::remove_notification_target,
            notify::retry_notifications,
            destinations::list_destinations,
            destinations::destination_fields,
            destinations::save_destination,
            destinations::send_test_lead,
            destinations::list_sync_items,
            destinations::get_sync_item,
            destinations::list_test_calls,
            destinations::retry_sync_item,
            destinations::retry_failed_sync_items,
            destinations::pending_sync_items,
            destinations::open_sync_record,
        ])
}

#[cfg(test)]
mod tests {
    const BINDINGS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/ui/src/lib/api/bindings.ts");

    /// Fails when the committed bindings differ from what the Rust commands and events export;
    /// `UPDATE_BINDINGS=1` rewrites them instead.
    #[test]
    fn typescript_bindings_are_current() {
        let fresh_path =
            std::env::temp_dir().join(format!("pitchbar-bindings-{}.ts", std::process::id()));
        super::builder()
            .export(
                specta_typescript::Typescript::default().header(
                    "// Generated from the Rust commands and events by tauri-specta. Do not edit: run `npm --prefix ui run bindings`.\n",
                ),
                &fresh_path,
            )
            .expect("the bindings export");
        let fresh = std::fs::read_to_string(&fresh_path).expect("the exported bindings");
        let _ = std::fs::remove_file(&fresh_path);
        if std::env::var_os("UPDATE_BINDINGS").is_some() {
            std::fs::write(BINDINGS, &fresh).expect("write the bindings");
            return;
        }
        let committed = std::fs::read_to_string(BINDINGS).unwrap_or_default();
        assert!(
            committed == fresh,
            "ui/src/lib/api/bindings.ts is out of date with the Rust commands and events: run `npm --prefix ui run bindings` and commit it"
        );
    }
}
