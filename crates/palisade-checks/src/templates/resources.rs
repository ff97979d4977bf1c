//! Resource and probe templates.

use palisade_model::WorkloadKind;
use palisade_model::api::{ContainerKind, IntOrString};
use serde::Deserialize;

use super::{Hits, params};
use crate::catalog::CheckDef;
use crate::context::Ctx;

type R = Result<(), String>;

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ResourceParams {
    section: String,
    resource: String,
}

pub(crate) fn resource_missing(check: &CheckDef, ctx: &Ctx<'_>, hits: &mut Hits) -> R {
    let p: std::sync::Arc<ResourceParams> = params(check)?;
    let section: &'static str = match p.section.as_str() {
        "limits" => "limits",
        "requests" => "requests",
        other => return Err(format!("section must be limits or requests, not {other:?}")),
    };
    for c in ctx.containers() {
        if c.kind == ContainerKind::Ephemeral {
            continue; // ephemeral containers cannot declare resources
        }
        let res = c.container.resources.as_ref();
        let set = res.is_some_and(|r| {
            let map = if p.section == "limits" {
                &r.limits
            } else {
                &r.requests
            };
            map.contains_key(&p.resource)
        });
        // A limit without a request defaults the request to the limit.
        let defaulted =
            p.section == "requests" && res.is_some_and(|r| r.limits.contains_key(&p.resource));
        // A LimitRange of the namespace fills in defaults at admission.
        let limit_range = c
            .workload
            .namespace()
            .and_then(|ns| ctx.limit_range_defaults.get(ns))
            .is_some_and(|d| d.contains(&(section, p.resource.clone())));
        if !set && !defaulted && !limit_range {
            hits.container(
                &c,
                &format!("resources.{}.{}", p.section, p.resource),
                format!(
                    "container {} sets no {} {}",
                    c.container.name,
                    p.resource,
                    if p.section == "limits" {
                        "limit"
                    } else {
                        "request"
                    }
                ),
            );
        }
    }
    Ok(())
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ProbeParams {
    probe: String,
}

pub(crate) fn probe_missing(check: &CheckDef, ctx: &Ctx<'_>, hits: &mut Hits) -> R {
    let p: std::sync::Arc<ProbeParams> = params(check)?;
    if !matches!(p.probe.as_str(), "liveness" | "readiness" | "startup") {
        return Err(format!(
            "probe must be liveness, readiness or startup, not {:?}",
            p.probe
        ));
    }
    for c in ctx.containers() {
        // Probes matter for long-running containers; batch pods and init containers do not
        // serve traffic or restart on failure the same way.
        if c.kind != ContainerKind::Regular
            || matches!(
                c.workload.spec.kind,
                WorkloadKind::Job | WorkloadKind::CronJob
            )
        {
            continue;
        }
        let has = match p.probe.as_str() {
            "liveness" => c.container.liveness_probe.is_some(),
            "readiness" => c.container.readiness_probe.is_some(),
            _ => c.container.startup_probe.is_some(),
        };
        if !has {
            hits.container(
                &c,
                &format!("{}Probe", p.probe),
                format!("container {} has no {} probe", c.container.name, p.probe),
            );
        }
    }
    Ok(())
}

pub(crate) fn probe_port_unknown(check: &CheckDef, ctx: &Ctx<'_>, hits: &mut Hits) -> R {
    params::<serde_json::Value>(check)?;
    for c in ctx.containers() {
        let probes = [
            ("livenessProbe", &c.container.liveness_probe),
            ("readinessProbe", &c.container.readiness_probe),
            ("startupProbe", &c.container.startup_probe),
        ];
        for (field, probe) in probes {
            // Named ports must resolve against this container's ports; numeric ports need not
            // be declared (declared ports are informational).
            if let Some(IntOrString::String(name)) = probe.as_ref().and_then(|p| p.port()) {
                let known = c
                    .container
                    .ports
                    .iter()
                    .any(|port| port.name.as_deref() == Some(name.as_str()));
                if !known {
                    hits.container(
                        &c,
                        field,
                        format!(
                            "container {} {field} uses port name {name}, which none of its ports has",
                            c.container.name
                        ),
                    );
                }
            }
        }
    }
    Ok(())
}
