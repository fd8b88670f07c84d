//! Single sign-on with an OpenID Connect provider: the authorization code flow with PKCE, the
//! ID token's RS256 signature checked against the provider's published keys, and its issuer,
//! audience, expiry and nonce checked. The person must already be a user here (an administrator
//! adds them with a role); signing in through the provider never creates an account. The
//! provider is trusted for the second factor.

use std::time::Duration;

use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use evident_store::{OidcSettings, SessionStage};
use serde::Deserialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::ServerError;
use crate::access::session_cookie;
use crate::state::AppState;

#[derive(Debug, Deserialize, Clone)]
struct Discovery {
    issuer: String,
    authorization_endpoint: String,
    token_endpoint: String,
    jwks_uri: String,
}

fn settings(state: &AppState) -> Result<&OidcSettings, ServerError> {
    state.ws.config.server.oidc.as_ref().ok_or(ServerError::NotFound)
}

fn client() -> Result<reqwest::Client, ServerError> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .timeout(Duration::from_secs(15))
        .build()
        .map_err(|e| ServerError::Internal(format!("HTTP client: {e}")))
}

async fn get_json(url: &str) -> Result<Value, ServerError> {
    let res = client()?
        .get(url)
        .send()
        .await
        .map_err(|e| ServerError::Internal(format!("single sign-on provider {url}: {e}")))?;
    if !res.status().is_success() {
        return Err(ServerError::Internal(format!(
            "single sign-on provider {url}: {}",
            res.status()
        )));
    }
    let bytes = res.bytes().await.map_err(|e| ServerError::Internal(e.to_string()))?;
    serde_json::from_slice(&bytes).map_err(|e| ServerError::Internal(format!("{url}: not JSON: {e}")))
}

async fn discover(s: &OidcSettings) -> Result<Discovery, ServerError> {
    let url = format!("{}/.well-known/openid-configuration", s.issuer.trim_end_matches('/'));
    let d: Discovery =
        serde_json::from_value(get_json(&url).await?).map_err(|e| ServerError::Internal(format!("{url}: {e}")))?;
    if d.issuer.trim_end_matches('/') != s.issuer.trim_end_matches('/') {
        return Err(ServerError::Internal(format!(
            "{url}: names issuer {} instead of {}",
            d.issuer, s.issuer
        )));
    }
    Ok(d)
}

fn random_token() -> Result<String, ServerError> {
    let mut b = [0u8; 32];
    getrandom::fill(&mut b).map_err(|e| ServerError::Internal(format!("no randomness: {e}")))?;
    Ok(B64.encode(b))
}

#[derive(Deserialize)]
pub struct StartQuery {
    next: Option<String>,
}

pub async fn start(State(state): State<AppState>, Query(q): Query<StartQuery>) -> Result<Response, ServerError> {
    let s = settings(&state)?;
    let d = discover(s).await?;
    let (key, nonce, verifier) = (random_token()?, random_token()?, random_token()?);
    let challenge = B64.encode(Sha256::digest(verifier.as_bytes()));
    state
        .ws
        .start_sign_on(
            &key,
            &evident_store::PendingSignOn {
                nonce: nonce.clone(),
                verifier,
                next: crate::signin::safe_next(q.next.as_deref()),
            },
        )
        .await?;
    let enc = crate::web::html::url_encode;
    let url = format!(
        "{}{}response_type=code&client_id={}&redirect_uri={}&scope=openid%20email&state={}&nonce={}&code_challenge={}&code_challenge_method=S256",
        d.authorization_endpoint,
        if d.authorization_endpoint.contains('?') {
            "&"
        } else {
            "?"
        },
        enc(&s.client_id),
        enc(&s.redirect_url),
        enc(&key),
        enc(&nonce),
        enc(&challenge),
    );
    Ok(Redirect::to(&url).into_response())
}

#[derive(Deserialize)]
pub struct Callback {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

/// Why a sign-in through the provider was refused, shown on the sign-in page.
fn refuse(state: &AppState, reason: &str) -> Result<Response, ServerError> {
    tracing::info!(reason, "single sign-on refused");
    crate::signin::login_error(state, &format!("Single sign-on did not sign you in: {reason}"))
}

pub async fn callback(State(state): State<AppState>, Query(q): Query<Callback>) -> Result<Response, ServerError> {
    let s = settings(&state)?.clone();
    if let Some(e) = q.error {
        return refuse(&state, &format!("the provider answered '{e}'"));
    }
    let (Some(code), Some(key)) = (q.code, q.state) else {
        return refuse(&state, "the provider's answer lacked the code or state");
    };
    let Some(p) = state.ws.take_sign_on(&key).await? else {
        return refuse(&state, "that sign-in was not started here or has expired; start again");
    };
    let d = discover(&s).await?;
    let secret = s
        .client_secret
        .as_ref()
        .map(|x| x.0.clone())
        .or_else(|| std::env::var("EVIDENT_OIDC_CLIENT_SECRET").ok())
        .unwrap_or_default();
    let enc = crate::web::html::url_encode;
    let body = format!(
        "grant_type=authorization_code&code={}&redirect_uri={}&client_id={}&client_secret={}&code_verifier={}",
        enc(&code),
        enc(&s.redirect_url),
        enc(&s.client_id),
        enc(&secret),
        enc(&p.verifier)
    );
    let res = client()?
        .post(&d.token_endpoint)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::ACCEPT, "application/json")
        .body(body)
        .send()
        .await
        .map_err(|e| ServerError::Internal(format!("token endpoint: {e}")))?;
    if !res.status().is_success() {
        return refuse(&state, &format!("the provider refused the code ({})", res.status()));
    }
    let bytes = res.bytes().await.map_err(|e| ServerError::Internal(e.to_string()))?;
    let tokens: Value =
        serde_json::from_slice(&bytes).map_err(|e| ServerError::Internal(format!("token endpoint: {e}")))?;
    let Some(id_token) = tokens["id_token"].as_str() else {
        return refuse(&state, "the provider returned no ID token");
    };
    let jwks = get_json(&d.jwks_uri).await?;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let claims = match verify_id_token(id_token, &jwks, &d.issuer, &s.client_id, &p.nonce, now) {
        Ok(c) => c,
        Err(reason) => return refuse(&state, &reason),
    };
    if claims["email_verified"] == Value::Bool(false) {
        return refuse(&state, "the provider says the email address is not verified");
    }
    let Some(email) = claims["email"].as_str() else {
        return refuse(&state, "the ID token carries no email (ask for the email scope)");
    };
    let user = match state.ws.user(email).await {
        Ok(u) if u.disabled_at.is_none() => u,
        _ => {
            return refuse(
                &state,
                &format!("{email} has no active account here; ask an administrator to add you"),
            );
        }
    };
    let ws = state.ws.as_actor(&user.email);
    let lifetime = crate::signin::session_ms(&state);
    let token = ws.create_session(&user, SessionStage::Full, lifetime).await?;
    Ok((
        [(header::SET_COOKIE, session_cookie(&state, &token, lifetime / 1000))],
        Redirect::to(&p.next),
    )
        .into_response())
}

/// Checks an RS256 ID token against the provider's keys and the expected claims; returns them.
pub fn verify_id_token(
    token: &str,
    jwks: &Value,
    issuer: &str,
    client_id: &str,
    nonce: &str,
    now: i64,
) -> Result<Value, String> {
    let parts: Vec<&str> = token.split('.').collect();
    let [h, c, sig] = parts[..] else {
        return Err("the ID token is not a JWT".into());
    };
    let decode = |s: &str| B64.decode(s).map_err(|_| "the ID token is not base64url".to_string());
    let header: Value =
        serde_json::from_slice(&decode(h)?).map_err(|_| "the ID token's header is not JSON".to_string())?;
    if header["alg"] != "RS256" {
        return Err(format!(
            "the ID token is signed with {} (only RS256 is accepted)",
            header["alg"]
        ));
    }
    let kid = header["kid"].as_str();
    let key = jwks["keys"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|k| k["kty"] == "RSA")
        .find(|k| kid.is_none() || k["kid"].as_str() == kid)
        .ok_or("no provider key matches the ID token")?;
    let n = decode(key["n"].as_str().unwrap_or(""))?;
    let e = decode(key["e"].as_str().unwrap_or(""))?;
    let public = ring::signature::RsaPublicKeyComponents { n: &n, e: &e };
    public
        .verify(
            &ring::signature::RSA_PKCS1_2048_8192_SHA256,
            format!("{h}.{c}").as_bytes(),
            &decode(sig)?,
        )
        .map_err(|_| "the ID token's signature does not verify".to_string())?;
    let claims: Value =
        serde_json::from_slice(&decode(c)?).map_err(|_| "the ID token's claims are not JSON".to_string())?;
    if claims["iss"].as_str().map(|i| i.trim_end_matches('/')) != Some(issuer.trim_end_matches('/')) {
        return Err("the ID token comes from another issuer".into());
    }
    let audience_ok = match &claims["aud"] {
        Value::String(a) => a == client_id,
        Value::Array(list) => list.iter().any(|a| a == client_id),
        _ => false,
    };
    if !audience_ok {
        return Err("the ID token is meant for another client".into());
    }
    if claims["exp"].as_i64().is_none_or(|exp| exp + 60 < now) {
        return Err("the ID token has expired".into());
    }
    if claims["nonce"].as_str() != Some(nonce) {
        return Err("the ID token's nonce does not match this sign-in".into());
    }
    Ok(claims)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../cli/tests/cli/fixtures");

    fn sign(claims: &Value) -> String {
        let key =
            ring::signature::RsaKeyPair::from_der(&std::fs::read(format!("{FIXTURES}/oidc-test-key.der")).unwrap())
                .unwrap();
        let input = format!(
            "{}.{}",
            B64.encode(json!({"alg": "RS256", "kid": "test-1"}).to_string()),
            B64.encode(claims.to_string())
        );
        let mut sig = vec![0u8; key.public().modulus_len()];
        key.sign(
            &ring::signature::RSA_PKCS1_SHA256,
            &ring::rand::SystemRandom::new(),
            input.as_bytes(),
            &mut sig,
        )
        .unwrap();
        format!("{input}.{}", B64.encode(sig))
    }

    #[test]
    fn id_tokens_are_checked_for_signature_issuer_audience_expiry_and_nonce() {
        let jwks: Value =
            serde_json::from_str(&std::fs::read_to_string(format!("{FIXTURES}/oidc-test-jwks.json")).unwrap()).unwrap();
        let good = json!({"iss": "https://idp.test", "aud": "app", "exp": 2000, "nonce": "n1", "email": "a@b.test"});
        let check = |token: &str| verify_id_token(token, &jwks, "https://idp.test", "app", "n1", 1000);
        assert_eq!(check(&sign(&good)).unwrap()["email"], "a@b.test");
        let cases = [
            (
                json!({"iss": "https://evil.test", "aud": "app", "exp": 2000, "nonce": "n1"}),
                "another issuer",
            ),
            (
                json!({"iss": "https://idp.test", "aud": ["other"], "exp": 2000, "nonce": "n1"}),
                "another client",
            ),
            (
                json!({"iss": "https://idp.test", "aud": "app", "exp": 100, "nonce": "n1"}),
                "expired",
            ),
            (
                json!({"iss": "https://idp.test", "aud": "app", "exp": 2000, "nonce": "n2"}),
                "nonce",
            ),
        ];
        for (claims, why) in cases {
            let e = check(&sign(&claims)).unwrap_err();
            assert!(e.contains(why), "{e}");
        }
        // Claims changed after signing: the signature no longer verifies.
        let token = sign(&good);
        let parts: Vec<&str> = token.split('.').collect();
        let forged = format!(
            "{}.{}.{}",
            parts[0],
            B64.encode(
                json!({"iss": "https://idp.test", "aud": "app", "exp": 2000, "nonce": "n1", "email": "boss@b.test"})
                    .to_string()
            ),
            parts[2]
        );
        assert!(check(&forged).unwrap_err().contains("signature"));
        let none = format!("{}.{}.", B64.encode(r#"{"alg":"none"}"#), parts[1]);
        assert!(check(&none).unwrap_err().contains("only RS256"));
    }
}
