//! Objects a controller manages: a Deployment's ReplicaSets, a ReplicaSet's Pods, a CronJob's
//! Jobs. Their pod templates are the controller's, so a live read analyzes the controller only
//! (as a manifest repository holds it), never the same template two or three times.

use std::collections::HashSet;

use serde_json::Value;

/// Workload kinds whose objects control others.
const CONTROLLERS: &[&str] = &[
    "Deployment",
    "ReplicaSet",
    "StatefulSet",
    "DaemonSet",
    "Job",
    "CronJob",
    "ReplicationController",
];

fn uid(obj: &Value) -> Option<&str> {
    obj.pointer("/metadata/uid").and_then(Value::as_str)
}

/// The uid of the controller that manages `obj`, if its owner is a workload controller.
fn controller_uid(obj: &Value) -> Option<&str> {
    obj.pointer("/metadata/ownerReferences")?
        .as_array()?
        .iter()
        .find(|r| {
            r.get("controller").and_then(Value::as_bool) == Some(true)
                && r.get("kind")
                    .and_then(Value::as_str)
                    .is_some_and(|k| CONTROLLERS.contains(&k))
        })?
        .get("uid")?
        .as_str()
}

/// Which of `objects` (whole, or their `kind` and `metadata` alone) are managed by a
/// controller that is among them too (an object whose controller is missing — not listed,
/// forbidden, outside the namespaces read — is not).
pub fn controlled(objects: &[Value]) -> Vec<bool> {
    let controllers: HashSet<&str> = objects
        .iter()
        .filter(|o| {
            o.get("kind")
                .and_then(Value::as_str)
                .is_some_and(|k| CONTROLLERS.contains(&k))
        })
        .filter_map(uid)
        .collect();
    objects
        .iter()
        .map(|o| controller_uid(o).is_some_and(|u| controllers.contains(u)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_objects_whose_controller_was_read_are_dropped() {
        let owned = |kind: &str, owner_uid: &str| {
            json!({"kind": kind, "metadata": {"uid": format!("{kind}-uid"), "ownerReferences": [
                {"kind": "ReplicaSet", "uid": owner_uid, "controller": true, "name": "x", "apiVersion": "apps/v1"}]}})
        };
        let objects = vec![
            json!({"kind": "ReplicaSet", "metadata": {"uid": "rs1"}}),
            owned("Pod", "rs1"),
            owned("Pod", "missing"),
        ];
        assert_eq!(controlled(&objects), [false, true, false]);
    }
}
