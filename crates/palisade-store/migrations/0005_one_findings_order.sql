-- Version 5: findings keep one order index, (cluster, sev_rank, namespace, kind, name,
-- check_id, fingerprint). A page across clusters walks it once per cluster and merges the walks
-- (`findings.rs`), so the index ordered by severity first is no longer needed; maintaining it
-- cost a first push of 210,000 findings about 0.75 s of PostgreSQL's time (docs/benchmarks.md).
DROP INDEX findings_order;
