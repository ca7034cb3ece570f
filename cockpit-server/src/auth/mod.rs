//! Identity: logins with lockout and a second factor, sessions with short-lived signed
//! access tokens and revocable refresh tokens, and the principal behind each request.
//!
//! An access token is signed (cockpit-access `TokenKey`) and names its session; every
//! request checks the signature and expiry, then the session's grant, read from the
//! database and cached for `GRANT_CACHE` so that revocation reaches every instance within
//! that time (and the instance that revoked at once).

mod bootstrap;
mod error;
mod keys;
mod login;
mod principal;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, header};
use chrono::{DateTime, TimeDelta, Utc};
use cockpit_access::{
    KeyRing, LockoutPolicy, PasswordPolicy, TokenClaims, TokenError, TokenKey, TotpSecret, random_token, token_digest,
};
use serde_json::json;

pub(crate) use bootstrap::tell_operator;
pub use bootstrap::{Bootstrap, bootstrap_accounts, load_departments};
pub(crate) use error::AuthError;
pub use keys::{load_or_create_key_ring, load_or_create_token_key};
pub(crate) use principal::{ACTION_PERMISSIONS, Caller, ClientAddress, Principal, permission_for};

use crate::limits::RateLimits;
use cockpit_store::{AuditActor, AuditEntry, Store};

/// How long a session's grant is trusted before it is read again.
const GRANT_CACHE: Duration = Duration::from_secs(2);
/// Associated data sealed with every TOTP secret, so a sealed value cannot be moved to
/// another column.
pub(crate) const TOTP_AAD: &[u8] = b"cockpit:totp:v1";

/// The `[auth]` settings the service works with.
#[derive(Debug, Clone)]
pub(crate) struct AuthSettings {
    /// Lifetime of an access token.
    pub access_seconds: i64,
    /// Lifetime of a session without a refresh.
    pub refresh_hours: i64,
    /// Lockout after failed logins.
    pub lockout: LockoutPolicy,
    /// What a password must be.
    pub password: PasswordPolicy,
    /// Login attempts per client address per minute.
    pub login_per_minute: u32,
    /// A password older than this must be changed at the next login; `None`: never.
    pub password_max_age: Option<TimeDelta>,
}

/// What a login or a refresh answers: the access token (`Bearer`), how long it lasts,
/// the refresh token that replaces the one used, and what the session may do.
#[derive(Debug)]
pub(crate) struct Tokens {
    /// The access token.
    pub access_token: String,
    /// Its lifetime in seconds.
    pub expires_in: i64,
    /// The refresh token (each is used once).
    pub refresh_token: String,
    /// The session may only enrol a second factor or change the password.
    pub enrolment_only: bool,
    /// The password must be changed before anything else.
    pub must_change_password: bool,
}

/// Logins, sessions and the principal of each request.
pub(crate) struct Auth {
    store: Store,
    token_key: TokenKey,
    ring: Arc<KeyRing>,
    settings: AuthSettings,
    // A std Mutex: held for one map operation, never across an await.
    grants: Mutex<HashMap<String, (Instant, Arc<Principal>)>>,
    login_limits: RateLimits,
}

impl Auth {
    /// The service over `store`, signing with `token_key` and sealing TOTP secrets with `ring`.
    pub fn new(store: Store, token_key: TokenKey, ring: Arc<KeyRing>, settings: AuthSettings) -> Auth {
        Auth {
            store,
            token_key,
            ring,
            settings,
            grants: Mutex::new(HashMap::new()),
            login_limits: RateLimits::default(),
        }
    }

    fn tokens(
        &self,
        session: &str,
        user: i64,
        refresh: &str,
        now: DateTime<Utc>,
        enrolment_only: bool,
        must_change_password: bool,
    ) -> Result<Tokens, AuthError> {
        let expires_at = now.timestamp() + self.settings.access_seconds;
        let access = self.token_key.issue(&TokenClaims { session: session.to_string(), user, expires_at });
        Ok(Tokens {
            access_token: access,
            expires_in: self.settings.access_seconds,
            refresh_token: refresh.to_string(),
            enrolment_only,
            must_change_password,
        })
    }

    /// `POST /api/auth/refresh`: a new access token and a new refresh token for a current
    /// refresh token; the old one stops working.
    pub async fn refresh(&self, refresh: &str, address: &str) -> Result<Tokens, AuthError> {
        self.login_limits.check(address, self.settings.login_per_minute)?;
        let now = Utc::now();
        let next = random_token().map_err(|e| AuthError::Internal(e.to_string()))?;
        let digest = token_digest(refresh);
        let Some((session, user)) = self.store.rotate_refresh(&digest, &token_digest(&next), now).await? else {
            // A refresh token used before: whoever holds the current one may have stolen
            // it. End that session; both holders must log in again.
            if let Some(session) = self.store.revoke_replayed(&digest, now).await? {
                self.forget(std::slice::from_ref(&session));
                self.store
                    .audit_now(&[AuditEntry {
                        who: AuditActor {
                            actor: "unknown".into(),
                            role: "anonymous".into(),
                            address: address.to_string(),
                        },
                        action: "auth.refresh_replayed".into(),
                        object: format!("session:{session}"),
                        result: "refused".into(),
                        detail: json!({"session_revoked": true}),
                    }])
                    .await?;
            }
            return Err(AuthError::Unauthorized("the refresh token is not current: log in again".into()));
        };
        let grant = self.grant(&session).await?;
        self.tokens(&session, user, &next, now, grant.restricted, false)
    }

    /// Ends the caller's session, or every session of theirs.
    pub async fn logout(&self, caller: &Caller, everywhere: bool) -> Result<usize, AuthError> {
        let now = Utc::now();
        let mut tx = self.store.pool().begin().await?;
        let ended = if everywhere {
            Store::revoke_sessions_of(&mut tx, caller.principal.user_id, now).await?
        } else {
            let ended = Store::revoke_session(&mut tx, &caller.principal.session, now).await?;
            if ended { vec![caller.principal.session.clone()] } else { Vec::new() }
        };
        let entry = AuditEntry {
            who: caller.audit_actor(),
            action: if everywhere { "auth.logout_everywhere" } else { "auth.logout" }.into(),
            object: format!("user:{}", caller.principal.username),
            result: "ok".into(),
            detail: json!({"sessions": ended.len()}),
        };
        Store::audit(&mut tx, now, &[entry]).await?;
        tx.commit().await?;
        self.forget(&ended);
        Ok(ended.len())
    }

    /// Drops cached grants, so that a revocation takes effect on this instance at once.
    pub fn forget(&self, sessions: &[String]) {
        let mut grants = self.grants.lock().unwrap_or_else(|p| p.into_inner());
        for s in sessions {
            grants.remove(s);
        }
    }

    /// Drops every cached grant of a user (after a change of roles, scope or password).
    pub fn forget_user(&self, user: i64) {
        self.grants.lock().unwrap_or_else(|p| p.into_inner()).retain(|_, (_, p)| p.user_id != user);
    }

    /// Drops every cached grant (after a role's permissions changed).
    pub fn forget_all(&self) {
        self.grants.lock().unwrap_or_else(|p| p.into_inner()).clear();
    }

    /// The principal of a request's `Authorization: Bearer` access token.
    /// The WebSocket sub-protocol carries it only where `websocket` says the route is the
    /// live stream's upgrade: elsewhere a token there is no login, so that it cannot stand
    /// in for the header a page's own requests send.
    pub async fn authenticate(&self, headers: &HeaderMap, websocket: bool) -> Result<Arc<Principal>, AuthError> {
        let token = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .or_else(|| websocket.then(|| websocket_token(headers)).flatten())
            .ok_or_else(|| {
                AuthError::Unauthorized("log in: `Authorization: Bearer <access token>` is required".into())
            })?;
        let claims = self.token_key.verify(token.trim(), Utc::now().timestamp()).map_err(|e| match e {
            TokenError::Expired => AuthError::Unauthorized("the access token has expired: refresh it".into()),
            _ => AuthError::Unauthorized("the access token is not valid".into()),
        })?;
        self.grant(&claims.session).await
    }

    /// The principal of a session still valid (the live streams re-check theirs).
    pub(crate) async fn session_principal(&self, session: &str) -> Result<Arc<Principal>, AuthError> {
        self.grant(session).await
    }

    async fn grant(&self, session: &str) -> Result<Arc<Principal>, AuthError> {
        if let Some((at, principal)) = self.grants.lock().unwrap_or_else(|p| p.into_inner()).get(session)
            && at.elapsed() < GRANT_CACHE
        {
            return Ok(principal.clone());
        }
        let grant = self
            .store
            .session_grant(session, Utc::now())
            .await?
            .filter(|g| g.valid)
            .ok_or_else(|| AuthError::Unauthorized("the session has ended: log in again".into()))?;
        let user = &grant.user;
        let principal = Arc::new(Principal {
            user_id: user.id,
            username: user.username.clone(),
            display_name: user.display_name.clone(),
            roles: user.roles()?,
            permissions: grant.permissions,
            scope: user.scope()?,
            department: grant.department_name.clone(),
            session: session.to_string(),
            restricted: grant.enrolment_only || user.must_change_password,
        });
        self.grants
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(session.to_string(), (Instant::now(), principal.clone()));
        Ok(principal)
    }

    /// Checks a new password against the policy and hashes it (off the async threads).
    pub async fn hash_password(&self, password: &str, username: &str) -> Result<String, AuthError> {
        self.settings
            .password
            .check(password, username)
            .map_err(|e| AuthError::BadField { field: "password", reason: e.to_string() })?;
        let password = password.to_string();
        tokio::task::spawn_blocking(move || cockpit_access::hash_password(&password))
            .await
            .map_err(|e| AuthError::Internal(e.to_string()))?
            .map_err(|e| AuthError::Internal(e.to_string()))
    }

    /// A new TOTP secret, sealed for storage.
    pub fn new_totp(&self) -> Result<(TotpSecret, Vec<u8>), AuthError> {
        let secret = TotpSecret::generate().map_err(|e| AuthError::Internal(e.to_string()))?;
        let sealed =
            self.ring.seal(secret.to_base32().as_bytes(), TOTP_AAD).map_err(|e| AuthError::Internal(e.to_string()))?;
        Ok((secret, sealed))
    }

    /// Opens a stored TOTP secret.
    pub fn totp_secret(&self, sealed: Option<&[u8]>) -> Result<TotpSecret, AuthError> {
        let sealed = sealed.ok_or_else(|| AuthError::Internal("second factor enabled without a secret".into()))?;
        let text = self.ring.open(sealed, TOTP_AAD).map_err(|e| AuthError::Internal(e.to_string()))?;
        TotpSecret::from_base32(&String::from_utf8_lossy(&text)).map_err(|e| AuthError::Internal(e.to_string()))
    }
}

/// Checks a password against its argon2id hash, off the async threads.
pub(crate) async fn verify_password(hash: &str, password: &str) -> Result<bool, AuthError> {
    let (hash, password) = (hash.to_string(), password.to_string());
    tokio::task::spawn_blocking(move || cockpit_access::verify_password(&hash, &password))
        .await
        .map_err(|e| AuthError::Internal(e.to_string()))?
        .map_err(|e| AuthError::Internal(e.to_string()))
}

/// The access token a browser's WebSocket carries as the sub-protocol `bearer.<token>`
/// (browsers cannot set headers on a WebSocket; a URL would put the token in logs).
fn websocket_token(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .find_map(|p| p.trim().strip_prefix("bearer."))
}
