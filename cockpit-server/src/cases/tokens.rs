//! The bearer tokens of the source systems that deliver through the intake gateway.
//!
//! No token ships with the sample city: a source with a field mapping and no token in
//! `sources.json` gets a generated one at the first start, printed once on the operator's
//! console and kept in `<data_home>/source-tokens.txt` (mode 600), like the first
//! accounts' passwords. The database keeps only its SHA-256. An operator issues a new one
//! with `POST /api/sources/{id}/token`; the old one stops working at once, on every
//! instance, since the gateway reads the hash from the database.

use std::path::Path;

use cockpit_access::{random_token, token_digest};

use super::CaseRules;
use cockpit_store::{AuditActor, Store, StoreError};

/// Why a token could not be issued.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// No such source, or one without a field mapping (it never calls the gateway).
    #[error("source `{0}` does not deliver through the gateway")]
    NotGateway(String),
    /// The system's randomness failed.
    #[error("no randomness for a token: {0}")]
    Random(String),
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Issues a new token for gateway source `id`, replacing its old one; the token in the
/// clear is returned once and never stored.
pub async fn issue_source_token(
    store: &Store,
    rules: &CaseRules,
    id: &str,
    who: &AuditActor,
) -> Result<String, TokenError> {
    if rules.sources.get(id).is_none_or(|s| s.mapping.is_none()) {
        return Err(TokenError::NotGateway(id.to_string()));
    }
    let token = random_token().map_err(|e| TokenError::Random(e.to_string()))?;
    if !store.set_source_token(id, &token_digest(&token), false, who).await? {
        return Err(TokenError::NotGateway(id.to_string()));
    }
    Ok(token)
}

/// Gives every gateway source without a token one, at the first start; writes the new
/// tokens to `data_home/source-tokens.txt` (mode 600, appended) and to standard output.
/// Another instance starting at the same moment issues none twice.
pub async fn bootstrap_source_tokens(store: &Store, rules: &CaseRules, data_home: &Path) -> anyhow::Result<()> {
    let mut lines = Vec::new();
    for source in rules.sources.values().filter(|s| s.mapping.is_some()) {
        let has_one = store.source_gate(&source.id).await?.is_some_and(|(_, hash)| hash.is_some());
        if has_one {
            continue;
        }
        let token = random_token().map_err(|e| anyhow::anyhow!("{e}"))?;
        if store.set_source_token(&source.id, &token_digest(&token), true, &AuditActor::system()).await? {
            lines.push(format!("{:<24} {token}", source.id));
        }
    }
    if lines.is_empty() {
        return Ok(());
    }
    let text = format!(
        "# Source tokens issued at the first start ({}). A source system sends its own as\n\
         #   Authorization: Bearer <token>   to POST /api/intake/<source>\n\
         # Only their SHA-256 is stored; POST /api/sources/<source>/token issues a new one.\n{}\n",
        chrono::Utc::now().to_rfc3339(),
        lines.join("\n")
    );
    // The operator's console, not the log: tokens never go to the log.
    crate::auth::tell_operator(&data_home.join("source-tokens.txt"), &text, true)
}
