-- Version 3: the runtime agents' responses (kill, stop, delete-pod, restart-workload) and how
-- they went, one row per response id and cluster; the record is kept as sent.
CREATE TABLE responses (
    cluster @TEXT@ NOT NULL,
    response_id @TEXT@ NOT NULL,
    time_ms BIGINT NOT NULL,
    received_ms BIGINT NOT NULL,
    record @TEXT@ NOT NULL,
    PRIMARY KEY (cluster, response_id)
);
CREATE INDEX responses_time ON responses (time_ms, cluster, response_id);
