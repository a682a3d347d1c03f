//! The audit trail as the tests read it: every entry a query picks, oldest first.

use pitchbar_core::audit::{AuditEntry, AuditQuery};
use pitchbar_core::Core;

/// Every entry `query` picks (all pages), oldest first.
pub fn entries(core: &Core, query: &AuditQuery) -> Vec<AuditEntry> {
    let mut all = Vec::new();
    let mut query = AuditQuery {
        limit: Some(500),
        ..query.clone()
    };
    loop {
        let page = core.audit().list(&query).unwrap();
        all.extend(page.entries);
        match page.next_before_id {
            Some(id) => query.before_id = Some(id),
            None => break,
        }
    }
    all.reverse();
    all
}

/// Their actions, oldest first.
pub fn actions(core: &Core, query: &AuditQuery) -> Vec<String> {
    entries(core, query).into_iter().map(|e| e.action).collect()
}
