//! Alert and response records: the JSON-lines values the agent writes.
//!
//! Each line is one object whose `record` field says what it is:
//!
//! ```json
//! {"record":"alert","time":"2026-11-29T10:00:00.000Z","rule":"shell-in-container","severity":"high","description":"…","tags":["shell"],"event":"exec","process":{"pid":4711,"ppid":4700,"uid":0,"euid":0,"gid":0,"name":"sh","exe":"/bin/busybox","args":["sh"],"cwd":"/","start_time_ms":…,"start_ticks":…,"exe_setuid":false,"exe_setgid":false,"stdin":"pipe","stdout":"pipe","stderr":"pipe"},"container":{"id":"d481…","runtime":"podman","name":"web","image":"localhost/app:1"},"actions":["kill-container"]}
//! {"record":"response","time":"…","rule":"shell-in-container","request":{"action":"kill-container","runtime":"podman","container_id":"d481…"},"status":"done","detail":"stopped"}
//! ```

use std::borrow::Cow;

use palisade_model::Severity;
use serde::{Deserialize, Serialize};

use crate::event::{Connection, ContainerInfo, Event, EventKind, ProcessInfo, ProcessSummary};
use crate::redact::redact_args;
use crate::response::{Action, ResponseRequest};
use crate::rules::Rule;
use palisade_model::time::Timestamp;

/// The rule ID of alerts raised by a locked process baseline.
pub const BASELINE_RULE_ID: &str = "baseline-anomaly";

/// One alert.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Alert {
    /// Always `alert`.
    pub record: String,
    /// When the event happened (RFC 3339, UTC).
    pub time: String,
    /// The rule that matched (or `baseline-anomaly`).
    pub rule: String,
    /// Severity.
    pub severity: Severity,
    /// What the rule detects.
    pub description: String,
    /// The rule's tags.
    #[serde(default)]
    pub tags: Vec<String>,
    /// The event kind.
    pub event: EventKind,
    /// The process.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub process: Option<ProcessInfo>,
    /// Its parent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<ProcessSummary>,
    /// The container (absent for host processes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container: Option<ContainerInfo>,
    /// The connection, for connect events.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection: Option<Connection>,
    /// The baseline key, for baseline anomalies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline: Option<String>,
    /// Responses requested by the rule (their outcomes follow as `response` records).
    #[serde(default)]
    pub actions: Vec<Action>,
}

impl Alert {
    /// The alert for a rule match.
    pub fn for_rule(rule: &Rule, event: &Event) -> Alert {
        Alert::new(
            &rule.id,
            rule.severity,
            &rule.description,
            rule.tags.clone(),
            &rule
                .actions
                .iter()
                .copied()
                .filter(|a| *a != Action::Alert)
                .collect::<Vec<_>>(),
            event,
        )
    }

    /// An alert with the given rule metadata.
    pub fn new(
        rule: &str,
        severity: Severity,
        description: &str,
        tags: Vec<String>,
        actions: &[Action],
        event: &Event,
    ) -> Alert {
        Alert {
            record: "alert".into(),
            time: Timestamp::from_unix_ms(event.time_ms).rfc3339_ms(),
            rule: rule.to_string(),
            severity,
            description: description.to_string(),
            tags,
            event: event.kind,
            // Rules saw the real arguments; the record that leaves the agent does not carry
            // the credentials among them.
            process: event.process.clone().map(|mut p| {
                if let Cow::Owned(args) = redact_args(&p.args) {
                    p.args = args;
                }
                p
            }),
            parent: event.parent.clone().map(|mut p| {
                if let Cow::Owned(args) = redact_args(&p.args) {
                    p.args = args;
                }
                p
            }),
            container: event.container.clone(),
            connection: event.connection.clone(),
            baseline: None,
            actions: actions.to_vec(),
        }
    }
}

/// Outcome of a response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ResponseStatus {
    /// Carried out.
    Done,
    /// Tried and failed.
    Failed,
    /// Not tried (a guard refused it, or the queue was full).
    Skipped,
}

/// One response outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResponseRecord {
    /// Always `response`.
    pub record: String,
    /// When the outcome was known (RFC 3339, UTC).
    pub time: String,
    /// The rule that asked for it.
    pub rule: String,
    /// The action.
    pub action: Action,
    /// The request, when one was made.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<ResponseRequest>,
    /// The container concerned, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container_id: Option<String>,
    /// Outcome.
    pub status: ResponseStatus,
    /// Details (error text, skip reason).
    pub detail: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::RuleSet;

    #[test]
    fn alert_json_round_trips_and_names_rule_process_and_container() {
        let rules = RuleSet::builtin().unwrap();
        let rule = rules.get("shell-in-container").unwrap();
        let id = "d481261a4b5cf2b51de4c15910d8858157f9e4b84815999696612abe2b740cb8";
        let e = Event::exec(
            1_795_946_400_000,
            ProcessInfo {
                pid: 4711,
                name: "sh".into(),
                exe: "/bin/busybox".into(),
                args: vec!["sh".into(), "-c".into(), "id".into()],
                ..Default::default()
            },
            None,
            Some(ContainerInfo::bare(
                crate::event::ContainerRuntime::Podman,
                id,
            )),
        );
        let a = Alert::for_rule(rule, &e);
        let line = serde_json::to_string(&a).unwrap();
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["record"], "alert");
        assert_eq!(v["rule"], "shell-in-container");
        assert_eq!(v["time"], "2026-11-29T10:00:00.000Z");
        assert_eq!(v["process"]["pid"], 4711);
        assert_eq!(v["process"]["exe"], "/bin/busybox");
        assert_eq!(v["process"]["args"][2], "id");
        assert_eq!(v["container"]["id"], id);
        assert_eq!(v["container"]["runtime"], "podman");
        let back: Alert = serde_json::from_str(&line).unwrap();
        assert_eq!(back, a);
    }

    #[test]
    fn credentials_in_arguments_do_not_leave_in_the_alert() {
        let rules = RuleSet::builtin().unwrap();
        let rule = rules.get("shell-in-container").unwrap();
        let e = Event::exec(
            1_795_946_400_000,
            ProcessInfo {
                pid: 7,
                name: "sh".into(),
                args: vec![
                    "sh".into(),
                    "-c".into(),
                    "curl -H 'Authorization: Bearer tok3n' https://bob:pw1@api/ --token=t0k".into(),
                ],
                ..Default::default()
            },
            Some(crate::event::ProcessSummary {
                pid: 6,
                name: "mysql".into(),
                args: vec!["mysql".into(), "-pS3cret".into()],
                ..Default::default()
            }),
            None,
        );
        let line = serde_json::to_string(&Alert::for_rule(rule, &e)).unwrap();
        for secret in ["tok3n", "pw1", "t0k", "S3cret"] {
            assert!(!line.contains(secret), "{secret} in {line}");
        }
        assert!(line.contains("https://bob:REDACTED@api/"), "{line}");
        // The event itself (what rules match on) is untouched.
        assert!(e.process.as_ref().unwrap().args[2].contains("tok3n"));
    }
}
