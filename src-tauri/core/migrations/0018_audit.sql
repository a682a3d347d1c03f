-- The audit trail: one row per change a person (or the app itself) made, never a secret's value.
-- Who is copied in (name, role), so an entry still reads right after the member is removed.
CREATE TABLE audit_entry (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at_ms INTEGER NOT NULL,
    member_id TEXT,
    member_name TEXT NOT NULL,
    member_role TEXT,
    previewed_by TEXT,
    surface TEXT NOT NULL,
    area TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    summary TEXT NOT NULL
);
CREATE INDEX audit_entry_at ON audit_entry (at_ms);
