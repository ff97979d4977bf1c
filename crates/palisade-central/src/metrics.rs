//! `/metrics`: Prometheus text (prometheus-client) — requests by route, method and status,
//! request latency by route, and records ingested by kind — plus the access log line of each
//! request (method, route, status, milliseconds; never a header or a body).

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::auth::Caller;
use crate::state::AppState;

/// Labels of the request counter.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    route: String,
    method: String,
    status: u16,
}

/// Labels of the latency histogram.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: String,
}

/// Labels of the ingest counters.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabels {
    kind: String,
}

/// Central's metrics.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RouteLabels, Histogram>,
    accepted: Family<KindLabels, Counter>,
    duplicates: Family<KindLabels, Counter>,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    /// Registers every metric.
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("palisade_central");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "requests",
            "HTTP requests answered, by route, method and status",
            requests.clone(),
        );
        let latency = Family::<RouteLabels, Histogram>::new_with_constructor(
            (|| Histogram::new(exponential_buckets(0.001, 2.0, 15))) as fn() -> Histogram,
        );
        registry.register(
            "request_duration_seconds",
            "Time from request to response head, by route",
            latency.clone(),
        );
        let accepted = Family::<KindLabels, Counter>::default();
        registry.register(
            "ingested_records",
            "Records stored by pushes, by kind (snapshots, alerts, flows, baselines, admission)",
            accepted.clone(),
        );
        let duplicates = Family::<KindLabels, Counter>::default();
        registry.register(
            "duplicate_records",
            "Records of pushes that were already stored, by kind",
            duplicates.clone(),
        );
        Metrics {
            registry,
            requests,
            latency,
            accepted,
            duplicates,
        }
    }

    /// Counts what one push stored.
    pub fn ingested(&self, kind: &str, ack: &palisade_api::IngestAck) {
        let labels = KindLabels {
            kind: kind.to_string(),
        };
        self.accepted.get_or_create(&labels).inc_by(ack.accepted);
        self.duplicates
            .get_or_create(&labels)
            .inc_by(ack.duplicates);
    }

    /// The Prometheus text exposition.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

/// `GET /metrics` (any valid token).
pub async fn page(State(state): State<AppState>, _caller: Caller) -> Response {
    let metrics = &state.metrics;
    (
        [(
            CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        metrics.encode(),
    )
        .into_response()
}

/// Middleware: counts and times each routed request and writes its access log line.
pub async fn track(State(metrics): State<Arc<Metrics>>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", MatchedPath::as_str)
        .to_string();
    let method = request.method().to_string();
    let response = next.run(request).await;
    let status = response.status().as_u16();
    let elapsed = started.elapsed();
    metrics
        .requests
        .get_or_create(&RequestLabels {
            route: route.clone(),
            method: method.clone(),
            status,
        })
        .inc();
    metrics
        .latency
        .get_or_create(&RouteLabels {
            route: route.clone(),
        })
        .observe(elapsed.as_secs_f64());
    tracing::info!(
        method = %method,
        route = %route,
        status,
        ms = elapsed.as_secs_f64() * 1000.0,
        "request"
    );
    response
}
