-- Knowledge sources (Notion pages and databases, Google Docs) and their indexed text.

-- One picked page, database or document. Bound to the provider's connection; a disconnected
-- connection leaves its sources orphaned (still searchable), and reconnecting re-binds them.
CREATE TABLE knowledge_source (
    id               TEXT PRIMARY KEY NOT NULL,
    provider         TEXT NOT NULL CHECK (provider IN ('notion', 'google-docs')),
    external_id      TEXT NOT NULL,
    kind             TEXT NOT NULL CHECK (kind IN ('page', 'database', 'doc')),
    title            TEXT NOT NULL,
    url              TEXT,
    connection_id    TEXT NOT NULL REFERENCES integration_connection (id),
    status           TEXT NOT NULL CHECK (status IN ('queued', 'ingesting', 'ready', 'failed')),
    -- Why the last ingestion failed, for people; NULL unless status = 'failed'.
    status_reason    TEXT,
    -- Items (blocks, rows, structural elements) read so far by the running ingestion.
    progress         INTEGER NOT NULL DEFAULT 0,
    last_indexed_at  TEXT,
    -- Bytes of indexed text and its number of chunks, as of the last successful ingestion.
    size_bytes       INTEGER NOT NULL DEFAULT 0,
    chunk_count      INTEGER NOT NULL DEFAULT 0,
    added_at         TEXT NOT NULL,
    UNIQUE (provider, external_id)
);
CREATE INDEX knowledge_source_status ON knowledge_source (status);

-- The indexed text, in chunks of about a thousand characters, each under its nearest heading.
CREATE TABLE knowledge_chunk (
    id         INTEGER PRIMARY KEY,
    source_id  TEXT NOT NULL REFERENCES knowledge_source (id) ON DELETE CASCADE,
    heading    TEXT NOT NULL DEFAULT '',
    text       TEXT NOT NULL
);
CREATE INDEX knowledge_chunk_source ON knowledge_chunk (source_id);

-- Its full-text index (bm25 ranking, highlighted snippets), kept in step by the triggers below.
CREATE VIRTUAL TABLE knowledge_fts USING fts5 (
    text,
    heading,
    content = 'knowledge_chunk',
    content_rowid = 'id',
    tokenize = 'porter unicode61 remove_diacritics 2'
);
CREATE TRIGGER knowledge_chunk_ai AFTER INSERT ON knowledge_chunk BEGIN
    INSERT INTO knowledge_fts (rowid, text, heading) VALUES (new.id, new.text, new.heading);
END;
CREATE TRIGGER knowledge_chunk_ad AFTER DELETE ON knowledge_chunk BEGIN
    INSERT INTO knowledge_fts (knowledge_fts, rowid, text, heading)
    VALUES ('delete', old.id, old.text, old.heading);
END;
