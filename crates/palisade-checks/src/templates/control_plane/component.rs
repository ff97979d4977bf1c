//! Which control-plane component a container runs, and its flags as that component reads them.
//!
//! A container runs a component when the executable it starts is the component's binary: the
//! first word of `command` (or of `args` when `command` is empty, the image's entrypoint then
//! being a plain exec of its arguments), by base name (`/usr/local/bin/kube-apiserver`), or
//! the word after `hyperkube`. Flags are the words after it in `command` and then `args`.
//!
//! The defaults below are the components' own, from the Kubernetes command-line reference
//! (kube-apiserver, kube-controller-manager, kube-scheduler) and etcd's configuration flags;
//! a check reads the default when a flag is absent, as the component does.

use palisade_model::api::Container;
use serde::Deserialize;

use super::flags::{Flags, Given, Syntax};

/// A control-plane component.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub(crate) enum Component {
    /// The API server.
    #[serde(rename = "kube-apiserver")]
    ApiServer,
    /// The controller manager.
    #[serde(rename = "kube-controller-manager")]
    ControllerManager,
    /// The scheduler.
    #[serde(rename = "kube-scheduler")]
    Scheduler,
    /// The etcd key-value store.
    #[serde(rename = "etcd")]
    Etcd,
}

const COMPONENTS: [Component; 4] = [
    Component::ApiServer,
    Component::ControllerManager,
    Component::Scheduler,
    Component::Etcd,
];

/// Admission plugins kube-apiserver enables when `--enable-admission-plugins` and
/// `--admission-control` do not say otherwise (the reference's list for
/// `--enable-admission-plugins`, Kubernetes 1.30 and later).
pub(crate) const DEFAULT_ADMISSION_PLUGINS: &[&str] = &[
    "NamespaceLifecycle",
    "LimitRanger",
    "ServiceAccount",
    "TaintNodesByCondition",
    "PodSecurity",
    "Priority",
    "DefaultTolerationSeconds",
    "DefaultStorageClass",
    "StorageObjectInUseProtection",
    "PersistentVolumeClaimResize",
    "RuntimeClass",
    "CertificateApproval",
    "CertificateSigning",
    "ClusterTrustBundleAttest",
    "CertificateSubjectRestriction",
    "DefaultIngressClass",
    "MutatingAdmissionWebhook",
    "ValidatingAdmissionPolicy",
    "ValidatingAdmissionWebhook",
    "ResourceQuota",
];

impl Component {
    /// The binary's name.
    pub fn executable(self) -> &'static str {
        match self {
            Component::ApiServer => "kube-apiserver",
            Component::ControllerManager => "kube-controller-manager",
            Component::Scheduler => "kube-scheduler",
            Component::Etcd => "etcd",
        }
    }

    fn syntax(self) -> Syntax {
        match self {
            Component::Etcd => Syntax::GoFlag,
            _ => Syntax::Pflag,
        }
    }

    /// Whether `flag` is a boolean flag (it never takes the next word as its value, and its
    /// values compare as booleans).
    pub fn is_bool(self, flag: &str) -> bool {
        let flags: &[&str] = match self {
            Component::ApiServer => &[
                "allow-privileged",
                "anonymous-auth",
                "audit-log-compress",
                "contention-profiling",
                "enable-aggregator-routing",
                "enable-bootstrap-token-auth",
                "enable-garbage-collector",
                "enable-logs-handler",
                "enable-priority-and-fairness",
                "kubelet-https",
                "profiling",
                "service-account-extend-token-expiration",
                "service-account-lookup",
            ],
            Component::ControllerManager => &[
                "allocate-node-cidrs",
                "configure-cloud-routes",
                "contention-profiling",
                "enable-dynamic-provisioning",
                "enable-garbage-collector",
                "enable-hostpath-provisioner",
                "leader-elect",
                "profiling",
                "use-service-account-credentials",
            ],
            Component::Scheduler => &["contention-profiling", "leader-elect", "profiling"],
            Component::Etcd => &[
                "auto-tls",
                "client-cert-auth",
                "debug",
                "enable-pprof",
                "enable-v2",
                "experimental-initial-corrupt-check",
                "force-new-cluster",
                "peer-auto-tls",
                "peer-client-cert-auth",
                "strict-reconfig-check",
            ],
        };
        flags.contains(&flag)
    }

    /// The value the component uses when `flag` is absent, where the checks need it.
    pub fn default_of(self, flag: &str) -> Option<&'static str> {
        let table: &[(&str, &str)] = match self {
            Component::ApiServer => &[
                ("anonymous-auth", "true"),
                ("audit-log-maxage", "0"),
                ("audit-log-maxbackup", "0"),
                ("audit-log-maxsize", "0"),
                ("authorization-mode", "AlwaysAllow"),
                // Insecure serving was disabled in 1.20 (only 0 accepted) and removed in 1.24.
                ("insecure-port", "0"),
                ("kubelet-https", "true"),
                ("profiling", "true"),
                ("request-timeout", "1m0s"),
                ("secure-port", "6443"),
                ("service-account-lookup", "true"),
                ("tls-min-version", "VersionTLS12"),
            ],
            Component::ControllerManager => &[
                ("bind-address", "0.0.0.0"),
                ("profiling", "true"),
                ("terminated-pod-gc-threshold", "12500"),
                ("use-service-account-credentials", "false"),
            ],
            Component::Scheduler => &[("bind-address", "0.0.0.0"), ("profiling", "true")],
            Component::Etcd => &[
                ("auto-tls", "false"),
                ("client-cert-auth", "false"),
                ("listen-client-urls", "http://localhost:2379"),
                ("listen-peer-urls", "http://localhost:2380"),
                ("peer-auto-tls", "false"),
                ("peer-client-cert-auth", "false"),
            ],
        };
        table.iter().find(|(f, _)| *f == flag).map(|(_, v)| *v)
    }

    /// A flag that, when given, makes the component read its settings from a file instead
    /// of its other flags (etcd ignores every other flag and variable with `--config-file`).
    pub fn config_file_flag(self) -> Option<&'static str> {
        match self {
            Component::Etcd => Some("config-file"),
            _ => None,
        }
    }

    /// The environment variable etcd reads for `flag` when the command line lacks it.
    fn env_var(self, flag: &str) -> Option<String> {
        match self {
            Component::Etcd => Some(format!("ETCD_{}", flag.to_uppercase().replace('-', "_"))),
            _ => None,
        }
    }
}

/// Where a setting came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Source {
    /// A word of the container's command line, at this field path (`command[3]`).
    Flag(String),
    /// An environment variable (etcd's `ETCD_*`), by name.
    Env(String),
    /// The component's default.
    Default,
}

/// One setting of a flag: its value (`None` when the flag ended the command line without the
/// value it needs) and its source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Setting {
    pub value: Option<String>,
    pub source: Source,
}

/// A container that runs a control-plane component, with its flags.
pub(crate) struct Invocation<'a> {
    pub component: Component,
    container: &'a Container,
    flags: Flags,
    /// `(field, index)` of each word the flags were parsed from.
    words: Vec<(&'static str, usize)>,
}

/// The component an executable word names, if any.
fn component_named(word: &str) -> Option<Component> {
    let base = word.rsplit('/').next().unwrap_or(word);
    COMPONENTS.into_iter().find(|c| c.executable() == base)
}

impl<'a> Invocation<'a> {
    /// The component `container` runs, with its flags; `None` for any other container.
    pub fn of(container: &'a Container) -> Option<Invocation<'a>> {
        // Most containers run no component: their first word decides that before anything is
        // collected (the control-plane checks ask this of every container, once per check).
        let mut leading = container.command.iter().chain(&container.args);
        let first = leading.next()?;
        if component_named(first).is_none()
            && (first.rsplit('/').next() != Some("hyperkube")
                || component_named(leading.next()?).is_none())
        {
            return None;
        }
        let mut words: Vec<(&'static str, usize, &str)> = Vec::new();
        if !container.command.is_empty() {
            words.extend(
                container
                    .command
                    .iter()
                    .enumerate()
                    .map(|(i, w)| ("command", i, w.as_str())),
            );
        }
        words.extend(
            container
                .args
                .iter()
                .enumerate()
                .map(|(i, w)| ("args", i, w.as_str())),
        );
        let first = words.first()?.2;
        let (component, skip) = match component_named(first) {
            Some(c) => (c, 1),
            None if first.rsplit('/').next() == Some("hyperkube") => {
                (component_named(words.get(1)?.2)?, 2)
            }
            None => return None,
        };
        let rest = &words[skip.min(words.len())..];
        let texts: Vec<&str> = rest.iter().map(|w| w.2).collect();
        let flags = Flags::parse(&texts, component.syntax(), |f| component.is_bool(f));
        Some(Invocation {
            component,
            container,
            flags,
            words: rest.iter().map(|w| (w.0, w.1)).collect(),
        })
    }

    fn path_of(&self, given: &Given) -> String {
        let (field, index) = self.words[given.word];
        format!("{field}[{index}]")
    }

    /// The field the flags are read from, for findings about absent flags.
    pub fn flags_field(&self) -> &'static str {
        if self.container.command.is_empty() {
            "args"
        } else {
            "command"
        }
    }

    /// The literal value of the environment variable the component reads for `flag` (a
    /// variable filled from a Secret or ConfigMap is not in the input, so it does not count).
    fn env_setting(&self, flag: &str) -> Option<Setting> {
        let var = self.component.env_var(flag)?;
        let env = self.container.env.iter().rev().find(|e| e.name == var)?;
        Some(Setting {
            value: Some(env.value.clone()?),
            source: Source::Env(var),
        })
    }

    /// The setting given for `flag` (its last occurrence, else etcd's environment variable).
    pub fn explicit(&self, flag: &str) -> Option<Setting> {
        match self.flags.last(flag) {
            Some(g) => Some(Setting {
                value: g.value.clone(),
                source: Source::Flag(self.path_of(g)),
            }),
            None => self.env_setting(flag),
        }
    }

    /// Whether `flag` is given at all.
    pub fn is_set(&self, flag: &str) -> bool {
        self.explicit(flag).is_some()
    }

    /// The setting in effect for `flag`: given, else the component's default.
    pub fn effective(&self, flag: &str) -> Option<Setting> {
        self.explicit(flag).or_else(|| {
            self.component.default_of(flag).map(|d| Setting {
                value: Some(d.to_string()),
                source: Source::Default,
            })
        })
    }

    /// Every value given for a list flag, in order (each still comma-separated), with the
    /// path of the last one; else etcd's variable; else the default. pflag's string slices
    /// accumulate their occurrences; etcd's list flags (URLs) keep the last one.
    pub fn list_values(&self, flag: &str) -> (Vec<String>, Source) {
        let mut given: Vec<&Given> = self.flags.all(flag).collect();
        if self.component.syntax() == Syntax::GoFlag && given.len() > 1 {
            given.drain(..given.len() - 1);
        }
        if let Some(last) = given.last() {
            let values = given.iter().filter_map(|g| g.value.clone()).collect();
            return (values, Source::Flag(self.path_of(last)));
        }
        match self.effective(flag) {
            Some(s) => (s.value.into_iter().collect(), s.source),
            None => (Vec::new(), Source::Default),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use palisade_model::api::EnvVar;

    fn container(command: &[&str], args: &[&str]) -> Container {
        Container {
            name: "c".into(),
            command: command.iter().map(|s| s.to_string()).collect(),
            args: args.iter().map(|s| s.to_string()).collect(),
            ..Container::default()
        }
    }

    #[test]
    fn the_executable_decides_the_component() {
        let of = |cmd: &[&str], args: &[&str]| {
            Invocation::of(&container(cmd, args)).map(|i| i.component)
        };
        assert_eq!(of(&["kube-apiserver"], &[]), Some(Component::ApiServer));
        assert_eq!(
            of(&["/usr/local/bin/kube-scheduler", "--x=1"], &[]),
            Some(Component::Scheduler)
        );
        assert_eq!(of(&[], &["etcd", "--name=m"]), Some(Component::Etcd));
        assert_eq!(
            of(&["/hyperkube", "kube-controller-manager"], &[]),
            Some(Component::ControllerManager)
        );
        assert_eq!(of(&["nginx"], &["kube-apiserver"]), None);
        assert_eq!(
            of(&["sh", "-c", "kube-apiserver --profiling=false"], &[]),
            None
        );
        assert_eq!(of(&["kube-apiserver-proxy"], &[]), None);
        assert_eq!(of(&[], &[]), None);
    }

    #[test]
    fn flags_span_command_and_args_with_their_paths() {
        let c = container(
            &["kube-apiserver", "--profiling=false"],
            &["--audit-log-path", "/a.log"],
        );
        let inv = Invocation::of(&c).unwrap();
        assert_eq!(
            inv.explicit("audit-log-path"),
            Some(Setting {
                value: Some("/a.log".into()),
                source: Source::Flag("args[0]".into())
            })
        );
        assert_eq!(
            inv.explicit("profiling").unwrap().source,
            Source::Flag("command[1]".into())
        );
        let c = container(&[], &["etcd", "--client-cert-auth"]);
        let inv = Invocation::of(&c).unwrap();
        assert_eq!(
            inv.explicit("client-cert-auth").unwrap().source,
            Source::Flag("args[1]".into())
        );
        assert_eq!(inv.flags_field(), "args");
    }

    #[test]
    fn defaults_apply_when_absent() {
        let c = container(&["kube-controller-manager"], &[]);
        let inv = Invocation::of(&c).unwrap();
        assert_eq!(inv.explicit("bind-address"), None);
        assert_eq!(
            inv.effective("bind-address"),
            Some(Setting {
                value: Some("0.0.0.0".into()),
                source: Source::Default
            })
        );
        assert_eq!(inv.effective("root-ca-file"), None);
    }

    #[test]
    fn etcd_reads_its_environment_when_the_flag_is_absent() {
        let mut c = container(&["etcd", "--peer-client-cert-auth=false"], &[]);
        c.env = vec![
            EnvVar {
                name: "ETCD_CLIENT_CERT_AUTH".into(),
                value: Some("true".into()),
                value_from: None,
            },
            EnvVar {
                name: "ETCD_PEER_CLIENT_CERT_AUTH".into(),
                value: Some("true".into()),
                value_from: None,
            },
        ];
        let inv = Invocation::of(&c).unwrap();
        let s = inv.effective("client-cert-auth").unwrap();
        assert_eq!(
            (s.value.as_deref(), s.source),
            (Some("true"), Source::Env("ETCD_CLIENT_CERT_AUTH".into()))
        );
        // The flag wins over the variable.
        assert_eq!(
            inv.effective("peer-client-cert-auth")
                .unwrap()
                .value
                .as_deref(),
            Some("false")
        );
    }

    #[test]
    fn list_flags_accumulate() {
        let c = container(
            &[
                "kube-apiserver",
                "--enable-admission-plugins=NodeRestriction",
            ],
            &[
                "--enable-admission-plugins",
                "EventRateLimit,AlwaysPullImages",
            ],
        );
        let inv = Invocation::of(&c).unwrap();
        let (values, source) = inv.list_values("enable-admission-plugins");
        assert_eq!(
            values,
            ["NodeRestriction", "EventRateLimit,AlwaysPullImages"]
        );
        assert_eq!(source, Source::Flag("args[0]".into()));
        let (values, source) = inv.list_values("authorization-mode");
        assert_eq!(
            (values, source),
            (vec!["AlwaysAllow".to_string()], Source::Default)
        );
        // etcd's URL lists are replaced by a later occurrence.
        let c = container(
            &["etcd", "--listen-client-urls=http://0.0.0.0:2379"],
            &["--listen-client-urls", "https://127.0.0.1:2379"],
        );
        let (values, _) = Invocation::of(&c)
            .unwrap()
            .list_values("listen-client-urls");
        assert_eq!(values, ["https://127.0.0.1:2379"]);
    }
}
