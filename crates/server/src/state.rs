//! What every request shares: the workspace, the sign-in limiter and the computed snapshot.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

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
    pub evidence_rows: std::sync::OnceLock<Vec<crate::web::table::Row>>,
    /// The scope's observation window as of `day`, computed at first use.
    pub window: tokio::sync::OnceCell<Arc<evident_core::window::Window>>,
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
const MAX_TRACKED_KEYS: usize = 10_000;

impl AppState {
    pub fn new(ws: Workspace, loopback: bool) -> AppState {
        let secure_cookies = ws.config.server.secure_cookies.unwrap_or(!loopback);
        // Refused at start by `serve`; here an unreadable entry trusts nothing.
        let trusted_proxies = parse_trusted_proxies(&ws.config.server.trusted_proxies).unwrap_or_default();
        AppState {
            ws,
            secure_cookies,
            trusted_proxies: Arc::new(trusted_proxies),
            oidc: Arc::default(),
            inner: Arc::new(Inner {
                ready: Default::default(),
                failures: Mutex::new(HashMap::new()),
                snapshot: tokio::sync::Mutex::new(None),
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
        // Guesses at many different emails must not grow the table without end.
        if map.len() >= MAX_TRACKED_KEYS {
            let now = Instant::now();
            map.retain(|_, list| list.last().is_some_and(|t| now.duration_since(*t) < FAILURE_WINDOW));
        }
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
            let e = per_day.entry(crate::web::html::when(at)[..10].to_string()).or_default();
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
            window: Default::default(),
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
