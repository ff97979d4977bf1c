//! The runtime agents' responses on both back ends: idempotent by id per cluster, listed newest
//! first, by cluster.

mod support;

use palisade_api::{ResponseBatch, ResponseQuery, ResponseRecord};
use support::at;

fn response(id: &str, hour: i64, outcome: &str) -> ResponseRecord {
    ResponseRecord {
        id: id.into(),
        time: at(hour),
        node: Some("node-1".into()),
        rule: "shell-in-container".into(),
        action: "delete-pod".into(),
        target: "pod shop/web-5d4-x2k9q".into(),
        outcome: outcome.into(),
        detail: format!("{outcome} {id}"),
    }
}

on_both_backends! {
    async fn responses_are_stored_once_and_listed_newest_first(db: Db) {
        let store = &db.store;
        let batch = ResponseBatch { responses: vec![response("r1", 1, "done"), response("r2", 2, "failed"), response("r2", 2, "failed")] };
        let ack = store.push_responses("prod", &batch, at(3)).await.unwrap();
        assert_eq!((ack.accepted, ack.duplicates), (2, 1));
        let again = store.push_responses("prod", &batch, at(4)).await.unwrap();
        assert_eq!((again.accepted, again.duplicates), (0, 3));
        // The same id in another cluster is another response.
        let staging = ResponseBatch { responses: vec![response("r1", 5, "skipped")] };
        assert_eq!(store.push_responses("staging", &staging, at(5)).await.unwrap().accepted, 1);

        let prod = store.responses(&ResponseQuery { cluster: Some("prod".into()), limit: None }).await.unwrap();
        let ids: Vec<&str> = prod.iter().map(|v| v.response.id.as_str()).collect();
        assert_eq!(ids, ["r2", "r1"]);
        assert_eq!(prod[0].response, batch.responses[1]);
        assert_eq!((prod[0].cluster.as_str(), prod[0].received_at), ("prod", at(3)));
        let all = store.responses(&ResponseQuery::default()).await.unwrap();
        assert_eq!(all.len(), 3);
        assert_eq!((all[0].cluster.as_str(), all[0].response.outcome.as_str()), ("staging", "skipped"));
        let one = store.responses(&ResponseQuery { limit: Some(1), ..Default::default() }).await.unwrap();
        assert_eq!(one.len(), 1);
    }
}
