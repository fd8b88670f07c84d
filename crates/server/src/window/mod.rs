//! The observation window: the scope's period as the auditor will read it at its end, from the
//! server's snapshot (computed once per snapshot); a query for another day, period or rule is
//! computed for that request. Auditors read it; the compliance lead records responses.

pub mod api;
pub mod page;

use std::collections::BTreeMap;
use std::sync::Arc;

use evident_core::window::{OpinionRule, Window};
use evident_store::{StoreError, WindowRequest};

use crate::ServerError;
use crate::state::{AppState, Snapshot};
use crate::web::api::period_param;

/// The scope's window as of the snapshot's day; `None` while no scope is set.
pub async fn current(state: &AppState, snap: &Snapshot) -> Result<Option<Arc<Window>>, ServerError> {
    if snap.assessment.is_none() {
        return Ok(None);
    }
    let w = snap
        .window
        .get_or_try_init(|| async {
            // One at a time: under a stream of writes each snapshot would otherwise compute its
            // own window at once (hundreds of MiB each on a large program).
            static ONE_AT_A_TIME: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(1);
            let _turn = ONE_AT_A_TIME.acquire().await.ok();
            let basis = snap.window_input.lock().expect("not poisoned").clone();
            let input = match basis {
                Some(basis) => evident_store::window_input_with_evidence(&basis, &snap.program().evidence),
                None => state.ws.window_input(&WindowRequest::default(), snap.day).await?,
            };
            let input = Arc::new(input);
            *snap.window_input.lock().expect("not poisoned") = Some(input.clone());
            tokio::task::spawn_blocking(move || Arc::new(evident_core::window::observe(&input)))
                .await
                .map_err(|e| StoreError::Config(format!("window engine: {e}")))
        })
        .await;
    match w {
        Ok(w) => Ok(Some(w.clone())),
        Err(StoreError::NoScope) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// What a query asks of the window: `as_of`, `period` (START..END), `tolerable_rate` and
/// `pervasive_share` (percent). Each refusal names its parameter.
pub fn request(q: &BTreeMap<String, String>) -> Result<WindowRequest, ServerError> {
    let given = |k: &str| q.get(k).map(|v| v.trim()).filter(|v| !v.is_empty());
    let percent = |k: &str| {
        given(k)
            .map(|v| {
                v.parse::<f64>()
                    .map_err(|_| ServerError::invalid(k, format!("'{v}' is not a percentage between 0 and 100")))
            })
            .transpose()
    };
    let rule = OpinionRule::from_percent(percent("tolerable_rate")?, percent("pervasive_share")?)
        .map_err(|e| ServerError::invalid(e.field, e.reason))?;
    Ok(WindowRequest {
        period: period_param(given("period"))?,
        as_of: given("as_of")
            .map(|d| evident_core::parse_date(d).map_err(|e| ServerError::invalid("as_of", e)))
            .transpose()?,
        rule,
    })
}

/// The window a query asks for: the snapshot's when it asks for nothing else.
pub async fn requested(
    state: &AppState,
    snap: &Snapshot,
    q: &BTreeMap<String, String>,
) -> Result<Option<Arc<Window>>, ServerError> {
    let req = request(q)?;
    if req.period.is_none() && req.as_of.is_none() && req.rule == OpinionRule::default() {
        return current(state, snap).await;
    }
    match state.ws.window(&req, snap.day).await {
        Ok(w) => Ok(Some(Arc::new(w))),
        Err(StoreError::NoScope) => Ok(None),
        Err(e) => Err(e.into()),
    }
}
