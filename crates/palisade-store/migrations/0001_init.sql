-- Palisade central's schema, version 1. One portable text for SQLite and PostgreSQL:
-- `@ID@` is an auto-numbered primary key and `@TEXT@` a text column compared byte-wise
-- (SQLite's default, `COLLATE "C"` on PostgreSQL), so both back ends order rows alike.
-- Instants are BIGINT milliseconds since the Unix epoch; days are `YYYY-MM-DD` text; booleans
-- are 0/1; structured values are JSON text.

CREATE TABLE clusters (
    name @TEXT@ PRIMARY KEY,
    created_ms BIGINT NOT NULL,
    current_seq BIGINT,
    last_scanned_ms BIGINT
);

CREATE TABLE snapshots (
    seq @ID@,
    cluster @TEXT@ NOT NULL,
    snapshot_id @TEXT@ NOT NULL,
    scanned_ms BIGINT NOT NULL,
    received_ms BIGINT NOT NULL,
    tool_version @TEXT@ NOT NULL,
    source @TEXT@ NOT NULL,
    workloads BIGINT NOT NULL,
    findings BIGINT NOT NULL,
    UNIQUE (cluster, snapshot_id)
);
CREATE INDEX snapshots_cluster ON snapshots (cluster, seq);

CREATE TABLE workloads (
    cluster @TEXT@ NOT NULL,
    namespace @TEXT@ NOT NULL,
    kind @TEXT@ NOT NULL,
    name @TEXT@ NOT NULL,
    labels @TEXT@ NOT NULL,
    service_account @TEXT@,
    images @TEXT@ NOT NULL,
    risk_score BIGINT NOT NULL,
    risk_rank BIGINT,
    risk_factors @TEXT@ NOT NULL,
    owner @TEXT@,
    open_findings BIGINT NOT NULL,
    PRIMARY KEY (cluster, namespace, kind, name)
);

CREATE TABLE workload_images (
    cluster @TEXT@ NOT NULL,
    namespace @TEXT@ NOT NULL,
    kind @TEXT@ NOT NULL,
    name @TEXT@ NOT NULL,
    image @TEXT@ NOT NULL,
    PRIMARY KEY (cluster, namespace, kind, name, image)
);
CREATE INDEX workload_images_image ON workload_images (image, cluster);

CREATE TABLE workload_labels (
    cluster @TEXT@ NOT NULL,
    namespace @TEXT@ NOT NULL,
    kind @TEXT@ NOT NULL,
    name @TEXT@ NOT NULL,
    label_key @TEXT@ NOT NULL,
    label_value @TEXT@ NOT NULL,
    PRIMARY KEY (cluster, namespace, kind, name, label_key)
);

CREATE TABLE images (
    cluster @TEXT@ NOT NULL,
    reference @TEXT@ NOT NULL,
    digest @TEXT@,
    PRIMARY KEY (cluster, reference)
);
CREATE INDEX images_reference ON images (reference);

CREATE TABLE image_vulns (
    cluster @TEXT@ NOT NULL,
    reference @TEXT@ NOT NULL,
    vuln_id @TEXT@ NOT NULL,
    package @TEXT@ NOT NULL,
    version @TEXT@ NOT NULL,
    fixed @TEXT@,
    severity @TEXT@ NOT NULL,
    sev_rank BIGINT NOT NULL,
    PRIMARY KEY (cluster, reference, vuln_id, package, version)
);

CREATE TABLE objects (
    cluster @TEXT@ NOT NULL,
    position BIGINT NOT NULL,
    body @TEXT@ NOT NULL,
    PRIMARY KEY (cluster, position)
);

CREATE TABLE diagnostics (
    cluster @TEXT@ NOT NULL,
    position BIGINT NOT NULL,
    body @TEXT@ NOT NULL,
    PRIMARY KEY (cluster, position)
);

-- One row per (cluster, fingerprint): the finding's latest text and its history.
-- `namespace` is '' for cluster-scoped objects; `sev_rank` is 0 for critical … 4 for info, so
-- ascending order is worst first; `first_seq`/`seen_seq` are the snapshots that first had it
-- (since it was last resolved) and last had it.
CREATE TABLE findings (
    cluster @TEXT@ NOT NULL,
    fingerprint @TEXT@ NOT NULL,
    check_id @TEXT@ NOT NULL,
    severity @TEXT@ NOT NULL,
    sev_rank BIGINT NOT NULL,
    title @TEXT@ NOT NULL,
    message @TEXT@ NOT NULL,
    kind @TEXT@ NOT NULL,
    namespace @TEXT@ NOT NULL,
    name @TEXT@ NOT NULL,
    container @TEXT@,
    path @TEXT@,
    first_seen_ms BIGINT NOT NULL,
    last_seen_ms BIGINT NOT NULL,
    resolved_ms BIGINT,
    first_seq BIGINT NOT NULL,
    seen_seq BIGINT NOT NULL,
    PRIMARY KEY (cluster, fingerprint)
);
CREATE INDEX findings_order ON findings (sev_rank, cluster, namespace, kind, name, check_id, fingerprint);
CREATE INDEX findings_cluster_order ON findings (cluster, sev_rank, namespace, kind, name, check_id, fingerprint);
CREATE INDEX findings_seen ON findings (cluster, seen_seq);

CREATE TABLE alerts (
    cluster @TEXT@ NOT NULL,
    alert_id @TEXT@ NOT NULL,
    time_ms BIGINT NOT NULL,
    received_ms BIGINT NOT NULL,
    node @TEXT@,
    namespace @TEXT@,
    kind @TEXT@,
    name @TEXT@,
    container @TEXT@,
    rule @TEXT@ NOT NULL,
    severity @TEXT@ NOT NULL,
    sev_rank BIGINT NOT NULL,
    message @TEXT@ NOT NULL,
    detail @TEXT@ NOT NULL,
    PRIMARY KEY (cluster, alert_id)
);
CREATE INDEX alerts_time ON alerts (time_ms, cluster, alert_id);

CREATE TABLE flows (
    cluster @TEXT@ NOT NULL,
    src_key @TEXT@ NOT NULL,
    dst_key @TEXT@ NOT NULL,
    port BIGINT NOT NULL,
    protocol @TEXT@ NOT NULL,
    first_ms BIGINT NOT NULL,
    last_ms BIGINT NOT NULL,
    count BIGINT NOT NULL,
    PRIMARY KEY (cluster, src_key, dst_key, port, protocol)
);

-- Digests of batches without ids of their own (flows), so that a repeat changes nothing.
CREATE TABLE ingested_batches (
    cluster @TEXT@ NOT NULL,
    kind @TEXT@ NOT NULL,
    digest @TEXT@ NOT NULL,
    received_ms BIGINT NOT NULL,
    PRIMARY KEY (cluster, kind, digest)
);

CREATE TABLE baselines (
    cluster @TEXT@ NOT NULL,
    namespace @TEXT@ NOT NULL,
    kind @TEXT@ NOT NULL,
    name @TEXT@ NOT NULL,
    container @TEXT@ NOT NULL,
    processes @TEXT@ NOT NULL,
    locked BIGINT NOT NULL,
    updated_ms BIGINT NOT NULL,
    PRIMARY KEY (cluster, namespace, kind, name, container)
);

CREATE TABLE admission (
    cluster @TEXT@ NOT NULL,
    uid @TEXT@ NOT NULL,
    time_ms BIGINT NOT NULL,
    received_ms BIGINT NOT NULL,
    record @TEXT@ NOT NULL,
    PRIMARY KEY (cluster, uid)
);
CREATE INDEX admission_time ON admission (cluster, time_ms);

CREATE TABLE tokens (
    id @TEXT@ PRIMARY KEY,
    name @TEXT@ NOT NULL,
    role @TEXT@ NOT NULL,
    cluster @TEXT@,
    secret_hash @TEXT@ NOT NULL UNIQUE,
    created_ms BIGINT NOT NULL,
    expires @TEXT@,
    revoked_ms BIGINT,
    revoked_by @TEXT@
);

CREATE TABLE exceptions (
    id @ID@,
    cluster @TEXT@,
    check_id @TEXT@,
    namespace @TEXT@,
    name @TEXT@,
    fingerprint @TEXT@,
    reason @TEXT@ NOT NULL,
    expires @TEXT@ NOT NULL,
    created_by @TEXT@ NOT NULL,
    created_ms BIGINT NOT NULL,
    revoked_ms BIGINT,
    revoked_by @TEXT@
);

CREATE TABLE audit (
    id @ID@,
    time_ms BIGINT NOT NULL,
    actor @TEXT@ NOT NULL,
    action @TEXT@ NOT NULL,
    target @TEXT@ NOT NULL,
    detail @TEXT@ NOT NULL
);
