//! Download: an item decrypted as it is sent and checked against its hash on the way out.

use axum::Extension;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};

use crate::ServerError;
use crate::access::Access;
use crate::state::AppState;

pub async fn download(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Path(id): Path<String>,
) -> Result<Response, ServerError> {
    let snap = state.snapshot().await?;
    let e = super::visible(&snap, &access)
        .into_iter()
        .find(|e| e.id == id)
        .ok_or(ServerError::NotFound)?;
    let body = stream_blob(&state, e.sha256.clone(), e.file_name.clone());
    let disposition = format!(
        "attachment; filename=\"{}\"",
        e.file_name.replace(['"', '\\', '\r', '\n'], "_")
    );
    Ok((
        [
            (header::CONTENT_TYPE, e.media_type.clone()),
            (header::CONTENT_DISPOSITION, disposition),
            (header::CONTENT_LENGTH, e.size.to_string()),
            (header::HeaderName::from_static("x-content-sha256"), e.sha256.clone()),
        ],
        body,
    )
        .into_response())
}

/// A blob decrypted as it is sent: memory stays a few chunks whatever the file's size. The
/// last chunk is held back until the whole blob has matched its hash, so an altered blob never
/// arrives complete: the connection is cut instead, short of the declared length.
pub fn stream_blob(state: &AppState, sha256: String, name: String) -> axum::body::Body {
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<bytes::Bytes, std::io::Error>>(4);
    let vault = state.ws.vault.clone();
    let handle = tokio::runtime::Handle::current();
    // The vault's reader is not Send; it runs on a blocking thread of its own.
    tokio::task::spawn_blocking(move || {
        let mut sink = ChannelSink {
            tx: tx.clone(),
            held: None,
        };
        let read = handle.block_on(vault.read_into(&sha256, &mut sink, std::path::Path::new(&name)));
        let last = match read {
            Ok(_) => sink.held.take().map(Ok),
            Err(e) => {
                tracing::error!(sha256 = %sha256, error = %e, "evidence download stopped");
                Some(Err(std::io::Error::other("the evidence could not be read in full")))
            }
        };
        if let Some(last) = last {
            let _ = futures::executor::block_on(tokio::task::unconstrained(tx.send(last)));
        }
    });
    let chunks = futures::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|c| (c, rx)) });
    axum::body::Body::from_stream(chunks)
}

/// Hands decrypted chunks to the response one behind, waiting while the client is slow.
struct ChannelSink {
    tx: tokio::sync::mpsc::Sender<Result<bytes::Bytes, std::io::Error>>,
    held: Option<bytes::Bytes>,
}

impl std::io::Write for ChannelSink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if let Some(previous) = self.held.replace(bytes::Bytes::copy_from_slice(buf)) {
            // A plain wait on a blocking thread that is already inside the vault reader's
            // `block_on`: outside tokio's cooperative budget, which would otherwise run out
            // and leave this wait spinning on a budget that never refills.
            futures::executor::block_on(tokio::task::unconstrained(self.tx.send(Ok(previous))))
                .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "the client went away"))?;
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// `GET /api/v1/evidence/{id}/content`: the same bytes; a refusal answers as JSON, like every
/// API route.
pub async fn content(
    state: State<AppState>,
    access: Extension<Access>,
    id: Path<String>,
) -> crate::web::api::ApiResult {
    Ok(download(state, access, id).await?)
}
