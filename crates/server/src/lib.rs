//! `evident serve`: the web interface (server-rendered HTML with htmx) and the JSON API under
//! `/api/v1`, over one workspace. Who may do what is decided in one place, [`access::guard`],
//! from the table in `evident_core::access`.

mod access;
mod error;
mod json_body;
mod oidc;
mod openapi;
mod routes;
mod signin;
mod state;
mod static_files;
mod totp;
mod web;

// One module per area: its pages, its API and what they share.
mod access_reviews;
mod audit_log;
mod checks;
mod controls;
mod criteria;
mod dashboard;
mod description;
mod evidence;
mod fieldwork;
mod frameworks;
mod gaps;
pub mod jobs;
mod me;
mod policies;
mod registers;
mod scope;
mod settings;
mod window;

use std::net::SocketAddr;

pub use error::ServerError;
pub use openapi::document as openapi_document;
pub use routes::{Doc, api_docs, app};
pub use state::AppState;
pub use totp::code_at as totp_code_at;

/// Server log lines (failures with their reference ids, refused sign-ins) and store warnings go
/// to stderr; they never carry passwords, tokens or session ids. One-shot commands show only
/// warnings (a write that succeeded but could not sign the audit log's head, say).
pub fn init_logging(serving: bool) {
    let level = if serving {
        tracing::Level::INFO
    } else {
        tracing::Level::WARN
    };
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .with_max_level(level)
        .try_init();
}

/// Binds, prints where to find the server, and serves until interrupted.
pub async fn serve(ws: evident_store::Workspace, bind: SocketAddr) -> Result<(), ServerError> {
    init_logging(true);
    state::parse_trusted_proxies(&ws.config.server.trusted_proxies)?;
    evidence::upload::clear_partial_uploads(&ws);
    let listener = tokio::net::TcpListener::bind(bind)
        .await
        .map_err(|e| ServerError::Bind(format!("{bind}: {e}")))?;
    let local = listener.local_addr().map_err(|e| ServerError::Bind(e.to_string()))?;
    let state = AppState::new(ws, local.ip().is_loopback());
    // Readiness computed before the first visitor asks for it (seconds on a large program),
    // then kept following every write, here or elsewhere.
    state.follow_head();
    jobs::start(&state.ws);
    println!("Evident is serving {} at http://{local}/", state.ws.organisation);
    let head_timeout = std::time::Duration::from_secs(state.ws.config.server.request_head_timeout_secs.max(1));
    serve_connections(listener, app(state), head_timeout).await
}

/// Accepts connections until interrupted, each served over HTTP/1.1 with a timeout on reading
/// a request's head, which also bounds how long a kept-alive connection may sit idle, so
/// connections that send nothing do not stay open. On interruption, open connections finish
/// their current request.
async fn serve_connections(
    listener: tokio::net::TcpListener,
    app: axum::Router,
    head_timeout: std::time::Duration,
) -> Result<(), ServerError> {
    use hyper_util::rt::{TokioIo, TokioTimer};
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut interrupted = std::pin::pin!(tokio::signal::ctrl_c());
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                // Out of descriptors and the like: wait a moment rather than spin or stop.
                Err(e) => {
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                    continue;
                }
            },
            _ = &mut interrupted => break,
        };
        let app = app.clone();
        let service = hyper::service::service_fn(move |mut req: hyper::Request<hyper::body::Incoming>| {
            req.extensions_mut().insert(axum::extract::ConnectInfo(peer));
            tower::ServiceExt::oneshot(app.clone(), req)
        });
        let connection = hyper::server::conn::http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(head_timeout)
            .serve_connection(TokioIo::new(stream), service);
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, "connection ended with an error");
            }
        });
    }
    let _ = tokio::time::timeout(std::time::Duration::from_secs(30), graceful.shutdown()).await;
    Ok(())
}
