//! Bearer-token authentication against a real registry: Debian's `docker-registry` configured
//! with `auth: token` trusts a certificate we generate (rcgen); our own token service on
//! loopback checks basic credentials and issues ES256 JWTs (RustCrypto p256) whose `x5c`
//! header carries that certificate. The registry verifies every token's signature, issuer,
//! audience, expiry and access claims itself.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use p256::ecdsa::signature::Signer as _;
use p256::pkcs8::DecodePrivateKey as _;
use palisade_image::builder::{ImageSpec, LayerBuilder, OciLayoutWriter};
use palisade_image::source::NoProgress;
use palisade_image::{Limits, scan_resolved};
use palisade_registry::{AuthSource, PullOptions, RegistryError, RemoteImage, Repository};
use palisade_testkit::{Registry, RegistryAuth, RegistryOptions};

const ISSUER: &str = "palisade-test-issuer";
const SERVICE: &str = "palisade-test-registry";

/// Users and the actions each may be granted.
fn grants(user: &str) -> &'static [&'static str] {
    match user {
        "alice" => &["pull", "push"],
        "bob" => &["pull"],
        _ => &[],
    }
}

fn password_ok(user: &str, password: &str) -> bool {
    matches!((user, password), ("alice", "alice-pw") | ("bob", "bob-pw"))
}

/// One token request as the service saw it.
#[derive(Debug, Clone)]
struct TokenRequest {
    user: Option<String>,
    scope: String,
    status: u16,
}

struct TokenService {
    addr: String,
    requests: Arc<Mutex<Vec<TokenRequest>>>,
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("00");
                out.push(u8::from_str_radix(hex, 16).unwrap_or(b'?'));
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// A JWT as distribution's token auth expects it (ES256, x5c chain = our self-signed cert).
fn jwt(
    key: &p256::ecdsa::SigningKey,
    cert_der: &[u8],
    user: &str,
    access: serde_json::Value,
) -> String {
    let header =
        serde_json::json!({"typ": "JWT", "alg": "ES256", "x5c": [STANDARD.encode(cert_der)]});
    let t = now();
    let claims = serde_json::json!({
        "iss": ISSUER, "sub": user, "aud": SERVICE,
        "exp": t + 300, "nbf": t - 10, "iat": t, "jti": format!("{user}-{t}-{}", rand_suffix()),
        "access": access,
    });
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let sig: p256::ecdsa::Signature = key.sign(signing_input.as_bytes());
    format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(sig.to_bytes()))
}

fn rand_suffix() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}

fn handle(
    stream: TcpStream,
    key: &p256::ecdsa::SigningKey,
    cert_der: &[u8],
    requests: &Mutex<Vec<TokenRequest>>,
) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    let mut headers = BTreeMap::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
            break;
        }
        if let Some((k, v)) = line.split_once(':') {
            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
        }
    }
    let target = request_line.split_whitespace().nth(1).unwrap_or("/");
    let query = target.split_once('?').map(|(_, q)| q).unwrap_or("");
    let mut scopes = Vec::new();
    let mut service = String::new();
    for pair in query.split('&') {
        if let Some((k, v)) = pair.split_once('=') {
            match k {
                "scope" => scopes.push(percent_decode(v)),
                "service" => service = percent_decode(v),
                _ => {}
            }
        }
    }
    let user = headers
        .get("authorization")
        .and_then(|h| h.strip_prefix("Basic "))
        .and_then(|b| STANDARD.decode(b).ok())
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| {
            s.split_once(':')
                .map(|(u, p)| (u.to_string(), p.to_string()))
        });
    let (status, body) = match &user {
        Some((u, p)) if !password_ok(u, p) => (
            401,
            r#"{"errors":[{"code":"UNAUTHORIZED","message":"invalid username or password"}]}"#
                .to_string(),
        ),
        _ if service != SERVICE => (
            400,
            format!(r#"{{"errors":[{{"code":"DENIED","message":"unknown service {service}"}}]}}"#),
        ),
        _ => {
            let name = user.as_ref().map(|(u, _)| u.as_str()).unwrap_or("");
            // Grant the intersection of what was asked and what the user may do;
            // anonymous users get a token with no access at all.
            let access: Vec<serde_json::Value> = scopes
                .iter()
                .filter_map(|s| {
                    let mut parts = s.splitn(3, ':');
                    let (kind, repo, actions) = (parts.next()?, parts.next()?, parts.next()?);
                    let granted: Vec<&str> = actions
                        .split(',')
                        .filter(|a| grants(name).contains(a))
                        .collect();
                    Some(serde_json::json!({"type": kind, "name": repo, "actions": granted}))
                })
                .collect();
            let token = jwt(key, cert_der, name, serde_json::Value::Array(access));
            (
                200,
                serde_json::json!({"token": token, "access_token": token, "expires_in": 300})
                    .to_string(),
            )
        }
    };
    requests.lock().unwrap().push(TokenRequest {
        user: user.map(|(u, _)| u),
        scope: scopes.join(" "),
        status,
    });
    let reason = if status == 200 {
        "OK"
    } else if status == 401 {
        "Unauthorized"
    } else {
        "Bad Request"
    };
    let mut stream = stream;
    let _ = write!(
        stream,
        "HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
}

impl TokenService {
    fn start(key: p256::ecdsa::SigningKey, cert_der: Vec<u8>) -> TokenService {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let shared = (Arc::new(key), Arc::new(cert_der), requests.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (key, cert, requests) = (shared.0.clone(), shared.1.clone(), shared.2.clone());
                std::thread::spawn(move || handle(stream, &key, &cert, &requests));
            }
        });
        TokenService { addr, requests }
    }
}

fn push_with_skopeo(layout: &Path, dest: &str, creds: &str) {
    let out = Command::new("skopeo")
        .args([
            "copy",
            "--quiet",
            "--dest-tls-verify=false",
            "--dest-creds",
            creds,
        ])
        .arg(format!("oci:{}:v1", layout.display()))
        .arg(format!("docker://{dest}"))
        .output()
        .expect("skopeo missing: run scripts/test");
    assert!(
        out.status.success(),
        "skopeo: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn basic(user: &str, password: &str) -> PullOptions {
    PullOptions {
        auth: AuthSource::Basic {
            username: user.into(),
            password: password.into(),
        },
        ..Default::default()
    }
}

#[test]
fn bearer_tokens_from_our_token_service_are_honoured_by_the_registry() {
    let key_pair = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let cert = rcgen::CertificateParams::new(vec!["palisade-token-service".to_string()])
        .unwrap()
        .self_signed(&key_pair)
        .unwrap();
    let signing_key = p256::ecdsa::SigningKey::from_pkcs8_der(&key_pair.serialize_der()).unwrap();
    let tokens = TokenService::start(signing_key, cert.der().to_vec());
    let reg = Registry::start_with(&RegistryOptions {
        auth: RegistryAuth::Token {
            realm: format!("http://{}/token", tokens.addr),
            service: SERVICE.into(),
            issuer: ISSUER.into(),
            root_cert_pem: cert.pem(),
        },
    });

    // alice pushes with skopeo (an independent client doing the same token dance).
    let dir = tempfile::tempdir().unwrap();
    let w = OciLayoutWriter::create(dir.path()).unwrap();
    let spec = ImageSpec::new(vec![
        LayerBuilder::new()
            .file("etc/os-release", 0o644, b"ID=debian\nVERSION_ID=\"12\"\n")
            .gzip(),
    ]);
    let d = w.image(&spec).unwrap();
    w.finish(vec![(d, Some("v1"))]).unwrap();
    let reference = format!("{}/team/app:v1", reg.addr);
    push_with_skopeo(dir.path(), &reference, "alice:alice-pw");

    // Pull with the right credentials works (token, then manifest and blobs).
    let image = RemoteImage::open(&reference, &basic("alice", "alice-pw")).unwrap();
    let scan = scan_resolved(&image, &image.resolved, Limits::default(), &NoProgress).unwrap();
    assert_eq!(scan.os.as_ref().map(|o| o.id.as_str()), Some("debian"));
    assert!(
        tokens
            .requests
            .lock()
            .unwrap()
            .iter()
            .any(|r| r.user.as_deref() == Some("alice")
                && r.scope == "repository:team/app:pull"
                && r.status == 200)
    );

    // Wrong credentials: the token service refuses them and the error says so.
    let err = RemoteImage::open(&reference, &basic("alice", "wrong"))
        .err()
        .unwrap();
    match &err {
        RegistryError::Credentials { registry, message } => {
            assert_eq!(registry, &reg.addr);
            assert!(
                message.contains("refused the credentials for pull access to team/app"),
                "{message}"
            );
            assert!(
                message.contains("invalid username or password"),
                "{message}"
            );
        }
        other => panic!("expected a credentials error, got {other}"),
    }

    // Anonymous: a token without access, which the registry refuses.
    let err = RemoteImage::open(
        &reference,
        &PullOptions {
            auth: AuthSource::Anonymous,
            ..Default::default()
        },
    )
    .err()
    .unwrap();
    assert!(matches!(err, RegistryError::Distribution { .. }), "{err}");
    assert!(err.to_string().contains("Not authorized"), "{err}");

    // Scopes: bob may pull, but his push token carries only `pull`, so the registry refuses
    // the upload; alice's push succeeds.
    let bob = Repository::connect(&reference, &basic("bob", "bob-pw"), true).unwrap();
    let manifest = bob
        .resolve()
        .unwrap_or_else(|e| panic!("{e}; token requests: {:?}", tokens.requests.lock().unwrap()));
    assert_eq!(
        Some(manifest.digest.clone()),
        image
            .resolved
            .manifest_digest
            .clone()
            .or(Some(manifest.digest.clone()))
    );
    let err = bob.push_blob(b"bob was here").unwrap_err();
    assert!(
        err.to_string()
            .to_ascii_lowercase()
            .contains("unauthorized")
            || err.to_string().contains("denied"),
        "{err}"
    );
    assert!(tokens
        .requests
        .lock()
        .unwrap()
        .iter()
        .any(|r| r.user.as_deref() == Some("bob") && r.scope == "repository:team/app:pull,push"));
    let alice = Repository::connect(&reference, &basic("alice", "alice-pw"), true).unwrap();
    let digest = alice.push_blob(b"alice was here").unwrap();
    assert_eq!(alice.blob(&digest, 1024).unwrap(), b"alice was here");
    alice
        .push_manifest("copy", &manifest.bytes, &manifest.media_type)
        .unwrap();
    assert_eq!(
        alice.manifest_by_tag("copy").unwrap().unwrap().digest,
        manifest.digest
    );
}
