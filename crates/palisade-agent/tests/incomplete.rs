//! An exec whose process is gone before `/proc` can be read (the proc connector's limit) is
//! still reported, attributed to the container through its parent: the fork was seen, and a
//! child inherits its parent's cgroup at fork. The fields only `/proc` could give are marked
//! missing. A real podman container is the parent; the child is a PID that has really exited.

mod common;

use std::sync::Arc;
use std::sync::mpsc::sync_channel;

use common::{Container, unique};
use palisade_agent::Stats;
use palisade_agent::enrich::Enricher;
use palisade_agent::source::{Input, InputSender, RawEvent};

#[test]
fn a_gone_child_of_a_container_process_is_attributed_through_its_parent() {
    let _serial = common::serial();
    let c = Container::run(&unique("gone"), &[], &["sleep", "300"]);
    let parent = c.pid();
    // A PID whose process has exited and been reaped.
    let mut child = std::process::Command::new("true").spawn().unwrap();
    let gone = child.id();
    child.wait().unwrap();

    let stats = Arc::new(Stats::default());
    let (tx, rx) = sync_channel(16);
    let mut enricher = Enricher::new(InputSender::new(tx, stats.clone()), stats.clone());
    enricher.scan_existing();
    assert!(enricher.handle_batch(&[
        RawEvent::Fork {
            parent,
            child: gone
        },
        RawEvent::Exec {
            pid: gone,
            ts_ns: 1
        },
    ]));
    let Ok(Input::Batch { execs, .. }) = rx.try_recv() else {
        panic!("no exec handed on")
    };
    assert_eq!(execs.len(), 1);
    let e = &execs[0];
    assert_eq!(e.process.pid, gone);
    assert_eq!(e.process.ppid, parent);
    assert_eq!(e.parent.as_ref().map(|p| p.pid), Some(parent));
    assert_eq!(e.parent.as_ref().map(|p| p.name.as_str()), Some("sleep"));
    assert_eq!(
        e.cgroup.as_ref().map(|a| a.container_id.as_str()),
        Some(c.id.as_str())
    );
    for field in ["name", "exe", "args"] {
        assert!(e.process.missing.iter().any(|m| m == field), "{field}");
    }
    let s = stats.snapshot();
    assert_eq!((s.process_gone, s.incomplete_execs), (1, 1));

    // Without a fork seen for it, a gone process stays unattributed (and counted).
    assert!(enricher.handle_batch(&[RawEvent::Exec {
        pid: gone,
        ts_ns: 2
    }]));
    assert!(rx.try_recv().is_err());
    assert_eq!(stats.snapshot().process_gone, 2);
}
