//! The HTTPS server: accepts TLS connections, checks the bearer token, routes discovery,
//! reads, writes and watches.

use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode, header};
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

use crate::discovery;
use crate::list::{self, Filter, metadata_only, shape};
use crate::request::{Query, Target, target};
use crate::resources::RESOURCES;
use crate::status::ApiError;
use crate::store::Store;
use crate::watch::{self, WatchRequest};

type Body = BoxBody<Bytes, Infallible>;

/// What every connection shares.
pub struct Shared {
    /// The objects.
    pub store: Arc<Store>,
    /// The bearer token required, if any.
    pub token: Option<String>,
    /// How often an idle watch gets a bookmark.
    pub bookmark_every: Duration,
    /// `host:port` served (for `/api`'s server address).
    pub address: String,
    /// Every request line served (`GET /api/v1/pods?limit=500`), in order.
    pub requests: Mutex<Vec<String>>,
}

/// Accepts connections until the runtime stops.
pub async fn serve(listener: TcpListener, tls: Arc<rustls::ServerConfig>, shared: Arc<Shared>) {
    let acceptor = TlsAcceptor::from(tls);
    loop {
        let Ok((tcp, _)) = listener.accept().await else {
            continue;
        };
        let acceptor = acceptor.clone();
        let shared = shared.clone();
        tokio::spawn(async move {
            let Ok(stream) = acceptor.accept(tcp).await else {
                return;
            };
            let service = hyper::service::service_fn(move |req| {
                let shared = shared.clone();
                async move { Ok::<_, Infallible>(handle(req, shared).await) }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

fn json_response(code: u16, content_type: &str, body: &Value) -> Response<Body> {
    Response::builder()
        .status(StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        .header(header::CONTENT_TYPE, content_type)
        .body(Full::new(Bytes::from(serde_json::to_vec(body).unwrap_or_default())).boxed())
        .expect("valid response")
}

fn ok(body: &Value) -> Response<Body> {
    json_response(200, "application/json", body)
}

fn error(e: ApiError) -> Response<Body> {
    json_response(e.code, "application/json", &e.body)
}

async fn handle(req: Request<Incoming>, shared: Arc<Shared>) -> Response<Body> {
    let path = req.uri().path().to_string();
    let raw_query = req.uri().query().map(str::to_string);
    {
        let mut line = match &raw_query {
            Some(q) => format!("{} {path}?{q}", req.method()),
            None => format!("{} {path}", req.method()),
        };
        // The form asked for (`as=PartialObjectMetadataList`, `as=Table`), when not plain JSON.
        let accept = req
            .headers()
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok());
        if let Some(form) = accept
            .and_then(|a| a.split(';').find(|p| p.trim().starts_with("as=")))
            .map(str::trim)
        {
            line.push_str(&format!(" [{form}]"));
        }
        shared
            .requests
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(line);
    }
    if let Some(token) = &shared.token {
        let given = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok());
        if given != Some(format!("Bearer {token}").as_str()) {
            return error(ApiError::new(401, "Unauthorized", "Unauthorized"));
        }
    }
    let accept = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let method = req.method().clone();
    let query = Query::parse(raw_query.as_deref());
    if let Some(t) = target(&path) {
        let body = match req.into_body().collect().await {
            Ok(b) => b.to_bytes(),
            Err(_) => return error(ApiError::bad_request("unreadable body")),
        };
        return resource(&shared, method, t, query, &accept, &content_type, &body).await;
    }
    if method != Method::GET {
        return error(ApiError::new(405, "MethodNotAllowed", "method not allowed"));
    }
    discovery_response(&path, &accept, &shared.address).unwrap_or_else(|| {
        error(ApiError::new(
            404,
            "NotFound",
            "the server could not find the requested resource",
        ))
    })
}

fn discovery_response(path: &str, accept: &str, address: &str) -> Option<Response<Body>> {
    let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
    let aggregated = discovery::wants_aggregated(accept);
    Some(match segs.as_slice() {
        ["version"] => ok(&discovery::version()),
        ["healthz" | "livez" | "readyz"] => Response::new(Full::new(Bytes::from("ok")).boxed()),
        ["api"] if aggregated => json_response(
            200,
            discovery::AGGREGATED_CONTENT_TYPE,
            &discovery::aggregated(true),
        ),
        ["api"] => ok(&discovery::core_versions(address)),
        ["apis"] if aggregated => json_response(
            200,
            discovery::AGGREGATED_CONTENT_TYPE,
            &discovery::aggregated(false),
        ),
        ["apis"] => ok(&discovery::group_list()),
        ["api", v] => ok(&discovery::resource_list("", v)?),
        ["apis", g] => ok(&discovery::group(g)?),
        ["apis", g, v] => ok(&discovery::resource_list(g, v)?),
        _ => return None,
    })
}

fn verb(method: &Method, item: bool, watch: bool) -> &'static str {
    match (method.as_str(), item) {
        ("GET", _) if watch => "watch",
        ("GET", false) => "list",
        ("GET", true) => "get",
        ("POST", _) => "create",
        ("PUT", _) => "update",
        ("PATCH", _) => "patch",
        ("DELETE", _) => "delete",
        _ => "unknown",
    }
}

fn forbidden(t: &Target, verb: &str) -> ApiError {
    let rt = RESOURCES[t.res];
    let scope = match &t.namespace {
        Some(ns) => format!("in the namespace \"{ns}\""),
        None => "at the cluster scope".into(),
    };
    let mut e = ApiError::new(
        403,
        "Forbidden",
        format!(
            "{} is forbidden: User \"palisade-test\" cannot {verb} resource \"{}\" in API group \"{}\" {scope}",
            rt.plural, rt.plural, rt.group
        ),
    );
    e.body["details"] = serde_json::json!({"group": rt.group, "kind": rt.plural});
    e
}

async fn resource(
    shared: &Shared,
    method: Method,
    t: Target,
    q: Query,
    accept: &str,
    content_type: &str,
    body: &[u8],
) -> Response<Body> {
    let rt = RESOURCES[t.res];
    let watch = q.flag("watch");
    let verb = verb(&method, t.name.is_some(), watch);
    if shared.store.is_forbidden(rt.kind) {
        return error(forbidden(&t, verb));
    }
    let ns = t.namespace.as_deref();
    let parsed = || -> Result<Value, ApiError> {
        serde_json::from_slice(body)
            .map_err(|e| ApiError::bad_request(format!("invalid JSON body: {e}")))
    };
    let result = match (verb, &t.name) {
        ("watch", _) => return start_watch(shared, &t, &q, accept),
        ("list", _) => list::list(&shared.store, t.res, ns, &q, accept),
        ("get", Some(name)) => shared
            .store
            .get(t.res, ns, name)
            .map(|o| shape(&o, metadata_only(accept, false)))
            .ok_or_else(|| ApiError::not_found(rt.plural, name)),
        ("create", None) => parsed()
            .and_then(|o| shared.store.create(t.res, ns, o))
            .map(|o| (*o).clone()),
        ("update", Some(name)) => parsed()
            .and_then(|o| shared.store.replace(t.res, ns, name, o, true))
            .map(|o| (*o).clone()),
        ("patch", Some(name)) if content_type.starts_with("application/merge-patch+json") => {
            parsed()
                .and_then(|p| shared.store.patch(t.res, ns, name, &p))
                .map(|o| (*o).clone())
        }
        ("patch", Some(_)) => Err(ApiError::new(
            415,
            "UnsupportedMediaType",
            format!("the fake supports merge patches only, not {content_type:?}"),
        )),
        ("delete", Some(name)) => shared.store.delete(t.res, ns, name).map(|o| (*o).clone()),
        _ => Err(ApiError::new(
            405,
            "MethodNotAllowed",
            "method not allowed on this path",
        )),
    };
    match result {
        Ok(v) if verb == "create" => json_response(201, "application/json", &v),
        Ok(v) => ok(&v),
        Err(e) => error(e),
    }
}

fn start_watch(shared: &Shared, t: &Target, q: &Query, accept: &str) -> Response<Body> {
    let filter = match Filter::from_query(q, t.namespace.as_deref()) {
        Ok(f) => f,
        Err(e) => return error(e),
    };
    let resource_version = match q.get("resourceVersion").filter(|v| !v.is_empty()) {
        None => None,
        Some(v) => match v.parse::<u64>() {
            Ok(n) => Some(n),
            Err(_) => {
                return error(ApiError::bad_request(format!(
                    "invalid resourceVersion {v:?}"
                )));
            }
        },
    };
    let req = WatchRequest {
        res: t.res,
        filter,
        resource_version,
        send_initial_events: q.flag("sendInitialEvents"),
        bookmarks: q.flag("allowWatchBookmarks"),
        timeout: q
            .get("timeoutSeconds")
            .and_then(|s| s.parse().ok())
            .map(Duration::from_secs),
        metadata_only: metadata_only(accept, false),
    };
    let (tx, body) = http_body_util::channel::Channel::<Bytes, Infallible>::new(64);
    let store = shared.store.clone();
    let every = shared.bookmark_every;
    tokio::spawn(async move {
        let mut signals = store.subscribe();
        // While watches are paused, a new watch waits (its response has not started).
        let _ = signals.wait_for(|s| !s.paused).await;
        watch::run(store, tx, req, every).await;
    });
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "application/json")
        .body(body.boxed())
        .expect("valid response")
}
