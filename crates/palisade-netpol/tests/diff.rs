//! `diff`: connections added, removed and changed between two manifest sets.

mod support;

use palisade_model::Inventory;
use palisade_netpol::{ChangeKind, PortSet, Protocol, diff};
use support::{deployment, docs, inventory, namespace};

fn base(policies: &str) -> Inventory {
    let mut parts = vec![
        namespace("shop", &[]),
        namespace("dev", &[]),
        deployment("shop", "web", &[("app", "web")], &[]),
        deployment("shop", "db", &[("app", "db")], &[]),
        deployment("dev", "tester", &[("app", "tester")], &[]),
    ];
    if !policies.is_empty() {
        parts.push(policies.to_string());
    }
    inventory(&docs(&parts))
}

fn rows(d: &palisade_netpol::Diff) -> Vec<(String, String, ChangeKind)> {
    d.changes
        .iter()
        .map(|c| (c.src.to_string(), c.dst.to_string(), c.change))
        .collect()
}

#[test]
fn adding_an_ingress_policy_removes_and_narrows_connections() {
    let old = base("");
    let new = base(
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: db-ingress, namespace: shop}\nspec:\n  podSelector: {matchLabels: {app: db}}\n  ingress: [{from: [{podSelector: {matchLabels: {app: web}}}], ports: [{port: 5432}]}]\n",
    );
    let d = diff(&old, &new, u64::MAX).unwrap();
    assert_eq!(
        rows(&d),
        [
            (
                "dev/Deployment/tester".into(),
                "shop/Deployment/db".into(),
                ChangeKind::Removed
            ),
            (
                "shop/Deployment/db".into(),
                "shop/Deployment/db".into(),
                ChangeKind::Removed
            ),
            (
                "shop/Deployment/web".into(),
                "shop/Deployment/db".into(),
                ChangeKind::Changed
            ),
            (
                "0.0.0.0/0".into(),
                "shop/Deployment/db".into(),
                ChangeKind::Removed
            ),
            (
                "::/0".into(),
                "shop/Deployment/db".into(),
                ChangeKind::Removed
            ),
        ]
    );
    let web_db = &d.changes[2];
    assert!(web_db.before.is_all());
    assert_eq!(web_db.after, PortSet::single(Protocol::Tcp, 5432));
    assert_eq!(web_db.removed, PortSet::all().difference(&web_db.after));
    assert!(web_db.added.is_empty());
    // Reversing the comparison turns removals into additions.
    let back = diff(&new, &old, u64::MAX).unwrap();
    assert_eq!(back.changes.len(), 5);
    assert!(back.changes.iter().all(|c| c.change != ChangeKind::Removed));
    // Identical inputs: no change.
    assert!(diff(&new, &new, u64::MAX).unwrap().changes.is_empty());
    // The limit is checked before expanding.
    let err = diff(&old, &new, 4).unwrap_err();
    assert_eq!((err.rows, err.limit), (5, 4));
}

#[test]
fn narrowing_an_ip_block_is_compared_on_a_shared_partition() {
    let egress = |cidr: &str| {
        base(&format!(
            "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: out, namespace: shop}}\nspec:\n  podSelector: {{matchLabels: {{app: web}}}}\n  policyTypes: [Egress]\n  egress: [{{to: [{{ipBlock: {{cidr: {cidr}}}}}]}}]\n"
        ))
    };
    let d = diff(&egress("10.0.0.0/8"), &egress("10.0.0.0/16"), u64::MAX).unwrap();
    assert_eq!(
        rows(&d),
        [(
            "shop/Deployment/web".into(),
            "10.1.0.0-10.255.255.255".into(),
            ChangeKind::Removed
        )]
    );
}

#[test]
fn workloads_present_on_one_side_only_are_listed_and_their_connections_change() {
    let old = base("");
    let mut new = base("");
    new.workloads
        .extend(inventory(&deployment("dev", "extra", &[("app", "extra")], &[])).workloads);
    new.finalize();
    let d = diff(&old, &new, u64::MAX).unwrap();
    assert!(d.only_in_old.is_empty());
    assert_eq!(d.only_in_new.len(), 1);
    assert_eq!(d.only_in_new[0].name, "extra");
    // extra <-> each of 3 workloads both ways, itself, 2 external cells both ways.
    assert_eq!(d.changes.len(), 3 * 2 + 1 + 2 * 2);
    assert!(d.changes.iter().all(|c| c.change == ChangeKind::Added));
}
