//! The wire types of Palisade central's HTTP API, version 1: the JSON bodies that scans,
//! sensors, admission webhooks and runtime agents send to central, and what its queries return.
//!
//! Pure data (serde only): the server (`palisade-central`), its store (`palisade-store`) and the
//! CLI clients (`palisade scan --push`, `palisade central query`) share these types, so a field
//! is named and typed once. Every type here is part of the stable v1 contract: add optional
//! fields, never rename or remove one (a breaking change is `/api/v2`).
//!
//! Paths are under [`PREFIX`]; see the `paths` constants in each module.

pub mod delta;
pub mod error;
pub mod ingest;
pub mod query;
pub mod raw;
pub mod response;
pub mod stream;
pub mod token;

pub use delta::{Delta, ObjectFindings};
pub use error::ErrorBody;
pub use ingest::{
    AdmissionBatch, AdmissionRecord, AlertBatch, AlertRecord, BaselineBatch, BaselineRecord,
    FindingRecord, FlowBatch, FlowRecord, ImageRecord, IngestAck, ObjectKey, RiskRecord, Snapshot,
    VulnerabilityRecord, WorkloadRecord,
};
pub use query::{
    AlertQuery, AlertView, AuditEntry, ClusterView, ExceptionCreate, ExceptionView, FindingQuery,
    FindingStatus, FindingView, ImageQuery, ImageView, Page, WorkloadQuery, WorkloadSort,
    WorkloadView,
};
pub use raw::RawObject;
pub use response::{ResponseBatch, ResponseQuery, ResponseRecord, ResponseView};
pub use stream::{SnapshotCounts, SnapshotHeader, SnapshotLine};
pub use token::{Role, TokenCreate, TokenCreated, TokenInfo};

/// Every v1 path starts with this.
pub const PREFIX: &str = "/api/v1";

/// The most rows one page returns; a larger `limit` is clamped to it.
pub const MAX_PAGE: u32 = 1000;

/// Rows per page when a query gives no `limit`.
pub const DEFAULT_PAGE: u32 = 100;
