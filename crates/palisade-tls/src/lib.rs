//! TLS for Palisade's HTTPS servers (the admission webhook and central), so both serve and
//! generate certificates one way:
//!
//! - [`reload`]: the serving certificate loaded from PEM files and swapped in place when the
//!   files change ([`CertStore`]), with an optional client-CA verifier;
//! - [`certs`]: a self-signed CA and a serving certificate it signed (rcgen), for servers that
//!   bootstrap their own TLS and for tests.
//!
//! Invariants: one crypto provider (aws-lc-rs) for everything; every error names the file it
//! concerns; no private key is ever logged or put in an error message.

pub mod certs;
pub mod reload;

pub use certs::{CertError, GeneratedCerts};
pub use reload::{CertStore, TlsError};
