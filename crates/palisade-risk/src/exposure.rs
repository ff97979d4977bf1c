//! How a workload can be reached: from outside the cluster (LoadBalancer, NodePort, Ingress,
//! Gateway API routes and Istio VirtualServices bound to a gateway, external IPs, host ports)
//! or only inside it (ClusterIP Services).

use foldhash::HashMap;

use palisade_model::inventory::{DEFAULT_NAMESPACE, OtherObject};
use palisade_model::routes::{is_virtual_service, route_backends};
use palisade_model::selector::map_selects;
use palisade_model::{Inventory, Workload, WorkloadId};
use serde::Serialize;

/// How far a workload is exposed, least exposed first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ExposureLevel {
    /// No Service selects it and it binds no host port.
    None,
    /// Reachable inside the cluster through a ClusterIP (or headless) Service.
    ClusterInternal,
    /// A port bound on the node (`hostPort`, or `hostNetwork` with container ports).
    HostPort,
    /// A NodePort Service: every node's IP.
    NodePort,
    /// Routed by an Ingress, a Gateway API route or an Istio VirtualService bound to a gateway.
    Ingress,
    /// A Service with `externalIPs`.
    ExternalIp,
    /// A LoadBalancer Service.
    LoadBalancer,
}

impl ExposureLevel {
    /// Stable snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            ExposureLevel::None => "none",
            ExposureLevel::ClusterInternal => "cluster_internal",
            ExposureLevel::HostPort => "host_port",
            ExposureLevel::NodePort => "node_port",
            ExposureLevel::Ingress => "ingress",
            ExposureLevel::ExternalIp => "external_ip",
            ExposureLevel::LoadBalancer => "load_balancer",
        }
    }

    /// Whether the level reaches beyond the cluster network.
    pub fn is_external(self) -> bool {
        self > ExposureLevel::ClusterInternal
    }
}

/// Whether an Istio VirtualService is bound to a gateway other than the mesh itself.
fn bound_to_gateway(o: &OtherObject) -> bool {
    o.raw
        .pointer("/spec/gateways")
        .and_then(|g| g.as_array())
        .is_some_and(|g| g.iter().any(|x| x.as_str().is_some_and(|x| x != "mesh")))
}

/// One way in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Route {
    /// What kind of route.
    pub level: ExposureLevel,
    /// The object that provides it (`Service shop/web`, `Ingress shop/web -> Service web`,
    /// `container api hostPort 8080`).
    pub via: String,
    /// True when a LoadBalancer limits its sources with `loadBalancerSourceRanges`.
    pub source_ranges_restricted: bool,
}

/// All the ways into a workload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Exposure {
    /// The highest level among the routes.
    pub level: ExposureLevel,
    /// The routes, in the order found (Services, Ingresses, host ports).
    pub routes: Vec<Route>,
}

/// The Service and Ingress routes of every workload, computed once per inventory (each Service's
/// selector is evaluated once, not once per workload).
pub struct ExposureIndex {
    routes: HashMap<WorkloadId, Vec<Route>>,
}

impl ExposureIndex {
    /// Resolves every Service's targets and every Ingress's backends.
    pub fn build(inventory: &Inventory) -> ExposureIndex {
        let mut routes: HashMap<WorkloadId, Vec<Route>> = HashMap::default();
        // Service name (per namespace) -> workloads it selects.
        let mut targets: HashMap<(String, String), Vec<WorkloadId>> = HashMap::default();
        // Workloads per namespace, so each Service looks only at its own namespace's.
        let mut by_namespace: HashMap<&str, Vec<&Workload>> = HashMap::default();
        for w in &inventory.workloads {
            if let Some(ns) = w.namespace() {
                by_namespace.entry(ns).or_default().push(w);
            }
        }
        for svc in &inventory.services {
            let ns = svc.namespace().unwrap_or_default().to_string();
            let selected: Vec<WorkloadId> = by_namespace
                .get(svc.namespace().unwrap_or(DEFAULT_NAMESPACE))
                .into_iter()
                .flatten()
                .filter(|w| map_selects(&svc.spec.selector, w.pod_labels()))
                .map(|w| WorkloadId::of(w))
                .collect();
            if selected.is_empty() {
                continue;
            }
            let via = format!("Service {}/{}", ns, svc.name());
            let level = match svc.service_type() {
                "LoadBalancer" => ExposureLevel::LoadBalancer,
                "NodePort" => ExposureLevel::NodePort,
                _ => ExposureLevel::ClusterInternal,
            };
            for id in &selected {
                let r = routes.entry(id.clone()).or_default();
                r.push(Route {
                    level,
                    via: via.clone(),
                    source_ranges_restricted: level == ExposureLevel::LoadBalancer
                        && !svc.spec.load_balancer_source_ranges.is_empty(),
                });
                if !svc.spec.external_ips.is_empty() {
                    r.push(Route {
                        level: ExposureLevel::ExternalIp,
                        via: format!("{via} externalIPs {}", svc.spec.external_ips.join(",")),
                        source_ranges_restricted: false,
                    });
                }
            }
            targets
                .entry((ns, svc.name()))
                .or_default()
                .extend(selected);
        }
        for ing in &inventory.ingresses {
            let ns = ing.namespace().unwrap_or_default().to_string();
            for backend in ing.backend_services() {
                let Some(ids) = targets.get(&(ns.clone(), backend.to_string())) else {
                    continue;
                };
                for id in ids {
                    routes.entry(id.clone()).or_default().push(Route {
                        level: ExposureLevel::Ingress,
                        via: format!("Ingress {}/{} -> Service {backend}", ns, ing.name()),
                        source_ranges_restricted: false,
                    });
                }
            }
        }
        // Gateway API routes and Istio VirtualServices bound to a gateway route like Ingresses
        // (a VirtualService without gateways, or only "mesh", stays inside the mesh).
        for o in &inventory.others {
            if is_virtual_service(o) && !bound_to_gateway(o) {
                continue;
            }
            let ns = o.namespace().unwrap_or(DEFAULT_NAMESPACE);
            for b in route_backends(o) {
                let Some(ids) = targets.get(&(b.namespace.clone(), b.name.clone())) else {
                    continue;
                };
                for id in ids {
                    routes.entry(id.clone()).or_default().push(Route {
                        level: ExposureLevel::Ingress,
                        via: format!(
                            "{} {ns}/{} -> Service {}/{}",
                            o.kind,
                            o.name(),
                            b.namespace,
                            b.name
                        ),
                        source_ranges_restricted: false,
                    });
                }
            }
        }
        ExposureIndex { routes }
    }

    /// How `w` is exposed: its Service and Ingress routes plus the host ports of its pod spec.
    pub fn exposure_of(&self, w: &Workload) -> Exposure {
        let mut routes = self
            .routes
            .get(&WorkloadId::of(w))
            .cloned()
            .unwrap_or_default();
        let host_network = w.spec.pod.host_network == Some(true);
        for (_, c) in w.spec.pod.all_containers() {
            for p in &c.ports {
                let port = match (p.host_port, host_network) {
                    (Some(hp), _) if hp > 0 => hp,
                    (_, true) => p.container_port,
                    _ => continue,
                };
                routes.push(Route {
                    level: ExposureLevel::HostPort,
                    via: format!(
                        "container {} {} {port}",
                        c.name,
                        if host_network {
                            "hostNetwork port"
                        } else {
                            "hostPort"
                        }
                    ),
                    source_ranges_restricted: false,
                });
            }
        }
        let level = routes
            .iter()
            .map(|r| r.level)
            .max()
            .unwrap_or(ExposureLevel::None);
        Exposure { level, routes }
    }
}
