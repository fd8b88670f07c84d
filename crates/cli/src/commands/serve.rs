//! `evident serve`, `evident users …` and `evident tokens …`.

use std::net::SocketAddr;
use std::path::Path;

use evident_core::access::Role;
use evident_store::{TokenScope, Workspace};
use serde_json::json;

use super::{instant, open};
use crate::args::{TokensCommand, UsersCommand};
use crate::error::{CliError, usage};
use crate::output::{self, Format, Table};

pub async fn serve(dir: &Path, bind: SocketAddr, admin: &str) -> Result<(), CliError> {
    let ws = open(dir).await?;
    run_server(ws, bind, admin, false).await
}

/// Starts the server; on the first start (no users yet) creates the administrator and prints
/// their one-time password. The demo lets people in without a second factor.
pub async fn run_server(mut ws: Workspace, bind: SocketAddr, admin: &str, demo: bool) -> Result<(), CliError> {
    if let Some((user, password)) = ws.ensure_first_admin(admin).await? {
        println!("First start: created the administrator {}.", user.email);
        println!(
            "One-time password (shown once; replaced at the first sign-in; works for {} hours): {password}",
            ws.config.server.one_time_password_hours
        );
        if !demo && ws.config.server.require_totp.iter().any(|r| r == "admin") {
            println!("At the first sign-in you will set up a second factor (any TOTP authenticator app).");
        }
    }
    if demo {
        ws.config.server.require_totp.clear();
        println!(
            "Demo: sign-in needs no second factor here; `evident serve` on a real workspace requires one for admins, compliance managers and auditors."
        );
    }
    evident_server::serve(ws, bind)
        .await
        .map_err(|e| CliError::Failed(e.to_string()))
}

fn user_row(u: &evident_store::User) -> serde_json::Value {
    json!({"email": u.email, "role": u.role.name(), "totp_enabled": u.totp_enabled,
           "created_at": instant(u.created_at), "disabled": u.disabled_at.is_some(),
           "password_one_time": u.password_one_time,
           "password_expires_at": u.password_expires_at.filter(|_| u.password_one_time).map(instant)})
}

pub async fn users(dir: &Path, command: UsersCommand, format: Format) -> Result<(), CliError> {
    let ws = open(dir).await?;
    let role_of = |r: &str| Role::parse(r).map_err(|e| usage(format!("--role: {e}")));
    match command {
        UsersCommand::List => {
            let users = ws.users().await?;
            match format {
                Format::Json => output::json(&users.iter().map(user_row).collect::<Vec<_>>()),
                Format::Table => {
                    let mut t = Table::new(&["EMAIL", "ROLE", "SECOND FACTOR", "STATE"]);
                    for u in &users {
                        t.row(vec![
                            u.email.clone(),
                            u.role.name().into(),
                            if u.totp_enabled { "totp" } else { "none" }.into(),
                            if u.disabled_at.is_some() { "disabled" } else { "active" }.into(),
                        ]);
                    }
                    t.print()
                }
            }
        }
        UsersCommand::Add { email, role } => {
            let role = role_of(&role)?;
            let (user, password) = ws.add_user(&email, role).await.map_err(bad_email)?;
            match format {
                Format::Json => output::json(&json!({"user": user_row(&user), "password": password})),
                Format::Table => {
                    println!("Added {} as {}.", user.email, user.role.label());
                    println!(
                        "One-time password (shown once; replaced at the first sign-in; works for {} hours): {password}",
                        ws.config.server.one_time_password_hours
                    );
                    Ok(())
                }
            }
        }
        UsersCommand::ResetPassword { email } => {
            let password = ws.reset_password(&email).await?;
            match format {
                Format::Json => output::json(&json!({"email": email.trim().to_lowercase(), "password": password})),
                Format::Table => {
                    println!(
                        "New one-time password for {} (their sessions have ended; replaced at the first sign-in; works for {} hours): {password}",
                        email.trim(),
                        ws.config.server.one_time_password_hours
                    );
                    Ok(())
                }
            }
        }
        UsersCommand::ResetTotp { email } => {
            ws.reset_totp(&email).await?;
            println!("{} will set up a second factor at their next sign-in.", email.trim());
            Ok(())
        }
        UsersCommand::SetRole { email, role } => {
            let user = ws.set_user_role(&email, role_of(&role)?).await?;
            output::json(&user_row(&user))
        }
        UsersCommand::Disable { email, enable } => {
            let user = ws.set_user_disabled(&email, !enable).await?;
            output::json(&user_row(&user))
        }
    }
}

fn bad_email(e: evident_store::StoreError) -> CliError {
    match e {
        evident_store::StoreError::Invalid(r) => usage(format!("EMAIL: {r}")),
        other => other.into(),
    }
}

fn token_row(t: &evident_store::ApiToken) -> serde_json::Value {
    json!({"id": t.id, "user": t.user, "name": t.name, "scope": t.scope, "created_at": instant(t.created_at),
           "expires_at": t.expires_at.map(instant), "revoked_at": t.revoked_at.map(instant)})
}

pub async fn tokens(dir: &Path, command: TokensCommand, format: Format) -> Result<(), CliError> {
    let ws = open(dir).await?;
    match command {
        TokensCommand::List => {
            let tokens = ws.tokens().await?;
            match format {
                Format::Json => Ok(output::json(&tokens.iter().map(token_row).collect::<Vec<_>>())?),
                Format::Table => {
                    let mut t = Table::new(&["ID", "USER", "NAME", "SCOPE", "STATE"]);
                    for x in &tokens {
                        t.row(vec![
                            x.id.clone(),
                            x.user.clone(),
                            x.name.clone(),
                            token_row(x)["scope"].as_str().unwrap_or("").into(),
                            if x.revoked_at.is_some() { "revoked" } else { "active" }.into(),
                        ]);
                    }
                    Ok(t.print()?)
                }
            }
        }
        TokensCommand::Create {
            user,
            name,
            scope,
            expires,
        } => {
            let scope = TokenScope::parse(&scope).map_err(|e| usage(format!("--scope: {e}")))?;
            let expires_at = expires
                .map(|d| {
                    evident_core::parse_date(&d)
                        .map(|d| (d.next_day().unwrap_or(d)).midnight().assume_utc().unix_timestamp() * 1000)
                        .map_err(|e| usage(format!("--expires: {e}")))
                })
                .transpose()?;
            let (token, secret) = ws
                .create_token(&user, &name, scope, expires_at)
                .await
                .map_err(|e| match e {
                    evident_store::StoreError::Invalid(r) => usage(format!("--name: {r}")),
                    other => other.into(),
                })?;
            match format {
                Format::Json => Ok(output::json(&json!({"token": token_row(&token), "secret": secret}))?),
                Format::Table => {
                    println!(
                        "Created token {} for {} ({}).",
                        token.id,
                        token.user,
                        token_row(&token)["scope"].as_str().unwrap_or("")
                    );
                    println!("Secret (shown once; send it as `Authorization: Bearer …`): {secret}");
                    Ok(())
                }
            }
        }
        TokensCommand::Revoke { id } => {
            ws.revoke_token(&id).await?;
            println!("Revoked token {}.", id.trim());
            Ok(())
        }
    }
}
