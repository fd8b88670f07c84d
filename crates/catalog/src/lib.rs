//! Frameworks and built-in content: the SOC 2 criteria and the starter control library,
//! compiled into the binary and validated. Pure data: no IO beyond what is embedded.

mod controls;
mod error;
mod framework;
mod load;
mod templates;
mod topics;
mod vocab;

pub use controls::{Area, ControlTemplate, EvidenceRequirement, Library, Nature, RetiredControl};
pub use error::ContentError;
pub use framework::{Category, CategoryInfo, Criterion, Framework, Series};
pub use load::{Catalog, Source};
pub use templates::{
    ControlText, POLICY_ROLES, PolicyParameter, PolicyTemplate, RiskTemplate, placeholders, render_control,
    render_control_text,
};
pub use topics::{CriterionTopics, Topic, TopicCoverage, topic_coverage};
pub use vocab::{Attester, ControlType, Execution, Frequency, OwnerRole, PopulationKind, Refresh, UnknownValue};
