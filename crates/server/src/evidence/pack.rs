//! A control's evidence pack, from its page or the API: written to an unnamed temporary file
//! (nothing is left if the server is killed), then streamed, and audit-logged with the hash
//! that names it. An auditor gets packs of in-scope controls only.

use std::collections::BTreeMap;
use std::io::{Seek, SeekFrom};

use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use evident_store::PackRequest;

use crate::ServerError;
use crate::access::Access;
use crate::state::AppState;
use crate::web::api::period_param;

/// The pack from a control's page.
pub async fn page(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Path(code): Path<String>,
    Query(q): Query<BTreeMap<String, String>>,
) -> Result<Response, ServerError> {
    control_pack(&state, &access, &code, &q).await
}

/// The pack from the API (its refusals in JSON).
pub async fn api(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Path(code): Path<String>,
    Query(q): Query<BTreeMap<String, String>>,
) -> Result<Response, crate::error::ApiError> {
    Ok(control_pack(&state, &access, &code, &q).await?)
}

/// `?period=FROM..TO` packs every item that speaks to a day in the period; without it, the
/// current items.
async fn control_pack(
    state: &AppState,
    access: &Access,
    code: &str,
    q: &BTreeMap<String, String>,
) -> Result<Response, ServerError> {
    if let Some(k) = q.keys().find(|k| k.as_str() != "period") {
        return Err(ServerError::invalid(
            k,
            "unknown parameter (this address takes period=FROM..TO)",
        ));
    }
    let mut period = period_param(q.get("period").map(String::as_str))?;
    if access.role() == evident_core::access::Role::Auditor {
        period = Some(auditor_period(state, access, period).await?);
    }
    let snap = state.snapshot().await?;
    let read = Access {
        reach: evident_core::access::reach(
            access.role(),
            evident_core::access::Area::Evidence,
            evident_core::access::Action::Read,
        ),
        ..access.clone()
    };
    let code = crate::controls::visible(&snap, &read)
        .into_iter()
        .find(|c| c.code.eq_ignore_ascii_case(code))
        .ok_or(ServerError::NotFound)?
        .code
        .clone();
    let request = PackRequest {
        controls: vec![code.clone()],
        period,
        selection: None,
    };
    let name = match period {
        Some((f, t)) => format!(
            "evident-{code}-{}-{}.zip",
            evident_core::format_date(f),
            evident_core::format_date(t)
        ),
        None => format!("evident-{code}.zip"),
    };
    send_pack(state, access, name, move |_| async move { Ok(request) }).await
}

/// An auditor's packs are of their engagements: the period asked for must lie inside one of
/// their engagements' periods, and without one it is that engagement's (when there is one).
async fn auditor_period(
    state: &AppState,
    access: &Access,
    asked: Option<(time::Date, time::Date)>,
) -> Result<(time::Date, time::Date), ServerError> {
    let mut periods = crate::fieldwork::auditor_periods(state, access).await?;
    periods.sort();
    periods.dedup();
    let listed = || {
        periods
            .iter()
            .map(|(f, t)| format!("{}..{}", evident_core::format_date(*f), evident_core::format_date(*t)))
            .collect::<Vec<_>>()
            .join(", ")
    };
    match (asked, periods.as_slice()) {
        (_, []) => Err(ServerError::NotFound),
        (None, [one]) => Ok(*one),
        (None, _) => Err(ServerError::invalid(
            "period",
            format!("name the period of one of your engagements: {}", listed()),
        )),
        (Some((f, t)), _) if periods.iter().any(|(a, b)| f >= *a && t <= *b) => Ok((f, t)),
        (Some(_), _) => Err(ServerError::invalid(
            "period",
            format!("outside your engagements' periods ({})", listed()),
        )),
    }
}

/// Writes the pack `make` describes (it may read the store and the vault: both run on a
/// blocking thread of their own, as the vault's decryptor is not `Send`) into an unnamed
/// temporary file, logs it with the hash that names it, and streams it as `name`.
pub async fn send_pack<F, Fut>(
    state: &AppState,
    access: &Access,
    name: String,
    make: F,
) -> Result<Response, ServerError>
where
    F: FnOnce(evident_store::Workspace) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = Result<PackRequest, evident_store::StoreError>>,
{
    let dir = state.ws.dir.join("tmp");
    std::fs::create_dir_all(&dir).map_err(|e| ServerError::Internal(format!("{}: {e}", dir.display())))?;
    let temp = tempfile::tempfile_in(&dir).map_err(|e| ServerError::Internal(format!("{}: {e}", dir.display())))?;
    let ws = state.ws.as_actor(&access.user.email);
    let writer = ws.clone();
    let handle = tokio::runtime::Handle::current();
    let made = tokio::task::spawn_blocking(move || {
        handle.block_on(async move {
            let request = make(writer.clone()).await?;
            writer.write_pack(&request, temp).await
        })
    })
    .await
    .map_err(|e| ServerError::Internal(format!("pack writer: {e}")))?;
    let (written, mut file) = match made {
        Ok(w) => w,
        // Nothing to pack is the caller's question, not the server's failure.
        Err(evident_store::StoreError::Invalid(reason)) => return Err(ServerError::Conflict(reason)),
        Err(e) => return Err(e.into()),
    };
    let size = file
        .seek(SeekFrom::End(0))
        .and_then(|n| file.seek(SeekFrom::Start(0)).map(|_| n))
        .map_err(|e| ServerError::Internal(format!("pack file: {e}")))?;
    ws.log_pack("pack.download", &written, &format!("download by {}", access.user.email))
        .await?;
    let file = tokio::fs::File::from_std(file);
    let chunks = futures::stream::unfold(file, |mut f| async move {
        use tokio::io::AsyncReadExt;
        let mut buf = vec![0u8; 64 * 1024];
        match f.read(&mut buf).await {
            Ok(0) => None,
            Ok(n) => {
                buf.truncate(n);
                Some((Ok::<_, std::io::Error>(bytes::Bytes::from(buf)), f))
            }
            Err(e) => Some((Err(e), f)),
        }
    });
    Ok((
        [
            (header::CONTENT_TYPE, "application/zip".to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")),
            (header::CONTENT_LENGTH, size.to_string()),
            (
                header::HeaderName::from_static("x-manifest-sha256"),
                written.manifest_sha256.clone(),
            ),
        ],
        axum::body::Body::from_stream(chunks),
    )
        .into_response())
}
