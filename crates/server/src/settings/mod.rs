//! Settings (administrators only): users and their roles, API tokens.

pub mod api;
pub mod page;

use serde_json::json;

pub fn user_json(u: &evident_store::User) -> serde_json::Value {
    json!({"email": u.email, "role": u.role.name(), "totp_enabled": u.totp_enabled,
           "created_at": u.created_at, "disabled_at": u.disabled_at})
}

pub fn token_json(t: &evident_store::ApiToken) -> serde_json::Value {
    json!({"id": t.id, "user": t.user, "name": t.name, "scope": t.scope, "created_at": t.created_at,
           "expires_at": t.expires_at, "revoked_at": t.revoked_at})
}
