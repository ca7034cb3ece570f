//! Logging in: the rate limit per address, the lockout per username and address, failures
//! spread over many addresses, the password and the second factor, and a new session.

use chrono::{DateTime, TimeDelta, Utc};
use cockpit_access::{random_id, random_token, token_digest};
use serde_json::json;

use super::{Auth, AuthError, Tokens, verify_password};
use cockpit_store::{AuditActor, AuditEntry, Store};

impl Auth {
    /// `POST /api/auth/login`: a session for a username, password and (when the user has
    /// one) a one-time code.
    pub async fn login(
        &self,
        username: &str,
        password: &str,
        code: Option<&str>,
        address: &str,
    ) -> Result<Tokens, AuthError> {
        self.login_limits.check(address, self.settings.login_per_minute)?;
        let now = Utc::now();
        let name = clip(username);
        let who = AuditActor { actor: name.clone(), role: "anonymous".into(), address: address.to_string() };
        let refuse = |reason: &str| AuditEntry {
            who: who.clone(),
            action: "auth.login".into(),
            object: format!("user:{name}"),
            result: "refused".into(),
            detail: json!({"reason": reason}),
        };
        // Failures are kept per username and address in the database, for names with and
        // without an account alike, so that every instance answers both the same way.
        let policy = self.settings.lockout;
        let since = now - TimeDelta::seconds(policy.lock_seconds);
        let standing = self.store.login_standing(&name, address, since).await?;
        if let Some(until) = standing
            .locked_until
            .filter(|until| cockpit_access::LockoutPolicy::is_locked(Some(until.timestamp()), now.timestamp()))
        {
            self.store.audit_now(&[refuse("locked")]).await?;
            return Err(locked(until, now));
        }
        // Failures spread over several addresses slow the account, for addresses that never
        // logged in to it: one attempt per lock period's share, the owner's own devices
        // untouched.
        if !standing.known_address && standing.other_addresses >= 2 && standing.elsewhere >= policy.max_failures {
            let every = TimeDelta::seconds((policy.lock_seconds / i64::from(policy.max_failures.max(1))).max(1));
            if let Err(next) = self.store.take_login_turn(&name, now, every).await? {
                self.store.audit_now(&[refuse("throttled: failures from many addresses")]).await?;
                return Err(AuthError::Throttled {
                    detail: "failed logins from many addresses: this account takes one attempt at a time from a \
                             new address; log in from a device you used before, or try again later"
                        .into(),
                    retry_after_s: (next - now).num_seconds().max(1) as u64,
                });
            }
        }
        let Some(credentials) = self.store.credentials(&name).await?.filter(|_| name == username) else {
            let password = password.to_string();
            // As slow as a real check, so that timing does not tell which usernames exist.
            let _ = tokio::task::spawn_blocking(move || cockpit_access::burn_verify(&password)).await;
            return Err(self.failed(&name, address, standing.failures, refuse("unknown user")).await?);
        };
        let user = &credentials.user;
        let good = verify_password(&credentials.password_hash, password).await?;
        if !good || !user.active {
            return Err(self
                .failed(&name, address, standing.failures, refuse(if good { "disabled" } else { "password" }))
                .await?);
        }
        let roles = self.store.roles().await?;
        let second_factor_required =
            user.roles()?.iter().any(|r| roles.iter().any(|row| row.role == *r && row.require_totp));
        let mut totp_step = None;
        if user.totp_enabled {
            let Some(code) = code.map(str::trim).filter(|c| !c.is_empty()) else {
                self.store.audit_now(&[refuse("one-time code missing")]).await?;
                return Err(AuthError::SecondFactorRequired);
            };
            let secret = self.totp_secret(credentials.totp_sealed.as_deref())?;
            match secret.verify(code, now.timestamp(), credentials.totp_last_step) {
                Some(step) => totp_step = Some(step),
                None => return Err(self.failed(&name, address, standing.failures, refuse("one-time code")).await?),
            }
        }
        let enrolment_only = second_factor_required && !user.totp_enabled;
        let session = random_id().map_err(|e| AuthError::Internal(e.to_string()))?;
        let refresh = random_token().map_err(|e| AuthError::Internal(e.to_string()))?;
        let expires = now + TimeDelta::hours(self.settings.refresh_hours);
        let expired = self.settings.password_max_age.is_some_and(|age| user.password_changed_at + age <= now);
        let must_change_password = user.must_change_password || expired;
        let mut tx = self.store.pool().begin().await?;
        Store::record_success(&mut tx, user.id, totp_step, expired).await?;
        Store::create_session(
            &mut tx,
            &session,
            user.id,
            &token_digest(&refresh),
            now,
            expires,
            address,
            enrolment_only,
        )
        .await?;
        let primary = user.roles.first().cloned().unwrap_or_default();
        let entry = AuditEntry {
            who: AuditActor { actor: user.username.clone(), role: primary, address: address.to_string() },
            action: "auth.login".into(),
            object: format!("user:{}", user.username),
            result: "ok".into(),
            detail: json!({"session": session, "second_factor": totp_step.is_some(), "enrolment_only": enrolment_only,
                           "password_expired": expired}),
        };
        Store::audit(&mut tx, now, &[entry]).await?;
        tx.commit().await?;
        self.store.clear_login_failures(&name, address).await?;
        self.tokens(&session, user.id, &refresh, now, enrolment_only, must_change_password)
    }

    /// Records a failed login of `username` from `address` (which had `failures_before`):
    /// 401, or 423 when this failure locks the address; a lock is audited on its own.
    async fn failed(
        &self,
        username: &str,
        address: &str,
        failures_before: u32,
        entry: AuditEntry,
    ) -> Result<AuthError, AuthError> {
        let now = Utc::now();
        let (failures, until) = self.settings.lockout.after_failure(failures_before, now.timestamp());
        let until = until.and_then(|t| DateTime::from_timestamp(t, 0));
        let since = now - TimeDelta::seconds(self.settings.lockout.lock_seconds);
        self.store.record_login_failure(username, address, failures, until, now, since).await?;
        let mut entries = vec![entry.clone()];
        if let Some(until) = until {
            entries.push(AuditEntry {
                action: "auth.lockout".into(),
                result: "locked".into(),
                detail: json!({"address": address, "until": until}),
                ..entry
            });
        }
        self.store.audit_now(&entries).await?;
        Ok(match until {
            Some(until) => locked(until, now),
            None => wrong_credentials(),
        })
    }

    /// The period failed logins are counted over, in minutes.
    pub fn failure_window_minutes(&self) -> i64 {
        self.settings.lockout.lock_seconds / 60
    }

    /// The failed logins of `username` in the last lock period (for the owner's own page),
    /// or of every username (for the security administrator).
    pub async fn login_failures(&self, username: Option<&str>) -> Result<Vec<cockpit_store::LoginFailures>, AuthError> {
        let now = Utc::now();
        let since = now - TimeDelta::seconds(self.settings.lockout.lock_seconds);
        Ok(self.store.login_failures(username, now, since).await?)
    }
}

/// The one answer to a wrong username, password or one-time code: the same words
/// whichever it was.
fn wrong_credentials() -> AuthError {
    AuthError::Unauthorized("wrong username, password or one-time code".into())
}

fn locked(until: DateTime<Utc>, now: DateTime<Utc>) -> AuthError {
    AuthError::Locked {
        detail: format!("too many failed logins from this address: locked until {}", until.to_rfc3339()),
        retry_after_s: (until - now).num_seconds().max(1) as u64,
    }
}

/// A username as the audit trail keeps it when the login failed (bounded: a client could
/// send anything).
fn clip(text: &str) -> String {
    text.chars().take(64).collect()
}
