//! The fields a condition can test, their types and how they are read from an [`Event`].

use std::net::IpAddr;

use crate::event::Event;

/// The type of a field, which decides the operators and operand forms it accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    /// Text.
    Str,
    /// A list of texts: a test holds when it holds for any element.
    StrList,
    /// A non-negative integer.
    Num,
    /// `true` or `false`.
    Bool,
    /// An IP address (also testable as text).
    Ip,
}

macro_rules! fields {
    ($( $variant:ident => $name:literal, $ty:ident, $doc:literal; )*) => {
        /// A field that conditions can test.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Field {
            $( #[doc = $doc] $variant, )*
        }

        impl Field {
            /// Every field, in documentation order.
            pub const ALL: &'static [Field] = &[ $( Field::$variant, )* ];

            /// Looks a field up by its name in conditions.
            pub fn from_name(name: &str) -> Option<Field> {
                match name {
                    $( $name => Some(Field::$variant), )*
                    _ => None,
                }
            }

            /// The field's name in conditions.
            pub fn name(self) -> &'static str {
                match self { $( Field::$variant => $name, )* }
            }

            /// The field's type.
            pub fn field_type(self) -> FieldType {
                match self { $( Field::$variant => FieldType::$ty, )* }
            }

            /// One-line description (for docs and error messages).
            pub fn description(self) -> &'static str {
                match self { $( Field::$variant => $doc, )* }
            }
        }
    };
}

fields! {
    ProcName => "proc.name", Str, "Command name (`comm`): the executed file's base name, at most 15 bytes.";
    ProcExe => "proc.exe", Str, "Absolute path of the executable, as seen inside the container.";
    ProcArgv0 => "proc.argv0", Str, "`argv[0]` as the caller passed it.";
    ProcArgs => "proc.args", StrList, "The arguments after `argv[0]` (a list: a test holds if it holds for any argument).";
    ProcCmdline => "proc.cmdline", Str, "All of `argv` joined by single spaces.";
    ProcCwd => "proc.cwd", Str, "Working directory.";
    ProcPid => "proc.pid", Num, "Process ID on the node.";
    ProcVpid => "proc.vpid", Num, "Process ID inside the process's own PID namespace (1 for a container's first process).";
    ProcPpid => "proc.ppid", Num, "Parent process ID on the node.";
    ProcUid => "proc.uid", Num, "Real user ID.";
    ProcEuid => "proc.euid", Num, "Effective user ID.";
    ProcGid => "proc.gid", Num, "Real group ID.";
    ProcExeSetuid => "proc.exe_setuid", Bool, "The executable has the set-user-ID bit.";
    ProcExeSetgid => "proc.exe_setgid", Bool, "The executable has the set-group-ID bit.";
    ProcStdin => "proc.stdin", Str, "What fd 0 is: socket, pipe, tty, null, file, closed or unknown.";
    ProcStdout => "proc.stdout", Str, "What fd 1 is (same values as proc.stdin).";
    ProcStderr => "proc.stderr", Str, "What fd 2 is (same values as proc.stdin).";
    ParentName => "parent.name", Str, "Parent's command name.";
    ParentExe => "parent.exe", Str, "Parent's executable path.";
    ParentArgs => "parent.args", StrList, "Parent's arguments after `argv[0]` (a list).";
    ParentCmdline => "parent.cmdline", Str, "Parent's full command line.";
    ParentPid => "parent.pid", Num, "Parent's process ID.";
    ParentUid => "parent.uid", Num, "Parent's real user ID.";
    ContainerId => "container.id", Str, "Container ID (64 hex digits); absent for host processes.";
    ContainerName => "container.name", Str, "Container name (Kubernetes container name or engine name).";
    ContainerImage => "container.image", Str, "Image reference the container runs.";
    ContainerRuntime => "container.runtime", Str, "Engine: podman, docker, containerd or crio.";
    ContainerPod => "container.pod", Str, "Kubernetes pod name.";
    ContainerNamespace => "container.namespace", Str, "Kubernetes namespace.";
    ContainerWorkload => "container.workload", Str, "Owning workload as Kind/name, when known.";
    ConnProtocol => "conn.protocol", Str, "TCP or UDP.";
    ConnDirection => "conn.direction", Str, "outbound (opened here) or inbound (accepted here).";
    ConnLocalIp => "conn.local_ip", Ip, "Local address.";
    ConnLocalPort => "conn.local_port", Num, "Local port.";
    ConnRemoteIp => "conn.remote_ip", Ip, "Remote address.";
    ConnRemotePort => "conn.remote_port", Num, "Remote port.";
    ConnPort => "conn.port", Num, "Service port: remote port when outbound, local port when inbound.";
}

/// A field's value in one event. Missing parts of the event (no container, no parent, a
/// value that could not be read) are [`Value::Absent`].
#[derive(Debug, Clone, PartialEq)]
pub enum Value<'a> {
    /// Not available for this event.
    Absent,
    /// Text (never empty: empty text reads as absent).
    Str(&'a str),
    /// Owned text (computed fields such as the command line).
    Owned(String),
    /// A list of texts.
    List(&'a [String]),
    /// A number.
    Num(u64),
    /// A boolean.
    Bool(bool),
    /// An IP address.
    Ip(IpAddr),
}

fn text(s: &str) -> Value<'_> {
    if s.is_empty() {
        Value::Absent
    } else {
        Value::Str(s)
    }
}

fn opt_text(s: &Option<String>) -> Value<'_> {
    s.as_deref().map_or(Value::Absent, text)
}

impl Field {
    /// Reads this field from an event.
    pub fn read(self, event: &Event) -> Value<'_> {
        use Field::*;
        let p = event.process.as_ref();
        let parent = event.parent.as_ref();
        let c = event.container.as_ref();
        let conn = event.connection.as_ref();
        match self {
            ProcName => p.map_or(Value::Absent, |p| text(&p.name)),
            ProcExe => p.map_or(Value::Absent, |p| text(&p.exe)),
            ProcArgv0 => p
                .and_then(|p| p.args.first())
                .map_or(Value::Absent, |a| text(a)),
            ProcArgs => p.map_or(Value::Absent, |p| Value::List(p.args_after_program())),
            ProcCmdline => p.map_or(Value::Absent, |p| Value::Owned(p.cmdline())),
            ProcCwd => p.map_or(Value::Absent, |p| text(&p.cwd)),
            ProcPid => p.map_or(Value::Absent, |p| Value::Num(p.pid.into())),
            ProcVpid => p
                .and_then(|p| p.vpid)
                .map_or(Value::Absent, |v| Value::Num(v.into())),
            ProcPpid => p.map_or(Value::Absent, |p| Value::Num(p.ppid.into())),
            ProcUid => p.map_or(Value::Absent, |p| Value::Num(p.uid.into())),
            ProcEuid => p.map_or(Value::Absent, |p| Value::Num(p.euid.into())),
            ProcGid => p.map_or(Value::Absent, |p| Value::Num(p.gid.into())),
            ProcExeSetuid => p.map_or(Value::Absent, |p| Value::Bool(p.exe_setuid)),
            ProcExeSetgid => p.map_or(Value::Absent, |p| Value::Bool(p.exe_setgid)),
            ProcStdin => p.map_or(Value::Absent, |p| Value::Str(p.stdin.as_str())),
            ProcStdout => p.map_or(Value::Absent, |p| Value::Str(p.stdout.as_str())),
            ProcStderr => p.map_or(Value::Absent, |p| Value::Str(p.stderr.as_str())),
            ParentName => parent.map_or(Value::Absent, |p| text(&p.name)),
            ParentExe => parent.map_or(Value::Absent, |p| text(&p.exe)),
            ParentArgs => parent.map_or(Value::Absent, |p| {
                Value::List(p.args.get(1..).unwrap_or(&[]))
            }),
            ParentCmdline => parent.map_or(Value::Absent, |p| Value::Owned(p.cmdline())),
            ParentPid => parent.map_or(Value::Absent, |p| Value::Num(p.pid.into())),
            ParentUid => parent.map_or(Value::Absent, |p| Value::Num(p.uid.into())),
            ContainerId => c.map_or(Value::Absent, |c| text(&c.id)),
            ContainerName => c.map_or(Value::Absent, |c| opt_text(&c.name)),
            ContainerImage => c.map_or(Value::Absent, |c| opt_text(&c.image)),
            ContainerRuntime => c.map_or(Value::Absent, |c| Value::Str(c.runtime.as_str())),
            ContainerPod => c.map_or(Value::Absent, |c| opt_text(&c.pod)),
            ContainerNamespace => c.map_or(Value::Absent, |c| opt_text(&c.namespace)),
            ContainerWorkload => c.map_or(Value::Absent, |c| opt_text(&c.workload)),
            ConnProtocol => conn.map_or(Value::Absent, |c| Value::Str(c.protocol.as_str())),
            ConnDirection => conn.map_or(Value::Absent, |c| Value::Str(c.direction.as_str())),
            ConnLocalIp => conn.map_or(Value::Absent, |c| Value::Ip(c.local.ip())),
            ConnLocalPort => conn.map_or(Value::Absent, |c| Value::Num(c.local.port().into())),
            ConnRemoteIp => conn.map_or(Value::Absent, |c| Value::Ip(c.remote.ip())),
            ConnRemotePort => conn.map_or(Value::Absent, |c| Value::Num(c.remote.port().into())),
            ConnPort => conn.map_or(Value::Absent, |c| Value::Num(c.service_port().into())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{ProcessInfo, StdioKind};

    #[test]
    fn names_round_trip_and_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for f in Field::ALL {
            assert_eq!(Field::from_name(f.name()), Some(*f));
            assert!(seen.insert(f.name()));
            assert!(!f.description().is_empty());
        }
        assert_eq!(Field::from_name("proc.nam"), None);
    }

    #[test]
    fn missing_parts_read_as_absent() {
        let e = Event::exec(
            0,
            ProcessInfo {
                name: "sh".into(),
                stdin: StdioKind::Socket,
                ..Default::default()
            },
            None,
            None,
        );
        assert_eq!(Field::ProcName.read(&e), Value::Str("sh"));
        assert_eq!(Field::ProcExe.read(&e), Value::Absent);
        assert_eq!(Field::ProcStdin.read(&e), Value::Str("socket"));
        assert_eq!(Field::ContainerId.read(&e), Value::Absent);
        assert_eq!(Field::ParentName.read(&e), Value::Absent);
        assert_eq!(Field::ConnPort.read(&e), Value::Absent);
        assert_eq!(Field::ProcVpid.read(&e), Value::Absent);
    }
}
