//! The server's secrets on disk: the key that signs access tokens and the key ring that
//! seals personal data. Read from the configured files; when a file does not exist yet it
//! is generated (readable by the server's user only), so a first start needs nothing.
//! Several instances must be given the same files.

use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

use anyhow::Context;
use cockpit_access::{KeyRing, TokenKey};

/// The token-signing key at `path` (base64 of 32 bytes), created when missing.
pub fn load_or_create_token_key(path: &Path) -> anyhow::Result<TokenKey> {
    if !path.exists() {
        let key = TokenKey::generate().map_err(|e| anyhow::anyhow!("{e}"))?;
        write_secret(path, &format!("{}\n", key.to_base64()))?;
    }
    let text = read_secret(path)?;
    TokenKey::from_base64(text.trim()).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

/// The personal-data key ring at `path` (one `<id> <base64 key>` per line, the last one
/// active), created with one key when missing.
pub fn load_or_create_key_ring(path: &Path) -> anyhow::Result<KeyRing> {
    if !path.exists() {
        let line = KeyRing::generate_line("k1").map_err(|e| anyhow::anyhow!("{e}"))?;
        write_secret(
            path,
            &format!(
                "# Keys that seal personal data (reporters' names, phones, ID numbers, addresses).\n\
                 # The last line is the active key. To rotate: append a new line, restart, run\n\
                 # `cockpit-server rekey`, then remove the old line.\n{line}"
            ),
        )?;
    }
    let text = read_secret(path)?;
    KeyRing::parse(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

fn read_secret(path: &Path) -> anyhow::Result<String> {
    let mode = std::fs::metadata(path).with_context(|| format!("reading {}", path.display()))?.permissions().mode();
    if mode & 0o077 != 0 {
        tracing::warn!(file = %path.display(), mode = format!("{:o}", mode & 0o777), "a secret file is readable by others; chmod 600 it");
    }
    std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))
}

/// Writes a new secret file atomically: complete or absent, never half-written, and
/// never replacing one that another process (or a test server) created first.
fn write_secret(path: &Path, text: &str) -> anyhow::Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
    }
    let nonce = cockpit_access::random_id().map_err(|e| anyhow::anyhow!("{e}"))?;
    let draft = path.with_extension(format!("new-{nonce}"));
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&draft)
        .with_context(|| format!("creating {}", draft.display()))?;
    file.write_all(text.as_bytes())?;
    file.sync_all()?;
    let linked = std::fs::hard_link(&draft, path);
    std::fs::remove_file(&draft).ok();
    match linked {
        Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => {
            Err(e).with_context(|| format!("creating {}", path.display()))
        }
        _ => Ok(()),
    }
}
