-- Version 2: a replacing push writes only the findings that changed.
-- `digest` fingerprints a finding's stored text (check, severity, title, message, object,
-- container, path); a finding pushed again with the same digest is left as it is. Rows written
-- before this version have none and are rewritten once.
-- An open finding's last sighting is its cluster's current snapshot, so `last_seen_ms` and
-- `seen_seq` are written when a finding is resolved, not on every push; the index that served
-- the old per-push "not seen this time" scan goes.
ALTER TABLE findings ADD COLUMN digest BIGINT;
DROP INDEX findings_seen;
