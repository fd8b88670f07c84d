//! The command-line surface.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// What `--format` accepts; each command says which it supports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FormatArg {
    Table,
    Json,
    Csv,
    Html,
    Pdf,
    Xlsx,
    Md,
    Docx,
}

#[derive(Debug, Parser)]
#[command(
    name = "evident",
    version,
    about = "Evident: SOC 2 readiness, evidence and audits, self-hosted"
)]
pub struct Cli {
    /// The workspace folder (holds evident.toml, the database, the vault and the keys).
    /// Defaults to the current folder (`evident-demo` for `demo`).
    #[arg(long, global = true, env = "EVIDENT_HOME")]
    pub workspace: Option<PathBuf>,
    /// Output format: table or json for listings and results; csv for reports.
    #[arg(long, global = true, value_enum, default_value_t = FormatArg::Table)]
    pub format: FormatArg,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a workspace and adopt the starter control library.
    Init {
        /// The organisation's name, used in documents Evident writes.
        #[arg(long, default_value = "My Company")]
        organisation: String,
    },
    /// Open (or create) a demonstration workspace, show its program and serve it.
    Demo {
        /// Where the web interface listens.
        #[arg(long, default_value = "127.0.0.1:8080")]
        bind: std::net::SocketAddr,
        /// Only print the summary; do not start the server.
        #[arg(long)]
        no_serve: bool,
    },
    /// Run the web interface and the JSON API (/api/v1).
    Serve {
        /// Address and port to listen on.
        #[arg(long, default_value = "127.0.0.1:8080")]
        bind: std::net::SocketAddr,
        /// The administrator created on the first start (when there are no users yet).
        #[arg(long, default_value = "admin@evident.local")]
        admin: String,
    },
    /// People who sign in to the server, and their roles.
    #[command(subcommand)]
    Users(UsersCommand),
    /// API tokens for /api/v1.
    #[command(subcommand)]
    Tokens(TokensCommand),
    /// Measurements over the workspace (see BENCHMARKS.md).
    #[command(subcommand)]
    Bench(BenchCommand),
    /// Create a workspace filled with a made-up company (deterministic for a seed).
    Generate {
        /// s (60 people), m (1,000) or l (10,000 people, 60,000 accounts, 200,000 changes).
        #[arg(long, default_value = "s")]
        size: String,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Generate as of this date (YYYY-MM-DD) instead of today, for byte-identical runs.
        #[arg(long)]
        as_of: Option<String>,
    },
    /// The frameworks and their criteria.
    #[command(subcommand)]
    Catalog(CatalogCommand),
    /// The organisation's controls.
    #[command(subcommand)]
    Controls(ControlsCommand),
    /// The audit scope and the system description.
    #[command(subcommand)]
    Scope(ScopeCommand),
    /// The evidence vault.
    #[command(subcommand)]
    Evidence(EvidenceCommand),
    /// The tamper-evident log of every write.
    AuditLog {
        /// Only entries from this date (YYYY-MM-DD, UTC) on.
        #[arg(long)]
        since: Option<String>,
    },
    /// Re-hash every blob, walk the audit chain and check its signatures.
    Verify,
    /// Write a backup of the workspace to one file, consistent while the server runs: every
    /// table's rows, the vault's blobs as stored (a bucket's only listed unless
    /// --copy-objects) and the custom check rules; the keys only with --with-keys, encrypted.
    Backup {
        /// The file to write (a new file: it is complete or absent).
        #[arg(long)]
        out: PathBuf,
        /// Carry the instance and vault keys, encrypted with the passphrase in
        /// EVIDENT_BACKUP_PASSPHRASE (never taken from the command line).
        #[arg(long)]
        with_keys: bool,
        /// For a vault in S3: copy its objects into the file instead of listing them.
        #[arg(long)]
        copy_objects: bool,
    },
    /// Rebuild a workspace from a backup into the new or empty folder --workspace, on SQLite
    /// or on an empty PostgreSQL database (--database-url), then verify it.
    Restore {
        /// The backup file (`evident backup --out`).
        file: PathBuf,
        /// `postgres://…` of an empty database to restore onto (or EVIDENT_DATABASE_URL);
        /// unset: the SQLite file in the workspace folder.
        #[arg(long)]
        database_url: Option<String>,
        /// The folder of the workspace the backup came from (or its keys folder): its
        /// instance.key and vault.age. Needed when the backup was made without --with-keys.
        #[arg(long)]
        keys_from: Option<PathBuf>,
        /// Only check the file (every part's hash, the signature) and the keys; write nothing.
        #[arg(long)]
        check: bool,
    },
    /// Evidence packs for an auditor: a signed zip anyone can check offline.
    #[command(subcommand)]
    Pack(PackCommand),
    /// Import a register from CSV (validated whole before anything is written), or a system's
    /// export as facts: aws-credential-report, okta-users, google-workspace-users, trivy, grype, prowler.
    Import {
        /// A register (people, training, background-checks, risks, vendors, assets, events,
        /// tasks, policy-acceptances) or a fact source (see above).
        register: String,
        file: PathBuf,
        /// Import the valid rows and report the rejected ones (registers).
        #[arg(long)]
        skip_invalid: bool,
        /// Companion files (okta-users: each user's factor list).
        #[arg(long = "with")]
        with: Vec<PathBuf>,
        /// When the data was observed, if the file does not say (YYYY-MM-DD).
        #[arg(long)]
        observed_on: Option<String>,
    },
    /// Export a register to CSV (the same columns import reads), or to XLSX when --out ends in .xlsx.
    Export {
        register: String,
        #[arg(long)]
        out: PathBuf,
    },
    /// Configure a connector (its secret is stored sealed with the vault key).
    #[command(subcommand)]
    Connect(ConnectCommand),
    /// Run a connector: fetch, keep the raw responses as evidence, update the facts.
    #[command(subcommand)]
    Collect(CollectCommand),
    /// Scheduled jobs (collection per connector, the daily check run, access reviews that fall
    /// due): list them, run one now, change a schedule.
    #[command(subcommand)]
    Jobs(JobsCommand),
    /// Files for people outside the tool: the gap list, the control matrix.
    #[command(subcommand)]
    Report(ReportCommand),
    /// The Type II observation window as the auditor will read it at its end: each periodic
    /// control's periods, each check's record history against its deadline, the exceptions,
    /// the forecast and a predicted opinion.
    Window(WindowArgs),
    /// Exceptions in the observation window and management's responses to them.
    #[command(subcommand)]
    Exceptions(ExceptionsCommand),
    /// Audit engagements: the firm, the period, the status, the auditors bound to them.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// The auditor's request list (PBC): import, answer with evidence, submit, accept, return.
    #[command(subcommand)]
    Requests(RequestsCommand),
    /// Populations of event-driven controls, with what proves them complete and accurate.
    #[command(subcommand)]
    Populations(PopulationsCommand),
    /// Samples drawn from populations with the auditor's seed, and the auditor's results.
    #[command(subcommand)]
    Samples(SamplesCommand),
    /// Access review campaigns: freeze the accounts, decide keep/revoke/change, see removals
    /// carried out by later imports, close into evidence.
    #[command(subcommand, name = "access-reviews")]
    AccessReviews(AccessReviewsCommand),
    /// Joiners, movers and leavers reconciled against every system's accounts.
    #[command(subcommand)]
    Jml(JmlCommand),
    /// Other frameworks imported from OSCAL catalogs and profiles, mapped to our controls.
    #[command(subcommand)]
    Frameworks(FrameworksCommand),
    /// The system description (the report's section 3) drafted from the records, its narrative
    /// parts, approval and drift, and management's assertion.
    #[command(subcommand)]
    Description(DescriptionCommand),
    /// The program in OSCAL 1.2.3 JSON: catalog, profile, component definition, system
    /// security plan, assessment plan and results, plan of action and milestones.
    #[command(subcommand)]
    Oscal(OscalCommand),
    /// Where the program stands: control status, criterion coverage, score, gaps.
    Readiness {
        /// Create or update a remediation task for every gap (idempotent).
        #[arg(long)]
        plan: bool,
    },
    /// Automated checks: run them, see their history, manage exclusions.
    #[command(subcommand)]
    Check(CheckCommand),
    /// Policies: templates, versions, approval, publication, acceptance.
    #[command(subcommand)]
    Policies(PoliciesCommand),
    /// People: the HR register (list, show, add, update).
    #[command(disable_help_flag = true)]
    People(RegisterArgs),
    /// Training completions.
    #[command(disable_help_flag = true)]
    Training(RegisterArgs),
    /// Background checks.
    #[command(disable_help_flag = true)]
    BackgroundChecks(RegisterArgs),
    /// The risk register, its starter library, sign-off and reviews.
    #[command(disable_help_flag = true)]
    Risks(RegisterArgs),
    /// Vendors and their due diligence.
    #[command(disable_help_flag = true)]
    Vendors(RegisterArgs),
    /// The asset inventory.
    #[command(disable_help_flag = true)]
    Assets(RegisterArgs),
    /// Service accounts and API keys: owners, purposes, rotation limits.
    #[command(disable_help_flag = true, name = "machine-identities")]
    MachineIdentities(RegisterArgs),
    /// Time-bound elevations of access: who, what, why, approved by whom, until when.
    #[command(disable_help_flag = true, name = "access-grants")]
    AccessGrants(RegisterArgs),
    /// Dated events: incidents, drills, tests, reviews.
    #[command(disable_help_flag = true)]
    Events(RegisterArgs),
    /// Remediation tasks.
    #[command(disable_help_flag = true)]
    Tasks(RegisterArgs),
}

#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// List users and their roles.
    List,
    /// Add a user; prints a one-time password to hand over.
    Add {
        email: String,
        /// admin, compliance_manager, control_owner, employee, auditor or viewer.
        #[arg(long)]
        role: String,
    },
    /// Give a user a new one-time password (their sessions end).
    ResetPassword { email: String },
    /// Remove a user's second factor so they enrol again at their next sign-in.
    ResetTotp { email: String },
    /// Change a user's role.
    SetRole {
        email: String,
        #[arg(long)]
        role: String,
    },
    /// Stop a user from signing in (their sessions end); `--enable` lets them again.
    Disable {
        email: String,
        #[arg(long)]
        enable: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum TokensCommand {
    /// List tokens (never their secrets).
    List,
    /// Create a token acting as a user; prints the secret once.
    Create {
        /// The user the token acts as.
        #[arg(long)]
        user: String,
        /// What uses it, e.g. "CI evidence upload".
        #[arg(long)]
        name: String,
        /// read or write.
        #[arg(long, default_value = "read")]
        scope: String,
        /// Last day the token works (YYYY-MM-DD).
        #[arg(long)]
        expires: Option<String>,
    },
    /// Revoke a token by its id.
    Revoke { id: String },
}

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Time the readiness assessment: loading, check engine, readiness engine.
    Readiness {
        #[arg(long, default_value_t = 5)]
        runs: usize,
    },
}

#[derive(Debug, Subcommand)]
pub enum ReportCommand {
    /// For the board: score, coverage by category, gaps, checklist, timeline (pdf or html).
    Readiness {
        /// The file to write; its extension picks the format unless --format says.
        #[arg(long)]
        out: PathBuf,
    },
    /// Every gap, most severe first, with owner and fix (csv or xlsx).
    Gaps {
        #[arg(long)]
        out: PathBuf,
    },
    /// The control matrix an auditor expects: one row per control, with its evidence (csv or xlsx).
    Controls {
        #[arg(long)]
        out: PathBuf,
    },
    /// The system description with its sources and management's assertion (pdf, html, md or docx).
    Description {
        #[arg(long)]
        out: PathBuf,
    },
    /// The observation window laid out like a report's Section 4: criterion, control, what was
    /// tested, result, exceptions and management's responses (xlsx or pdf).
    Window {
        #[arg(long)]
        out: PathBuf,
        #[command(flatten)]
        window: WindowArgs,
    },
}

/// Which window, as of which day, judged by which rule.
#[derive(Debug, Clone, clap::Args)]
pub struct WindowArgs {
    /// The day to read the window as of (YYYY-MM-DD, inside the period; default today).
    #[arg(long)]
    pub as_of: Option<String>,
    /// An earlier report period, START..END (default: the scope's window).
    #[arg(long)]
    pub period: Option<String>,
    /// Deviation rate a control may have and still meet its criteria, in percent (default 10).
    #[arg(long)]
    pub tolerable_rate: Option<f64>,
    /// Share of criteria not met from which the prediction is adverse, in percent (default 50).
    #[arg(long)]
    pub pervasive_share: Option<f64>,
}

#[derive(Debug, Subcommand)]
pub enum ExceptionsCommand {
    /// Every exception in the window, with its response.
    List {
        #[command(flatten)]
        window: WindowArgs,
    },
    /// Record management's response to an exception (it supersedes any earlier one, which stays on record).
    Respond {
        /// The exception's id (EX-…), as `exceptions list` shows it.
        id: String,
        /// The response: what happened, and what management did about it.
        #[arg(long)]
        text: String,
        /// An earlier report period, START..END (default: the scope's window).
        #[arg(long)]
        period: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Open an engagement over a report period (default: the scope's window).
    Create {
        #[arg(long)]
        name: String,
        /// The audit firm.
        #[arg(long)]
        firm: String,
        /// A report period START..END the scope has named (default: the current one).
        #[arg(long)]
        period: Option<String>,
    },
    /// Every engagement.
    List,
    /// One engagement: its period, status, auditors and sample sizes.
    Show { engagement: String },
    /// Move an engagement forward: planned, fieldwork, reporting, closed.
    Status { engagement: String, status: String },
    /// Bind an auditor user to the engagement (or, with --remove, unbind them).
    Auditor {
        engagement: String,
        email: String,
        #[arg(long)]
        remove: bool,
    },
    /// Change the sample size table ("typical; confirm with your auditor"), e.g. --set daily=40.
    Sizes {
        engagement: String,
        /// NAME=N, for annual, quarterly, monthly, weekly, daily, continuous, event_percent, event_min, event_max.
        #[arg(long = "set", value_name = "NAME=N")]
        set: Vec<String>,
    },
    /// The testing workbook (xlsx): one sheet per control tested, with its population, sample and results.
    Workbook {
        engagement: String,
        #[arg(long)]
        out: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum JmlCommand {
    /// Every finding: leavers with access left on, movers not reviewed, joiners without their
    /// baseline accounts or training, contractors past their end, orphan accounts.
    List {
        /// joiner, mover, leaver, contractor_past_end or orphan.
        #[arg(long)]
        kind: Option<String>,
        /// Read it as of this day (YYYY-MM-DD): a later day shows what will be late by then.
        #[arg(long)]
        as_of: Option<String>,
    },
    /// One person's timeline: start, moves, training, accounts, reviews, last day, findings.
    Person { email: String },
}

#[derive(Debug, Subcommand)]
pub enum AccessReviewsCommand {
    /// Start a campaign: freezes the accounts of the systems and assigns each a reviewer.
    Start {
        #[arg(long)]
        name: String,
        /// Systems as imported (okta, github, aws:123456789012); none: every system with accounts.
        #[arg(long = "system")]
        systems: Vec<String>,
        /// all or privileged (administrators and root users).
        #[arg(long, default_value = "all")]
        coverage: String,
        /// manager, system_owner or named.
        #[arg(long, default_value = "manager")]
        reviewers: String,
        /// The reviewer when --reviewers named.
        #[arg(long)]
        reviewer: Option<String>,
        /// YYYY-MM-DD
        #[arg(long)]
        due: String,
    },
    /// Every campaign and its progress.
    List,
    /// When each kind of campaign is next due, by the access-control policy's intervals.
    Schedule,
    /// One campaign: its progress and items (--mine: only mine, as EVIDENT_ACTOR).
    Show {
        campaign: String,
        #[arg(long)]
        mine: bool,
    },
    /// Start the campaigns the schedule says are due (for cron): one over every account when
    /// that review is due (it covers administrators too), else one over administrators.
    StartDue {
        /// Start a campaign this many days before its review falls due.
        #[arg(long, default_value_t = 14)]
        lead: i64,
    },
    /// My items to decide in open campaigns (EVIDENT_ACTOR).
    Inbox {
        /// Items per page (at most 5000).
        #[arg(long)]
        limit: Option<i64>,
        /// Skip this many items (the previous page's end).
        #[arg(long, default_value_t = 0)]
        offset: i64,
    },
    /// Decide on one of my items: keep, revoke or change (with --reason; change also --to).
    Decide {
        item: String,
        decision: String,
        #[arg(long, default_value = "")]
        reason: String,
        /// For change: what the access becomes.
        #[arg(long = "to", default_value = "")]
        change: String,
    },
    /// Keep every undecided item of mine that the last campaign kept at the same level.
    KeepUnchanged,
    /// Give an undecided item to another reviewer.
    Reassign { item: String, email: String },
    /// Record a removal carried out where no import can show it.
    Confirm {
        item: String,
        #[arg(long)]
        note: String,
    },
    /// Close a campaign into evidence (CSV and signed-off PDF) and an access-review event.
    Close {
        campaign: String,
        /// Close with undecided items or unseen removals, listing them as open.
        #[arg(long)]
        anyway: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum RequestsCommand {
    /// Import the firm's request list (CSV or XLSX): reference and request columns required;
    /// criteria, controls, due, assignee understood; other columns kept.
    Import { engagement: String, file: PathBuf },
    /// Add one request by hand.
    Add {
        engagement: String,
        #[arg(long = "ref")]
        reference: String,
        #[arg(long)]
        request: String,
        #[arg(long, value_delimiter = ',')]
        criteria: Vec<String>,
        #[arg(long, value_delimiter = ',')]
        controls: Vec<String>,
        /// YYYY-MM-DD
        #[arg(long)]
        due: Option<String>,
        #[arg(long)]
        assignee: Option<String>,
    },
    /// The engagement's requests.
    List {
        engagement: String,
        /// open, submitted, accepted or returned.
        #[arg(long)]
        status: Option<String>,
        /// Due on or before YYYY-MM-DD.
        #[arg(long)]
        due_by: Option<String>,
        /// Only requests assigned to me (EVIDENT_ACTOR) or about controls I own.
        #[arg(long)]
        mine: bool,
    },
    /// One request with its evidence and thread.
    Show { id: String },
    /// Assign a request to a user (no email: unassign).
    Assign { id: String, email: Option<String> },
    /// Link an evidence item to a request.
    Link { id: String, evidence: String },
    /// Hand in what is linked.
    Submit {
        id: String,
        #[arg(long, default_value = "")]
        comment: String,
    },
    /// The auditor accepts the request.
    Accept {
        id: String,
        #[arg(long, default_value = "")]
        comment: String,
    },
    /// The auditor returns the request, saying what is missing.
    Return {
        id: String,
        #[arg(long)]
        comment: String,
    },
    /// Comment on a request's thread.
    Comment { id: String, text: String },
    /// The list with status, evidence and thread, to CSV (XLSX when --out ends in .xlsx).
    Export {
        engagement: String,
        #[arg(long)]
        out: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum PopulationsCommand {
    /// The kinds of population and what each one is.
    Kinds,
    /// Produce a population, keep it as evidence and say what changed since the last run.
    Run {
        /// new_hires, leavers, role_changes, changes, incidents, late_findings, access_reviews,
        /// vendor_reviews, policy_acceptances or restore_tests.
        kind: String,
        /// The engagement it is for (its period is used).
        #[arg(long)]
        engagement: Option<String>,
        /// A report period START..END (without an engagement; default the scope's window).
        #[arg(long)]
        period: Option<String>,
    },
    /// Populations produced so far.
    List {
        #[arg(long)]
        engagement: Option<String>,
    },
    /// Run a kept population's rule again without keeping anything: same hash, or what changed.
    Rerun { id: String },
    /// Write the kept file.
    Get {
        id: String,
        #[arg(long)]
        out: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum SamplesCommand {
    /// Draw a sample for a control from a population kept for the engagement.
    Draw {
        engagement: String,
        #[arg(long)]
        control: String,
        /// The population run's id (`evident populations list`).
        #[arg(long)]
        population: String,
        /// The auditor's seed, kept exactly as typed.
        #[arg(long)]
        seed: String,
        /// Default: the engagement's size table for the control.
        #[arg(long)]
        size: Option<usize>,
    },
    /// Add items to a sample: the same seed and population, the first items kept.
    Extend {
        id: String,
        #[arg(long)]
        more: usize,
    },
    /// The engagement's samples.
    List { engagement: String },
    /// One sample: its items, their keys and results.
    Show { id: String },
    /// Record the auditor's result on one item: no_exception, or exception with a note.
    Result {
        id: String,
        item: String,
        #[arg(long)]
        result: String,
        #[arg(long, default_value = "")]
        note: String,
    },
    /// The evidence behind one sampled item (its population row and the records that prove it).
    Packet { id: String, item: String },
}

#[derive(Debug, Subcommand)]
pub enum ConnectCommand {
    /// GitHub: repositories, default-branch protection and rules, merged pull requests.
    Github {
        #[arg(long)]
        org: String,
        /// The environment variable holding the token (never pass the token itself).
        #[arg(long)]
        token_env: String,
        #[arg(long, default_value = "https://api.github.com")]
        api_url: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum CollectCommand {
    /// Collect from GitHub, from the last successful run (or --since).
    Github {
        /// Collect pull requests merged since this date (YYYY-MM-DD).
        #[arg(long)]
        since: Option<String>,
    },
    /// Read a local repository's main line (merges, signatures, Reviewed-by/Approved-by trailers).
    Git {
        path: PathBuf,
        /// The branch whose first-parent history is the main line (default: the checked-out one).
        #[arg(long)]
        branch: Option<String>,
        /// Only commits from this date (YYYY-MM-DD).
        #[arg(long)]
        since: Option<String>,
    },
    /// The history of a connector's runs (github, git).
    Runs { connector: String },
    /// Run every configured connector once (for cron), each claimed like the server's job so
    /// it never overlaps a server's run of it.
    All,
}

#[derive(Debug, Subcommand)]
pub enum JobsCommand {
    /// Each job: schedule, last run and its result, next run, the instance running it now.
    List,
    /// Run a job now (claimed like the server does; refused while another instance runs it).
    Run { name: String },
    /// Change a job's schedule (audit-logged).
    Schedule {
        name: String,
        /// How often: 30m, 6h, 1d … (one minute to 366 days).
        #[arg(long)]
        every: String,
        /// When it next runs: now, or an instant like 2027-01-04T02:00:00Z (default: one
        /// schedule after its last run).
        #[arg(long)]
        next: Option<String>,
    },
    /// A job's runs, newest first.
    Runs {
        name: String,
        #[arg(long, default_value_t = 20)]
        limit: i64,
    },
}

#[derive(Debug, Subcommand)]
pub enum CheckCommand {
    /// The checks, what they read and the controls they test.
    List,
    /// Run every check (or one) and keep the results.
    Run {
        #[arg(long)]
        check: Option<String>,
    },
    /// A check's results over a period (e.g. the observation window).
    History {
        id: String,
        /// First day (YYYY-MM-DD), inclusive.
        #[arg(long)]
        from: String,
        /// Last day (YYYY-MM-DD), inclusive.
        #[arg(long)]
        to: String,
    },
    /// Set a failing record aside, with a reason, an owner and an expiry.
    Exclude {
        id: String,
        #[arg(long)]
        record: String,
        #[arg(long)]
        reason: String,
        #[arg(long)]
        owner: String,
        #[arg(long)]
        expires: String,
    },
    /// Every exclusion, live or expired.
    Exclusions,
}

#[derive(Debug, Subcommand)]
pub enum PoliciesCommand {
    /// The organisation's policies with their status, review date and acceptance.
    List,
    /// The built-in templates.
    Templates,
    /// Adopt templates as drafts, filled in with the organisation's name, roles and parameters.
    Adopt {
        ids: Vec<String>,
        #[arg(long)]
        all: bool,
    },
    /// A policy's text (the published version unless --version) and its history.
    Show {
        id: String,
        #[arg(long)]
        version: Option<i64>,
    },
    /// Add a policy of your own from a Markdown file (a version-1 draft).
    Add {
        #[arg(long)]
        id: String,
        #[arg(long)]
        title: String,
        #[arg(long)]
        owner_role: String,
        #[arg(long)]
        file: PathBuf,
        #[arg(long = "control")]
        controls: Vec<String>,
    },
    /// Edit a policy: a new draft version (earlier versions never change).
    Update {
        id: String,
        #[arg(long)]
        file: Option<PathBuf>,
        #[arg(long)]
        title: Option<String>,
    },
    /// Set a policy parameter (e.g. vuln_sla_critical_days 5): a new draft version.
    SetParam { id: String, key: String, value: String },
    /// Every policy parameter: the values checks read.
    Params,
    /// Approve the latest version (must be a draft); records who and when.
    Approve { id: String },
    /// Publish the latest version (must be approved).
    Publish { id: String },
    /// Record that a person accepted the published version.
    Accept {
        id: String,
        #[arg(long)]
        person: String,
        /// The version they read (must be the published one).
        #[arg(long)]
        version: Option<i64>,
    },
    /// Who accepted the published version and who still has to.
    Acceptances { id: String },
    /// Name the holder of a role used in policies (security_officer, ceo, cto, …).
    SetRole { role: String, holder: String },
}

/// A register's own command line, parsed against its field list.
#[derive(Debug, Args)]
pub struct RegisterArgs {
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub args: Vec<String>,
}

#[derive(Debug, Subcommand)]
pub enum EvidenceCommand {
    /// Add a file as evidence for one or more controls.
    Add(EvidenceAddArgs),
    /// List evidence (current versions unless --all).
    List {
        #[arg(long)]
        control: Option<String>,
        /// Only items past their refresh date.
        #[arg(long)]
        stale: bool,
        /// Include superseded and withdrawn items.
        #[arg(long)]
        all: bool,
    },
    /// One item with its versions and links.
    Show { id: String },
    /// Write an item's bytes to a file (byte-identical to what was added).
    Get {
        id: String,
        #[arg(long)]
        out: PathBuf,
        /// Replace OUT if it exists.
        #[arg(long)]
        force: bool,
    },
    /// Add a new version of an item; the old one stays, marked superseded.
    Supersede {
        id: String,
        file: PathBuf,
        #[arg(long)]
        title: Option<String>,
        #[arg(long, conflicts_with = "period")]
        effective: Option<String>,
        #[arg(long)]
        period: Option<String>,
    },
    /// Withdraw an item; it stays visible with the reason.
    Withdraw {
        id: String,
        #[arg(long)]
        reason: String,
    },
}

#[derive(Debug, Args)]
pub struct EvidenceAddArgs {
    pub file: PathBuf,
    /// A control the evidence supports (repeat for several).
    #[arg(long = "control", required = true)]
    pub controls: Vec<String>,
    /// The control's evidence requirement this answers (its key; one --control only).
    #[arg(long)]
    pub requirement: Option<String>,
    #[arg(long)]
    pub title: Option<String>,
    /// The date the evidence speaks to (YYYY-MM-DD); default today.
    #[arg(long, conflicts_with = "period")]
    pub effective: Option<String>,
    /// The period it covers, FROM..TO.
    #[arg(long)]
    pub period: Option<String>,
    /// Media type, when the file name does not tell.
    #[arg(long)]
    pub media_type: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum CatalogCommand {
    /// List criteria.
    Criteria {
        /// Only criteria of this category (security, availability, confidentiality, processing_integrity, privacy).
        #[arg(long)]
        category: Option<String>,
    },
    /// One criterion with its explanation and the controls mapped to it.
    Show {
        /// Criterion id, e.g. CC6.1.
        id: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum ControlsCommand {
    /// List controls.
    List {
        /// Only controls of this area (e.g. access, change, privacy).
        #[arg(long)]
        area: Option<String>,
        /// Only controls mapped to this criterion (e.g. CC6.1).
        #[arg(long)]
        criterion: Option<String>,
        /// Only controls that apply, or only those that do not.
        #[arg(long, value_parser = ["applicable", "not-applicable"])]
        only: Option<String>,
    },
    /// One control in full.
    Show { id: String },
    /// Assign the person who owns a control.
    SetOwner { id: String, email: String },
    /// Rule a control out of the audit; auditors see the reason.
    NotApplicable {
        id: String,
        #[arg(long)]
        reason: String,
    },
    /// Withdraw a not-applicable ruling.
    Applicable { id: String },
    /// Adopt library controls the workspace does not have yet (e.g. after a content update).
    Adopt {
        /// Library control ids (e.g. GOV-11).
        ids: Vec<String>,
        /// Every library control not adopted yet.
        #[arg(long, conflicts_with = "ids")]
        all_new: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum ScopeCommand {
    /// Show the audit scope and the system description.
    Show,
    /// Choose the report type, categories and period.
    Set(ScopeSetArgs),
    /// Record management's sign-off of the scope as it now stands.
    Approve,
    /// The components of the system description.
    #[command(subcommand)]
    Component(ComponentCommand),
}

#[derive(Debug, Args)]
pub struct ScopeSetArgs {
    /// Report type: 1 (design at a date) or 2 (operation over a window).
    #[arg(long = "type")]
    pub report_type: String,
    /// Comma-separated categories; security is always included.
    #[arg(long)]
    pub categories: String,
    /// Type 1: the date the report speaks to (YYYY-MM-DD).
    #[arg(long)]
    pub as_of: Option<String>,
    /// Type 2: the observation window, FROM..TO (YYYY-MM-DD..YYYY-MM-DD).
    #[arg(long)]
    pub window: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum ComponentCommand {
    /// Add a component (infrastructure, software, people, procedures, data).
    Add {
        #[arg(long)]
        kind: String,
        #[arg(long)]
        name: String,
        #[arg(long, conflicts_with = "out_of_scope", required_unless_present = "out_of_scope")]
        in_scope: bool,
        #[arg(long)]
        out_of_scope: bool,
        /// Why it is in or out of scope.
        #[arg(long)]
        reason: String,
    },
    /// Remove a component.
    Remove {
        #[arg(long)]
        kind: String,
        #[arg(long)]
        name: String,
    },
    /// List components.
    List,
}

#[derive(Debug, Subcommand)]
pub enum PackCommand {
    /// Write the evidence of some controls (all when none is named) into a signed pack: the
    /// current items, or with --period every item that speaks to a day in it. With
    /// `[packs] tsa_url` (or EVIDENT_TSA_URL) set, that RFC 3161 authority time-stamps it.
    Create {
        /// A control whose evidence goes in (repeat for more).
        #[arg(long = "control")]
        controls: Vec<String>,
        /// FROM..TO (YYYY-MM-DD): the items that speak to a day in this period.
        #[arg(long)]
        period: Option<String>,
        /// Instead: the evidence linked to one auditor's request (its id).
        #[arg(long, conflicts_with_all = ["controls", "period", "sample"])]
        request: Option<String>,
        /// Instead: one sample's population file and every sampled item's evidence (its id).
        #[arg(long, conflicts_with_all = ["controls", "period", "engagement"])]
        sample: Option<String>,
        /// Instead: a whole engagement (name or id): every request's evidence and every sample.
        #[arg(long, conflicts_with_all = ["controls", "period", "request"])]
        engagement: Option<String>,
        /// The .zip to write (replaced atomically; nothing is left if it fails).
        #[arg(long)]
        out: PathBuf,
    },
    /// Check a pack without any workspace: every file's hash, nothing missing or added, the
    /// signature, the timestamp token when there is one, the audit chain to its signed
    /// checkpoint, and the key's fingerprint.
    Verify {
        file: PathBuf,
        /// The instance key's fingerprint obtained out of band (`evident verify` prints it).
        #[arg(long)]
        fingerprint: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum DescriptionCommand {
    /// The description as the records say it today, every statement with its sources.
    Show,
    /// Write a narrative part as a new version (earlier versions are kept): services,
    /// commitments, infrastructure, software, people, procedures, data, user_entity_controls.
    Write {
        part: String,
        /// The text.
        #[arg(long, conflicts_with = "file")]
        text: Option<String>,
        /// A file holding the text (UTF-8).
        #[arg(long)]
        file: Option<PathBuf>,
    },
    /// Every version of a narrative part, newest first.
    History { part: String },
    /// Approve the description as it stands: a new version, frozen, that drift is measured from.
    Approve,
    /// What the records say today that the approved description does not.
    Drift,
    /// Management's assertion: as it would be signed now, and the signed one if any.
    Assertion,
    /// Sign management's assertion over the approved description, naming who signs.
    Sign {
        /// The signer's full name.
        #[arg(long)]
        name: String,
        /// The signer's position, e.g. "Chief Executive Officer".
        #[arg(long)]
        title: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum OscalCommand {
    /// Write the OSCAL documents into a folder (their references to one another resolve there).
    Export {
        /// The folder to write into (created if missing).
        #[arg(long)]
        out: std::path::PathBuf,
        /// Only this document: catalog, profile, component-definition, system-security-plan,
        /// assessment-plan, assessment-results or plan-of-action-and-milestones.
        #[arg(long)]
        kind: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum FrameworksCommand {
    /// Import an OSCAL catalog (JSON) as a framework, narrowed by an OSCAL profile if given.
    Import {
        /// The catalog file (e.g. NIST SP 800-53 rev 5).
        catalog: std::path::PathBuf,
        /// The framework's id in Evident (e.g. nist-800-53r5-moderate).
        #[arg(long)]
        id: String,
        /// A profile selecting the controls that apply (e.g. the MODERATE baseline).
        #[arg(long)]
        profile: Option<std::path::PathBuf>,
    },
    /// The imported frameworks.
    List,
    /// One framework's controls, with ours mapped to each.
    Controls {
        id: String,
        /// Only those its profile selected.
        #[arg(long)]
        selected: bool,
        /// Only those none of ours is mapped to.
        #[arg(long)]
        unmapped: bool,
    },
    /// Map one of our controls to a framework control (audit-logged).
    Map { id: String, control: String, ours: String },
    /// Remove a mapping (audit-logged).
    Unmap { id: String, control: String, ours: String },
}
