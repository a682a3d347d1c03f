-- The app's own settings, one row per key (e.g. the local API's port), as the user chose them.
CREATE TABLE app_setting (
    key                 TEXT PRIMARY KEY NOT NULL,
    value               TEXT NOT NULL,
    updated_at          TEXT NOT NULL
);
