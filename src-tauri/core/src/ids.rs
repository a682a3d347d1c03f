//! IDs are ULIDs (`01HXY…`), as in the spec's payloads.

pub(crate) fn new_id() -> String {
    ulid::Ulid::new().to_string()
}
