//! Access review pages: the campaigns (and starting one), a campaign with its progress, its
//! reviewers and its items, the reviewer's inbox with one-click decisions, and one item.

use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use evident_core::access::{Action, Area, Reach, reach};
use evident_core::access_review::{CampaignView, DecisionInput, ItemView};
use serde::Deserialize;

use super::{render as typeset, today, ws};
use crate::ServerError;
use crate::access::Access;
use crate::fieldwork::{off_thread, refusal, refused};
use crate::state::AppState;
use crate::web::blocks::{self, Block, Field, Inline, Input, Section, Table, text};
use crate::web::html::url_encode;
use crate::web::{DetailPage, Layout, flash_from, render};

/// Rows an items table shows; filters narrow, the CSV has them all.
const MAX_ROWS: usize = 200;

pub fn href(id: &str) -> String {
    format!("/access-reviews/{}", url_encode(id))
}

fn item_href(id: &str) -> String {
    format!("/access-reviews/items/{}", url_encode(id))
}

fn manages(access: &Access) -> bool {
    reach(access.role(), Area::AccessReviews, Action::Write) == Reach::All
}

fn reads_all(access: &Access) -> bool {
    reach(access.role(), Area::AccessReviews, Action::Read) == Reach::All
}

fn progress_text(c: &CampaignView) -> String {
    let p = &c.progress;
    format!("{} of {} decided ({} %)", p.decided, p.items, p.percent())
}

fn status_badges(c: &CampaignView) -> Vec<Inline> {
    let mut v = vec![Inline::Badge {
        class: if c.status == "open" { "pending" } else { "met" }.into(),
        text: c.status.clone(),
    }];
    if c.overdue {
        v.push(Inline::Badge {
            class: "gap".into(),
            text: "overdue".into(),
        });
    }
    v
}

fn level(i: &ItemView) -> &'static str {
    if i.root {
        "root"
    } else if i.admin {
        "administrator"
    } else {
        "member"
    }
}

fn decision_inlines(i: &ItemView) -> Vec<Inline> {
    let Some(d) = &i.decision else {
        return vec![Inline::Badge {
            class: "pending".into(),
            text: "undecided".into(),
        }];
    };
    let mut v = vec![Inline::Badge {
        class: if d == "keep" { "met" } else { "gap" }.into(),
        text: d.clone(),
    }];
    if let Some(c) = &i.change {
        v.push(Inline::text(format!(" to: {c}")));
    }
    if let Some(r) = &i.reason {
        v.push(Inline::muted(format!(" {r}")));
    }
    v
}

fn removal_inlines(i: &ItemView) -> Vec<Inline> {
    match (i.decision.as_deref(), &i.carried_out_at) {
        (Some("revoke" | "change"), Some(at)) => {
            let mut v = vec![Inline::Badge {
                class: "met".into(),
                text: "carried out".into(),
            }];
            v.push(Inline::muted(format!(
                " {at}{}",
                i.time_to_revoke
                    .as_ref()
                    .map(|t| format!(", {t} after the decision"))
                    .unwrap_or_default()
            )));
            if let Some(by) = &i.carried_out_by {
                if by.starts_with("confirmed by") {
                    v.push(Inline::muted(format!(" ({by})")));
                } else {
                    v.push(Inline::link(
                        " shown by this import",
                        format!("/evidence/{}", url_encode(by)),
                    ));
                }
            }
            v
        }
        (Some("revoke" | "change"), None) => {
            let mut v = vec![Inline::Badge {
                class: "gap".into(),
                text: "not yet seen".into(),
            }];
            if let Some(t) = &i.task {
                v.push(Inline::link(format!(" task {t}"), format!("/tasks/{}", url_encode(t))));
            }
            v
        }
        _ => Vec::new(),
    }
}

/// `/access-reviews`: the caller's items to decide, the campaigns, and (for managers) a form
/// to start one.
pub async fn list(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Query(q): Query<BTreeMap<String, String>>,
) -> Result<Response, ServerError> {
    let mut page = list_page(&state, &access, None).await?;
    page.layout.flash = flash_from(&q);
    render(page)
}

async fn list_page(state: &AppState, access: &Access, typed: Option<&StartForm>) -> Result<DetailPage, ServerError> {
    let w = ws(state, access);
    let layout = Layout::new(state, access, "Access reviews", "/access-reviews");
    let undecided: i64 = w.inbox_campaigns(today()).await?.iter().map(|c| c.undecided).sum();
    let mut sections = vec![Section::new(
        "Your reviews",
        vec![Block::Para(if undecided == 0 {
            vec![Inline::text("Nothing waits for your decision.")]
        } else {
            vec![
                Inline::text(format!("{undecided} account(s) wait for your decision. ")),
                Inline::Button {
                    text: "Open your inbox".into(),
                    href: "/access-reviews/inbox".into(),
                    download: false,
                },
            ]
        })],
    )];
    if reads_all(access) {
        let list = w.campaigns(access.role(), today()).await?;
        let blocks = if list.is_empty() {
            vec![Block::Note(
                "No campaign yet. A campaign freezes the accounts of the systems you choose and asks each reviewer to keep, revoke or change each one."
                    .into(),
            )]
        } else {
            vec![Block::Table(Table {
                id: "campaign-list".into(),
                head: [
                    "Campaign",
                    "Status",
                    "Systems",
                    "Coverage",
                    "Due",
                    "Progress",
                    "Removals not yet seen",
                ]
                .map(String::from)
                .to_vec(),
                rows: list
                    .iter()
                    .map(|c| {
                        vec![
                            vec![Inline::link(&c.name, href(&c.id))],
                            status_badges(c),
                            text(if c.systems.is_empty() {
                                "all with accounts".to_string()
                            } else {
                                c.systems.join(", ")
                            }),
                            text(&c.coverage),
                            text(&c.due),
                            text(progress_text(c)),
                            text(c.progress.revocations_open.to_string()),
                        ]
                    })
                    .collect(),
            })]
        };
        sections.push(Section::new("Campaigns", blocks).anchored("campaigns"));
        sections.push(schedule_section(access, &w.review_schedule(today()).await?));
    }
    if manages(access) {
        let systems = w.review_systems().await?;
        let mut options = vec![(String::new(), "Every system with accounts".to_string())];
        options.extend(
            systems
                .iter()
                .map(|(s, n, p)| (s.clone(), format!("{s} ({n} accounts, {p} privileged)"))),
        );
        let t = |f: fn(&StartForm) -> &str| typed.map(|x| f(x).to_string()).unwrap_or_default();
        let mut f = blocks::Form::post("/access-reviews", &access.csrf, "Start the campaign");
        f.submit_class = "primary";
        f.fields = vec![
            Field::new("campaign-name", "name", "Name", Input::Text)
                .required()
                .value(t(|x| &x.name)),
            Field::new("campaign-system", "system", "Systems", Input::Select(options)).value(t(|x| &x.system)),
            Field::new(
                "campaign-coverage",
                "coverage",
                "Accounts",
                Input::Select(vec![
                    ("all".into(), "Every active account".into()),
                    ("privileged".into(), "Administrators and root users only".into()),
                ]),
            )
            .value(t(|x| &x.coverage)),
            Field::new(
                "campaign-reviewers",
                "reviewers",
                "Reviewers",
                Input::Select(vec![
                    ("manager".into(), "Each account holder's manager".into()),
                    ("system_owner".into(), "The system's owner (asset register)".into()),
                    ("named".into(), "One named person".into()),
                ]),
            )
            .value(t(|x| &x.reviewers)),
            Field::new(
                "campaign-reviewer",
                "reviewer",
                "Named reviewer (for one named person)",
                Input::Email,
            )
            .value(t(|x| &x.reviewer)),
            Field::new("campaign-due", "due", "Due", Input::Date)
                .required()
                .value(t(|x| &x.due)),
        ];
        f.hint = Some(if systems.is_empty() {
            "No accounts are imported yet: import a system's account export (Okta, Google Workspace, the AWS credential report, GitHub) first.".into()
        } else {
            "The account list is frozen and kept as evidence when the campaign starts. Nobody reviews their own account: it goes to their manager.".into()
        });
        sections.push(Section::new("Start a campaign", vec![Block::Form(f)]).anchored("new"));
    }
    Ok(DetailPage::new(layout, "", sections))
}

/// The recurring reviews: when each is next due, and a button to start it.
fn schedule_section(access: &Access, lines: &[evident_core::access_review::ScheduleLine]) -> Section {
    let today = today();
    let rows = lines
        .iter()
        .map(|l| {
            let all = l.coverage == "all";
            let mut state = match (&l.running, l.overdue) {
                (Some(id), _) => vec![Inline::link("running", href(id))],
                (None, true) => vec![Inline::Badge {
                    class: "gap".into(),
                    text: "overdue".into(),
                }],
                (None, false) => vec![Inline::Badge {
                    class: "met".into(),
                    text: "on time".into(),
                }],
            };
            if manages(access) && l.running.is_none() {
                let due = evident_core::parse_date(&l.due)
                    .ok()
                    .filter(|d| *d > today + time::Duration::days(7))
                    .unwrap_or(today + time::Duration::days(14));
                let mut f = blocks::Form::post("/access-reviews", &access.csrf, "Start it now");
                f.inline = true;
                f.fields = vec![
                    Field::hidden(
                        "name",
                        format!(
                            "{} review {}",
                            if all { "Access" } else { "Privileged access" },
                            evident_core::format_date(today)
                        ),
                    ),
                    Field::hidden("coverage", l.coverage.clone()),
                    Field::hidden("reviewers", if all { "manager" } else { "system_owner" }),
                    Field::hidden("due", evident_core::format_date(due)),
                ];
                state.push(Inline::Form(Box::new(f)));
            }
            vec![
                text(if all {
                    "Every active account, by each holder's manager"
                } else {
                    "Administrators and root users, by each system's owner"
                }),
                text(format!("every {} months", l.every_months)),
                vec![match &l.last {
                    Some(d) => Inline::mono(d),
                    None => Inline::muted("never"),
                }],
                vec![Inline::mono(&l.due)],
                state,
            ]
        })
        .collect();
    Section::new(
        "Schedule",
        vec![
            Block::Table(Table {
                id: "review-schedule".into(),
                head: ["Review", "Interval", "Last closed", "Next due", "State"].map(String::from).to_vec(),
                rows,
            }),
            Block::Note(
                "Intervals are the access-control policy's parameters. A review that does not happen is a missed period of the access-review controls in the observation window."
                    .into(),
            ),
        ],
    )
    .anchored("schedule")
}

#[derive(Deserialize)]
pub struct StartForm {
    name: String,
    #[serde(default)]
    system: String,
    #[serde(default)]
    coverage: String,
    #[serde(default)]
    reviewers: String,
    #[serde(default)]
    reviewer: String,
    due: String,
}

/// `POST /access-reviews`.
pub async fn start(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Form(form): Form<StartForm>,
) -> Result<Response, ServerError> {
    let done = async {
        let d = super::api::draft(
            &form.name,
            vec![form.system.clone()],
            Some(&form.coverage),
            Some(&form.reviewers),
            Some(&form.reviewer),
            &form.due,
        )?;
        let (w, role) = (ws(&state, &access), access.role());
        off_thread(move |h| h.block_on(w.start_campaign(role, &d, today()))).await
    }
    .await;
    match done {
        Ok(c) => Ok(Redirect::to(&format!("{}?done=started", href(&c.id))).into_response()),
        Err(e) => {
            let (status, message) = refusal(e)?;
            refused(list_page(&state, &access, Some(&form)).await?, status, message)
        }
    }
}

/// A reviewer's one-click decision forms for a row: keep; revoke with a reason; change opens
/// the item's page.
fn decide_forms(access: &Access, i: &ItemView, back: &str) -> Vec<Inline> {
    let tag = i.id.to_lowercase();
    let mut keep = blocks::Form::post(
        format!("{}/decision?from={back}", item_href(&i.id)),
        &access.csrf,
        "Keep",
    );
    keep.inline = true;
    keep.fields = vec![Field::hidden("decision", "keep")];
    let mut revoke = blocks::Form::post(
        format!("{}/decision?from={back}", item_href(&i.id)),
        &access.csrf,
        "Revoke",
    );
    revoke.inline = true;
    revoke.submit_class = "danger";
    revoke.fields = vec![
        Field::hidden("decision", "revoke"),
        Field::new(
            format!("reason-{tag}"),
            "reason",
            format!("Why revoke {} in {}", i.username, i.system),
            Input::Text,
        )
        .required()
        .in_row("why revoke"),
    ];
    vec![
        Inline::Form(Box::new(keep)),
        Inline::Form(Box::new(revoke)),
        Inline::link("Change…", item_href(&i.id)),
    ]
}

/// `/access-reviews/inbox`: the caller's items in open campaigns, undecided first, a page at
/// a time (`?offset=`).
pub async fn inbox(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Query(q): Query<BTreeMap<String, String>>,
) -> Result<Response, ServerError> {
    let (_, offset) = super::inbox_window(&q)?;
    let mut page = inbox_page(&state, &access, offset).await?;
    page.layout.flash = flash_from(&q);
    render(page)
}

async fn inbox_page(state: &AppState, access: &Access, offset: i64) -> Result<DetailPage, ServerError> {
    let inbox = ws(state, access).inbox(today(), Some(MAX_ROWS as i64), offset).await?;
    let layout = Layout::new(state, access, "Your access reviews", "/access-reviews");
    let overdue: i64 = inbox.campaigns.iter().filter(|c| c.overdue).map(|c| c.undecided).sum();
    let mut intro = vec![Inline::text(format!(
        "{} to decide, {} decided.",
        inbox.undecided,
        inbox.total - inbox.undecided
    ))];
    if overdue > 0 {
        intro.push(Inline::Badge {
            class: "gap".into(),
            text: format!("{overdue} past their due date"),
        });
    }
    let mut blocks = vec![Block::Para(intro)];
    if inbox.unchanged > 0 {
        let mut f = blocks::Form::post(
            "/access-reviews/inbox/keep",
            &access.csrf,
            format!("Keep all {} unchanged", inbox.unchanged),
        );
        f.inline = true;
        f.hint = Some("Unchanged: kept at the same level in the last closed campaign.".into());
        blocks.push(Block::Form(f));
    }
    let mut sections = vec![Section::new("", blocks)];
    if inbox.total == 0 {
        sections[0]
            .blocks
            .push(Block::Note("No account waits for your review.".into()));
    }
    // One table per campaign on this page, its due date and counts in the heading.
    for (n, c) in inbox.campaigns.iter().enumerate() {
        let of: Vec<&ItemView> = inbox.items.iter().filter(|i| i.campaign == c.id).collect();
        if of.is_empty() {
            continue;
        }
        let mut head = vec![
            Inline::link(&c.name, href(&c.id)),
            Inline::muted(format!(" due {}, {} of {} to decide", c.due, c.undecided, c.items)),
        ];
        if c.overdue {
            head.push(Inline::Badge {
                class: "gap".into(),
                text: "overdue".into(),
            });
        }
        let rows = of
            .iter()
            .map(|i| {
                let mut who = vec![Inline::link(format!("{} · {}", i.system, i.username), item_href(&i.id))];
                if let Some(p) = &i.person
                    && !p.eq_ignore_ascii_case(&i.username)
                {
                    who.push(Inline::muted(format!(" {p}")));
                }
                if i.unchanged {
                    who.push(Inline::muted(" unchanged since the last review"));
                }
                vec![
                    who,
                    text(level(i)),
                    vec![match &i.last_activity {
                        Some(d) => Inline::mono(d),
                        None => Inline::muted("not reported"),
                    }],
                    if i.decision.is_none() {
                        decide_forms(access, i, "inbox")
                    } else {
                        decision_inlines(i)
                    },
                ]
            })
            .collect();
        sections.push(Section::new(
            "",
            vec![
                Block::Para(head),
                Block::Table(Table {
                    id: if n == 0 { "inbox".into() } else { format!("inbox-{n}") },
                    head: ["Account", "Level", "Last active", "Decision"]
                        .map(String::from)
                        .to_vec(),
                    rows,
                }),
            ],
        ));
    }
    if inbox.total > inbox.items.len() as i64 {
        let mut nav = vec![Inline::muted(format!(
            "Items {}–{} of {}. ",
            inbox.offset + 1,
            inbox.offset + inbox.items.len() as i64,
            inbox.total
        ))];
        if inbox.offset > 0 {
            let back = (inbox.offset - MAX_ROWS as i64).max(0);
            nav.push(Inline::link(
                "Previous page",
                format!("/access-reviews/inbox?offset={back}"),
            ));
            nav.push(Inline::text(" "));
        }
        if let Some(next) = inbox.next_offset {
            nav.push(Inline::link(
                "Next page",
                format!("/access-reviews/inbox?offset={next}"),
            ));
        }
        sections.push(Section::new("", vec![Block::Para(nav)]));
    }
    Ok(DetailPage::new(layout, "", sections))
}

/// `POST /access-reviews/inbox/keep`: keeps every unchanged undecided item of the caller's.
pub async fn keep_unchanged(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
) -> Result<Response, ServerError> {
    match ws(&state, &access).keep_unchanged(access.role(), &[], today()).await {
        Ok(n) => Ok(Redirect::to(&format!("/access-reviews/inbox?done=kept-{n}")).into_response()),
        Err(e) => {
            let (status, message) = refusal(e.into())?;
            refused(inbox_page(&state, &access, 0).await?, status, message)
        }
    }
}

#[derive(Deserialize, Default)]
pub struct ItemsFilter {
    #[serde(default)]
    show: String,
    #[serde(default)]
    reviewer: String,
}

/// `/access-reviews/{id}`: facts, progress by reviewer, items (filtered), closing.
pub async fn campaign(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Path(id): Path<String>,
    Query(q): Query<BTreeMap<String, String>>,
) -> Result<Response, ServerError> {
    let filter = ItemsFilter {
        show: q.get("show").cloned().unwrap_or_default(),
        reviewer: q.get("reviewer").cloned().unwrap_or_default(),
    };
    let mut page = campaign_page(&state, &access, &id, &filter).await?;
    page.layout.flash = flash_from(&q);
    render(page)
}

fn keeps(i: &ItemView, f: &ItemsFilter) -> bool {
    let shown = match f.show.as_str() {
        "undecided" => i.decision.is_none(),
        "keep" | "revoke" | "change" => i.decision.as_deref() == Some(f.show.as_str()),
        "open-removals" => matches!(i.decision.as_deref(), Some("revoke" | "change")) && i.carried_out_at.is_none(),
        _ => true,
    };
    shown && (f.reviewer.is_empty() || i.reviewer.eq_ignore_ascii_case(f.reviewer.trim()))
}

async fn campaign_page(
    state: &AppState,
    access: &Access,
    id: &str,
    f: &ItemsFilter,
) -> Result<DetailPage, ServerError> {
    let w = ws(state, access);
    let role = access.role();
    let c = w.campaign(role, id, today()).await?;
    let items = w.campaign_items(role, id).await?;
    let layout = Layout::new(state, access, format!("Access review: {}", c.name), "/access-reviews");
    let p = &c.progress;
    let mut facts = vec![
        ("Status".to_string(), status_badges(&c)),
        (
            "Systems".to_string(),
            text(if c.systems.is_empty() {
                "every system with accounts".to_string()
            } else {
                c.systems.join(", ")
            }),
        ),
        (
            "Accounts".to_string(),
            text(format!(
                "{} ({})",
                p.items,
                if c.coverage == "privileged" {
                    "administrators and root users"
                } else {
                    "every active account"
                }
            )),
        ),
        (
            "Reviewers".to_string(),
            text(match &c.named_reviewer {
                Some(n) => format!("{n}, named"),
                None if c.reviewer_rule == "system_owner" => "each system's owner".into(),
                None => "each account holder's manager".into(),
            }),
        ),
        ("Due".to_string(), text(&c.due)),
        ("Started".to_string(), text(format!("{} by {}", c.started_at, c.owner))),
        (
            "Progress".to_string(),
            text(format!(
                "{}: {} kept, {} revoked, {} changed",
                progress_text(&c),
                p.kept,
                p.revoked,
                p.changed
            )),
        ),
        (
            "Removals".to_string(),
            text(format!(
                "{} seen carried out, {} not yet",
                p.revocations_done, p.revocations_open
            )),
        ),
        (
            "Frozen account list".to_string(),
            vec![Inline::link(
                "the evidence item",
                format!("/evidence/{}", url_encode(&c.frozen_evidence)),
            )],
        ),
    ];
    if let Some(closing) = &c.closing {
        let mut v = vec![Inline::text(format!(
            "{} by {}. ",
            c.closed_at.clone().unwrap_or_default(),
            c.closed_by.clone().unwrap_or_default()
        ))];
        for (key, label) in [
            ("csv_evidence", "decisions (CSV)"),
            ("pdf_evidence", "signed-off summary (PDF)"),
        ] {
            if let Some(e) = closing.get(key).and_then(|v| v.as_str()) {
                v.push(Inline::link(label, format!("/evidence/{}", url_encode(e))));
                v.push(Inline::text(" "));
            }
        }
        if let Some(ev) = closing.get("event").and_then(|v| v.as_str()) {
            v.push(Inline::link(
                format!("event {ev}"),
                format!("/events/{}", url_encode(ev)),
            ));
        }
        facts.push(("Closed".to_string(), v));
        if let Some(open) = closing.get("open").and_then(|v| v.as_array())
            && !open.is_empty()
        {
            facts.push(("Open when closed".to_string(), text(format!("{} item(s)", open.len()))));
        }
    }
    let mut sections = vec![Section::new("", vec![Block::Facts(facts)])];

    if reads_all(access) {
        let mut rows: Vec<(&str, (usize, usize))> = evident_core::access_review::by_reviewer(&items)
            .into_iter()
            .map(|(r, p)| (r, (p.items, p.decided)))
            .collect();
        rows.sort_by_key(|(r, (n, d))| (std::cmp::Reverse(n - d), *r));
        let late = c.status == "open" && c.due < evident_core::format_date(today());
        sections.push(
            Section::new(
                format!("Reviewers ({})", rows.len()),
                vec![Block::Table(Table {
                    id: "reviewer-progress".into(),
                    head: ["Reviewer", "Items", "Decided", "Waiting"].map(String::from).to_vec(),
                    rows: rows
                        .iter()
                        .map(|(r, (n, d))| {
                            let mut waiting = text((n - d).to_string());
                            if late && n > d {
                                waiting.push(Inline::Badge {
                                    class: "gap".into(),
                                    text: "overdue".into(),
                                });
                            }
                            vec![
                                vec![Inline::link(
                                    *r,
                                    format!("{}?reviewer={}#items", href(&c.id), url_encode(r)),
                                )],
                                text(n.to_string()),
                                text(d.to_string()),
                                waiting,
                            ]
                        })
                        .collect(),
                })],
            )
            .anchored("reviewers"),
        );
    }

    let shown: Vec<&ItemView> = items.iter().filter(|i| keeps(i, f)).collect();
    let mut filter = blocks::Form::post(href(&c.id), &None, "Show");
    filter.get = true;
    filter.inline = true;
    filter.fields = vec![
        Field::new(
            "items-show",
            "show",
            "Items",
            Input::Select(vec![
                (String::new(), "all".into()),
                ("undecided".into(), "undecided".into()),
                ("keep".into(), "kept".into()),
                ("revoke".into(), "revoked".into()),
                ("change".into(), "changed".into()),
                ("open-removals".into(), "removals not yet seen".into()),
            ]),
        )
        .value(f.show.clone()),
        Field::new("items-reviewer", "reviewer", "Reviewer", Input::Email).value(f.reviewer.clone()),
    ];
    let open = c.status == "open";
    let managing = manages(access) && open;
    let mut head: Vec<String> = ["Account", "Level", "Reviewer", "Decision", "Removal"]
        .map(String::from)
        .to_vec();
    if managing {
        head.push("Act".into());
    }
    let rows = shown
        .iter()
        .take(MAX_ROWS)
        .map(|i| {
            let mut reviewer = text(&i.reviewer);
            if let Some(n) = &i.note {
                reviewer.push(Inline::muted(format!(" {n}")));
            }
            let mut row = vec![
                vec![Inline::link(format!("{} · {}", i.system, i.username), item_href(&i.id))],
                text(level(i)),
                reviewer,
                if i.decision.is_none() && open && i.reviewer.eq_ignore_ascii_case(&access.user.email) {
                    decide_forms(access, i, "campaign")
                } else {
                    decision_inlines(i)
                },
                removal_inlines(i),
            ];
            if managing {
                row.push(manager_forms(access, i));
            }
            row
        })
        .collect();
    let mut blocks = vec![Block::Form(filter)];
    blocks.push(Block::Table(Table {
        id: "campaign-items".into(),
        head,
        rows,
    }));
    if shown.len() > MAX_ROWS {
        blocks.push(Block::Note(format!(
            "The first {MAX_ROWS} of {} items are shown; filter by decision or reviewer to narrow. The decisions CSV kept when the campaign closes lists every account.",
            shown.len()
        )));
    }
    sections.push(Section::new(format!("Items ({})", shown.len()), blocks).anchored("items"));

    if managing {
        let mut close = blocks::Form::post(format!("{}/close", href(&c.id)), &access.csrf, "Close the campaign");
        close.submit_class = "primary";
        if !p.complete() {
            close.fields = vec![Field::hidden("anyway", "true")];
            close.submit = "Close it with the open items listed".into();
            close.confirm = Some(format!(
                "{} items are undecided and {} removals are not yet seen. Close anyway?",
                p.items - p.decided,
                p.revocations_open
            ));
            close.hint =
                Some("Closing now records the open items in the campaign's record; the auditor will see them.".into());
        } else {
            close.hint = Some(
                "Keeps the decisions (CSV) and a summary signed off by you (PDF) as evidence for the access-review controls, and records an access-review event dated today."
                    .into(),
            );
        }
        sections.push(Section::new("Close", vec![Block::Form(close)]).anchored("close"));
    }
    Ok(DetailPage::new(layout, "", sections))
}

/// A manager's row actions: give an undecided item to someone else, or confirm a removal no
/// import can show.
fn manager_forms(access: &Access, i: &ItemView) -> Vec<Inline> {
    let tag = i.id.to_lowercase();
    if i.decision.is_none() {
        let mut f = blocks::Form::post(format!("{}/reviewer", item_href(&i.id)), &access.csrf, "Reassign");
        f.inline = true;
        let to = Field::new(
            format!("reassign-{tag}"),
            "reviewer",
            format!("New reviewer for {}", i.username),
            Input::Email,
        )
        .required()
        .in_row("new reviewer's email");
        f.fields = vec![to];
        return vec![Inline::Form(Box::new(f))];
    }
    if matches!(i.decision.as_deref(), Some("revoke" | "change")) && i.carried_out_at.is_none() {
        let mut f = blocks::Form::post(
            format!("{}/confirmation", item_href(&i.id)),
            &access.csrf,
            "Confirm done",
        );
        f.inline = true;
        let note = Field::new(
            format!("confirm-{tag}"),
            "note",
            format!("How the removal of {} was done", i.username),
            Input::Text,
        )
        .required()
        .in_row("ticket or how it was done");
        f.fields = vec![note];
        return vec![Inline::Form(Box::new(f))];
    }
    Vec::new()
}

/// `/access-reviews/items/{id}`: one account, its decision form for its reviewer.
pub async fn item(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Path(id): Path<String>,
    Query(q): Query<BTreeMap<String, String>>,
) -> Result<Response, ServerError> {
    let mut page = item_page(&state, &access, &id).await?;
    page.layout.flash = flash_from(&q);
    render(page)
}

async fn visible_item(state: &AppState, access: &Access, id: &str) -> Result<ItemView, ServerError> {
    let w = ws(state, access);
    w.review_item(access.role(), id).await.map_err(ServerError::from)
}

async fn item_page(state: &AppState, access: &Access, id: &str) -> Result<DetailPage, ServerError> {
    let i = visible_item(state, access, id).await?;
    let layout = Layout::new(
        state,
        access,
        format!("{} · {}", i.system, i.username),
        "/access-reviews",
    );
    let mut facts = vec![
        (
            "Campaign".to_string(),
            vec![Inline::link(&i.campaign_name, href(&i.campaign))],
        ),
        ("System".to_string(), text(&i.system)),
        ("Account".to_string(), vec![Inline::mono(&i.username)]),
        (
            "Holder".to_string(),
            text(
                i.person
                    .clone()
                    .unwrap_or_else(|| "nobody in the people register".into()),
            ),
        ),
        ("Level".to_string(), text(level(&i))),
        (
            "MFA".to_string(),
            text(match i.mfa {
                Some(true) => "on",
                Some(false) => "off",
                None => "not reported",
            }),
        ),
        (
            "Last active".to_string(),
            text(i.last_activity.clone().unwrap_or_else(|| "not reported".into())),
        ),
        (
            "Frozen from".to_string(),
            vec![Inline::link(
                "the import",
                format!("/evidence/{}", url_encode(&i.source_evidence)),
            )],
        ),
        ("Reviewer".to_string(), text(&i.reviewer)),
        ("Due".to_string(), text(&i.due)),
        ("Decision".to_string(), decision_inlines(&i)),
    ];
    if let Some(by) = &i.decided_by {
        facts.push((
            "Decided".to_string(),
            text(format!("{} by {by}", i.decided_at.clone().unwrap_or_default())),
        ));
    }
    let removal = removal_inlines(&i);
    if !removal.is_empty() {
        facts.push(("Removal".to_string(), removal));
    }
    let mut sections = vec![Section::new("", vec![Block::Facts(facts)])];
    if i.decision.is_none() && i.reviewer.eq_ignore_ascii_case(&access.user.email) {
        let mut f = blocks::Form::post(
            format!("{}/decision?from=item", item_href(&i.id)),
            &access.csrf,
            "Record the decision",
        );
        f.submit_class = "primary";
        f.fields = vec![
            Field::new(
                "item-decision",
                "decision",
                "Decision",
                Input::Select(vec![
                    ("keep".into(), "Keep: the access is still needed at this level".into()),
                    ("revoke".into(), "Revoke: remove the account".into()),
                    ("change".into(), "Change: keep it at another level".into()),
                ]),
            ),
            Field::new("item-reason", "reason", "Reason (for revoke or change)", Input::Text),
            Field::new("item-change", "change", "What it becomes (for change)", Input::Text),
        ];
        f.hint = Some(
            "A revoke or change opens a task for the system's owner; the next import of the system shows it done."
                .into(),
        );
        sections.push(Section::new("Your decision", vec![Block::Form(f)]).anchored("decide"));
    }
    Ok(DetailPage::new(layout, "", sections))
}

#[derive(Deserialize)]
pub struct DecisionForm {
    decision: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    change: String,
}

/// `POST /access-reviews/items/{id}/decision`; back to where it came from.
pub async fn decide(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Path(id): Path<String>,
    Query(q): Query<BTreeMap<String, String>>,
    Form(form): Form<DecisionForm>,
) -> Result<Response, ServerError> {
    let input = DecisionInput {
        decision: form.decision,
        reason: form.reason,
        change: form.change,
    };
    let done = ws(&state, &access).decide(access.role(), &id, &input, today()).await;
    let from = q.get("from").map(String::as_str).unwrap_or("item");
    match done {
        Ok(i) => Ok(Redirect::to(&match from {
            "inbox" => "/access-reviews/inbox?done=decided".to_string(),
            "campaign" => format!("{}?done=decided#items", href(&i.campaign)),
            _ => format!("{}?done=decided", item_href(&id)),
        })
        .into_response()),
        Err(e) => {
            let (status, message) = refusal(e.into())?;
            let page = match from {
                "inbox" => inbox_page(&state, &access, 0).await?,
                _ => item_page(&state, &access, &id).await?,
            };
            refused(page, status, message)
        }
    }
}

#[derive(Deserialize)]
pub struct ReassignForm {
    reviewer: String,
}

/// `POST /access-reviews/items/{id}/reviewer`.
pub async fn reassign(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Path(id): Path<String>,
    Form(form): Form<ReassignForm>,
) -> Result<Response, ServerError> {
    let done = ws(&state, &access).reassign(access.role(), &id, &form.reviewer).await;
    back_to_campaign(&state, &access, &id, done, "reassigned").await
}

/// After a manager's step on an item: back to its campaign's items, or the campaign page again
/// with why the step was refused.
async fn back_to_campaign(
    state: &AppState,
    access: &Access,
    id: &str,
    done: Result<ItemView, evident_store::StoreError>,
    flash: &str,
) -> Result<Response, ServerError> {
    match done {
        Ok(i) => Ok(Redirect::to(&format!("{}?done={flash}#items", href(&i.campaign))).into_response()),
        Err(e) => {
            let (status, message) = refusal(e.into())?;
            let i = visible_item(state, access, id).await?;
            refused(
                campaign_page(state, access, &i.campaign, &ItemsFilter::default()).await?,
                status,
                message,
            )
        }
    }
}

#[derive(Deserialize)]
pub struct ConfirmForm {
    note: String,
}

/// `POST /access-reviews/items/{id}/confirmation`.
pub async fn confirm(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Path(id): Path<String>,
    Form(form): Form<ConfirmForm>,
) -> Result<Response, ServerError> {
    let done = ws(&state, &access)
        .confirm_revocation(access.role(), &id, &form.note)
        .await;
    back_to_campaign(&state, &access, &id, done, "confirmed").await
}

#[derive(Deserialize)]
pub struct CloseForm {
    #[serde(default)]
    anyway: String,
}

/// `POST /access-reviews/{id}/close`.
pub async fn close(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Path(id): Path<String>,
    Form(form): Form<CloseForm>,
) -> Result<Response, ServerError> {
    let (w, role, cid) = (ws(&state, &access), access.role(), id.clone());
    let anyway = form.anyway == "true";
    match off_thread(move |h| h.block_on(w.close_campaign(role, &cid, anyway, today(), &typeset))).await {
        Ok(_) => Ok(Redirect::to(&format!("{}?done=closed", href(&id))).into_response()),
        Err(e) => {
            let (status, message) = refusal(e)?;
            refused(
                campaign_page(&state, &access, &id, &ItemsFilter::default()).await?,
                status,
                message,
            )
        }
    }
}
