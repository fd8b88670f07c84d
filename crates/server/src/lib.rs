//! `evident serve`: the web interface (server-rendered HTML with htmx) and the JSON API under
//! `/api/v1`, over one workspace. Who may do what is decided in one place, [`access::guard`],
//! from the table in `evident_core::access`.

mod access;
mod api;
mod error;
mod html;
mod markdown;
mod oidc;
mod openapi;
mod pages;
mod routes;
mod signin;
mod state;
mod static_files;
mod table;
mod totp;

use std::net::SocketAddr;

pub use error::ServerError;
pub use openapi::document as openapi_document;
pub use routes::{Doc, api_docs, app};
pub use state::AppState;
pub use totp::code_at as totp_code_at;

/// Binds, prints where to find the server, and serves until interrupted.
pub async fn serve(ws: evident_store::Workspace, bind: SocketAddr) -> Result<(), ServerError> {
    // Server log lines (failures with their reference ids, refused sign-ins) go to stderr;
    // they never carry passwords, tokens or session ids.
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .try_init();
    let listener = tokio::net::TcpListener::bind(bind)
        .await
        .map_err(|e| ServerError::Bind(format!("{bind}: {e}")))?;
    let local = listener.local_addr().map_err(|e| ServerError::Bind(e.to_string()))?;
    let state = AppState::new(ws, local.ip().is_loopback());
    // Compute readiness before the first visitor asks for it (seconds on a large program).
    let warm = state.clone();
    tokio::spawn(async move {
        if let Err(e) = warm.snapshot().await {
            tracing::warn!(error = %e, "could not compute the first snapshot");
        }
    });
    println!("Evident is serving {} at http://{local}/", state.ws.organisation);
    let app = app(state);
    axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .map_err(|e| ServerError::Bind(e.to_string()))
}
