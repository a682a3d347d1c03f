-- The delivery tables' CHECKs on status, trigger and error_class, the same rules written as `=`
-- comparisons joined by OR instead of IN lists.
--
-- SQLite evaluates an IN list of more than two constants by building a temporary b-tree of the
-- list (OpenEphemeral) every time the statement runs: four of them per delivery (the delivery's
-- insert checks status and trigger, its update status, the attempt's insert error_class), each
-- a b-tree opened, filled and freed — 8 % of the dispatcher's CPU (perf). A chain of `=` is
-- compared in place. The rules are the same for every value, NULL included (no `=` is true:
-- the CHECK passes, as `NULL IN (…)` did), so no row can have become invalid.
--
-- Only the stored definitions change (SQLite's documented way to change a CHECK without
-- rebuilding the table: https://www.sqlite.org/lang_altertable.html#otheralter), because a
-- rebuild would copy the whole delivery log. The schema version is raised by the migration's
-- hook (src/store/mod.rs), so every open connection reloads these definitions.
PRAGMA writable_schema = ON;

UPDATE sqlite_schema
SET sql = replace(
    replace(
        sql,
        'CHECK (status IN (''pending'', ''succeeded'', ''failed'', ''dead'', ''cancelled''))',
        'CHECK (status = ''pending'' OR status = ''succeeded'' OR status = ''failed'' OR status = ''dead'' OR status = ''cancelled'')'
    ),
    'CHECK (trigger IN (''event'', ''test'', ''redeliver'', ''replay''))',
    'CHECK (trigger = ''event'' OR trigger = ''test'' OR trigger = ''redeliver'' OR trigger = ''replay'')'
)
WHERE type = 'table' AND name = 'webhook_delivery';

UPDATE sqlite_schema
SET sql = replace(
    sql,
    'CHECK (error_class IN (''timeout'', ''connection_refused'', ''dns'', ''tls'', ''redirect'', ''non_2xx'', ''other''))',
    'CHECK (error_class = ''timeout'' OR error_class = ''connection_refused'' OR error_class = ''dns'' OR error_class = ''tls'' OR error_class = ''redirect'' OR error_class = ''non_2xx'' OR error_class = ''other'')'
)
WHERE type = 'table' AND name = 'webhook_attempt';
