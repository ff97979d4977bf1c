//! The runtime event model: what an event source observed, after enrichment from `/proc` and
//! attribution to a container. Rules, baselines and responses read only these values.

use std::net::{IpAddr, SocketAddr};

use serde::{Deserialize, Serialize};

/// What a standard stream (fd 0, 1 or 2) of a process points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StdioKind {
    /// Not known (not read, or the process was gone).
    #[default]
    Unknown,
    /// A network socket (`socket:[inode]`).
    Socket,
    /// A pipe or FIFO.
    Pipe,
    /// A terminal (`/dev/tty*`, `/dev/pts/*`, `/dev/console`).
    Tty,
    /// `/dev/null`.
    Null,
    /// A regular file or another device.
    File,
    /// The descriptor is closed.
    Closed,
}

impl StdioKind {
    /// Classifies the target of a `/proc/PID/fd/N` link as `readlink` returns it.
    pub fn from_link_target(target: &str) -> StdioKind {
        if target.starts_with("socket:[") {
            StdioKind::Socket
        } else if target.starts_with("pipe:[") {
            StdioKind::Pipe
        } else if target == "/dev/null" {
            StdioKind::Null
        } else if target.starts_with("/dev/pts/")
            || target.starts_with("/dev/tty")
            || target == "/dev/console"
            || target == "/dev/ptmx"
        {
            StdioKind::Tty
        } else {
            StdioKind::File
        }
    }

    /// Lower-case name as used in rule conditions (`socket`, `pipe`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            StdioKind::Unknown => "unknown",
            StdioKind::Socket => "socket",
            StdioKind::Pipe => "pipe",
            StdioKind::Tty => "tty",
            StdioKind::Null => "null",
            StdioKind::File => "file",
            StdioKind::Closed => "closed",
        }
    }
}

/// A process as read from `/proc` when its event was handled.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ProcessInfo {
    /// Process ID (thread group ID) in the agent's PID namespace.
    pub pid: u32,
    /// Process ID inside the process's innermost PID namespace (last `NSpid` entry of
    /// `/proc/PID/status`): 1 for a container's first process. `None` when not read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vpid: Option<u32>,
    /// Parent process ID.
    pub ppid: u32,
    /// Real user ID.
    pub uid: u32,
    /// Effective user ID.
    pub euid: u32,
    /// Real group ID.
    pub gid: u32,
    /// The kernel's command name (`comm`, at most 15 bytes: the executed file's base name).
    pub name: String,
    /// Absolute path of the executable as the process sees it (inside its mount namespace).
    pub exe: String,
    /// The full argument vector, `argv[0]` first.
    pub args: Vec<String>,
    /// Working directory, as the process sees it.
    pub cwd: String,
    /// Start time in milliseconds since the Unix epoch (0 when unknown).
    pub start_time_ms: u64,
    /// Start time in clock ticks since boot (field 22 of `/proc/PID/stat`); with the PID it
    /// identifies the process instance, which kill responses check against PID reuse.
    pub start_ticks: u64,
    /// The executable file has the set-user-ID bit.
    pub exe_setuid: bool,
    /// The executable file has the set-group-ID bit.
    pub exe_setgid: bool,
    /// What standard input points at.
    pub stdin: StdioKind,
    /// What standard output points at.
    pub stdout: StdioKind,
    /// What standard error points at.
    pub stderr: StdioKind,
    /// Fields that could not be read (`name`, `exe`, `args`, `cwd`, `uid`, `stdio`,
    /// `start_time`): the process was gone, or a zombie, before its record was complete. Their
    /// values are empty or zero and mean "unknown"; the container was then attributed through
    /// the parent (children inherit the cgroup at fork). Empty for a complete record.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub missing: Vec<String>,
}

impl ProcessInfo {
    /// Whether the program's identity (name and executable) is incomplete.
    pub fn identity_incomplete(&self) -> bool {
        self.name.is_empty()
            || self.exe.is_empty()
            || self.missing.iter().any(|m| m == "name" || m == "exe")
    }

    /// The arguments after `argv[0]`.
    pub fn args_after_program(&self) -> &[String] {
        self.args.get(1..).unwrap_or(&[])
    }

    /// The command line: arguments joined by single spaces (the name when there are none,
    /// as for kernel threads).
    pub fn cmdline(&self) -> String {
        if self.args.is_empty() {
            self.name.clone()
        } else {
            self.args.join(" ")
        }
    }

    /// The parent-facing summary of this process.
    pub fn summary(&self) -> ProcessSummary {
        ProcessSummary {
            pid: self.pid,
            name: self.name.clone(),
            exe: self.exe.clone(),
            args: self.args.clone(),
            uid: self.uid,
        }
    }
}

/// The identifying fields of a process, as kept for parents.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ProcessSummary {
    /// Process ID.
    pub pid: u32,
    /// Command name (`comm`).
    pub name: String,
    /// Executable path.
    pub exe: String,
    /// Argument vector, `argv[0]` first.
    pub args: Vec<String>,
    /// Real user ID.
    pub uid: u32,
}

impl ProcessSummary {
    /// Arguments joined by single spaces (the name when there are none).
    pub fn cmdline(&self) -> String {
        if self.args.is_empty() {
            self.name.clone()
        } else {
            self.args.join(" ")
        }
    }
}

/// The container engine a container belongs to, as recognized from its cgroup path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ContainerRuntime {
    /// Podman (libpod).
    Podman,
    /// Docker (moby).
    Docker,
    /// containerd (including Kubernetes through its CRI plugin).
    Containerd,
    /// CRI-O.
    Crio,
}

impl ContainerRuntime {
    /// Lower-case name (`podman`, `docker`, `containerd`, `crio`).
    pub fn as_str(self) -> &'static str {
        match self {
            ContainerRuntime::Podman => "podman",
            ContainerRuntime::Docker => "docker",
            ContainerRuntime::Containerd => "containerd",
            ContainerRuntime::Crio => "crio",
        }
    }
}

/// The container a process runs in, with whatever metadata the runtime gave.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContainerInfo {
    /// Full container ID (64 lower-case hex digits for all supported runtimes).
    pub id: String,
    /// The engine that runs it.
    pub runtime: ContainerRuntime,
    /// Container name (Kubernetes container name, or the engine's container name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Image reference the container was created from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// Pod or sandbox ID, when the cgroup path or the runtime names one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod_id: Option<String>,
    /// Kubernetes pod name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod: Option<String>,
    /// Kubernetes namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Owning workload as `Kind/name`, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workload: Option<String>,
}

impl ContainerInfo {
    /// A container known only by engine and ID.
    pub fn bare(runtime: ContainerRuntime, id: impl Into<String>) -> ContainerInfo {
        ContainerInfo {
            id: id.into(),
            runtime,
            name: None,
            image: None,
            pod_id: None,
            pod: None,
            namespace: None,
            workload: None,
        }
    }
}

/// Transport protocol of a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Protocol {
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
}

impl Protocol {
    /// Upper-case name as in flows (`TCP`, `UDP`).
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Tcp => "TCP",
            Protocol::Udp => "UDP",
        }
    }
}

/// Which side opened a connection, seen from the observed network namespace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// This side connected out (the remote port is the service port).
    Outbound,
    /// The remote side connected in to a listening port here.
    Inbound,
}

impl Direction {
    /// Lower-case name (`outbound`, `inbound`).
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Outbound => "outbound",
            Direction::Inbound => "inbound",
        }
    }
}

/// One connection observed in a network namespace.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Connection {
    /// Transport protocol.
    pub protocol: Protocol,
    /// Local address and port.
    pub local: SocketAddr,
    /// Remote address and port.
    pub remote: SocketAddr,
    /// Who opened it.
    pub direction: Direction,
}

impl Connection {
    /// The service port: the remote port for outbound connections, the local one for inbound.
    pub fn service_port(&self) -> u16 {
        match self.direction {
            Direction::Outbound => self.remote.port(),
            Direction::Inbound => self.local.port(),
        }
    }

    /// The address of the side that opened the connection.
    pub fn client_ip(&self) -> IpAddr {
        match self.direction {
            Direction::Outbound => self.local.ip(),
            Direction::Inbound => self.remote.ip(),
        }
    }

    /// The address of the side that accepted it.
    pub fn server_ip(&self) -> IpAddr {
        match self.direction {
            Direction::Outbound => self.remote.ip(),
            Direction::Inbound => self.local.ip(),
        }
    }
}

/// The kind of an event, as rules select it with `event:`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EventKind {
    /// A process executed a program (`execve`).
    Exec,
    /// A connection appeared in a network namespace.
    Connect,
}

impl EventKind {
    /// Lower-case name (`exec`, `connect`).
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Exec => "exec",
            EventKind::Connect => "connect",
        }
    }
}

/// One enriched runtime event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// What happened.
    pub kind: EventKind,
    /// When it happened, in milliseconds since the Unix epoch.
    pub time_ms: u64,
    /// The process concerned: the one that executed (exec) or that owns the socket (connect,
    /// when the socket could be matched to a process).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub process: Option<ProcessInfo>,
    /// Its parent, when it was still known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<ProcessSummary>,
    /// The container, or `None` for a host process.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container: Option<ContainerInfo>,
    /// The connection, for connect events.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection: Option<Connection>,
}

impl Event {
    /// An exec event.
    pub fn exec(
        time_ms: u64,
        process: ProcessInfo,
        parent: Option<ProcessSummary>,
        container: Option<ContainerInfo>,
    ) -> Event {
        Event {
            kind: EventKind::Exec,
            time_ms,
            process: Some(process),
            parent,
            container,
            connection: None,
        }
    }

    /// A connect event.
    pub fn connect(
        time_ms: u64,
        connection: Connection,
        process: Option<ProcessInfo>,
        container: Option<ContainerInfo>,
    ) -> Event {
        Event {
            kind: EventKind::Connect,
            time_ms,
            process,
            parent: None,
            container,
            connection: Some(connection),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stdio_links_are_classified_as_proc_5_documents_them() {
        assert_eq!(
            StdioKind::from_link_target("socket:[12345]"),
            StdioKind::Socket
        );
        assert_eq!(StdioKind::from_link_target("pipe:[77]"), StdioKind::Pipe);
        assert_eq!(StdioKind::from_link_target("/dev/pts/3"), StdioKind::Tty);
        assert_eq!(StdioKind::from_link_target("/dev/null"), StdioKind::Null);
        assert_eq!(StdioKind::from_link_target("/tmp/log"), StdioKind::File);
        assert_eq!(
            StdioKind::from_link_target("anon_inode:[eventfd]"),
            StdioKind::File
        );
    }

    #[test]
    fn connection_service_port_depends_on_direction() {
        let c = Connection {
            protocol: Protocol::Tcp,
            local: "10.0.0.5:40000".parse().unwrap(),
            remote: "10.0.0.9:5432".parse().unwrap(),
            direction: Direction::Outbound,
        };
        assert_eq!(c.service_port(), 5432);
        assert_eq!(c.client_ip().to_string(), "10.0.0.5");
        let inbound = Connection {
            direction: Direction::Inbound,
            ..c
        };
        assert_eq!(inbound.service_port(), 40000);
        assert_eq!(inbound.server_ip().to_string(), "10.0.0.5");
    }

    #[test]
    fn cmdline_falls_back_to_name() {
        let p = ProcessInfo {
            name: "kworker".into(),
            ..Default::default()
        };
        assert_eq!(p.cmdline(), "kworker");
        let p = ProcessInfo {
            name: "sh".into(),
            args: vec!["sh".into(), "-c".into(), "id".into()],
            ..Default::default()
        };
        assert_eq!(p.cmdline(), "sh -c id");
        assert_eq!(p.args_after_program(), ["-c", "id"]);
    }
}
