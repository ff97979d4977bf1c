//! Process baselines: per (workload, container), learn which programs run during a window,
//! then lock; a program outside a locked baseline is an anomaly.
//!
//! A program is identified by its command name and executable path together (busybox
//! applets share one executable, so the path alone would not tell `sh` from `sleep`).
//!
//! State machine of one baseline:
//!
//! ```text
//!             first exec seen                 window elapsed, or `lock`
//!   (none) ───────────────────▶ Learning ───────────────────────────────▶ Locked
//!                                  ▲                                         │
//!                                  └────────────────── `reset` ──────────────┘
//! ```
//!
//! While learning, every new program is added (up to a cap; beyond it the overflow is
//! counted and the baseline still locks on time). Once locked, programs seen are checked;
//! unknown ones are anomalies and are counted per program. The store is plain data
//! (serde): the agent persists it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::event::{ContainerInfo, Event, EventKind, ProcessInfo};

/// Format version of [`BaselineStore`] documents.
pub const STORE_VERSION: u32 = 1;

/// The key of the baseline a container belongs to.
///
/// - `k8s/NAMESPACE/WORKLOAD/CONTAINER` when the namespace and container name are known
///   (WORKLOAD is `Kind/name` when known, else the pod name);
/// - `container/NAME` for a named container outside Kubernetes (podman, docker);
/// - `container-id/ID` otherwise.
pub fn baseline_key(c: &ContainerInfo) -> String {
    if let (Some(ns), Some(name)) = (&c.namespace, &c.name) {
        let owner = c.workload.as_deref().or(c.pod.as_deref()).unwrap_or("-");
        return format!("k8s/{ns}/{owner}/{name}");
    }
    match &c.name {
        Some(name) => format!("container/{name}"),
        None => format!("container-id/{}", c.id),
    }
}

/// Where a baseline is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "phase", rename_all = "lowercase")]
pub enum Phase {
    /// Learning until the given time.
    Learning {
        /// Milliseconds since the epoch when learning ends.
        until_ms: u64,
    },
    /// Locked: new programs are anomalies.
    Locked {
        /// When it was locked.
        since_ms: u64,
    },
}

/// One program in a baseline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BaselineProcess {
    /// Command name (`comm`).
    pub name: String,
    /// Executable path inside the container.
    pub exe: String,
    /// How many times it was seen.
    pub count: u64,
    /// First seen (ms since the epoch).
    pub first_seen_ms: u64,
    /// Last seen (ms since the epoch).
    pub last_seen_ms: u64,
}

/// The baseline of one (workload, container).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Baseline {
    /// The key ([`baseline_key`]).
    pub key: String,
    /// Namespace, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Workload (`Kind/name`) or pod, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workload: Option<String>,
    /// Container name, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container: Option<String>,
    /// Image last seen for this key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// Phase.
    #[serde(flatten)]
    pub phase: Phase,
    /// When learning started.
    pub created_ms: u64,
    /// Learned programs, sorted by (name, exe).
    pub processes: Vec<BaselineProcess>,
    /// Programs seen after locking that were not learned, sorted by (name, exe).
    #[serde(default)]
    pub anomalies: Vec<BaselineProcess>,
    /// Programs not recorded because the per-baseline cap was reached.
    #[serde(default)]
    pub overflow: u64,
}

impl Baseline {
    fn new(key: String, c: &ContainerInfo, now_ms: u64, window_ms: u64) -> Baseline {
        Baseline {
            key,
            namespace: c.namespace.clone(),
            workload: c.workload.clone().or_else(|| c.pod.clone()),
            container: c.name.clone(),
            image: c.image.clone(),
            phase: Phase::Learning {
                until_ms: now_ms.saturating_add(window_ms),
            },
            created_ms: now_ms,
            processes: Vec::new(),
            anomalies: Vec::new(),
            overflow: 0,
        }
    }

    /// Whether the baseline is locked.
    pub fn is_locked(&self) -> bool {
        matches!(self.phase, Phase::Locked { .. })
    }

    /// Whether the program was learned.
    pub fn knows(&self, name: &str, exe: &str) -> bool {
        find(&self.processes, name, exe).is_ok()
    }
}

fn find(list: &[BaselineProcess], name: &str, exe: &str) -> Result<usize, usize> {
    list.binary_search_by(|p| (p.name.as_str(), p.exe.as_str()).cmp(&(name, exe)))
}

/// Records a sighting; returns true when the program was new to the list. Refuses (returns
/// `None`) when the program is new and the list holds `cap` entries.
fn record(
    list: &mut Vec<BaselineProcess>,
    p: &ProcessInfo,
    now_ms: u64,
    cap: usize,
) -> Option<bool> {
    match find(list, &p.name, &p.exe) {
        Ok(i) => {
            list[i].count += 1;
            list[i].last_seen_ms = now_ms;
            Some(false)
        }
        Err(_) if list.len() >= cap => None,
        Err(i) => {
            list.insert(
                i,
                BaselineProcess {
                    name: p.name.clone(),
                    exe: p.exe.clone(),
                    count: 1,
                    first_seen_ms: now_ms,
                    last_seen_ms: now_ms,
                },
            );
            Some(true)
        }
    }
}

/// Learning window and size limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BaselineSettings {
    /// How long a new baseline learns, in milliseconds.
    pub learn_window_ms: u64,
    /// Most programs per baseline (learned, and separately anomalies).
    pub max_processes: usize,
    /// Most baselines in the store.
    pub max_baselines: usize,
}

impl Default for BaselineSettings {
    fn default() -> Self {
        BaselineSettings {
            learn_window_ms: 3_600_000,
            max_processes: 1_000,
            max_baselines: 10_000,
        }
    }
}

/// What observing one exec meant for its baseline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Observation {
    /// Not a container exec, or no executable/name was read: not tracked.
    NotTracked,
    /// The store is full and this container has no baseline.
    StoreFull,
    /// Learning: the program was added (`new`) or seen again.
    Learning {
        /// The baseline key.
        key: String,
        /// First time this program was seen.
        new: bool,
    },
    /// Locked and the program is known.
    Known {
        /// The baseline key.
        key: String,
    },
    /// Locked and the program is not in the baseline.
    Anomaly {
        /// The baseline key.
        key: String,
    },
    /// The program's identity is incomplete (its executable or name could not be read) and
    /// what is known of it matches a learned program, or nothing is known: neither learned
    /// nor flagged.
    Incomplete {
        /// The baseline key.
        key: String,
    },
}

/// A process whose name or executable is unknown is compared on what is known: in a
/// locked baseline, a known name (or executable) that some learned program has is that
/// program; a name no learned program has is an anomaly on the name alone. Nothing is learned
/// from it, and a process of which nothing is known is never flagged.
fn observe_incomplete(
    b: &mut Baseline,
    p: &ProcessInfo,
    key: String,
    now_ms: u64,
    settings: &BaselineSettings,
) -> Observation {
    let name_known = !p.name.is_empty() && !p.missing.iter().any(|m| m == "name");
    let exe_known = !p.exe.is_empty() && !p.missing.iter().any(|m| m == "exe");
    if matches!(b.phase, Phase::Learning { .. }) || (!name_known && !exe_known) {
        return Observation::Incomplete { key };
    }
    let matches =
        |l: &BaselineProcess| (!name_known || l.name == p.name) && (!exe_known || l.exe == p.exe);
    if let Some(l) = b.processes.iter_mut().find(|l| matches(l)) {
        l.count += 1;
        l.last_seen_ms = now_ms;
        return Observation::Incomplete { key };
    }
    if record(&mut b.anomalies, p, now_ms, settings.max_processes).is_none() {
        b.overflow += 1;
    }
    Observation::Anomaly { key }
}

/// All baselines of a node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BaselineStore {
    /// Format version ([`STORE_VERSION`]).
    pub version: u32,
    /// Baselines by key.
    pub baselines: BTreeMap<String, Baseline>,
}

impl Default for BaselineStore {
    fn default() -> Self {
        BaselineStore {
            version: STORE_VERSION,
            baselines: BTreeMap::new(),
        }
    }
}

/// Which baselines a `lock` or `reset` applies to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selector {
    /// Every baseline.
    All,
    /// The baseline with this key.
    Key(String),
}

impl BaselineStore {
    /// An empty store.
    pub fn new() -> BaselineStore {
        BaselineStore::default()
    }

    /// Feeds one event. Only exec events in containers are tracked.
    pub fn observe(
        &mut self,
        settings: &BaselineSettings,
        event: &Event,
        now_ms: u64,
    ) -> Observation {
        let (Some(p), Some(c), EventKind::Exec) = (&event.process, &event.container, event.kind)
        else {
            return Observation::NotTracked;
        };
        if p.name.is_empty() && p.exe.is_empty() {
            return Observation::NotTracked;
        }
        let key = baseline_key(c);
        if !self.baselines.contains_key(&key) {
            if self.baselines.len() >= settings.max_baselines {
                return Observation::StoreFull;
            }
            self.baselines.insert(
                key.clone(),
                Baseline::new(key.clone(), c, now_ms, settings.learn_window_ms),
            );
        }
        let Some(b) = self.baselines.get_mut(&key) else {
            return Observation::StoreFull;
        };
        if c.image.is_some() {
            b.image.clone_from(&c.image);
        }
        if let Phase::Learning { until_ms } = b.phase
            && now_ms >= until_ms
        {
            b.phase = Phase::Locked { since_ms: until_ms };
        }
        if p.identity_incomplete() {
            return observe_incomplete(b, p, key, now_ms, settings);
        }
        match b.phase {
            Phase::Learning { .. } => {
                match record(&mut b.processes, p, now_ms, settings.max_processes) {
                    Some(new) => Observation::Learning { key, new },
                    None => {
                        b.overflow += 1;
                        Observation::Learning { key, new: false }
                    }
                }
            }
            Phase::Locked { .. } => {
                if let Ok(i) = find(&b.processes, &p.name, &p.exe) {
                    b.processes[i].count += 1;
                    b.processes[i].last_seen_ms = now_ms;
                    Observation::Known { key }
                } else {
                    if record(&mut b.anomalies, p, now_ms, settings.max_processes).is_none() {
                        b.overflow += 1;
                    }
                    Observation::Anomaly { key }
                }
            }
        }
    }

    /// Locks every learning baseline whose window has elapsed; returns their keys.
    pub fn tick(&mut self, now_ms: u64) -> Vec<String> {
        let mut locked = Vec::new();
        for b in self.baselines.values_mut() {
            if let Phase::Learning { until_ms } = b.phase
                && now_ms >= until_ms
            {
                b.phase = Phase::Locked { since_ms: until_ms };
                locked.push(b.key.clone());
            }
        }
        locked
    }

    /// Locks the selected baselines now; returns how many changed.
    pub fn lock(&mut self, sel: &Selector, now_ms: u64) -> usize {
        let mut n = 0;
        for b in self.selected(sel) {
            if !b.is_locked() {
                b.phase = Phase::Locked { since_ms: now_ms };
                n += 1;
            }
        }
        n
    }

    /// Restarts learning for the selected baselines (programs and anomalies are forgotten);
    /// returns how many were reset.
    pub fn reset(&mut self, sel: &Selector, now_ms: u64, settings: &BaselineSettings) -> usize {
        let mut n = 0;
        for b in self.selected(sel) {
            b.phase = Phase::Learning {
                until_ms: now_ms.saturating_add(settings.learn_window_ms),
            };
            b.created_ms = now_ms;
            b.processes.clear();
            b.anomalies.clear();
            b.overflow = 0;
            n += 1;
        }
        n
    }

    fn selected<'a>(&'a mut self, sel: &'a Selector) -> impl Iterator<Item = &'a mut Baseline> {
        self.baselines.values_mut().filter(move |b| match sel {
            Selector::All => true,
            Selector::Key(k) => &b.key == k,
        })
    }

    /// Installs a locked baseline (e.g. from an exported allowlist) unless one with the same
    /// key exists. Returns whether it was installed.
    pub fn seed_locked(&mut self, baseline: Baseline) -> bool {
        if self.baselines.contains_key(&baseline.key) {
            return false;
        }
        self.baselines.insert(baseline.key.clone(), baseline);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::ContainerRuntime;

    const ID: &str = "d481261a4b5cf2b51de4c15910d8858157f9e4b84815999696612abe2b740cb8";

    fn container(name: Option<&str>) -> ContainerInfo {
        let mut c = ContainerInfo::bare(ContainerRuntime::Podman, ID);
        c.name = name.map(str::to_string);
        c.image = Some("localhost/app:1".into());
        c
    }

    fn exec(name: &str, exe: &str, c: Option<ContainerInfo>) -> Event {
        Event::exec(
            0,
            ProcessInfo {
                name: name.into(),
                exe: exe.into(),
                ..Default::default()
            },
            None,
            c,
        )
    }

    fn settings(window: u64) -> BaselineSettings {
        BaselineSettings {
            learn_window_ms: window,
            max_processes: 3,
            max_baselines: 2,
        }
    }

    #[test]
    fn keys_follow_the_documented_precedence() {
        let mut c = container(Some("web"));
        assert_eq!(baseline_key(&c), "container/web");
        c.namespace = Some("shop".into());
        c.pod = Some("web-7d9f8b6c4-x2k9q".into());
        assert_eq!(baseline_key(&c), "k8s/shop/web-7d9f8b6c4-x2k9q/web");
        c.workload = Some("Deployment/web".into());
        assert_eq!(baseline_key(&c), "k8s/shop/Deployment/web/web");
        assert_eq!(baseline_key(&container(None)), format!("container-id/{ID}"));
    }

    /// Issue 23: `ls` (exe /bin/busybox) learned, then run again and read without its
    /// executable (a zombie, or gone during the read) was flagged as an anomaly.
    #[test]
    fn an_incomplete_identity_is_compared_on_what_is_known_and_never_learned() {
        let (s, mut store) = (settings(1000), BaselineStore::new());
        let (c, key) = (Some(container(Some("web"))), String::from("container/web"));
        let incomplete = |name: &str, exe: &str, missing: &[&str]| {
            let mut e = exec(name, exe, c.clone());
            if let Some(p) = e.process.as_mut() {
                p.missing = missing.iter().map(|m| m.to_string()).collect();
            }
            e
        };
        store.observe(&s, &exec("ls", "/bin/busybox", c.clone()), 0);
        // Learning: nothing is learned from an incomplete record.
        assert_eq!(
            store.observe(&s, &incomplete("cat", "", &["exe", "args"]), 10),
            Observation::Incomplete { key: key.clone() }
        );
        store.tick(1000);
        // Locked: the name alone is `ls`, a learned program, so not an anomaly.
        assert_eq!(
            store.observe(&s, &incomplete("ls", "", &["exe", "args"]), 1500),
            Observation::Incomplete { key: key.clone() }
        );
        // Only the executable known, and a learned program has it.
        assert_eq!(
            store.observe(&s, &incomplete("", "/bin/busybox", &["name"]), 1600),
            Observation::Incomplete { key: key.clone() }
        );
        // A name no learned program has is an anomaly on the name alone.
        assert_eq!(
            store.observe(&s, &incomplete("nc", "", &["exe"]), 1700),
            Observation::Anomaly { key: key.clone() }
        );
        let b = &store.baselines[&key];
        let learned: Vec<&str> = b.processes.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(learned, ["ls"]);
        assert_eq!(b.processes[0].count, 3);
        let flagged: Vec<&str> = b.anomalies.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(flagged, ["nc"]);
    }

    #[test]
    fn learn_then_lock_on_window_then_flag_new_program() {
        let s = settings(1000);
        let mut store = BaselineStore::new();
        let c = Some(container(Some("web")));
        let key = "container/web".to_string();
        assert_eq!(
            store.observe(&s, &exec("sleep", "/bin/busybox", c.clone()), 0),
            Observation::Learning {
                key: key.clone(),
                new: true
            }
        );
        assert_eq!(
            store.observe(&s, &exec("sleep", "/bin/busybox", c.clone()), 10),
            Observation::Learning {
                key: key.clone(),
                new: false
            }
        );
        assert_eq!(store.tick(999), Vec::<String>::new());
        assert_eq!(store.tick(1000), vec![key.clone()]);
        assert_eq!(
            store.observe(&s, &exec("sleep", "/bin/busybox", c.clone()), 1500),
            Observation::Known { key: key.clone() }
        );
        // Same executable, different applet: a different program.
        assert_eq!(
            store.observe(&s, &exec("sh", "/bin/busybox", c.clone()), 1600),
            Observation::Anomaly { key: key.clone() }
        );
        let b = &store.baselines[&key];
        assert_eq!(b.processes.len(), 1);
        assert_eq!(b.processes[0].count, 3);
        assert_eq!(b.anomalies.len(), 1);
        assert_eq!(b.anomalies[0].name, "sh");
    }

    #[test]
    fn window_elapsing_between_ticks_locks_on_observe() {
        let s = settings(100);
        let mut store = BaselineStore::new();
        let c = Some(container(Some("web")));
        store.observe(&s, &exec("a", "/a", c.clone()), 0);
        assert!(matches!(
            store.observe(&s, &exec("b", "/b", c), 500),
            Observation::Anomaly { .. }
        ));
    }

    #[test]
    fn manual_lock_and_reset() {
        let s = settings(u64::MAX);
        let mut store = BaselineStore::new();
        let c = Some(container(Some("web")));
        store.observe(&s, &exec("a", "/a", c.clone()), 0);
        assert_eq!(store.lock(&Selector::Key("container/other".into()), 5), 0);
        assert_eq!(store.lock(&Selector::All, 5), 1);
        assert_eq!(store.lock(&Selector::All, 6), 0);
        assert!(matches!(
            store.observe(&s, &exec("b", "/b", c.clone()), 7),
            Observation::Anomaly { .. }
        ));
        assert_eq!(
            store.reset(&Selector::Key("container/web".into()), 8, &s),
            1
        );
        let b = &store.baselines["container/web"];
        assert!(!b.is_locked());
        assert!(b.processes.is_empty() && b.anomalies.is_empty());
        assert!(matches!(
            store.observe(&s, &exec("b", "/b", c), 9),
            Observation::Learning { new: true, .. }
        ));
    }

    #[test]
    fn host_processes_and_connect_events_are_not_tracked() {
        let s = settings(1000);
        let mut store = BaselineStore::new();
        assert_eq!(
            store.observe(&s, &exec("a", "/a", None), 0),
            Observation::NotTracked
        );
        assert!(store.baselines.is_empty());
    }

    #[test]
    fn caps_bound_memory() {
        let s = settings(1000);
        let mut store = BaselineStore::new();
        let c = Some(container(Some("web")));
        for i in 0..10 {
            store.observe(&s, &exec(&format!("p{i}"), "/x", c.clone()), 0);
        }
        let b = &store.baselines["container/web"];
        assert_eq!(b.processes.len(), 3);
        assert_eq!(b.overflow, 7);
        store.observe(&s, &exec("a", "/a", Some(container(Some("two")))), 0);
        assert_eq!(
            store.observe(&s, &exec("a", "/a", Some(container(Some("three")))), 0),
            Observation::StoreFull
        );
    }

    #[test]
    fn store_serializes_with_phase_inline() {
        let s = settings(1000);
        let mut store = BaselineStore::new();
        store.observe(&s, &exec("a", "/a", Some(container(Some("web")))), 0);
        let json = serde_json::to_value(&store).unwrap();
        assert_eq!(json["baselines"]["container/web"]["phase"], "learning");
        assert_eq!(json["baselines"]["container/web"]["until_ms"], 1000);
        let back: BaselineStore = serde_json::from_value(json).unwrap();
        assert_eq!(back, store);
    }
}
