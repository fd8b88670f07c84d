//! Asks the configured time-stamping authority (RFC 3161 over HTTP, §3.4) to time-stamp a
//! pack's manifest. Called only when `packs.tsa_url` is set: without it nothing is sent.

use std::time::Duration;

use evident_pack::{QUERY_MEDIA_TYPE, TimestampQuery};

use crate::StoreError;

/// A TSA answers in well under a second; this bounds a dead one.
const TIMEOUT: Duration = Duration::from_secs(30);
/// A reply is a few KiB (a token and its certificates); more is not a TSA's answer.
const MAX_REPLY: usize = 1 << 20;

/// The DER token the TSA at `url` gives for `manifest`, checked: granted, this manifest's
/// imprint, this request's nonce, a signature that verifies.
pub(crate) async fn stamp(url: &str, manifest: &[u8]) -> Result<Vec<u8>, StoreError> {
    let failed = |reason: String| StoreError::Timestamp {
        url: crate::redact_url(url),
        reason,
    };
    let mut nonce = [0u8; 8];
    getrandom::fill(&mut nonce).map_err(|e| failed(format!("no system randomness for the nonce: {e}")))?;
    let query = TimestampQuery::new(manifest, u64::from_be_bytes(nonce));

    // reqwest's TLS needs a process-wide provider; a second install is a harmless no-op.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::builder()
        .timeout(TIMEOUT)
        .build()
        .map_err(|e| failed(format!("no HTTP client: {}", describe(e))))?;
    let mut response = client
        .post(url)
        .header(reqwest::header::CONTENT_TYPE, QUERY_MEDIA_TYPE)
        .body(query.der().to_vec())
        .send()
        .await
        .map_err(|e| failed(format!("no answer: {}", describe(e))))?;
    let status = response.status();
    if !status.is_success() {
        return Err(failed(format!("it answered HTTP {status}")));
    }
    let mut reply = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| failed(format!("the reply was cut: {}", describe(e))))?
    {
        if reply.len() + chunk.len() > MAX_REPLY {
            return Err(failed(format!("the reply is larger than {MAX_REPLY} bytes")));
        }
        reply.extend_from_slice(&chunk);
    }
    let (token, _) = query.accept(&reply, manifest).map_err(|e| failed(e.to_string()))?;
    Ok(token)
}

/// An error with its causes, which reqwest keeps out of its own message (e.g. "connection
/// refused"), without the URL: the caller names it, with any password hidden.
fn describe(e: reqwest::Error) -> String {
    let e = e.without_url();
    let mut text = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        text.push_str(&format!(": {s}"));
        source = s.source();
    }
    text
}
