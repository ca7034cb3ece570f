//! The systems that push indicator values, each with its own bearer token (256 random
//! bits, shown once; the database keeps its SHA-256) and the indicators it may push.
//! The token is checked against the database on every push, so a source's change holds on
//! every instance at once.

use cockpit_access::{constant_time_eq, random_token, token_digest};
use cockpit_store::{AuditActor, IndicatorSourceRow, Store};

use super::IndicatorsError;

/// Registers push source `id`: its token, shown once.
pub async fn create_source(
    store: &Store,
    id: &str,
    name: &str,
    indicators: &[String],
    who: AuditActor,
) -> Result<String, IndicatorsError> {
    for (i, indicator) in indicators.iter().enumerate() {
        if store.indicator_entry(indicator).await?.is_none() {
            return Err(IndicatorsError::field(
                format!("indicators[{i}]"),
                format!("indicator `{indicator}` does not exist"),
            ));
        }
    }
    let token = random_token().map_err(|e| IndicatorsError::Random(e.to_string()))?;
    if store.create_indicator_source(id, name, &token_digest(&token), indicators, who).await? {
        Ok(token)
    } else {
        Err(IndicatorsError::Taken(format!("push source `{id}` exists")))
    }
}

/// Push source `id` if `token` is its own and it is enabled.
pub async fn authenticate(store: &Store, id: &str, token: &str) -> Result<IndicatorSourceRow, IndicatorsError> {
    let Some((source, expected)) = store.indicator_source(id).await? else {
        return Err(IndicatorsError::NotFound(format!("no push source `{id}`")));
    };
    if !constant_time_eq(token_digest(token).as_bytes(), expected.as_bytes()) {
        return Err(IndicatorsError::Unauthorized("the token is not this source's".into()));
    }
    if !source.enabled {
        return Err(IndicatorsError::Forbidden(format!("push source `{id}` is disabled")));
    }
    Ok(source)
}

/// Whether `source` may push `indicator`.
pub fn may_push(source: &IndicatorSourceRow, indicator: &str) -> bool {
    source.indicators.iter().any(|i| i == indicator)
}
