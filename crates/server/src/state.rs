//! What every request shares: the workspace and the computed snapshot.

use std::net::IpAddr;
use std::sync::Arc;

use evident_core::write_effect::{Effect, effect_of_all};
use evident_store::{Assessment, Workspace};

use crate::ServerError;

/// An address or a CIDR range of trusted reverse proxies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Net {
    addr: IpAddr,
    prefix: u8,
}

impl Net {
    /// `10.0.0.5`, `10.0.0.0/8`, `::1`, `fd00::/8`.
    pub fn parse(s: &str) -> Result<Net, String> {
        let s = s.trim();
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let addr: IpAddr = addr
            .parse()
            .map_err(|_| format!("'{s}' is not an IP address or CIDR range"))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("'{s}': the prefix length must be 0 to {max}"))?,
        };
        Ok(Net { addr, prefix })
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        let bits = |ip: IpAddr| -> Option<u128> {
            match (self.addr, ip) {
                (IpAddr::V4(_), IpAddr::V4(v)) => Some(u128::from(u32::from(v)) << 96),
                (IpAddr::V6(_), IpAddr::V6(v)) => Some(u128::from(v)),
                (IpAddr::V4(_), IpAddr::V6(v)) => v.to_ipv4_mapped().map(|v| u128::from(u32::from(v)) << 96),
                _ => None,
            }
        };
        let (Some(a), Some(b)) = (bits(self.addr), bits(ip)) else {
            return false;
        };
        let shift = if self.addr.is_ipv4() {
            32 - u32::from(self.prefix) + 96
        } else {
            128 - u32::from(self.prefix)
        };
        shift >= 128 || (a >> shift) == (b >> shift)
    }
}

/// The `[server] trusted_proxies` setting, checked once at start.
pub fn parse_trusted_proxies(list: &[String]) -> Result<Vec<Net>, ServerError> {
    list.iter()
        .map(|s| Net::parse(s).map_err(|e| ServerError::Bind(format!("[server] trusted_proxies: {e}"))))
        .collect()
}

#[derive(Clone)]
pub struct AppState {
    pub ws: Workspace,
    pub secure_cookies: bool,
    /// Proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Arc<Vec<Net>>,
    inner: Arc<Inner>,
}

struct Inner {
    /// Set once the first snapshot exists.
    ready: std::sync::atomic::AtomicBool,
    /// What the refresher last produced; readers wait here, never compute.
    published: tokio::sync::watch::Sender<Published>,
    /// Wakes the refresher when a reader finds the log ahead of the published snapshot.
    kick: tokio::sync::Notify,
    /// Set once the refresher task runs.
    refreshing: std::sync::Once,
}

/// The refresher's latest result: the snapshot, or why bringing it up to a head failed.
#[derive(Default, Clone)]
struct Published {
    snapshot: Option<Arc<Snapshot>>,
    /// The head it tried to reach and the failure in words; readers who need no more than
    /// that head get the failure instead of waiting for a retry.
    failed: Option<(i64, String)>,
}

/// Readiness, the program and the facts as of one point in the audit log. Recomputed when the
/// log's head moves (any write, through the server or the CLI) or the day changes, so pages
/// read a consistent picture and the load of computing it is paid once per change.
pub struct Snapshot {
    pub head: i64,
    pub day: time::Date,
    pub computed_at: time::OffsetDateTime,
    /// None when no audit scope is set yet. Of its facts only those the evidence checks read
    /// are kept once the checks have run (on a large program the rest are most of the memory,
    /// and no page reads them).
    pub assessment: Option<Arc<Assessment>>,
    /// The program when there is no assessment to carry it.
    unassessed: Option<Arc<evident_store::Program>>,
    /// People in the people register.
    pub staff: usize,
    /// (day, % of checks passing) over the last [`TREND_DAYS`] days of stored runs.
    pub trend: Vec<(String, f64)>,
    /// The evidence library laid out for listing, built at first use.
    pub evidence_rows: std::sync::OnceLock<Vec<crate::web::table::Row>>,
    /// The scope's observation window as of `day`, computed at first use.
    pub window: tokio::sync::OnceCell<Arc<evident_core::window::Window>>,
    /// What the window was last computed from, on this snapshot or an earlier one with only
    /// evidence writes since: the next window patches its evidence instead of loading it all.
    pub window_input: std::sync::Mutex<Option<Arc<evident_core::window::Input>>>,
}

pub const TREND_DAYS: i64 = 90;

impl Snapshot {
    /// A successor of `p` for the same day, its caches empty.
    fn new(p: &Snapshot) -> Snapshot {
        Snapshot {
            head: p.head,
            day: p.day,
            computed_at: p.computed_at,
            assessment: None,
            unassessed: None,
            staff: p.staff,
            trend: Vec::new(),
            evidence_rows: Default::default(),
            window: Default::default(),
            window_input: Default::default(),
        }
    }

    /// The window's input to carry into a successor: only evidence writes may come between.
    fn window_basis(&self) -> std::sync::Mutex<Option<Arc<evident_core::window::Input>>> {
        std::sync::Mutex::new(self.window_input.lock().expect("not poisoned").clone())
    }

    pub fn program(&self) -> &evident_store::Program {
        match (&self.assessment, &self.unassessed) {
            (Some(a), _) => &a.program,
            (None, Some(p)) => p.as_ref(),
            (None, None) => unreachable!("a snapshot holds a program one way or the other"),
        }
    }
}

impl AppState {
    pub fn new(ws: Workspace, loopback: bool) -> AppState {
        let secure_cookies = ws.config.server.secure_cookies.unwrap_or(!loopback);
        // Refused at start by `serve`; here an unreadable entry trusts nothing.
        let trusted_proxies = parse_trusted_proxies(&ws.config.server.trusted_proxies).unwrap_or_default();
        AppState {
            ws,
            secure_cookies,
            trusted_proxies: Arc::new(trusted_proxies),
            inner: Arc::new(Inner {
                ready: Default::default(),
                published: tokio::sync::watch::Sender::new(Published::default()),
                kick: tokio::sync::Notify::new(),
                refreshing: std::sync::Once::new(),
            }),
        }
    }

    /// The client behind the connection: the peer itself unless it is a trusted proxy, then
    /// the nearest address in `X-Forwarded-For` that is not one (the ones further left were
    /// written by the client and prove nothing).
    pub fn client_ip(&self, peer: IpAddr, headers: &axum::http::HeaderMap) -> IpAddr {
        let trusted = |ip: IpAddr| self.trusted_proxies.iter().any(|n| n.contains(ip));
        if !trusted(peer) {
            return peer;
        }
        let mut client = peer;
        let hops = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .collect::<Vec<_>>();
        for hop in hops.iter().rev() {
            let Ok(ip) = hop.parse::<IpAddr>() else {
                break;
            };
            client = ip;
            if !trusted(ip) {
                break;
            }
        }
        client
    }

    /// A snapshot that includes every write in the audit log when this is called (here, on
    /// another instance or from the command line), and the current day. Readers never compute:
    /// one refresher brings the snapshot up to date, covering every write since its last round
    /// in one go, and every reader waiting for any of those writes is answered by that round.
    /// Under a stream of writes a reader therefore waits for at most two rounds, however many
    /// readers and writers there are.
    pub async fn snapshot(&self) -> Result<Arc<Snapshot>, ServerError> {
        let head = self.ws.audit_head().await?;
        let day = time::OffsetDateTime::now_utc().date();
        let mut rx = self.inner.published.subscribe();
        let mut kicked = false;
        loop {
            {
                let p = rx.borrow_and_update();
                if let Some(s) = p.snapshot.as_ref().filter(|s| s.head >= head && s.day >= day) {
                    return Ok(s.clone());
                }
                if let Some((tried, why)) = p.failed.as_ref().filter(|(tried, _)| *tried >= head && kicked) {
                    return Err(ServerError::Internal(format!(
                        "bringing readiness up to the audit log's entry {tried} failed: {why}"
                    )));
                }
            }
            if !kicked {
                self.follow_head();
                self.inner.kick.notify_one();
                kicked = true;
            }
            if rx.changed().await.is_err() {
                return Err(ServerError::Internal("the snapshot refresher stopped".into()));
            }
        }
    }

    /// True once the first snapshot exists: a load balancer sends no one here before.
    pub fn is_ready(&self) -> bool {
        self.inner.ready.load(std::sync::atomic::Ordering::Acquire)
    }

    /// Starts (once) the refresher that keeps the snapshot following the audit log's head,
    /// whoever moves it, so pages seldom wait for it: it wakes when a reader finds the log
    /// ahead, and every [`FOLLOW_EVERY`] for writes made elsewhere.
    pub fn follow_head(&self) {
        self.inner.refreshing.call_once(|| {
            let state = self.clone();
            tokio::spawn(async move {
                loop {
                    // In a task of its own so that a panic is reported to the readers waiting
                    // for this round instead of leaving them waiting for ever.
                    let round = tokio::spawn({
                        let state = state.clone();
                        async move { state.advance().await }
                    })
                    .await
                    .unwrap_or_else(|e| Err((i64::MAX, ServerError::Internal(format!("the refresher failed: {e}")))));
                    let mut recomputed = false;
                    let published = match round {
                        Ok((s, changed)) => {
                            recomputed = changed;
                            Published {
                                snapshot: Some(s),
                                failed: None,
                            }
                        }
                        Err((tried, e)) => {
                            tracing::warn!(error = %e, "could not bring the snapshot up to date");
                            Published {
                                snapshot: state.inner.published.borrow().snapshot.clone(),
                                failed: Some((tried, e.to_string())),
                            }
                        }
                    };
                    if published.snapshot.is_some() {
                        state.inner.ready.store(true, std::sync::atomic::Ordering::Release);
                    }
                    state.inner.published.send_replace(published);
                    if recomputed {
                        release_freed_memory();
                    }
                    // No router holds this state any more (a server shut down, a test's app
                    // replaced): nobody will read what a next round would compute.
                    if Arc::strong_count(&state.inner) == 1 {
                        break;
                    }
                    tokio::select! {
                        _ = state.inner.kick.notified() => {}
                        _ = tokio::time::sleep(FOLLOW_EVERY) => {}
                    }
                }
            });
        });
    }

    /// One round of the refresher: the published snapshot brought up to the log's head and
    /// today. After writes that change nothing readiness reads it is carried forward as it is,
    /// after evidence writes only the evidence library and the checks that read it are redone,
    /// after anything else (or on a new day) it is computed from scratch.
    /// Also says whether anything was recomputed (and memory may be handed back).
    async fn advance(&self) -> Result<(Arc<Snapshot>, bool), (i64, ServerError)> {
        let previous = self.inner.published.borrow().snapshot.clone();
        let head = self.ws.audit_head().await.map_err(|e| (i64::MAX, e.into()))?;
        let now = time::OffsetDateTime::now_utc();
        if let Some(s) = previous.as_ref().filter(|s| s.head == head && s.day == now.date()) {
            return Ok((s.clone(), false));
        }
        let failed = |e: ServerError| (head, e);
        let (effect, changed_evidence) = match previous.as_ref() {
            Some(p) if p.day == now.date() && head > p.head && head - p.head <= MAX_REPLAYED_WRITES => {
                let changes = self
                    .ws
                    .audit_actions(p.head, head)
                    .await
                    .map_err(|e| failed(e.into()))?;
                let items: Vec<String> = changes
                    .iter()
                    .filter_map(|(_, subject)| subject.strip_prefix("evidence:").map(str::to_string))
                    .collect();
                (effect_of_all(changes.iter().map(|(action, _)| action.as_str())), items)
            }
            _ => (Effect::Everything, Vec::new()),
        };
        let s = match (previous, effect) {
            // Nothing the window reads changed either: its computation (most of a dashboard's
            // first load on a large program) is kept too.
            (Some(p), Effect::Nothing) => Snapshot {
                head,
                assessment: p.assessment.clone(),
                unassessed: p.unassessed.clone(),
                trend: p.trend.clone(),
                window: p.window.clone(),
                window_input: p.window_basis(),
                ..Snapshot::new(&p)
            },
            (Some(p), Effect::Evidence) if p.assessment.is_some() => {
                let previous = p.assessment.as_ref().expect("checked above");
                let a = self
                    .ws
                    .reassess_after_evidence(previous, Some(&changed_evidence), now)
                    .await
                    .map_err(|e| failed(e.into()))?;
                Snapshot {
                    head,
                    computed_at: now,
                    assessment: Some(Arc::new(a)),
                    trend: p.trend.clone(),
                    window_input: p.window_basis(),
                    ..Snapshot::new(&p)
                }
            }
            _ => self.compute(head, now).await.map_err(failed)?,
        };
        Ok((Arc::new(s), effect != Effect::Nothing))
    }

    async fn compute(&self, head: i64, now: time::OffsetDateTime) -> Result<Snapshot, ServerError> {
        let (assessment, unassessed, staff) = match self.ws.assess(now.date(), now).await {
            Ok(mut a) => {
                let staff = a.facts.people.len();
                a.keep_only_evidence_reader_facts();
                (Some(Arc::new(a)), None, staff)
            }
            Err(evident_store::StoreError::NoScope) => {
                let staff = self.ws.records(&evident_core::registers::PEOPLE).await?.len();
                (None, Some(Arc::new(self.ws.program().await?)), staff)
            }
            Err(e) => return Err(e.into()),
        };
        let to = now.unix_timestamp() * 1000;
        let mut per_day: std::collections::BTreeMap<String, (u32, u32)> = Default::default();
        for (at, status) in self.ws.check_statuses(to - TREND_DAYS * 86_400_000, to).await? {
            let e = per_day.entry(crate::web::html::when(at)[..10].to_string()).or_default();
            e.0 += u32::from(status == "pass");
            e.1 += u32::from(status != "no_data");
        }
        let trend = per_day
            .into_iter()
            .filter(|(_, (_, n))| *n > 0)
            .map(|(day, (p, n))| (day, f64::from(p) * 100.0 / f64::from(n)))
            .collect();
        Ok(Snapshot {
            trend,
            head,
            day: now.date(),
            computed_at: now,
            assessment,
            unassessed,
            staff,
            evidence_rows: Default::default(),
            window: Default::default(),
            window_input: Default::default(),
        })
    }
}

/// Beyond this many writes since the last snapshot, reading what each did costs more than it
/// saves: compute afresh.
const MAX_REPLAYED_WRITES: i64 = 500;
const FOLLOW_EVERY: std::time::Duration = std::time::Duration::from_millis(500);

/// Hands memory freed after a recompute (the facts, hundreds of MiB on a large program) back to
/// the system; glibc otherwise keeps it mapped and the server's resident size stays at its peak.
fn release_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns free heap pages to the kernel; it takes no pointers.
    unsafe {
        libc::malloc_trim(0);
    }
}

#[cfg(test)]
mod tests {
    use super::Net;

    #[test]
    fn trusted_proxy_ranges() {
        let n = Net::parse("10.0.0.0/8").unwrap();
        assert!(n.contains("10.200.1.2".parse().unwrap()));
        assert!(!n.contains("11.0.0.1".parse().unwrap()));
        assert!(
            n.contains("::ffff:10.1.1.1".parse().unwrap()),
            "IPv4 seen through an IPv6 socket"
        );
        let one = Net::parse("192.0.2.7").unwrap();
        assert!(one.contains("192.0.2.7".parse().unwrap()));
        assert!(!one.contains("192.0.2.8".parse().unwrap()));
        let v6 = Net::parse("fd00::/8").unwrap();
        assert!(v6.contains("fd12::1".parse().unwrap()));
        assert!(!v6.contains("fe80::1".parse().unwrap()));
        assert!(Net::parse("0.0.0.0/0").unwrap().contains("8.8.8.8".parse().unwrap()));
        for bad in ["proxy.local", "10.0.0.0/33", "::1/129", "10.0.0.0/x"] {
            assert!(Net::parse(bad).is_err(), "{bad}");
        }
    }
}
