//! Personal data at rest: a reporter is sealed (cockpit-access `KeyRing`, XChaCha20-
//! Poly1305) into `cases.reporter_sealed`, and its masked form kept beside it for every
//! response, list, export and stream. Only the unmask route opens the sealed value.

use cockpit_access::{KeyRing, mask_address, mask_id_number, mask_name, mask_phone};
use cockpit_events::Reporter;
use serde_json::Value;

use cockpit_store::{Store, StoreError};

/// Associated data of every sealed reporter: a sealed value cannot be moved to another
/// column and opened as something else.
const REPORTER_AAD: &[u8] = b"cockpit:reporter:v1";

/// The sealed bytes and the masked JSON of a reporter.
pub fn seal_reporter(ring: &KeyRing, reporter: &Reporter) -> Result<(Vec<u8>, Value), String> {
    let plain = serde_json::to_vec(reporter).map_err(|e| e.to_string())?;
    let sealed = ring.seal(&plain, REPORTER_AAD).map_err(|e| e.to_string())?;
    Ok((sealed, masked(reporter)))
}

/// The reporter as everyone without the unmask permission sees them.
pub fn masked(reporter: &Reporter) -> Value {
    let mut out = serde_json::Map::new();
    type Masker = fn(&str) -> String;
    let fields: [(&str, &Option<String>, Masker); 4] = [
        ("name", &reporter.name, mask_name),
        ("phone", &reporter.phone, mask_phone),
        ("id_number", &reporter.id_number, mask_id_number),
        ("address", &reporter.address, mask_address),
    ];
    for (key, value, mask) in fields {
        if let Some(v) = value {
            out.insert(key.into(), Value::String(mask(v)));
        }
    }
    Value::Object(out)
}

/// Opens a sealed reporter.
pub fn open_reporter(ring: &KeyRing, sealed: &[u8]) -> Result<Reporter, String> {
    let plain = ring.open(sealed, REPORTER_AAD).map_err(|e| e.to_string())?;
    serde_json::from_slice(&plain).map_err(|e| e.to_string())
}

/// Seals every reporter still stored in the clear (rows from before sealing existed), and
/// with `rekey` also re-seals those sealed under a key that is no longer the active one.
/// Each row is rewritten in its own statement; returns how many were.
pub async fn reseal(store: &Store, ring: &KeyRing, rekey: bool) -> Result<u64, StoreError> {
    let rows = store.reporters_to_seal(rekey).await?;
    let mut done = 0;
    for (id, plain, sealed) in rows {
        let reporter: Reporter = match (plain, sealed) {
            (Some(plain), _) => {
                serde_json::from_value(plain).map_err(|e| StoreError::Corrupt(format!("case {id}: {e}")))?
            }
            (None, Some(sealed)) if ring.needs_rekey(&sealed) => {
                open_reporter(ring, &sealed).map_err(|e| StoreError::Corrupt(format!("case {id}: {e}")))?
            }
            _ => continue,
        };
        let (sealed, masked) = seal_reporter(ring, &reporter).map_err(StoreError::Corrupt)?;
        store.set_sealed_reporter(id, &sealed, &masked).await?;
        done += 1;
    }
    Ok(done)
}

/// Re-seals the users' TOTP secrets that were sealed under an older key: how many.
pub async fn reseal_totp(store: &Store, ring: &KeyRing, aad: &[u8]) -> Result<u64, StoreError> {
    let rows = store.sealed_totp_secrets().await?;
    let mut done = 0;
    for (id, sealed) in rows {
        if !ring.needs_rekey(&sealed) {
            continue;
        }
        let plain = ring.open(&sealed, aad).map_err(|e| StoreError::Corrupt(format!("user {id}: {e}")))?;
        let resealed = ring.seal(&plain, aad).map_err(|e| StoreError::Corrupt(format!("user {id}: {e}")))?;
        store.set_sealed_totp(id, &resealed).await?;
        done += 1;
    }
    Ok(done)
}
