//! Persistence: the workspace on disk, its configuration, and one set of SQL for SQLite and
//! PostgreSQL. Everything here is IO; the rules it applies come from `evident-core`.

mod access_reviews;
mod acting;
mod assessment;
mod audit;
mod backup;
mod bulk;
mod checks;
mod clock;
mod config;
mod connectors;
mod controls;
mod db;
mod description;
mod error;
mod evidence;
mod facts;
mod fieldwork;
mod files;
mod frameworks;
mod generated;
mod group_commit;
mod jml;
mod jobs;
mod keys;
mod oscal;
mod packs;
mod policies;
mod register_status;
mod registers;
mod remediation;
mod risks;
mod scope;
mod sign_in;
mod tsa;
mod users;
mod vault;
mod verify;
mod window;
mod workspace;

pub use assessment::{Assessment, Basis, ControlSummary, Timings, applicability_of, load_rules, summarise};
pub use audit::CHECKPOINT_EVERY;
pub use backup::{
    BACKUP_FORMAT, BACKUP_VERSION, BackupOptions, BackupSummary, Objects, RestoreOptions, RestoreSummary, restore,
};
pub use checks::{HistoryEntry, Program};
pub use config::{CONFIG_FILE, Config, OidcSettings, PackSettings, Secret, ServerSettings};
pub use connectors::{Connector, ConnectorHealth, ConnectorRun};
pub use db::{Backend, Db, redact_url};
pub use description::{Approval, DescriptionState, SignedAssertion};
pub use error::StoreError;
pub use evidence::{
    EvidenceError, EvidenceFile, EvidenceItem, EvidenceLink, LinkTo, NewEvidence, SourceKind, Withdrawal,
    clean_file_name,
};
pub use facts::{FactsSummary, FindingRecord};
pub use fieldwork::{POPULATIONS, PopulationSpec, RequestFilter, population_spec};
pub use files::link_unnamed;
pub use jml::JmlRecords;
pub use jobs::{
    ACCESS_REVIEWS_JOB, CHECKS_JOB, COLLECT_EVERY_SECS, COLLECT_PREFIX, Cause, Claim, DAILY_SECS, JobKind, JobRun,
    JobView, LastJobRun, every_words, kind_of, parse_every, parse_next, title_of,
};
pub use packs::{PackRequest, PackSelection, PackWritten};
pub use policies::{
    Acceptance, Parameter, Policy, PolicyStatus, PolicyStep, PolicyVersion, render, templates as policy_templates,
};
pub use registers::{StoredRecord, WriteSummary, record_json};
pub use risks::{RiskReview, SignOff};
pub use scope::{ComponentRecord, ScopeRecord};
pub use sign_in::{MAX_SIGN_IN_FAILURES, OIDC_PENDING_MS, PendingSignOn, SIGN_IN_FAILURE_WINDOW_MS};
pub use users::{ApiToken, MIN_PASSWORD_CHARS, Session, SessionStage, TokenScope, User, check_new_password};
pub use vault::{StoredBlob, VaultError};
pub use verify::VerifyReport;
pub use window::{AuditPeriodRecord, WindowRequest, window_input_with_evidence};
pub use workspace::{InitOptions, Workspace};
