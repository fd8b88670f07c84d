//! Fieldwork files in and out, for the pages and the API alike: a firm's request list uploaded,
//! the list exported with where each request stands, the testing workbook, a population's CSV.

use axum::extract::{Multipart, Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use evident_store::RequestFilter;

use super::{off_thread, today, ws};
use crate::ServerError;
use crate::access::Access;
use crate::error::ApiError;
use crate::json_body::MultipartBody;
use crate::state::AppState;

/// A request list is a spreadsheet of a few hundred rows; anything larger is not one.
const LIST_LIMIT: usize = 10 << 20;

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// Reads the uploaded list (field `file`) and imports it: every row checked first, nothing
/// stored when one is bad. Returns (added, updated).
pub async fn import_upload(
    state: &AppState,
    access: &Access,
    engagement: &str,
    mut mp: Multipart,
) -> Result<(usize, usize), ServerError> {
    let mut list: Option<(String, Vec<u8>)> = None;
    while let Some(mut field) = mp
        .next_field()
        .await
        .map_err(|e| ServerError::invalid("file", format!("the upload was cut short: {e}")))?
    {
        if field.name() != Some("file") {
            continue;
        }
        let name = field.file_name().unwrap_or("request list").to_string();
        let mut bytes = Vec::new();
        while let Some(chunk) = field
            .chunk()
            .await
            .map_err(|e| ServerError::invalid("file", format!("the upload was cut short: {e}")))?
        {
            if bytes.len() + chunk.len() > LIST_LIMIT {
                return Err(ServerError::TooLarge(format!(
                    "{} for a request list",
                    crate::web::html::human_bytes(LIST_LIMIT as u64)
                )));
            }
            bytes.extend_from_slice(&chunk);
        }
        list = Some((name, bytes));
    }
    let (name, bytes) = list.ok_or_else(|| ServerError::invalid("file", "choose the request list to import"))?;
    if bytes.is_empty() {
        return Err(ServerError::invalid("file", format!("{name}: the file is empty")));
    }
    let rows = evident_report::read_request_list(&name, std::io::Cursor::new(bytes))
        .map_err(|e| ServerError::invalid("file", format!("{name}: {e}")))?;
    Ok(ws(state, access)
        .import_requests(access.role(), engagement, &name, &rows)
        .await?)
}

fn attachment(media: &str, name: &str, bytes: Vec<u8>) -> Response {
    (
        [
            (header::CONTENT_TYPE, media.to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")),
        ],
        bytes,
    )
        .into_response()
}

/// A file name from an engagement's name: letters, digits and dashes only.
fn file_stem(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    let s = s.split('-').filter(|p| !p.is_empty()).collect::<Vec<_>>().join("-");
    if s.is_empty() { "engagement".into() } else { s }
}

async fn xlsx(sheets: Vec<evident_report::Sheet>) -> Result<Vec<u8>, ServerError> {
    tokio::task::spawn_blocking(move || {
        let mut out = Vec::new();
        evident_report::write_xlsx(&sheets, &mut out).map(|_| out)
    })
    .await
    .map_err(|e| ServerError::Internal(format!("workbook: {e}")))?
    .map_err(|e| ServerError::Internal(format!("workbook: {e}")))
}

async fn requests_file(state: &AppState, access: &Access, id: &str) -> Result<Response, ServerError> {
    let w = ws(state, access);
    let e = w.engagement(access.role(), id).await?;
    let list = w
        .requests(access.role(), &e.id, &RequestFilter::default(), today())
        .await?;
    let bytes = xlsx(vec![evident_report::request_sheet(&list)]).await?;
    Ok(attachment(
        XLSX,
        &format!("{}-requests.xlsx", file_stem(&e.name)),
        bytes,
    ))
}

async fn workbook_file(state: &AppState, access: &Access, id: &str) -> Result<Response, ServerError> {
    let w = ws(state, access);
    let e = w.engagement(access.role(), id).await?;
    let samples = w.samples(access.role(), &e.id).await?;
    let bytes = xlsx(evident_report::testing_workbook(&e, &samples)).await?;
    Ok(attachment(XLSX, &format!("{}-testing.xlsx", file_stem(&e.name)), bytes))
}

async fn population_file(state: &AppState, access: &Access, id: &str) -> Result<Response, ServerError> {
    let (w, role, run) = (ws(state, access), access.role(), id.to_string());
    let (view, bytes) = off_thread(move |h| h.block_on(w.population_file(role, &run))).await?;
    Ok(attachment(
        "text/csv; charset=utf-8",
        &format!("population-{}-{}.csv", view.kind, view.id),
        bytes,
    ))
}

/// `/audit/{id}/{file}`: `requests.xlsx`, `workbook.xlsx` or the engagement's `pack`.
pub async fn page(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Path((id, file)): Path<(String, String)>,
) -> Result<Response, ServerError> {
    match file.as_str() {
        "requests.xlsx" => requests_file(&state, &access, &id).await,
        "workbook.xlsx" => workbook_file(&state, &access, &id).await,
        "pack" => engagement_pack(&state, &access, &id).await,
        _ => Err(ServerError::NotFound),
    }
}

/// `/populations/{id}/file`.
pub async fn population_page(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Path(id): Path<String>,
) -> Result<Response, ServerError> {
    population_file(&state, &access, &id).await
}

/// `GET /api/v1/engagements/{id}/requests/export`.
pub async fn requests_api(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    Ok(requests_file(&state, &access, &id).await?)
}

/// `GET /api/v1/engagements/{id}/workbook`.
pub async fn workbook_api(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    Ok(workbook_file(&state, &access, &id).await?)
}

/// `GET /api/v1/populations/{id}/file`.
pub async fn population_api(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    Ok(population_file(&state, &access, &id).await?)
}

/// `POST /api/v1/engagements/{id}/requests/import` (multipart, field `file`).
pub async fn import_api(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Path(id): Path<String>,
    MultipartBody(mp): MultipartBody,
) -> Result<Response, ApiError> {
    let (added, updated) = import_upload(&state, &access, &id, mp).await?;
    Ok((
        axum::http::StatusCode::CREATED,
        Json(serde_json::json!({"added": added, "updated": updated})),
    )
        .into_response())
}

async fn request_pack(state: &AppState, access: &Access, id: &str) -> Result<Response, ServerError> {
    let (role, request) = (access.role(), id.to_string());
    let name = format!("evident-request-{}.zip", file_stem(id));
    crate::evidence::pack::send_pack(state, access, name, move |w| async move {
        w.request_pack(role, &request, today()).await
    })
    .await
}

async fn sample_pack(state: &AppState, access: &Access, id: &str) -> Result<Response, ServerError> {
    let (role, sample) = (access.role(), id.to_string());
    let name = format!("evident-sample-{}.zip", file_stem(id));
    crate::evidence::pack::send_pack(state, access, name, move |w| async move {
        w.sample_pack(role, &sample).await
    })
    .await
}

/// `/requests/{id}/pack`: the request's evidence as a signed pack.
pub async fn request_pack_page(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Path(id): Path<String>,
) -> Result<Response, ServerError> {
    request_pack(&state, &access, &id).await
}

/// `/samples/{id}/pack`: the sample's population and items' evidence as a signed pack.
pub async fn sample_pack_page(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Path(id): Path<String>,
) -> Result<Response, ServerError> {
    sample_pack(&state, &access, &id).await
}

/// `GET /api/v1/requests/{id}/pack`.
pub async fn request_pack_api(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    Ok(request_pack(&state, &access, &id).await?)
}

/// `GET /api/v1/samples/{id}/pack`.
pub async fn sample_pack_api(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    Ok(sample_pack(&state, &access, &id).await?)
}

async fn engagement_pack(state: &AppState, access: &Access, id: &str) -> Result<Response, ServerError> {
    let (role, engagement) = (access.role(), id.to_string());
    let name = format!("evident-engagement-{}.zip", file_stem(id));
    crate::evidence::pack::send_pack(state, access, name, move |w| async move {
        w.engagement_pack(role, &engagement, today()).await
    })
    .await
}

/// `GET /api/v1/engagements/{id}/pack`.
pub async fn engagement_pack_api(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    Ok(engagement_pack(&state, &access, &id).await?)
}
