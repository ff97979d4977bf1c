//! One module per subcommand.

pub mod about;
#[cfg(feature = "admission")]
pub mod admission;
#[cfg(all(feature = "agent", target_os = "linux"))]
pub mod agent;
#[cfg(all(feature = "agent", target_os = "linux"))]
pub mod agent_manifests;
#[cfg(feature = "central")]
pub mod central;
#[cfg(feature = "central")]
pub mod central_demo;
#[cfg(feature = "central")]
pub mod central_manifests;
pub mod checks;
pub mod completion;

use palisade_model::time::{Clock, Date, SystemClock};
#[cfg(feature = "vuln")]
pub mod db;
#[cfg(feature = "image")]
pub mod image;
#[cfg(feature = "trust")]
pub mod image_trust;
#[cfg(feature = "visibility")]
pub mod inventory;
#[cfg(feature = "netpol")]
pub mod netpol;
#[cfg(feature = "visibility")]
pub mod rbac;
#[cfg(feature = "visibility")]
pub mod risk;
#[cfg(feature = "image")]
pub mod sbom;
pub mod scan;
#[cfg(feature = "sensor")]
pub mod sensor;
#[cfg(feature = "trust")]
pub mod sigstore;
#[cfg(feature = "vuln")]
pub mod vercmp;

/// The day exceptions expire against: `--today` if given (clap validated it as a calendar
/// day), else today in UTC from the system clock.
pub fn today_or(given: Option<Date>) -> Date {
    given.unwrap_or_else(|| SystemClock.today())
}
