-- Version 3: the overview's numbers kept at push time instead of counted per request.
-- `cluster_counts` holds each cluster's open findings per severity (before exceptions, which
-- are subtracted when read); `clusters.new_n` and `resolved_n` are the trend of the cluster's
-- current push (open findings it first saw, findings resolved when it was scanned). Every push
-- updates them in its own transaction (see `counts.rs`); here they are counted once for the
-- rows stored before this version.
CREATE TABLE cluster_counts (
    cluster @TEXT@ NOT NULL,
    severity @TEXT@ NOT NULL,
    open_n BIGINT NOT NULL,
    PRIMARY KEY (cluster, severity)
);
INSERT INTO cluster_counts (cluster, severity, open_n)
    SELECT cluster, severity, COUNT(*) FROM findings WHERE resolved_ms IS NULL
    GROUP BY cluster, severity;
ALTER TABLE clusters ADD COLUMN new_n BIGINT NOT NULL DEFAULT 0;
ALTER TABLE clusters ADD COLUMN resolved_n BIGINT NOT NULL DEFAULT 0;
UPDATE clusters SET
    new_n = (SELECT COUNT(*) FROM findings f WHERE f.cluster = clusters.name
             AND f.resolved_ms IS NULL AND f.first_seq = clusters.current_seq),
    resolved_n = (SELECT COUNT(*) FROM findings f WHERE f.cluster = clusters.name
                  AND f.resolved_ms = clusters.last_scanned_ms);
