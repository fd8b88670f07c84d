//! What every request shares: the workspace, the sign-in limiter and the computed snapshot.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use evident_store::{Assessment, Workspace};

use crate::ServerError;

#[derive(Clone)]
pub struct AppState {
    pub ws: Workspace,
    pub secure_cookies: bool,
    pub oidc: Arc<crate::oidc::OidcState>,
    inner: Arc<Inner>,
}

struct Inner {
    /// Set once the first snapshot exists.
    ready: std::sync::atomic::AtomicBool,
    failures: Mutex<HashMap<String, Vec<Instant>>>,
    snapshot: tokio::sync::Mutex<Option<Arc<Snapshot>>>,
}

/// Readiness, the program and the facts as of one point in the audit log. Recomputed when the
/// log's head moves (any write, through the server or the CLI) or the day changes, so pages
/// read a consistent picture and the load of computing it is paid once per change.
pub struct Snapshot {
    pub head: i64,
    pub day: time::Date,
    pub computed_at: time::OffsetDateTime,
    /// None when no audit scope is set yet. Its facts are dropped once the checks have run
    /// (on a large program they are most of the memory, and no page reads them).
    pub assessment: Option<Assessment>,
    /// The program when there is no assessment to carry it.
    unassessed: Option<evident_store::Program>,
    /// People in the people register.
    pub staff: usize,
    /// (day, % of checks passing) over the last [`TREND_DAYS`] days of stored runs.
    pub trend: Vec<(String, f64)>,
    /// The evidence library laid out for listing, built at first use.
    pub evidence_rows: std::sync::OnceLock<Vec<crate::table::Row>>,
}

pub const TREND_DAYS: i64 = 90;

impl Snapshot {
    pub fn program(&self) -> &evident_store::Program {
        match (&self.assessment, &self.unassessed) {
            (Some(a), _) => &a.program,
            (None, Some(p)) => p,
            (None, None) => unreachable!("a snapshot holds a program one way or the other"),
        }
    }
}

/// Sign-in failures allowed per key (an email, an address) within the window.
const MAX_FAILURES: usize = 5;
const FAILURE_WINDOW: Duration = Duration::from_secs(15 * 60);

impl AppState {
    pub fn new(ws: Workspace, loopback: bool) -> AppState {
        let secure_cookies = ws.config.server.secure_cookies.unwrap_or(!loopback);
        AppState {
            ws,
            secure_cookies,
            oidc: Arc::default(),
            inner: Arc::new(Inner {
                ready: Default::default(),
                failures: Mutex::new(HashMap::new()),
                snapshot: tokio::sync::Mutex::new(None),
            }),
        }
    }

    /// True when `key` has failed too often recently.
    pub fn limited(&self, key: &str) -> bool {
        let mut map = self.inner.failures.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        let list = map.entry(key.to_string()).or_default();
        list.retain(|t| now.duration_since(*t) < FAILURE_WINDOW);
        list.len() >= MAX_FAILURES
    }

    pub fn record_failure(&self, key: &str) {
        let mut map = self.inner.failures.lock().unwrap_or_else(|e| e.into_inner());
        map.entry(key.to_string()).or_default().push(Instant::now());
    }

    pub fn clear_failures(&self, key: &str) {
        let mut map = self.inner.failures.lock().unwrap_or_else(|e| e.into_inner());
        map.remove(key);
    }

    /// None while the very first snapshot is being computed (seconds on a large program), so a
    /// page can show that work is under way instead of hanging; afterwards, as `snapshot`.
    pub async fn snapshot_or_busy(&self) -> Result<Option<Arc<Snapshot>>, ServerError> {
        let first_under_way =
            !self.inner.ready.load(std::sync::atomic::Ordering::Acquire) && self.inner.snapshot.try_lock().is_err();
        if first_under_way {
            return Ok(None);
        }
        self.snapshot().await.map(Some)
    }

    /// The current snapshot, recomputed first if anything changed since the last one.
    pub async fn snapshot(&self) -> Result<Arc<Snapshot>, ServerError> {
        let head = self.ws.audit_head().await?;
        let now = time::OffsetDateTime::now_utc();
        let mut slot = self.inner.snapshot.lock().await;
        if let Some(s) = slot.as_ref().filter(|s| s.head == head && s.day == now.date()) {
            return Ok(s.clone());
        }
        let (assessment, unassessed, staff) = match self.ws.assess(now.date(), now).await {
            Ok(mut a) => {
                let staff = a.facts.people.len();
                a.facts = Default::default();
                (Some(a), None, staff)
            }
            Err(evident_store::StoreError::NoScope) => {
                let staff = self.ws.records(&evident_core::registers::PEOPLE).await?.len();
                (None, Some(self.ws.program().await?), staff)
            }
            Err(e) => return Err(e.into()),
        };
        let to = now.unix_timestamp() * 1000;
        let mut per_day: std::collections::BTreeMap<String, (u32, u32)> = Default::default();
        for (at, status) in self.ws.check_statuses(to - TREND_DAYS * 86_400_000, to).await? {
            let e = per_day.entry(crate::html::when(at)[..10].to_string()).or_default();
            e.0 += u32::from(status == "pass");
            e.1 += u32::from(status != "no_data");
        }
        let trend = per_day
            .into_iter()
            .filter(|(_, (_, n))| *n > 0)
            .map(|(day, (p, n))| (day, f64::from(p) * 100.0 / f64::from(n)))
            .collect();
        let s = Arc::new(Snapshot {
            trend,
            head,
            day: now.date(),
            computed_at: now,
            assessment,
            unassessed,
            staff,
            evidence_rows: Default::default(),
        });
        *slot = Some(s.clone());
        drop(slot);
        self.inner.ready.store(true, std::sync::atomic::Ordering::Release);
        release_freed_memory();
        Ok(s)
    }
}

/// Hands memory freed after a recompute (the facts, hundreds of MiB on a large program) back to
/// the system; glibc otherwise keeps it mapped and the server's resident size stays at its peak.
fn release_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns free heap pages to the kernel; it takes no pointers.
    unsafe {
        libc::malloc_trim(0);
    }
}
