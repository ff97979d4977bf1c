//! Central's dashboard (`/ui`), on the real binary: `central serve` with
//! examples/demo-cluster pushed by `scan --push`.
//!
//! * Plain HTTPS (reqwest, no redirects followed): security headers, 303s to the login page,
//!   escaping of hostile names from a fixture snapshot, CSRF (forged posts refused), roles
//!   (an analyst cannot change exceptions), sessions ending at logout and at token revocation,
//!   tokens never logged.
//! * Headless Chromium through chromedriver (fantoccini; `scripts/setup/70-chromium.sh`):
//!   log in, every page with real data, a finding followed to its workload, an exception
//!   created and revoked with its audit rows, a forged form refused, the analyst's view, a
//!   logged-out browser sent to the login page, no CSP error in the console. With
//!   `PALISADE_SCREENSHOTS=DIR` it also saves a PNG of each page there (`scripts/screenshots`).
#![cfg(feature = "central")]

mod support;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};
use support::central::Central;
use support::cli::palisade;

const DEMO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/demo-cluster");
const SCRIPT_SNAPSHOT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/dashboard/script-snapshot.json"
);

/// A privileged demo workload and the check that finds it.
const PRIVILEGED: &str = "build-runner";
const PRIVILEGED_CHECK: &str = "PAL-001";

/// Central on SQLite with the demo pushed as cluster `demo`.
fn demo_central() -> (tempfile::TempDir, Central) {
    let dir = tempfile::tempdir().unwrap();
    let central = Central::start(&dir.path().join("data"), None, &[]);
    let sensor = central.token("sensor", Some("demo"), "demo-sensor");
    let token_file = dir.path().join("sensor.token");
    std::fs::write(&token_file, &sensor).unwrap();
    let (code, out, err) = palisade(&["scan", DEMO, "--push", &central.url()])
        .args(["--cluster-name", "demo", "--token-file"])
        .arg(&token_file)
        .arg("--ca-cert")
        .arg(central.ca())
        .env_remove("PALISADE_TOKEN")
        .run();
    assert!(err.contains("pushed snapshot"), "{code}\n{out}\n{err}");
    (dir, central)
}

/// A browserless client: cookies kept by hand, redirects not followed.
struct Ui {
    http: reqwest::blocking::Client,
    base: String,
    session: Option<String>,
}

/// An answer.
struct Page {
    status: u16,
    headers: reqwest::header::HeaderMap,
    text: String,
}

impl Page {
    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    /// The value of the first hidden `csrf` field.
    fn csrf(&self) -> String {
        let rest = self
            .text
            .split("name=\"csrf\" value=\"")
            .nth(1)
            .unwrap_or_else(|| panic!("no csrf field: {}", self.text));
        rest.split('"').next().unwrap().to_string()
    }

    /// `Set-Cookie` values.
    fn cookies(&self) -> Vec<String> {
        self.headers
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().to_string())
            .collect()
    }
}

/// The value of cookie `name` among `Set-Cookie` values.
fn cookie_value(set: &[String], name: &str) -> Option<String> {
    set.iter().find_map(|c| {
        c.strip_prefix(&format!("{name}="))
            .map(|rest| rest.split(';').next().unwrap().to_string())
    })
}

impl Ui {
    fn new(central: &Central) -> Ui {
        let ca = std::fs::read(central.ca()).unwrap();
        Ui {
            http: reqwest::blocking::Client::builder()
                .tls_certs_only(reqwest::Certificate::from_pem_bundle(&ca).unwrap())
                .redirect(reqwest::redirect::Policy::none())
                .timeout(Duration::from_secs(120))
                .build()
                .unwrap(),
            base: central.url(),
            session: None,
        }
    }

    fn send(&self, request: reqwest::blocking::RequestBuilder, extra_cookie: Option<&str>) -> Page {
        let mut cookies: Vec<String> = self
            .session
            .iter()
            .map(|s| format!("pal_session={s}"))
            .collect();
        cookies.extend(extra_cookie.map(str::to_string));
        let request = if cookies.is_empty() {
            request
        } else {
            request.header("cookie", cookies.join("; "))
        };
        let r = request.send().expect("request to central");
        Page {
            status: r.status().as_u16(),
            headers: r.headers().clone(),
            text: r.text().unwrap_or_default(),
        }
    }

    fn get(&self, path: &str) -> Page {
        self.send(self.http.get(format!("{}{path}", self.base)), None)
    }

    fn post(&self, path: &str, form: &[(&str, &str)], extra_cookie: Option<&str>) -> Page {
        let body = form_body(form);
        self.send(
            self.http
                .post(format!("{}{path}", self.base))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body),
            extra_cookie,
        )
    }

    /// Logs in with `token`; returns the answer to the form's post.
    fn login(&mut self, token: &str) -> Page {
        let form = self.get("/ui/login");
        assert_eq!(form.status, 200, "{}", form.text);
        let login_cookie = cookie_value(&form.cookies(), "pal_login").expect("login cookie");
        let answer = self.post(
            "/ui/login",
            &[("token", token), ("csrf", &form.csrf())],
            Some(&format!("pal_login={login_cookie}")),
        );
        if let Some(s) = cookie_value(&answer.cookies(), "pal_session") {
            self.session = Some(s);
        }
        answer
    }
}

fn form_body(form: &[(&str, &str)]) -> String {
    let mut s = String::new();
    for (i, (k, v)) in form.iter().enumerate() {
        if i > 0 {
            s.push('&');
        }
        s.push_str(k);
        s.push('=');
        for b in v.bytes() {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                s.push(b as char);
            } else {
                s.push_str(&format!("%{b:02X}"));
            }
        }
    }
    s
}

#[track_caller]
fn assert_see_other(page: &Page, to: &str) {
    assert_eq!(page.status, 303, "{}", page.text);
    assert_eq!(page.header("location"), to);
}

#[track_caller]
fn assert_security_headers(page: &Page) {
    let csp = page.header("content-security-policy");
    for part in [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "frame-ancestors 'none'",
    ] {
        assert!(csp.contains(part), "{csp}");
    }
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert_eq!(page.header("x-content-type-options"), "nosniff");
    assert_eq!(page.header("referrer-policy"), "no-referrer");
}

/// The exception form's fields for the privileged demo finding, scope "object".
fn exception_form<'a>(csrf: &'a str, reason: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("csrf", csrf),
        ("cluster", "demo"),
        ("check", PRIVILEGED_CHECK),
        ("namespace", "ci"),
        ("name", PRIVILEGED),
        ("fingerprint", ""),
        ("scope", "object"),
        ("reason", reason),
        ("expires", "2099-12-31"),
    ]
}

#[test]
fn http_headers_redirects_escaping_csrf_roles_and_sessions() {
    let (_dir, central) = demo_central();
    let admin_token = central.admin();
    let r = central.post(
        Some(&admin_token),
        "/api/v1/clusters/xss/snapshots",
        &std::fs::read(SCRIPT_SNAPSHOT).unwrap(),
        false,
    );
    assert_eq!(r.status, 200, "{}", r.text);
    let mut ui = Ui::new(&central);

    // Without a session every page is a 303 to the login page; `/` goes to the dashboard.
    assert_see_other(&ui.get("/"), "/ui/");
    for path in [
        "/ui/",
        "/ui/findings",
        "/ui/workloads?cluster=demo",
        "/ui/network.svg",
    ] {
        let page = ui.get(path);
        assert_see_other(&page, "/ui/login");
        assert_security_headers(&page);
    }
    let login = ui.get("/ui/login");
    assert_security_headers(&login);
    assert!(!login.text.contains("style="), "no inline style");
    assert!(!login.text.contains("<script>"), "no inline script");

    // Wrong tokens, non-dashboard roles and a login post without its CSRF cookie are refused.
    assert_eq!(ui.login("pal_nope_nope").status, 401);
    let sensor = central.token("sensor", Some("demo"), "sensor2");
    assert_eq!(ui.login(&sensor).status, 403);
    assert!(ui.session.is_none());
    let forged = ui.post("/ui/login", &[("token", &admin_token), ("csrf", "x")], None);
    assert_eq!(forged.status, 403, "{}", forged.text);

    // The admin logs in: a strict session cookie.
    let answer = ui.login(&admin_token);
    assert_see_other(&answer, "/ui/");
    let set = answer.cookies();
    let session = set.iter().find(|c| c.starts_with("pal_session=")).unwrap();
    for part in ["HttpOnly", "Secure", "SameSite=Strict", "Path=/ui"] {
        assert!(session.contains(part), "{session}");
    }

    // Every page renders with real data.
    for (path, expected) in [
        ("/ui/", "demo"),
        ("/ui/workloads?cluster=demo&sort=risk", PRIVILEGED),
        (
            "/ui/workload?cluster=demo&namespace=ci&kind=Deployment&name=build-runner",
            PRIVILEGED_CHECK,
        ),
        ("/ui/findings?cluster=demo&check=PAL-001", PRIVILEGED),
        ("/ui/findings?cluster=demo&group=check", "PAL-"),
        ("/ui/exceptions", "No data"),
        ("/ui/network?cluster=demo", "aggregated edges"),
        ("/ui/network?cluster=demo&expand=shop", "checkout"),
        (
            "/ui/rbac?cluster=demo&verb=get&resource=secrets",
            "build-runner",
        ),
        ("/ui/images", "Image"),
        ("/ui/runtime", "Alerts timeline"),
        ("/ui/policies?check=PAL-001", "privileged-container"),
    ] {
        let page = ui.get(path);
        assert_eq!(page.status, 200, "{path}: {}", page.text);
        assert_security_headers(&page);
        assert!(
            page.text.contains(expected),
            "{path} lacks {expected:?}: {}",
            page.text
        );
        assert!(!page.text.contains("style=\""), "{path}: inline style");
        assert!(!page.text.contains("<script>"), "{path}: inline script");
    }
    // The overview's trend: every finding of the first snapshot is new, none resolved.
    let new = central.get(
        Some(&admin_token),
        "/api/v1/findings?cluster=demo&status=new&limit=1000",
    );
    let new = new.json["items"].as_array().unwrap().len();
    let overview = ui.get("/ui/");
    assert!(new > 0);
    assert!(
        overview.text.contains(&format!("status=new\">{new}</a>"))
            && overview.text.contains("status=resolved\">0</a>"),
        "{}",
        overview.text
    );
    let svg = ui.get("/ui/network.svg?cluster=demo");
    assert_eq!(svg.header("content-type"), "image/svg+xml");
    assert!(svg.header("content-disposition").starts_with("attachment"));
    assert!(svg.text.starts_with("<?xml"), "{}", svg.text);
    let edge = ui.get("/ui/network?cluster=demo&src=ci&dst=external");
    assert!(edge.text.contains("connections</h2>"), "{}", edge.text);
    assert_eq!(ui.get("/ui/nothing-here").status, 404);

    // Hostile names are escaped wherever they appear.
    for path in [
        "/ui/workloads?cluster=xss",
        "/ui/findings?cluster=xss",
        "/ui/workload?cluster=xss&namespace=web&kind=Deployment&name=%3Cscript%3Ealert(1)%3C%2Fscript%3E",
    ] {
        let page = ui.get(path);
        assert_eq!(page.status, 200, "{path}: {}", page.text);
        assert!(
            page.text.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
            "{path}: {}",
            page.text
        );
        assert!(
            !page.text.contains("<script>alert"),
            "{path}: {}",
            page.text
        );
        assert!(!page.text.contains("<img src=x"), "{path}");
    }

    // Forged posts: no CSRF field, or a wrong one, are refused and change nothing.
    let csrf = ui.get("/ui/exceptions").csrf();
    let mut no_csrf = exception_form("", "forged");
    no_csrf.remove(0);
    assert_eq!(ui.post("/ui/exceptions", &no_csrf, None).status, 403);
    let wrong = "0".repeat(64);
    assert_eq!(
        ui.post("/ui/exceptions", &exception_form(&wrong, "forged"), None)
            .status,
        403
    );
    assert_eq!(ui.post("/ui/logout", &[], None).status, 403);
    let listed = central.get(Some(&admin_token), "/api/v1/exceptions");
    assert_eq!(listed.json, json!([]), "{}", listed.text);

    // The admin creates and revokes an exception; both are audited under the token's name.
    let created = ui.post(
        "/ui/exceptions",
        &exception_form(&csrf, "CI runner needs dind"),
        None,
    );
    assert_see_other(&created, "/ui/exceptions");
    let listed = central.get(Some(&admin_token), "/api/v1/exceptions");
    let id = listed.json[0]["id"].as_i64().expect("an exception");
    assert_eq!(listed.json[0]["name"], PRIVILEGED);
    let page = ui.get("/ui/exceptions");
    assert!(
        page.text.contains("CI runner needs dind") && page.text.contains("exception.create"),
        "{}",
        page.text
    );
    let suppressed = ui.get("/ui/findings?cluster=demo&check=PAL-001&status=suppressed");
    assert!(suppressed.text.contains(PRIVILEGED), "{}", suppressed.text);

    // An analyst reads exceptions but gets no forms, and its posts are refused.
    let analyst_token = central.token("analyst", None, "alice");
    let mut analyst = Ui::new(&central);
    assert_see_other(&analyst.login(&analyst_token), "/ui/");
    let page = analyst.get("/ui/exceptions");
    assert!(page.text.contains("CI runner needs dind"), "{}", page.text);
    assert!(!page.text.contains("/revoke"), "{}", page.text);
    assert!(
        !page.text.contains("exception.create"),
        "the audit log is the admin's"
    );
    assert!(
        !analyst
            .get("/ui/findings?cluster=demo")
            .text
            .contains("Create exception")
    );
    assert_eq!(analyst.get("/ui/exceptions/new?cluster=demo").status, 403);
    let analyst_csrf = page.csrf();
    let refused = analyst.post(
        "/ui/exceptions",
        &exception_form(&analyst_csrf, "mine"),
        None,
    );
    assert_eq!(refused.status, 403, "{}", refused.text);
    let refused = analyst.post(
        &format!("/ui/exceptions/{id}/revoke"),
        &[("csrf", &analyst_csrf)],
        None,
    );
    assert_eq!(refused.status, 403);

    let revoked = ui.post(
        &format!("/ui/exceptions/{id}/revoke"),
        &[("csrf", &csrf)],
        None,
    );
    assert_see_other(&revoked, "/ui/exceptions");
    let page = ui.get("/ui/exceptions");
    assert!(
        page.text.contains("exception.revoke") && page.text.contains("revoked "),
        "{}",
        page.text
    );

    // Revoking the analyst's token ends its session at once.
    let analyst_id = analyst_token.split('_').nth(1).unwrap();
    central
        .delete(Some(&admin_token), &format!("/api/v1/tokens/{analyst_id}"))
        .expect(204);
    assert_see_other(&analyst.get("/ui/"), "/ui/login");

    // Logout deletes the session: the old cookie no longer opens anything.
    let out = ui.post("/ui/logout", &[("csrf", &csrf)], None);
    assert_see_other(&out, "/ui/login");
    assert!(
        out.cookies()
            .iter()
            .any(|c| c.starts_with("pal_session=;") && c.contains("Max-Age=0"))
    );
    assert_see_other(&ui.get("/ui/"), "/ui/login");

    // Token values never reach the logs.
    let logs = central.logs();
    for secret in [&admin_token, &analyst_token, &sensor] {
        assert!(!logs.contains(secret.as_str()), "a token was logged");
    }
    assert!(logs.contains("dashboard login"), "{logs}");
    assert!(
        logs.contains("\"route\":\"/ui/findings\""),
        "access log: {logs}"
    );
}

/// chromedriver on a free loopback port (killed on drop).
struct Driver {
    child: Child,
    url: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Driver {
    fn start(driver: &Path) -> Driver {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut child = Command::new(driver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        // Ready once it says so.
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        let ready = lines
            .by_ref()
            .map_while(Result::ok)
            .any(|l| l.contains("started successfully"));
        assert!(ready, "chromedriver did not start");
        std::thread::spawn(move || for _ in lines {});
        Driver {
            child,
            url: format!("http://127.0.0.1:{port}"),
        }
    }
}

/// A headless Chromium session, 1366 px wide.
async fn browser(chromium: &Path, driver: &Driver) -> Client {
    let caps = json!({
        "goog:chromeOptions": {
            "binary": chromium,
            "args": ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                     "--ignore-certificate-errors", "--window-size=1366,900", "--lang=en-US"],
        },
        "goog:loggingPrefs": {"browser": "ALL"},
        "acceptInsecureCerts": true,
    });
    let Value::Object(caps) = caps else {
        unreachable!()
    };
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&driver.url)
        .await
        .expect("a chromedriver session")
}

/// The browser console's messages since the last call (chromedriver's log endpoint).
async fn console(client: &Client, driver: &Driver) -> Vec<String> {
    let id = client.session_id().await.unwrap().unwrap();
    let url = format!("{}/session/{id}/se/log", driver.url);
    let body: Value = tokio::task::spawn_blocking(move || {
        reqwest::blocking::Client::new()
            .post(url)
            .json(&json!({"type": "browser"}))
            .send()
            .and_then(|r| r.json())
            .unwrap()
    })
    .await
    .unwrap();
    body["value"]
        .as_array()
        .map(|v| v.iter().map(|m| m["message"].to_string()).collect())
        .unwrap_or_default()
}

/// Saves a screenshot as `NAME.png` when `PALISADE_SCREENSHOTS` names a directory.
async fn screenshot(client: &Client, name: &str) {
    if let Some(dir) = std::env::var_os("PALISADE_SCREENSHOTS") {
        let png = client.screenshot().await.unwrap();
        std::fs::write(PathBuf::from(dir).join(format!("{name}.png")), png).unwrap();
    }
}

/// Opens `path` and returns the page source, which must contain `expected`.
async fn open(client: &Client, base: &str, path: &str, expected: &str) -> String {
    client.goto(&format!("{base}{path}")).await.unwrap();
    let source = client.source().await.unwrap();
    assert!(
        source.contains(expected),
        "{path} lacks {expected:?}: {source}"
    );
    source
}

/// Waits until the page at `path` is loaded (navigations after clicks finish asynchronously).
async fn wait_for_path(client: &Client, path: &str) {
    let xpath = format!("//body[@data-path='{path}']");
    client
        .wait()
        .at_most(Duration::from_secs(30))
        .for_element(Locator::XPath(&xpath))
        .await
        .unwrap_or_else(|e| panic!("{path} did not load: {e}"));
}

async fn log_in(client: &Client, token: &str) {
    client
        .find(Locator::Css("input[name=token]"))
        .await
        .unwrap()
        .send_keys(token)
        .await
        .unwrap();
    client
        .form(Locator::Css("form[action='/ui/login']"))
        .await
        .unwrap()
        .submit()
        .await
        .unwrap();
    wait_for_path(client, "/ui/").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chromium_logs_in_browses_every_page_and_manages_an_exception() {
    let (chromium, chromedriver) = palisade_testkit::cache::chromium();
    let (_dir, central) = tokio::task::spawn_blocking(demo_central).await.unwrap();
    let driver = Driver::start(&chromedriver);
    let client = browser(&chromium, &driver).await;
    let base = central.url();
    let admin = central.admin();

    // A logged-out browser lands on the login page.
    client.goto(&format!("{base}/ui/findings")).await.unwrap();
    assert_eq!(client.current_url().await.unwrap().path(), "/ui/login");
    screenshot(&client, "login").await;
    log_in(&client, &admin).await;

    // Every page, with the demo's data.
    for (name, path, expected) in [
        ("overview", "/ui/", "demo"),
        ("workloads", "/ui/workloads?cluster=demo", PRIVILEGED),
        (
            "findings",
            "/ui/findings?cluster=demo&severity=high",
            PRIVILEGED_CHECK,
        ),
        ("network", "/ui/network?cluster=demo", "aggregated edges"),
        (
            "network-expanded",
            "/ui/network?cluster=demo&expand=shop&src=ingress-nginx&dst=shop%2FDeployment%2Ffrontend#edge",
            "frontend-allow-from-ingress",
        ),
        (
            "rbac",
            "/ui/rbac?cluster=demo&verb=create&resource=pods%2Fexec",
            "Risky grants",
        ),
        ("images", "/ui/images", "Images &amp; vulnerabilities"),
        ("runtime", "/ui/runtime", "Alerts timeline"),
        ("policies", "/ui/policies", "privileged-container"),
    ] {
        open(&client, &base, path, expected).await;
        screenshot(&client, name).await;
    }

    // Follow a finding to its workload.
    open(
        &client,
        &base,
        "/ui/findings?cluster=demo&check=PAL-001",
        PRIVILEGED,
    )
    .await;
    client
        .find(Locator::Css("a[href*='name=build-runner']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_path(&client, "/ui/workload").await;
    let source = client.source().await.unwrap();
    assert!(
        source.contains(PRIVILEGED_CHECK) && source.contains("RBAC power"),
        "{source}"
    );
    screenshot(&client, "workload").await;

    // Create an exception from the finding, then revoke it; the audit log shows both.
    open(
        &client,
        &base,
        "/ui/findings?cluster=demo&check=PAL-001",
        "Create exception",
    )
    .await;
    client
        .find(Locator::LinkText("Create exception"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_path(&client, "/ui/exceptions/new").await;
    client
        .find(Locator::Css("textarea[name=reason]"))
        .await
        .unwrap()
        .send_keys("accepted for the browser test")
        .await
        .unwrap();
    client
        .form(Locator::Css("form[action='/ui/exceptions']"))
        .await
        .unwrap()
        .submit()
        .await
        .unwrap();
    wait_for_path(&client, "/ui/exceptions").await;
    let source = client.source().await.unwrap();
    assert!(
        source.contains("accepted for the browser test") && source.contains("exception.create"),
        "{source}"
    );
    screenshot(&client, "exceptions").await;
    client
        .find(Locator::Css("form[action$='/revoke'] button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    client.accept_alert().await.unwrap();
    // The revoke posts and comes back to the list: wait for the audit row.
    client
        .wait()
        .at_most(Duration::from_secs(30))
        .for_element(Locator::XPath("//td[text()='exception.revoke']"))
        .await
        .expect("the revoke's audit row");
    let source = client.source().await.unwrap();
    assert!(source.contains("exception.revoke"), "{source}");

    // A forged form (no CSRF field) posted from the page is refused.
    client
        .execute(
            "const f = document.createElement('form'); f.method = 'post'; f.action = '/ui/exceptions';\
             const r = document.createElement('input'); r.name = 'reason'; r.value = 'forged'; f.appendChild(r);\
             document.body.appendChild(f); f.submit();",
            vec![],
        )
        .await
        .unwrap();
    client
        .wait()
        .at_most(Duration::from_secs(30))
        .for_element(Locator::XPath("//h1[starts-with(., '403')]"))
        .await
        .expect("the forged post's answer");
    let forged = client.source().await.unwrap();
    assert!(
        forged.contains("403 Forbidden") && forged.contains("CSRF"),
        "{forged}"
    );

    // No CSP violation anywhere so far.
    let messages = console(&client, &driver).await;
    assert!(
        !messages
            .iter()
            .any(|m| m.contains("Content Security Policy")),
        "{messages:#?}"
    );

    // The phone layout: the overview at 390 px.
    client.set_window_size(390, 844).await.unwrap();
    open(&client, &base, "/ui/", "Top risks").await;
    screenshot(&client, "overview-phone").await;
    client.set_window_size(1366, 900).await.unwrap();

    // Log out: the browser is sent back to the login page.
    open(&client, &base, "/ui/", "Log out").await;
    client
        .form(Locator::Css("form[action='/ui/logout']"))
        .await
        .unwrap()
        .submit()
        .await
        .unwrap();
    wait_for_path(&client, "/ui/login").await;
    client.goto(&format!("{base}/ui/workloads")).await.unwrap();
    wait_for_path(&client, "/ui/login").await;
    assert_eq!(client.current_url().await.unwrap().path(), "/ui/login");

    // An analyst sees exceptions without forms.
    let analyst = tokio::task::spawn_blocking({
        let data = central.data.clone();
        let url = central.url();
        move || analyst_token(&data, &url)
    })
    .await
    .unwrap();
    log_in(&client, &analyst).await;
    let source = open(
        &client,
        &base,
        "/ui/exceptions",
        "accepted for the browser test",
    )
    .await;
    assert!(!source.contains("/revoke"), "{source}");
    let source = open(
        &client,
        &base,
        "/ui/findings?cluster=demo",
        PRIVILEGED_CHECK,
    )
    .await;
    assert!(!source.contains("Create exception"));
    client.close().await.unwrap();
}

/// An analyst token, made with `palisade central token create` on the store.
fn analyst_token(data: &Path, _url: &str) -> String {
    let (code, out, err) = palisade(&[
        "central", "token", "create", "--role", "analyst", "--name", "bob", "--data",
    ])
    .arg(data)
    .args(["--format", "json"])
    .run();
    assert_eq!(code, 0, "{out}\n{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    v["token"].as_str().unwrap().to_string()
}

#[test]
fn central_demo_pushes_the_demo_prints_url_and_token_and_cleans_up() {
    let mut child = palisade(&["central", "demo", "--addr", "127.0.0.1:0"])
        .command()
        .env_remove("PALISADE_DATABASE_URL")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start palisade central demo");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let (mut url, mut token, mut ca) = (None, None, None);
    for line in lines.by_ref().map_while(Result::ok) {
        let line = line.trim().to_string();
        if let Some(u) = line.strip_prefix("dashboard:") {
            url = Some(u.trim().trim_end_matches("/ui/").to_string());
        } else if let Some(t) = line.strip_prefix("login token:") {
            token = Some(t.trim().to_string());
        } else if let Some(c) = line.strip_prefix("CA:") {
            ca = Some(PathBuf::from(c.trim().split(' ').next().unwrap()));
            break;
        }
    }
    let (url, token, ca) = (
        url.expect("the dashboard's URL"),
        token.expect("the login token"),
        ca.expect("the CA"),
    );
    let http = reqwest::blocking::Client::builder()
        .tls_certs_only(
            reqwest::Certificate::from_pem_bundle(&std::fs::read(&ca).unwrap()).unwrap(),
        )
        .build()
        .unwrap();
    let clusters: Value = http
        .get(format!("{url}/api/v1/clusters"))
        .bearer_auth(&token)
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(clusters[0]["name"], "demo", "{clusters}");
    assert_eq!(clusters[0]["workloads"], 28, "{clusters}");
    let data = ca.parent().unwrap().parent().unwrap().to_path_buf();
    assert!(data.exists());
    // SIGTERM stops the demo, which deletes its temporary store.
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    assert!(child.wait().unwrap().success());
    assert!(!data.exists(), "{} is left behind", data.display());
}
