//! Frameworks and built-in content: the SOC 2 criteria and the starter control library,
//! compiled into the binary and validated. Pure data: no IO beyond what is embedded.

mod controls;
mod error;
mod framework;
mod load;
mod templates;
mod vocab;

pub use controls::{Area, ControlTemplate, EvidenceRequirement, Library, Nature};
pub use error::ContentError;
pub use framework::{Category, CategoryInfo, Criterion, Framework, Series};
pub use load::{Catalog, Source};
pub use templates::{POLICY_ROLES, PolicyParameter, PolicyTemplate, RiskTemplate, placeholders};
pub use vocab::{ControlType, Execution, Frequency, OwnerRole, Refresh, UnknownValue};
