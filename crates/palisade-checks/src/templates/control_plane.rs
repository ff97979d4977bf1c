//! Control-plane templates: the flags of kube-apiserver, kube-controller-manager,
//! kube-scheduler and etcd, read from the command line of the containers that run them (the
//! static pod manifests of `/etc/kubernetes/manifests`, or any workload that runs the binary).
//!
//! Containers that run none of these binaries are never reported on. A component told to read
//! its settings from a file instead of its flags (etcd's `--config-file`) is not judged on its
//! flags: the file decides, and it is not part of the input.

mod component;
mod flags;

use std::collections::BTreeSet;
use std::net::IpAddr;

use serde::Deserialize;

use self::component::{Component, DEFAULT_ADMISSION_PLUGINS, Invocation, Setting, Source};
use self::flags::{feature_gate, go_duration_nanos, list_items, parse_bool};
use super::{Hits, params};
use crate::catalog::CheckDef;
use crate::context::{ContainerAt, Ctx};

type R = Result<(), String>;

/// The containers of `ctx` that run `component` and read their flags, with their invocation.
fn invocations<'c, 'a: 'c>(
    ctx: &'c Ctx<'a>,
    component: Component,
) -> impl Iterator<Item = (ContainerAt<'a>, Invocation<'a>)> + 'c {
    ctx.control_plane_containers(|c| Invocation::of(c).is_some())
        .filter_map(move |c| {
            let inv = Invocation::of(c.container)?;
            let from_file = component.config_file_flag().is_some_and(|f| inv.is_set(f));
            (inv.component == component && !from_file).then_some((c, inv))
        })
}

/// What is wrong with one flag: the field path to point at and the message.
struct Problem {
    path: String,
    message: String,
}

/// Reports the problems of one container as one finding (the first problem's path).
fn report(hits: &mut Hits, c: &ContainerAt<'_>, inv: &Invocation<'_>, problems: Vec<Problem>) {
    let Some(first) = problems.first() else {
        return;
    };
    let path = first.path.clone();
    let messages: Vec<String> = problems.into_iter().map(|p| p.message).collect();
    hits.container(
        c,
        &path,
        format!("{}: {}", inv.component.executable(), messages.join("; ")),
    );
}

/// The field path a setting points at.
fn path_of(inv: &Invocation<'_>, source: &Source) -> String {
    match source {
        Source::Flag(path) => path.clone(),
        Source::Env(_) => "env".to_string(),
        Source::Default => inv.flags_field().to_string(),
    }
}

/// How a setting reads in a message: `--flag=value`, the environment variable that sets it
/// (never its value: messages carry no environment values), or the default.
fn describe(flag: &str, value: &str, source: &Source) -> String {
    match source {
        Source::Flag(_) => format!("--{flag}={value}"),
        Source::Env(var) => format!("{var} (environment) sets --{flag}"),
        Source::Default => format!("--{flag} is not set (its default is {value})"),
    }
}

fn describe_setting(flag: &str, s: &Setting) -> String {
    match &s.value {
        Some(v) => describe(flag, v, &s.source),
        None => format!("--{flag} is given without a value"),
    }
}

/// What a flag check expects of each of its flags.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
enum Expect {
    /// The flag is given, with a non-empty value.
    Set,
    /// The flag is not given.
    Unset,
    /// The value in effect equals this (as booleans for boolean flags).
    Equals(String),
    /// The value in effect does not equal this.
    NotEquals(String),
    /// The value in effect is one of these.
    OneOf(Vec<String>),
    /// The list in effect includes this item.
    Contains(String),
    /// The list in effect does not include this item.
    NotContains(String),
    /// The value in effect is an integer at least this.
    AtLeast(i64),
    /// The value in effect is a Go duration of at most this.
    AtMostDuration(String),
    /// The value in effect is a loopback address (`127.0.0.0/8`, `::1`, `localhost`).
    Loopback,
    /// No item of the list in effect starts with this (`http://`).
    NoneStartsWith(String),
    /// `--feature-gates` does not turn this gate off.
    GateNotDisabled(String),
}

/// Parameters of `control_plane_flag`.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct FlagParams {
    /// The component whose containers are checked.
    component: Option<Component>,
    /// The flags (names without dashes), each held to `expect`.
    flags: Vec<String>,
    /// What each flag must satisfy.
    expect: Option<Expect>,
    /// Flags that move the setting elsewhere (a configuration file): when any is given, the
    /// check cannot decide and stays silent.
    #[serde(default)]
    skip_if_set: Vec<String>,
    /// When not empty, the check applies only if one of these flags is given.
    #[serde(default)]
    only_if_set: Vec<String>,
}

fn same(component: Component, flag: &str, actual: &str, expected: &str) -> bool {
    if component.is_bool(flag) {
        parse_bool(actual).is_some() && parse_bool(actual) == parse_bool(expected)
    } else {
        actual == expected
    }
}

fn is_loopback(address: &str) -> bool {
    let host = address.trim_start_matches('[').trim_end_matches(']');
    host == "localhost" || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

impl Expect {
    fn check_params(&self) -> Result<(), String> {
        match self {
            Expect::AtMostDuration(d) if go_duration_nanos(d).is_none() => {
                Err(format!("at_most_duration: {d:?} is not a Go duration"))
            }
            _ => Ok(()),
        }
    }

    /// The problem with `flag` in `inv`, if any.
    fn judge(&self, inv: &Invocation<'_>, flag: &str) -> Option<Problem> {
        let component = inv.component;
        let problem = |source: &Source, message: String| {
            Some(Problem {
                path: path_of(inv, source),
                message,
            })
        };
        match self {
            Expect::Set => match inv.explicit(flag) {
                None => problem(&Source::Default, format!("--{flag} is not set")),
                Some(s) if s.value.as_deref().unwrap_or("").is_empty() => {
                    problem(&s.source, format!("--{flag} is given an empty value"))
                }
                Some(_) => None,
            },
            Expect::Unset => {
                let s = inv.explicit(flag)?;
                problem(&s.source, format!("{} is set", describe_setting(flag, &s)))
            }
            Expect::GateNotDisabled(gate) => {
                let (values, source) = inv.list_values(flag);
                (feature_gate(values.iter().map(String::as_str), gate) == Some(false))
                    .then(|| problem(&source, format!("--{flag} sets {gate}=false")))
                    .flatten()
            }
            Expect::Contains(item) | Expect::NotContains(item) | Expect::NoneStartsWith(item) => {
                let (values, source) = inv.list_values(flag);
                let joined = values.join(",");
                let items: Vec<&str> = values.iter().flat_map(|v| list_items(v)).collect();
                let shown = describe(flag, &joined, &source);
                match self {
                    Expect::Contains(_) if !items.contains(&item.as_str()) => {
                        problem(&source, format!("{shown}, which does not include {item}"))
                    }
                    Expect::NotContains(_) if items.contains(&item.as_str()) => {
                        problem(&source, format!("{shown}, which includes {item}"))
                    }
                    Expect::NoneStartsWith(_) => {
                        let bad: Vec<&str> = items
                            .into_iter()
                            .filter(|i| i.starts_with(item.as_str()))
                            .collect();
                        (!bad.is_empty())
                            .then(|| {
                                problem(
                                    &source,
                                    format!("{shown}, which includes {}", bad.join(", ")),
                                )
                            })
                            .flatten()
                    }
                    _ => None,
                }
            }
            _ => {
                let Some(s) = inv.effective(flag) else {
                    // No value and no known default: only `equals`, `one_of` and the bounds
                    // need one, and without it there is nothing to compare.
                    return match self {
                        Expect::Equals(v) => problem(
                            &Source::Default,
                            format!("--{flag} is not set (expected {v})"),
                        ),
                        _ => None,
                    };
                };
                let shown = describe_setting(flag, &s);
                let value = s.value.as_deref().unwrap_or("");
                match self {
                    Expect::Equals(v) if !same(component, flag, value, v) => {
                        problem(&s.source, format!("{shown}; expected {v}"))
                    }
                    Expect::NotEquals(v) if same(component, flag, value, v) => {
                        problem(&s.source, shown)
                    }
                    Expect::OneOf(allowed) if !allowed.iter().any(|a| a == value) => problem(
                        &s.source,
                        format!("{shown}; expected one of {}", allowed.join(", ")),
                    ),
                    Expect::AtLeast(min) => match value.parse::<i64>() {
                        Ok(n) if n >= *min => None,
                        Ok(_) => problem(&s.source, format!("{shown}; expected at least {min}")),
                        Err(_) => problem(&s.source, format!("{shown} is not a number")),
                    },
                    Expect::AtMostDuration(max) => {
                        let limit = go_duration_nanos(max).unwrap_or(0.0);
                        match go_duration_nanos(value) {
                            Some(d) if d <= limit => None,
                            Some(_) => {
                                problem(&s.source, format!("{shown}; expected at most {max}"))
                            }
                            None => problem(&s.source, format!("{shown} is not a valid duration")),
                        }
                    }
                    Expect::Loopback if !is_loopback(value) => problem(
                        &s.source,
                        format!("{shown}, which is not a loopback address"),
                    ),
                    _ => None,
                }
            }
        }
    }
}

/// Flags of a control-plane component held to one expectation (`params.expect`).
pub(crate) fn control_plane_flag(check: &CheckDef, ctx: &Ctx<'_>, hits: &mut Hits) -> R {
    let p = params::<FlagParams>(check)?;
    let (Some(component), Some(expect)) = (p.component, p.expect.as_ref()) else {
        return Err("component and expect are required".into());
    };
    if p.flags.is_empty() {
        return Err("flags must name at least one flag".into());
    }
    expect.check_params()?;
    for (c, inv) in invocations(ctx, component) {
        if p.skip_if_set.iter().any(|f| inv.is_set(f))
            || (!p.only_if_set.is_empty() && !p.only_if_set.iter().any(|f| inv.is_set(f)))
        {
            continue;
        }
        let problems = p
            .flags
            .iter()
            .filter_map(|f| expect.judge(&inv, f))
            .collect();
        report(hits, &c, &inv, problems);
    }
    Ok(())
}

/// Whether an admission plugin must be on or off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
enum PluginState {
    Enabled,
    Disabled,
}

/// Parameters of `control_plane_admission_plugin`.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct AdmissionParams {
    plugin: String,
    expect: Option<PluginState>,
}

/// The admission plugins a kube-apiserver runs: `--admission-control` exactly when given
/// (the legacy flag replaces the defaults), else the defaults plus `--enable-admission-plugins`
/// minus `--disable-admission-plugins` (a plugin in both stays enabled).
fn admission_plugins(inv: &Invocation<'_>) -> (BTreeSet<String>, Vec<String>, Vec<String>) {
    let items = |flag: &str| -> Vec<String> {
        let (values, _) = inv.list_values(flag);
        values
            .iter()
            .flat_map(|v| list_items(v).map(str::to_string).collect::<Vec<_>>())
            .collect()
    };
    let legacy = items("admission-control");
    let enable = items("enable-admission-plugins");
    let disable = items("disable-admission-plugins");
    let mut on: BTreeSet<String> = if inv.is_set("admission-control") {
        legacy.into_iter().collect()
    } else {
        let mut on: BTreeSet<String> = DEFAULT_ADMISSION_PLUGINS
            .iter()
            .map(|p| p.to_string())
            .collect();
        for p in &disable {
            on.remove(p);
        }
        on
    };
    on.extend(enable.iter().cloned());
    (on, enable, disable)
}

/// One kube-apiserver admission plugin that must be enabled or disabled.
pub(crate) fn control_plane_admission_plugin(
    check: &CheckDef,
    ctx: &Ctx<'_>,
    hits: &mut Hits,
) -> R {
    let p = params::<AdmissionParams>(check)?;
    let Some(expect) = p.expect else {
        return Err("expect (enabled or disabled) is required".into());
    };
    if p.plugin.is_empty() {
        return Err("plugin is required".into());
    }
    let plugin = p.plugin.as_str();
    for (c, inv) in invocations(ctx, Component::ApiServer) {
        let (on, enable, disable) = admission_plugins(&inv);
        let path_of_flag = |flag: &str| match inv.explicit(flag) {
            Some(s) => path_of(&inv, &s.source),
            None => inv.flags_field().to_string(),
        };
        let problem = match (expect, on.contains(plugin)) {
            (PluginState::Enabled, false) if disable.iter().any(|d| d == plugin) => Some(Problem {
                path: path_of_flag("disable-admission-plugins"),
                message: format!("--disable-admission-plugins turns off {plugin}"),
            }),
            (PluginState::Enabled, false) if inv.is_set("admission-control") => Some(Problem {
                path: path_of_flag("admission-control"),
                message: format!("--admission-control does not include {plugin}"),
            }),
            (PluginState::Enabled, false) => Some(Problem {
                path: path_of_flag("enable-admission-plugins"),
                message: format!(
                    "admission plugin {plugin} is not enabled (not in --enable-admission-plugins, and off by default)"
                ),
            }),
            (PluginState::Disabled, true) if enable.iter().any(|e| e == plugin) => Some(Problem {
                path: path_of_flag("enable-admission-plugins"),
                message: format!("--enable-admission-plugins includes {plugin}"),
            }),
            (PluginState::Disabled, true) => Some(Problem {
                path: path_of_flag("admission-control"),
                message: format!("admission plugin {plugin} is enabled"),
            }),
            _ => None,
        };
        report(hits, &c, &inv, problem.into_iter().collect());
    }
    Ok(())
}

/// Parameters of `control_plane_tls_ciphers`.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct CipherParams {
    component: Option<Component>,
    flag: String,
    /// The cipher suites considered strong (IANA names, as the flag takes them).
    strong: Vec<String>,
}

/// A TLS cipher-suite flag names only strong suites; unset, the Go runtime's defaults apply,
/// which include CBC-mode suites with SHA-1 MACs.
pub(crate) fn control_plane_tls_ciphers(check: &CheckDef, ctx: &Ctx<'_>, hits: &mut Hits) -> R {
    let p = params::<CipherParams>(check)?;
    let Some(component) = p.component else {
        return Err("component is required".into());
    };
    if p.flag.is_empty() || p.strong.is_empty() {
        return Err("flag and strong are required".into());
    }
    let flag = p.flag.as_str();
    for (c, inv) in invocations(ctx, component) {
        let problem = match inv.explicit(flag) {
            None => Some(Problem {
                path: inv.flags_field().to_string(),
                message: format!(
                    "--{flag} is not set, so the Go runtime's default suites apply, CBC-mode suites with SHA-1 included"
                ),
            }),
            Some(s) => {
                let (values, _) = inv.list_values(flag);
                let weak: Vec<&str> = values
                    .iter()
                    .flat_map(|v| list_items(v))
                    .filter(|suite| !p.strong.iter().any(|s| s == suite))
                    .collect();
                (!weak.is_empty()).then(|| Problem {
                    path: path_of(&inv, &s.source),
                    message: format!(
                        "--{flag} includes suites outside the strong set: {}",
                        weak.join(", ")
                    ),
                })
            }
        };
        report(hits, &c, &inv, problem.into_iter().collect());
    }
    Ok(())
}

/// etcd trusts a certificate authority of its own: its `--trusted-ca-file` is not the file
/// kube-apiserver verifies client certificates with (`--client-ca-file`). Reads the API
/// server Pods of the input, so it needs the cluster.
pub(crate) fn control_plane_etcd_unique_ca(check: &CheckDef, ctx: &Ctx<'_>, hits: &mut Hits) -> R {
    params::<serde_json::Value>(check)?;
    let api_client_cas: BTreeSet<String> = invocations(ctx, Component::ApiServer)
        .filter_map(|(_, inv)| inv.explicit("client-ca-file")?.value)
        .filter(|v| !v.is_empty())
        .collect();
    for (c, inv) in invocations(ctx, Component::Etcd) {
        let Some(s) = inv.explicit("trusted-ca-file") else {
            continue;
        };
        let Some(ca) = s.value.as_deref().filter(|ca| api_client_cas.contains(*ca)) else {
            continue;
        };
        let problem = Problem {
            path: path_of(&inv, &s.source),
            message: format!(
                "{} is also kube-apiserver's --client-ca-file: every client certificate of the cluster CA is accepted by etcd",
                describe("trusted-ca-file", ca, &s.source)
            ),
        };
        report(hits, &c, &inv, vec![problem]);
    }
    Ok(())
}
