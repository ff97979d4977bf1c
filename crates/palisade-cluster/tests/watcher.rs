//! kube-rs's `watcher` against the fake API server (the base a sensor builds on): it sees
//! ADDED, MODIFIED and DELETED, and after a compaction (410 Expired) it re-lists without losing
//! or duplicating an object. Both the list-then-watch and the streaming-list modes.

use std::collections::BTreeMap;
use std::time::Duration;

use futures::{Stream, StreamExt};
use k8s_openapi::api::core::v1::Pod;
use kube::Api;
use kube::runtime::watcher::{self, Event};
use palisade_cluster::{ClusterSource, connect};
use palisade_kube_fake::{Config, FakeApiServer};
use serde_json::{Value, json};

fn pod(name: &str, label: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": "default", "labels": {"v": label}},
        "spec": {"containers": [{"name": "c", "image": "busybox"}]}})
}

fn rv(obj: &Value) -> String {
    obj["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .to_string()
}

/// What the watcher's events say the cluster holds (name → resourceVersion).
#[derive(Default)]
struct Mirror {
    objects: BTreeMap<String, String>,
    init: Option<BTreeMap<String, String>>,
    relists: usize,
    duplicates: Vec<String>,
    errors: Vec<String>,
}

impl Mirror {
    fn apply(&mut self, event: Result<Event<Pod>, watcher::Error>) {
        let key = |p: &Pod| {
            (
                p.metadata.name.clone().unwrap(),
                p.metadata.resource_version.clone().unwrap(),
            )
        };
        match event {
            Ok(Event::Init) => self.init = Some(BTreeMap::new()),
            Ok(Event::InitApply(p)) => {
                let (name, rv) = key(&p);
                let batch = self.init.as_mut().expect("InitApply after Init");
                if batch.insert(name.clone(), rv).is_some() {
                    self.duplicates.push(name);
                }
            }
            Ok(Event::InitDone) => {
                self.objects = self.init.take().expect("InitDone after Init");
                self.relists += 1;
            }
            Ok(Event::Apply(p)) => {
                let (name, rv) = key(&p);
                self.objects.insert(name, rv);
            }
            Ok(Event::Delete(p)) => {
                self.objects.remove(&key(&p).0);
            }
            Err(e) => self.errors.push(e.to_string()),
        }
    }

    /// Reads events until `done` holds (failing after 30 s: the event never came).
    async fn until(
        &mut self,
        stream: &mut (impl Stream<Item = Result<Event<Pod>, watcher::Error>> + Unpin),
        what: &str,
        done: impl Fn(&Mirror) -> bool,
    ) {
        let wait = async {
            while !done(self) {
                let event = stream.next().await.expect("the watcher never ends");
                self.apply(event);
            }
        };
        if tokio::time::timeout(Duration::from_secs(30), wait)
            .await
            .is_err()
        {
            panic!(
                "timed out waiting for {what}: objects {:?}, errors {:?}",
                self.objects, self.errors
            );
        }
    }
}

fn expected(objects: &[&Value]) -> BTreeMap<String, String> {
    objects
        .iter()
        .map(|o| (o["metadata"]["name"].as_str().unwrap().to_string(), rv(o)))
        .collect()
}

async fn run(streaming: bool) {
    let fake = FakeApiServer::start(Config {
        bookmark_every: Duration::from_millis(200),
        ..Config::default()
    })
    .unwrap();
    let a = fake.apply(pod("a", "1")).unwrap();
    let b = fake.apply(pod("b", "1")).unwrap();
    let c = fake.apply(pod("c", "1")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let source = ClusterSource {
        kubeconfig: Some(fake.write_kubeconfig(dir.path(), "fake").unwrap()),
        context: None,
        ..Default::default()
    };
    let (client, cluster) = connect(&source).await.unwrap();
    assert_eq!(cluster, "fake");
    let config = if streaming {
        watcher::Config::default().streaming_lists()
    } else {
        watcher::Config::default()
    };
    let mut stream = watcher::watcher(Api::<Pod>::all(client), config).boxed();
    let mut m = Mirror::default();

    let want = expected(&[&a, &b, &c]);
    m.until(&mut stream, "the initial list", |m| {
        m.relists == 1 && m.objects == want
    })
    .await;

    // MODIFIED, DELETED, ADDED.
    let a = fake.apply(pod("a", "2")).unwrap();
    fake.delete("v1", "Pod", Some("default"), "b").unwrap();
    let d = fake.apply(pod("d", "1")).unwrap();
    let want = expected(&[&a, &c, &d]);
    m.until(&mut stream, "modify, delete, add", |m| m.objects == want)
        .await;
    assert_eq!(m.relists, 1, "no re-list without a reason");

    // Changes while no watch is connected, then a compaction: the watcher's resourceVersion is
    // too old (410 Expired) and it must re-list.
    let (c, e) = {
        let _pause = fake.pause_watches();
        let c = fake.apply(pod("c", "2")).unwrap();
        fake.delete("v1", "Pod", Some("default"), "a").unwrap();
        let e = fake.apply(pod("e", "1")).unwrap();
        fake.compact();
        (c, e)
    };
    let want = expected(&[&c, &d, &e]);
    m.until(&mut stream, "the re-list after the compaction", |m| {
        m.relists == 2 && m.objects == want
    })
    .await;
    assert!(
        m.errors
            .iter()
            .any(|e| e.contains("410") || e.contains("Expired")),
        "the watcher saw 410 Expired: {:?}",
        m.errors
    );
    assert!(
        m.duplicates.is_empty(),
        "duplicated in a re-list: {:?}",
        m.duplicates
    );

    // Watching goes on after the re-list.
    let f = fake.apply(pod("f", "1")).unwrap();
    let want = expected(&[&c, &d, &e, &f]);
    m.until(&mut stream, "an event after the re-list", |m| {
        m.objects == want
    })
    .await;
    let requests = fake.requests();
    let param = if streaming {
        "sendInitialEvents=true"
    } else {
        "allowWatchBookmarks=true"
    };
    assert!(requests.iter().any(|r| r.contains(param)), "{requests:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watcher_list_then_watch_sees_every_change_and_recovers_from_compaction() {
    run(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watcher_streaming_list_sees_every_change_and_recovers_from_compaction() {
    run(true).await;
}
