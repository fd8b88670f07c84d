//! Every route, each registered with its area so the guard can decide, and every API route
//! registered together with its OpenAPI entry, so the document cannot drift from the router.

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, Method, header};
use axum::middleware::from_fn_with_state;
use axum::response::IntoResponse;
use axum::routing::{MethodRouter, get, patch, post, put};
use evident_core::access::Area;

use crate::access::guard;
use crate::state::AppState;
use crate::{
    access_reviews, audit_log, checks, controls, criteria, dashboard, description, evidence, fieldwork, frameworks,
    gaps, jobs, me, policies, registers, scope, settings, signin, static_files, web, window,
};

/// What a documented API route takes and returns, for the OpenAPI document.
#[derive(Debug, Clone)]
pub struct Doc {
    pub method: Method,
    pub path: String,
    pub area: Area,
    pub summary: String,
    /// The schema it returns (`Control`, `Page<Evidence>` …).
    pub returns: &'static str,
    /// The request body's schema, if any (`multipart` for uploads).
    pub body: Option<&'static str>,
    /// Path parameters, in order.
    pub params: Vec<&'static str>,
    /// Whether the route takes the listing query (q, sort, dir, page, per, filters).
    pub listing: bool,
    /// Statuses it answers with besides 200 (and 401/404, which every route may).
    pub statuses: &'static [u16],
    /// Query parameters besides the listing's: (name, what it does).
    pub query: &'static [(&'static str, &'static str)],
}

struct Builder {
    /// None when only the documentation is wanted.
    state: Option<AppState>,
    router: Router<AppState>,
    docs: Vec<Doc>,
}

/// The largest body of a form or JSON request (policy text is the largest).
pub const FORM_LIMIT: usize = 2 << 20;
/// The sign-in forms carry an email, a password or a code.
const SIGN_IN_LIMIT: usize = 16 << 10;

/// Caps what a route reads of a body: a declared `Content-Length` over the limit is answered
/// 413 before any of it is read, and a body without one is cut off at the limit as it streams.
/// Only upload routes take more than a form's worth, and they stream to disk.
fn body_limit<S: Clone + Send + Sync + 'static>(mr: MethodRouter<S>, limit: usize) -> MethodRouter<S> {
    mr.layer(DefaultBodyLimit::max(limit)).layer(axum::middleware::from_fn(
        move |req: axum::extract::Request, next: axum::middleware::Next| refuse_declared_oversize(limit, req, next),
    ))
}

async fn refuse_declared_oversize(
    limit: usize,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        let e = crate::ServerError::TooLarge(format!(
            "the limit of {} for this address",
            crate::web::html::human_bytes(limit as u64)
        ));
        return if req.uri().path().starts_with("/api/") {
            crate::error::ApiError(e).into_response()
        } else {
            e.into_response()
        };
    }
    next.run(req).await
}

impl Builder {
    fn upload_limit(&self) -> usize {
        self.state
            .as_ref()
            .map(|s| usize::try_from(s.ws.config.server.max_upload_bytes).unwrap_or(usize::MAX))
            .unwrap_or(usize::MAX)
            // Room for the form's other fields and the multipart framing.
            .saturating_add(1 << 20)
    }

    /// A page that takes an upload (multipart, streamed to disk).
    fn upload_page(mut self, path: &str, area: Area, mr: MethodRouter<AppState>) -> Self {
        let limit = self.upload_limit();
        let mr = body_limit(self.guarded(area, mr), limit);
        self.router = self.router.route(path, mr);
        self
    }

    fn guarded(&self, area: Area, mr: MethodRouter<AppState>) -> MethodRouter<AppState> {
        match &self.state {
            Some(state) => mr
                .layer::<_, std::convert::Infallible>(from_fn_with_state(state.clone(), guard))
                .layer::<_, std::convert::Infallible>(axum::Extension(area)),
            None => mr,
        }
    }

    fn page(mut self, path: &str, area: Area, mr: MethodRouter<AppState>) -> Self {
        let mr = body_limit(self.guarded(area, mr), FORM_LIMIT);
        self.router = self.router.route(path, mr);
        self
    }

    #[allow(clippy::too_many_arguments)]
    fn api(
        mut self,
        method: Method,
        path: &str,
        area: Area,
        summary: impl Into<String>,
        returns: &'static str,
        body: Option<&'static str>,
        mr: MethodRouter<AppState>,
    ) -> Self {
        let params = path
            .split('/')
            .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .map(|s| -> &'static str { Box::leak(s.to_string().into_boxed_str()) })
            .collect();
        // A POST that makes a new record (an upload, a user, a token, an exclusion) answers 201.
        let creates = method == Method::POST
            && (body.is_some_and(|b| b.starts_with("multipart"))
                || matches!(returns, "NewUser" | "NewToken" | "Exclusion" | "ExceptionResponse")
                || matches!(
                    body,
                    Some(
                        "EngagementRequest" | "NewRequest" | "PopulationRequest" | "SampleRequest" | "CampaignRequest"
                    )
                ));
        // Fieldwork steps are the store's to refuse by role inside the area (403).
        let fieldwork = matches!(area, Area::Fieldwork | Area::AccessReviews);
        let statuses: &'static [u16] = match (&method, creates, fieldwork) {
            (&Method::GET, _, _) => &[],
            (_, true, false) => &[201, 409, 413, 422],
            (_, true, true) => &[201, 403, 409, 413, 422],
            (_, false, false) => &[409, 422],
            (_, false, true) => &[403, 409, 422],
        };
        self.docs.push(Doc {
            listing: returns.starts_with("Page<"),
            method,
            path: path.to_string(),
            area,
            summary: summary.into(),
            returns,
            body,
            params,
            statuses,
            query: &[],
        });
        let limit = if body.is_some_and(|b| b.starts_with("multipart")) {
            self.upload_limit()
        } else {
            FORM_LIMIT
        };
        let mr = body_limit(self.guarded(area, mr), limit);
        self.router = self.router.route(path, mr);
        self
    }
}

impl Builder {
    /// The last API route also takes these query parameters and may answer these statuses.
    fn takes(mut self, query: &'static [(&'static str, &'static str)], statuses: &'static [u16]) -> Self {
        if let Some(d) = self.docs.last_mut() {
            d.query = query;
            d.statuses = statuses;
        }
        self
    }
}

/// What a pack's `period` parameter does.
const PACK_QUERY: &[(&str, &str)] = &[(
    "period",
    "FROM..TO (YYYY-MM-DD): every item that speaks to a day in the period; without it, the current items. An auditor's period lies inside one of their engagements' periods and defaults to their engagement's",
)];

/// What a request list's query parameters do.
const REQUESTS_QUERY: &[(&str, &str)] = &[
    ("status", "open, submitted, accepted or returned"),
    ("due_by", "YYYY-MM-DD: only requests due on or before that day"),
    (
        "mine",
        "true: only requests assigned to the caller or about controls the caller owns",
    ),
];

/// What the reconciliation's query parameters do.
const INBOX_QUERY: &[(&str, &str)] = &[
    ("limit", "items per page, 1 to 5000 (default 500)"),
    ("offset", "items to skip: the previous page's next_offset (default 0)"),
];

const JML_QUERY: &[(&str, &str)] = &[
    ("kind", "joiner, mover, leaver, contractor_past_end or orphan"),
    (
        "as_of",
        "YYYY-MM-DD: read it as of that day (default today); a later day shows what will be late by then",
    ),
];

/// What the window's query parameters do.
const WINDOW_QUERY: &[(&str, &str)] = &[
    (
        "as_of",
        "YYYY-MM-DD inside the period: read the window as of that day (default today)",
    ),
    (
        "period",
        "START..END of an earlier report period (default the scope's window)",
    ),
    (
        "tolerable_rate",
        "percent: the deviation rate a control may have and still meet its criteria (default 10)",
    ),
    (
        "pervasive_share",
        "percent: the share of criteria not met from which the prediction is adverse (default 50)",
    ),
];

/// The API routes and their documentation (used by the router, the OpenAPI document and the
/// role-matrix test alike).
pub fn api_docs() -> Vec<Doc> {
    build(None).1
}

fn build(state: Option<AppState>) -> (Router<AppState>, Vec<Doc>) {
    let mut b = Builder {
        state,
        router: Router::new(),
        docs: Vec::new(),
    };
    b = b
        .page("/", Area::Dashboard, get(dashboard::page::page))
        .page("/gaps", Area::Dashboard, get(gaps::page::list))
        .page("/gaps/plan", Area::Tasks, post(gaps::page::plan))
        .page("/gaps/{file}", Area::Dashboard, get(gaps::page::download))
        .page("/window", Area::Window, get(window::page::page))
        .page("/window/{file}", Area::Window, get(window::page::download))
        .page(
            "/window/exceptions/{id}",
            Area::Window,
            get(window::page::exception).post(window::page::respond),
        )
        .page(
            "/audit",
            Area::Fieldwork,
            get(fieldwork::engagement_page::list).post(fieldwork::engagement_page::create),
        )
        .page("/audit/{id}", Area::Fieldwork, get(fieldwork::engagement_page::home))
        .page("/audit/{id}/{file}", Area::Fieldwork, get(fieldwork::files::page))
        .page(
            "/audit/{id}/status",
            Area::Fieldwork,
            post(fieldwork::engagement_page::set_status),
        )
        .page(
            "/audit/{id}/auditors",
            Area::Fieldwork,
            post(fieldwork::engagement_page::auditors),
        )
        .page(
            "/audit/{id}/sizes",
            Area::Fieldwork,
            post(fieldwork::engagement_page::set_sizes),
        )
        .page(
            "/audit/{id}/requests",
            Area::Fieldwork,
            post(fieldwork::engagement_page::add_request),
        )
        .upload_page(
            "/audit/{id}/import",
            Area::Fieldwork,
            post(fieldwork::engagement_page::import),
        )
        .page(
            "/audit/{id}/populations",
            Area::Fieldwork,
            post(fieldwork::engagement_page::run_population),
        )
        .page(
            "/audit/{id}/samples",
            Area::Fieldwork,
            post(fieldwork::engagement_page::draw),
        )
        .page(
            "/access-reviews",
            Area::AccessReviews,
            get(access_reviews::page::list).post(access_reviews::page::start),
        )
        .page(
            "/access-reviews/inbox",
            Area::AccessReviews,
            get(access_reviews::page::inbox),
        )
        .page(
            "/access-reviews/inbox/keep",
            Area::AccessReviews,
            post(access_reviews::page::keep_unchanged),
        )
        .page(
            "/access-reviews/{id}",
            Area::AccessReviews,
            get(access_reviews::page::campaign),
        )
        .page(
            "/access-reviews/{id}/close",
            Area::AccessReviews,
            post(access_reviews::page::close),
        )
        .page(
            "/access-reviews/items/{id}",
            Area::AccessReviews,
            get(access_reviews::page::item),
        )
        .page(
            "/access-reviews/items/{id}/decision",
            Area::AccessReviews,
            post(access_reviews::page::decide),
        )
        .page(
            "/access-reviews/items/{id}/reviewer",
            Area::AccessReviews,
            post(access_reviews::page::reassign),
        )
        .page(
            "/access-reviews/items/{id}/confirmation",
            Area::AccessReviews,
            post(access_reviews::page::confirm),
        )
        .upload_page(
            "/frameworks",
            Area::Criteria,
            get(frameworks::list).post(frameworks::import),
        )
        .page("/frameworks/{id}/mappings", Area::Criteria, post(frameworks::mapping))
        .page("/frameworks/oscal/{kind}", Area::Scope, get(frameworks::oscal))
        .page("/frameworks/{id}", Area::Criteria, get(frameworks::framework))
        .page("/jml", Area::People, get(access_reviews::jml::page))
        .page(
            "/jml/people/{email}",
            Area::People,
            get(access_reviews::jml::person_page),
        )
        .page("/requests", Area::Fieldwork, get(fieldwork::request_page::list))
        .page("/requests/{id}", Area::Fieldwork, get(fieldwork::request_page::detail))
        .page(
            "/requests/{id}/steps",
            Area::Fieldwork,
            post(fieldwork::request_page::step),
        )
        .page(
            "/requests/{id}/comments",
            Area::Fieldwork,
            post(fieldwork::request_page::comment),
        )
        .page(
            "/requests/{id}/evidence",
            Area::Fieldwork,
            post(fieldwork::request_page::link),
        )
        .upload_page(
            "/requests/{id}/upload",
            Area::Fieldwork,
            post(fieldwork::request_page::upload),
        )
        .page(
            "/requests/{id}/assignee",
            Area::Fieldwork,
            post(fieldwork::request_page::assign),
        )
        .page(
            "/populations/{id}/file",
            Area::Fieldwork,
            get(fieldwork::files::population_page),
        )
        .page("/samples/{id}", Area::Fieldwork, get(fieldwork::sample_page::detail))
        .page(
            "/samples/{id}/pack",
            Area::Fieldwork,
            get(fieldwork::files::sample_pack_page),
        )
        .page(
            "/requests/{id}/pack",
            Area::Fieldwork,
            get(fieldwork::files::request_pack_page),
        )
        .page(
            "/samples/{id}/results",
            Area::Fieldwork,
            post(fieldwork::sample_page::record),
        )
        .page(
            "/samples/{id}/extension",
            Area::Fieldwork,
            post(fieldwork::sample_page::extend),
        )
        .page(
            "/samples/{id}/items/{item}",
            Area::Fieldwork,
            get(fieldwork::sample_page::item),
        )
        .page("/scope", Area::Scope, get(scope::page::scope).post(scope::page::set))
        .page("/scope/approve", Area::Scope, post(scope::page::approve))
        .page("/scope/components", Area::Scope, post(scope::page::add_component))
        .page(
            "/scope/components/remove",
            Area::Scope,
            post(scope::page::remove_component),
        )
        .page("/description", Area::Scope, get(description::page::page))
        .page("/description/approve", Area::Scope, post(description::page::approve))
        .page("/description/assertion", Area::Scope, post(description::page::sign))
        .page(
            "/description/narratives/{part}",
            Area::Scope,
            get(description::page::history).post(description::page::write_narrative),
        )
        .page("/description/{file}", Area::Scope, get(description::page::download))
        .page("/criteria", Area::Criteria, get(criteria::page::criteria_list))
        .page("/criteria/{id}", Area::Criteria, get(criteria::page::criterion))
        .page("/controls", Area::Controls, get(controls::page::list))
        .page("/controls/library/adopt", Area::Controls, post(controls::page::adopt))
        .page("/controls/{code}", Area::Controls, get(controls::page::detail))
        .page(
            "/controls/{code}/owner",
            Area::Controls,
            post(controls::page::set_owner),
        )
        .page("/controls/{code}/pack", Area::Evidence, get(evidence::pack::page))
        .upload_page(
            "/controls/{code}/evidence",
            Area::Evidence,
            post(controls::page::upload),
        )
        .page("/evidence", Area::Evidence, get(evidence::page::list))
        .page("/evidence/{id}/relink", Area::Evidence, post(evidence::page::relink))
        .page("/evidence/{id}", Area::Evidence, get(evidence::page::detail))
        .page(
            "/evidence/{id}/download",
            Area::Evidence,
            get(evidence::download::download),
        )
        .page(
            "/evidence/{id}/withdraw",
            Area::Evidence,
            post(evidence::page::withdraw),
        )
        .upload_page(
            "/evidence/{id}/versions",
            Area::Evidence,
            post(evidence::page::new_version),
        )
        .page("/policies", Area::Policies, get(policies::page::list))
        .page("/policies/templates/adopt", Area::Policies, post(policies::page::adopt))
        .page("/policies/{id}", Area::Policies, get(policies::page::detail))
        .page(
            "/policies/{id}/edit",
            Area::Policies,
            get(policies::page::edit_form).post(policies::page::edit),
        )
        .page("/policies/{id}/approve", Area::Policies, post(policies::page::approve))
        .page("/policies/{id}/publish", Area::Policies, post(policies::page::publish))
        .page("/checks", Area::Checks, get(checks::page::checks_list))
        .page("/checks/{id}", Area::Checks, get(checks::page::check))
        .page("/checks/{id}/exclusions", Area::Checks, post(checks::page::exclude))
        .page("/jobs", Area::Jobs, get(jobs::page::page))
        .page("/jobs/{name}/run", Area::Jobs, post(jobs::page::run))
        .page("/jobs/{name}/schedule", Area::Jobs, post(jobs::page::schedule))
        .page("/audit-log", Area::AuditLog, get(audit_log::page::audit_log))
        .page("/me", Area::Me, get(me::page::page))
        .page("/me/accept", Area::Me, post(me::page::accept))
        .page("/me/password", Area::Me, post(me::page::password))
        .page("/me/sign-out-everywhere", Area::Me, post(me::page::sign_out_everywhere))
        .page("/settings", Area::Settings, get(settings::page::page))
        .page("/settings/users", Area::Settings, post(settings::page::add_user))
        .page("/settings/tokens", Area::Settings, post(settings::page::create_token))
        .page(
            "/settings/users/{email}/role",
            Area::Settings,
            post(settings::page::set_role),
        )
        .page(
            "/settings/users/{email}/disable",
            Area::Settings,
            post(settings::page::disable),
        )
        .page(
            "/settings/users/{email}/enable",
            Area::Settings,
            post(settings::page::enable),
        )
        .page(
            "/settings/users/{email}/reset-totp",
            Area::Settings,
            post(settings::page::reset_totp),
        )
        .page(
            "/settings/tokens/{id}/revoke",
            Area::Settings,
            post(settings::page::revoke_token),
        );
    for (_, path, _) in registers::REGISTERS {
        let area = registers::access_area(path);
        b = b
            .page(
                &format!("/{path}"),
                area,
                get(move |s, a, q| registers::page::register_list(path, s, a, q)),
            )
            .page(
                &format!("/{path}/new"),
                area,
                get(move |s, a| registers::form::new_form(path, s, a))
                    .post(move |s, a, f| registers::form::create(path, s, a, f)),
            )
            .page(
                &format!("/{path}/{{key}}"),
                area,
                get(move |s, a, k, q| registers::page::register_item(path, s, a, k, q)),
            )
            .page(
                &format!("/{path}/{{key}}/edit"),
                area,
                get(move |s, a, k| registers::form::edit_form(path, s, a, k))
                    .post(move |s, a, k, f| registers::form::update(path, s, a, k, f)),
            );
    }

    // The API.
    use Method as M;
    b = b
        .api(
            M::GET,
            "/api/v1/readiness",
            Area::Dashboard,
            "Readiness: score, control counts, criteria, gaps, checklist, timeline",
            "Readiness",
            None,
            get(dashboard::api::readiness),
        )
        .api(
            M::POST,
            "/api/v1/readiness/plan",
            Area::Tasks,
            "The remediation plan: one task per gap in the tasks register; planning again updates the same tasks and keeps the status and owner people gave them",
            "PlanSummary",
            None,
            post(dashboard::api::plan),
        )
        .api(
            M::GET,
            "/api/v1/window",
            Area::Window,
            "The observation window as the auditor will read it at its end: periods, record history, exceptions, forecast, predicted opinion",
            "Window",
            None,
            get(window::api::window),
        )
        .takes(WINDOW_QUERY, &[422])
        .api(
            M::POST,
            "/api/v1/window/exceptions/{id}/responses",
            Area::Window,
            "Record management's response to an exception (supersedes the last; audit-logged)",
            "ExceptionResponse",
            Some("ResponseRequest"),
            post(window::api::respond),
        )
        .api(
            M::GET,
            "/api/v1/access-reviews",
            Area::AccessReviews,
            "Access review campaigns with their progress",
            "List<Campaign>",
            None,
            get(access_reviews::api::campaigns),
        )
        .api(
            M::POST,
            "/api/v1/access-reviews",
            Area::AccessReviews,
            "Start a campaign: freeze the accounts (kept as evidence) and assign reviewers (audit-logged)",
            "Campaign",
            Some("CampaignRequest"),
            post(access_reviews::api::start),
        )
        .api(
            M::GET,
            "/api/v1/access-reviews/schedule",
            Area::AccessReviews,
            "When each kind of campaign is next due, by the access-control policy's intervals",
            "List<ReviewSchedule>",
            None,
            get(access_reviews::api::schedule),
        )
        .api(
            M::GET,
            "/api/v1/access-reviews/inbox",
            Area::AccessReviews,
            "The caller's items in open campaigns, a page at a time (by due date and campaign, undecided first), with each campaign's counts",
            "ReviewInbox",
            None,
            get(access_reviews::api::inbox),
        )
        .takes(INBOX_QUERY, &[400, 422])
        .api(
            M::POST,
            "/api/v1/access-reviews/inbox/keep",
            Area::AccessReviews,
            "Keep the caller's undecided items that the last campaign kept at the same level (or those named)",
            "Kept",
            Some("KeepRequest"),
            post(access_reviews::api::keep),
        )
        .api(
            M::GET,
            "/api/v1/access-reviews/{id}",
            Area::AccessReviews,
            "One campaign and its progress",
            "Campaign",
            None,
            get(access_reviews::api::campaign),
        )
        .api(
            M::GET,
            "/api/v1/access-reviews/{id}/items",
            Area::AccessReviews,
            "A campaign's items: all of them for those who read the whole area, otherwise the caller's",
            "List<ReviewItem>",
            None,
            get(access_reviews::api::items),
        )
        .api(
            M::POST,
            "/api/v1/access-reviews/{id}/close",
            Area::AccessReviews,
            "Close into evidence (decisions CSV, signed-off PDF) and an access-review event (audit-logged)",
            "Campaign",
            Some("CloseRequest"),
            post(access_reviews::api::close),
        )
        .api(
            M::POST,
            "/api/v1/review-items/{id}/decision",
            Area::AccessReviews,
            "Decide on one of the caller's items: keep, revoke or change (audit-logged; a revoke or change opens a task)",
            "ReviewItem",
            Some("DecisionRequest"),
            post(access_reviews::api::decide),
        )
        .api(
            M::PUT,
            "/api/v1/review-items/{id}/reviewer",
            Area::AccessReviews,
            "Give an undecided item to another reviewer, never its holder (audit-logged)",
            "ReviewItem",
            Some("ReassignRequest"),
            put(access_reviews::api::reassign),
        )
        .api(
            M::POST,
            "/api/v1/review-items/{id}/confirmation",
            Area::AccessReviews,
            "Record a removal carried out where no import can show it (audit-logged)",
            "ReviewItem",
            Some("ConfirmRequest"),
            post(access_reviews::api::confirm),
        )
        .api(
            M::GET,
            "/api/v1/jml",
            Area::People,
            "Joiner, mover and leaver findings: leavers' access left on, movers not reviewed, joiners without baseline accounts or training, contractors past their end, orphan accounts",
            "List<JmlFinding>",
            None,
            get(access_reviews::jml::list_api),
        )
        .takes(JML_QUERY, &[422])
        .api(
            M::GET,
            "/api/v1/jml/people/{person}",
            Area::People,
            "One person's access timeline: start, moves, training, accounts, reviews, last day, findings",
            "List<TimelineEntry>",
            None,
            get(access_reviews::jml::person_api),
        )
        .api(
            M::GET,
            "/api/v1/engagements",
            Area::Fieldwork,
            "Audit engagements the caller may see (an auditor: those they are bound to)",
            "List<Engagement>",
            None,
            get(fieldwork::api::engagements),
        )
        .api(
            M::POST,
            "/api/v1/engagements",
            Area::Fieldwork,
            "Open an engagement over a report period (audit-logged)",
            "Engagement",
            Some("EngagementRequest"),
            post(fieldwork::api::create_engagement),
        )
        .api(
            M::GET,
            "/api/v1/engagements/{id}",
            Area::Fieldwork,
            "One engagement: firm, period, status, auditors, sample sizes",
            "Engagement",
            None,
            get(fieldwork::api::engagement),
        )
        .api(
            M::PATCH,
            "/api/v1/engagements/{id}",
            Area::Fieldwork,
            "Move an engagement's status forward, bind or unbind an auditor (audit-logged)",
            "Engagement",
            Some("EngagementChange"),
            patch(fieldwork::api::change_engagement),
        )
        .api(
            M::GET,
            "/api/v1/engagements/{id}/requests",
            Area::Fieldwork,
            "The engagement's request list with evidence and threads (filters: status, due_by, mine)",
            "List<Request>",
            None,
            get(fieldwork::api::requests),
        )
        .takes(REQUESTS_QUERY, &[422])
        .api(
            M::POST,
            "/api/v1/engagements/{id}/requests",
            Area::Fieldwork,
            "Add a request to the list (audit-logged)",
            "Request",
            Some("NewRequest"),
            post(fieldwork::api::add_request),
        )
        .api(
            M::POST,
            "/api/v1/engagements/{id}/requests/import",
            Area::Fieldwork,
            "Import the firm's request list (multipart: file, CSV or XLSX); a bad row refuses the whole list, named",
            "ImportResult",
            Some("multipart-list"),
            post(fieldwork::files::import_api),
        )
        .api(
            M::GET,
            "/api/v1/engagements/{id}/requests/export",
            Area::Fieldwork,
            "The request list as XLSX, with status, evidence and thread",
            "xlsx",
            None,
            get(fieldwork::files::requests_api),
        )
        .api(
            M::GET,
            "/api/v1/engagements/{id}/workbook",
            Area::Fieldwork,
            "The testing workbook (XLSX): a summary, then a sheet per control tested with its sample and results",
            "xlsx",
            None,
            get(fieldwork::files::workbook_api),
        )
        .api(
            M::PUT,
            "/api/v1/engagements/{id}/sizes",
            Area::Fieldwork,
            "Set the engagement's sample-size table (typical; confirm with your auditor)",
            "Engagement",
            Some("SizeTable"),
            put(fieldwork::api::set_sizes),
        )
        .api(
            M::PUT,
            "/api/v1/requests/{id}/assignee",
            Area::Fieldwork,
            "Assign a request to a user, or unassign it (audit-logged)",
            "Request",
            Some("AssigneeChange"),
            put(fieldwork::api::assign),
        )
        .api(
            M::GET,
            "/api/v1/engagements/{id}/pack",
            Area::Fieldwork,
            "The engagement as a signed pack: every request's evidence and every sample's population and items; audit-logged",
            "zip",
            None,
            get(fieldwork::files::engagement_pack_api),
        )
        .takes(&[], &[409, 502])
        .api(
            M::GET,
            "/api/v1/requests/{id}/pack",
            Area::Fieldwork,
            "The request's evidence as a signed pack (docs/pack-format.md), stating the engagement's period; audit-logged",
            "zip",
            None,
            get(fieldwork::files::request_pack_api),
        )
        .takes(&[], &[409, 502])
        .api(
            M::GET,
            "/api/v1/samples/{id}/pack",
            Area::Fieldwork,
            "The sample as a signed pack: the population file it was drawn from and every sampled item's evidence; audit-logged",
            "zip",
            None,
            get(fieldwork::files::sample_pack_api),
        )
        .takes(&[], &[502])
        .api(
            M::GET,
            "/api/v1/populations/{id}/file",
            Area::Fieldwork,
            "A population's CSV: the header block (what, rule, when, by whom, count, SHA-256) and its rows",
            "csv",
            None,
            get(fieldwork::files::population_api),
        )
        .api(
            M::GET,
            "/api/v1/requests/{id}",
            Area::Fieldwork,
            "One request with its evidence (each marked inside or outside the audit period) and thread",
            "Request",
            None,
            get(fieldwork::api::request),
        )
        .api(
            M::POST,
            "/api/v1/requests/{id}/steps",
            Area::Fieldwork,
            "Submit (team), accept or return (auditor) a request; the comment joins its thread",
            "Request",
            Some("StepRequest"),
            post(fieldwork::api::step),
        )
        .api(
            M::POST,
            "/api/v1/requests/{id}/comments",
            Area::Fieldwork,
            "Comment on a request's thread (audit-logged)",
            "Request",
            Some("CommentRequest"),
            post(fieldwork::api::comment),
        )
        .api(
            M::POST,
            "/api/v1/requests/{id}/evidence",
            Area::Fieldwork,
            "Link an evidence item to a request (the team answering it)",
            "Request",
            Some("LinkRequest"),
            post(fieldwork::api::link),
        )
        .api(
            M::GET,
            "/api/v1/engagements/{id}/populations",
            Area::Fieldwork,
            "Populations produced for the engagement, with count and SHA-256",
            "List<PopulationRun>",
            None,
            get(fieldwork::api::populations),
        )
        .api(
            M::POST,
            "/api/v1/engagements/{id}/populations",
            Area::Fieldwork,
            "Produce a population for the engagement's period and keep it as evidence",
            "PopulationRun",
            Some("PopulationRequest"),
            post(fieldwork::api::run_population),
        )
        .api(
            M::GET,
            "/api/v1/engagements/{id}/samples",
            Area::Fieldwork,
            "Samples drawn for the engagement, with their items and results",
            "List<Sample>",
            None,
            get(fieldwork::api::samples),
        )
        .api(
            M::POST,
            "/api/v1/engagements/{id}/samples",
            Area::Fieldwork,
            "Draw a sample from a population with the auditor's seed (docs/sampling.md)",
            "Sample",
            Some("SampleRequest"),
            post(fieldwork::api::draw),
        )
        .api(
            M::GET,
            "/api/v1/samples/{id}",
            Area::Fieldwork,
            "One sample: its seed, population, items, keys and results",
            "Sample",
            None,
            get(fieldwork::api::sample),
        )
        .api(
            M::POST,
            "/api/v1/samples/{id}/extension",
            Area::Fieldwork,
            "Extend a sample: the same seed and population, the first items kept",
            "Sample",
            Some("ExtendRequest"),
            post(fieldwork::api::extend),
        )
        .api(
            M::POST,
            "/api/v1/samples/{id}/results",
            Area::Fieldwork,
            "Record the auditor's result on a sampled item (an exception joins the window's exceptions)",
            "Sample",
            Some("ResultRequest"),
            post(fieldwork::api::result),
        )
        .api(
            M::GET,
            "/api/v1/samples/{id}/items/{item}/packet",
            Area::Fieldwork,
            "The evidence behind one sampled item",
            "SamplePacket",
            None,
            get(fieldwork::api::packet),
        )
        .api(
            M::GET,
            "/api/v1/scope",
            Area::Scope,
            "The audit scope: report type, categories, period, approval and the system's components",
            "Scope",
            None,
            get(scope::api::scope),
        )
        .api(
            M::PUT,
            "/api/v1/scope",
            Area::Scope,
            "Set the report type, the categories and the period (an as_of date for Type 1, a window for Type 2); answers the scope as GET does",
            "Scope",
            Some("ScopeRequest"),
            put(scope::api::set),
        )
        .api(
            M::POST,
            "/api/v1/scope/approval",
            Area::Scope,
            "Management's sign-off of the scope as it stands (the caller signs); a later change marks it outdated",
            "Scope",
            None,
            post(scope::api::approve),
        )
        .api(
            M::GET,
            "/api/v1/description",
            Area::Scope,
            "The system description drafted from the records (every statement with its sources), its latest approval, the drift since, and management's assertion (draft and signed)",
            "DescriptionState",
            None,
            get(description::api::description),
        )
        .api(
            M::PUT,
            "/api/v1/description/narratives/{part}",
            Area::Scope,
            "Write a new version of a narrative part (services, commitments, infrastructure, software, people, procedures, data, user_entity_controls); earlier versions are kept",
            "Narrative",
            Some("NarrativeRequest"),
            put(description::api::narrative),
        )
        .api(
            M::GET,
            "/api/v1/description/narratives/{part}",
            Area::Scope,
            "Every version of a narrative part, newest first",
            "List<Narrative>",
            None,
            get(description::api::history),
        )
        .api(
            M::POST,
            "/api/v1/description/approvals",
            Area::Scope,
            "Approve the description as the records say it now: a new frozen version that drift is measured from",
            "DescriptionApproval",
            None,
            post(description::api::approve),
        )
        .api(
            M::POST,
            "/api/v1/description/assertion",
            Area::Scope,
            "Sign management's assertion over the latest approved description, naming the signer; refused while the records have drifted from it",
            "Assertion",
            Some("AssertionRequest"),
            post(description::api::sign),
        )
        .api(
            M::GET,
            "/api/v1/oscal/{kind}",
            Area::Scope,
            "One OSCAL 1.2.3 document of the program: catalog, profile, component-definition, system-security-plan, assessment-plan, assessment-results or plan-of-action-and-milestones",
            "OscalDocument",
            None,
            get(scope::api::oscal),
        )
        .api(
            M::GET,
            "/api/v1/controls",
            Area::Controls,
            "Controls with owner and status (filters: status, area, owner)",
            "Page<Control>",
            None,
            get(controls::api::controls),
        )
        .api(
            M::GET,
            "/api/v1/controls/{code}",
            Area::Controls,
            "One control with its status and reasons",
            "Control",
            None,
            get(controls::api::control),
        )
        .api(
            M::PUT,
            "/api/v1/controls/{code}/owner",
            Area::Controls,
            "Set or clear a control's owner",
            "Control",
            Some("OwnerChange"),
            put(controls::api::set_owner),
        )
        .api(
            M::GET,
            "/api/v1/criteria",
            Area::Criteria,
            "Criteria with coverage (filters: status, category)",
            "Page<Criterion>",
            None,
            get(criteria::api::criteria),
        )
        .api(
            M::GET,
            "/api/v1/evidence",
            Area::Evidence,
            "The evidence library (filters: state, freshness, control, requirement, month YYYY-MM, source)",
            "Page<Evidence>",
            None,
            get(evidence::api::evidence),
        )
        .api(
            M::POST,
            "/api/v1/evidence",
            Area::Evidence,
            "Upload evidence for a control (multipart: file, control, title, requirement, effective_date)",
            "Evidence",
            Some("multipart"),
            post(evidence::api::upload),
        )
        .api(
            M::GET,
            "/api/v1/evidence/{id}",
            Area::Evidence,
            "One evidence item",
            "Evidence",
            None,
            get(evidence::api::evidence_item),
        )
        .api(
            M::GET,
            "/api/v1/evidence/{id}/content",
            Area::Evidence,
            "The item's bytes, decrypted and checked against its SHA-256",
            "binary",
            None,
            get(evidence::download::content),
        )
        .api(
            M::GET,
            "/api/v1/controls/{code}/pack",
            Area::Evidence,
            "A signed evidence pack of the control (a zip anyone can verify offline; see docs/pack-format.md); audit-logged",
            "zip",
            None,
            get(evidence::pack::api),
        )
        .takes(PACK_QUERY, &[409, 422, 502])
        .api(
            M::POST,
            "/api/v1/evidence/{id}/withdraw",
            Area::Evidence,
            "Withdraw an item (kept, marked withdrawn, with the reason)",
            "Evidence",
            Some("Withdrawal"),
            post(evidence::api::withdraw),
        )
        .api(
            M::POST,
            "/api/v1/evidence/{id}/relink",
            Area::Evidence,
            "Link an item to exactly these controls and requirements, with why: a new version of its record over the same bytes, the old one kept and marked superseded",
            "Evidence",
            Some("RelinkRequest"),
            post(evidence::api::relink),
        )
        .api(
            M::POST,
            "/api/v1/evidence/{id}/versions",
            Area::Evidence,
            "Upload a new version of a current item (multipart: file, title, effective_date or period); it supersedes the item for the same controls",
            "Evidence",
            Some("multipart-version"),
            post(evidence::api::new_version),
        )
        .api(
            M::GET,
            "/api/v1/policies",
            Area::Policies,
            "Policies and their versions (filter: status)",
            "Page<Policy>",
            None,
            get(policies::api::policies),
        )
        .api(
            M::GET,
            "/api/v1/policies/{id}",
            Area::Policies,
            "One policy with its versions, the text in force and its parameters",
            "PolicyDetail",
            None,
            get(policies::api::policy),
        )
        .api(
            M::PUT,
            "/api/v1/policies/{id}",
            Area::Policies,
            "Edit a policy's title or text: a new draft version",
            "PolicyDetail",
            Some("PolicyEdit"),
            put(policies::api::edit_policy),
        )
        .api(
            M::POST,
            "/api/v1/policies/{id}/approve",
            Area::Policies,
            "Approve the latest draft version",
            "PolicyDetail",
            None,
            post(policies::api::approve),
        )
        .api(
            M::POST,
            "/api/v1/policies/{id}/publish",
            Area::Policies,
            "Publish the approved version",
            "PolicyDetail",
            None,
            post(policies::api::publish),
        )
        .api(
            M::GET,
            "/api/v1/checks",
            Area::Checks,
            "Check results, run live (filter: status)",
            "Page<Check>",
            None,
            get(checks::api::checks),
        )
        .api(
            M::GET,
            "/api/v1/checks/{id}",
            Area::Checks,
            "One check with its failing records",
            "CheckDetail",
            None,
            get(checks::api::check),
        )
        .api(
            M::POST,
            "/api/v1/checks/{id}/exclusions",
            Area::Checks,
            "Set a failing record aside: reason, owner and end date",
            "Exclusion",
            Some("ExclusionRequest"),
            post(checks::api::exclude),
        )
        .api(
            M::GET,
            "/api/v1/jobs",
            Area::Jobs,
            "Scheduled jobs (schedule, last run, result, next run, lease holder) and each connector's health",
            "JobsOverview",
            None,
            get(jobs::api::jobs),
        )
        .api(
            M::POST,
            "/api/v1/jobs/{name}/run",
            Area::Jobs,
            "Run a job now: claimed like the scheduler does (409 while another instance runs it), then started",
            "Job",
            None,
            post(jobs::api::run),
        )
        .api(
            M::PUT,
            "/api/v1/jobs/{name}",
            Area::Jobs,
            "Change a job's schedule (audit-logged)",
            "Job",
            Some("JobSchedule"),
            put(jobs::api::schedule),
        )
        .api(
            M::GET,
            "/api/v1/audit-log",
            Area::AuditLog,
            "The hash-chained audit log, newest first (filter: action)",
            "Page<AuditEntry>",
            None,
            get(audit_log::api::audit_log),
        )
        .api(
            M::GET,
            "/api/v1/users",
            Area::Settings,
            "Users and their roles",
            "Page<User>",
            None,
            get(settings::api::users),
        )
        .api(
            M::POST,
            "/api/v1/users",
            Area::Settings,
            "Add a user; the one-time password is returned once",
            "NewUser",
            Some("UserRequest"),
            post(settings::api::add_user),
        )
        .api(
            M::PUT,
            "/api/v1/users/{email}",
            Area::Settings,
            "Change a user's role or disable them (not yourself)",
            "User",
            Some("UserChange"),
            put(settings::api::change_user),
        )
        .api(
            M::GET,
            "/api/v1/tokens",
            Area::Settings,
            "API tokens (never their secrets)",
            "Page<Token>",
            None,
            get(settings::api::tokens),
        )
        .api(
            M::POST,
            "/api/v1/tokens",
            Area::Settings,
            "Create a token for yourself; the secret is returned once",
            "NewToken",
            Some("TokenRequest"),
            post(settings::api::create_token),
        )
        .api(
            M::POST,
            "/api/v1/tokens/{id}/revoke",
            Area::Settings,
            "Revoke a token",
            "Token",
            None,
            post(settings::api::revoke_token),
        )
        .api(
            M::GET,
            "/api/v1/me",
            Area::Me,
            "Your policies to accept, acceptances, tasks and training",
            "Me",
            None,
            get(me::api::me),
        )
        .api(
            M::POST,
            "/api/v1/me/acceptances",
            Area::Me,
            "Accept the published version of a policy you have read",
            "Me",
            Some("AcceptanceRequest"),
            post(me::api::accept),
        );
    for (spec, path, title) in registers::REGISTERS {
        let area = registers::access_area(path);
        let noun = spec.noun;
        b = b
            .api(
                M::GET,
                &format!("/api/v1/{path}"),
                area,
                format!("{title} (filters: the register's enumerated fields)"),
                "Page<Record>",
                None,
                get(move |s, a, q| registers::api::records(spec, path, s, a, q)),
            )
            .api(
                M::POST,
                &format!("/api/v1/{path}"),
                area,
                format!("Add or update a {noun} (fields as in the CSV import)"),
                "Record",
                // Eight names, made once when the routes are built.
                Some(crate::openapi::record_request_name(path).leak()),
                post(move |s, a, body| registers::api::write_record(spec, s, a, body)),
            )
            .api(
                M::GET,
                &format!("/api/v1/{path}/{{key}}"),
                area,
                format!("One {noun}"),
                "Record",
                None,
                get(move |s, a, k| registers::api::record(spec, s, a, k)),
            );
    }
    let docs = b.docs;
    let router = b
        .router
        .route("/api/v1/openapi.json", get(web::api::openapi))
        .route(
            "/login",
            body_limit(get(signin::login_form).post(signin::login), SIGN_IN_LIMIT),
        )
        .route(
            "/login/totp",
            body_limit(get(signin::totp_form).post(signin::totp), SIGN_IN_LIMIT),
        )
        .route(
            "/login/enroll",
            body_limit(get(signin::enroll_form).post(signin::enroll), SIGN_IN_LIMIT),
        )
        .route(
            "/login/password",
            body_limit(get(signin::new_password_form).post(signin::new_password), SIGN_IN_LIMIT),
        )
        .route("/logout", body_limit(post(signin::logout), SIGN_IN_LIMIT))
        .route("/login/oidc", body_limit(get(crate::oidc::start), SIGN_IN_LIMIT))
        .route(
            "/login/oidc/callback",
            body_limit(get(crate::oidc::callback), SIGN_IN_LIMIT),
        )
        .route("/static/{file}", body_limit(get(static_files::serve), SIGN_IN_LIMIT))
        .route("/healthz", body_limit(get(|| async { "ok" }), SIGN_IN_LIMIT))
        .route("/readyz", body_limit(get(readyz), SIGN_IN_LIMIT));
    (router, docs)
}

/// For load balancers: ready once the first readiness snapshot exists, so no one is sent to an
/// instance still computing it. `/healthz` answers as soon as the process serves.
async fn readyz(axum::extract::State(state): axum::extract::State<AppState>) -> (axum::http::StatusCode, &'static str) {
    if state.is_ready() {
        (axum::http::StatusCode::OK, "ready")
    } else {
        (axum::http::StatusCode::SERVICE_UNAVAILABLE, "computing readiness")
    }
}

/// Headers every answer carries: no framing, no sniffing, scripts and styles only from here.
async fn security_headers(req: axum::extract::Request, next: axum::middleware::Next) -> axum::response::Response {
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
        ),
    );
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    res
}

pub fn app(state: AppState) -> Router {
    let (router, _) = build(Some(state.clone()));
    router
        .fallback(|| async { crate::ServerError::NotFound.into_response() })
        .layer(axum::middleware::from_fn(security_headers))
        // Every route sets its own limit; this is the cap for anything that does not.
        .layer(DefaultBodyLimit::max(SIGN_IN_LIMIT))
        .with_state(state)
}
