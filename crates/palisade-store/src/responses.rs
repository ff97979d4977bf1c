//! The runtime agents' responses: stored by id per cluster (a repeat is ignored), listed newest
//! first.

use palisade_api::{IngestAck, ResponseBatch, ResponseQuery, ResponseRecord, ResponseView};
use palisade_model::time::Timestamp;

use crate::Store;
use crate::batches::TableBatch;
use crate::error::Result;
use crate::sql::Row;
use crate::values::{Get, from_json, json, ms, page_size, ts};

impl TableBatch for ResponseBatch {
    type Row<'a> = &'a ResponseRecord;
    const KIND: &'static str = "responses";
    const HEAD: &'static str =
        "INSERT INTO responses (cluster, response_id, time_ms, received_ms, record) VALUES ";
    const TAIL: &'static str = " ON CONFLICT (cluster, response_id) DO NOTHING";
    const COLUMNS: usize = 5;
    fn len(&self) -> usize {
        self.responses.len()
    }
    fn rows(&self) -> Vec<&ResponseRecord> {
        self.responses.iter().collect()
    }
    fn bind(row: &mut Row<'_>, r: &&ResponseRecord, cluster: &str, received_at: Timestamp) {
        row.v(cluster.to_string())
            .v(r.id.clone())
            .v(ms(r.time))
            .v(ms(received_at))
            .v(json(*r));
    }
}

impl Store {
    /// Stores responses; a response id already stored for the cluster (or repeated in the
    /// batch) is a duplicate.
    pub async fn push_responses(
        &self,
        cluster: &str,
        batch: &ResponseBatch,
        received_at: Timestamp,
    ) -> Result<IngestAck> {
        self.push_batch(cluster, batch, received_at).await
    }

    /// Responses, newest first (then by cluster and id), of one cluster or all; at most
    /// `limit` (clamped to [`palisade_api::MAX_PAGE`]).
    pub async fn responses(&self, query: &ResponseQuery) -> Result<Vec<ResponseView>> {
        let mut sql = self.sql("SELECT cluster, received_ms, record FROM responses WHERE 1 = 1");
        sql.filter(" AND cluster = ", query.cluster.clone());
        sql.push(" ORDER BY time_ms DESC, cluster, response_id LIMIT ")
            .bind(page_size(query.limit));
        sql.fetch_each(self.pool(), |row| {
            Ok(ResponseView {
                cluster: row.text("cluster")?,
                received_at: ts(row.int("received_ms")?),
                response: from_json(&row.text("record")?)?,
            })
        })
        .await
    }
}
