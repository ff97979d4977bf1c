-- Palisade vulnerability database, schema version 1.
CREATE TABLE meta (
    key   TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);

-- One row per imported source (a path, zip or URL) with its last import.
CREATE TABLE sources (
    name        TEXT PRIMARY KEY NOT NULL,
    records     INTEGER NOT NULL,
    imported_at TEXT NOT NULL
);

-- One row per advisory; `record` is the normalized advisory as JSON.
CREATE TABLE advisories (
    source   TEXT NOT NULL,
    id       TEXT NOT NULL,
    modified TEXT,
    origin   TEXT NOT NULL,
    record   TEXT NOT NULL,
    PRIMARY KEY (source, id)
);

-- The packages each advisory affects: ecosystem family (no release) and normalized name.
CREATE TABLE affected (
    source      TEXT NOT NULL,
    advisory_id TEXT NOT NULL,
    ecosystem   TEXT NOT NULL,
    name        TEXT NOT NULL
);
CREATE INDEX affected_by_package ON affected (ecosystem, name);
CREATE INDEX affected_by_advisory ON affected (source, advisory_id);
