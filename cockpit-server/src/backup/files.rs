//! The attachments' copies in the backup folder, to the same recovery point as the
//! database: files are content-addressed and never deleted, and the server writes each new
//! one into `<backup folder>/attachments` before the row that names it (`AttachmentStore::
//! with_mirror`). So whatever moment the database is restored to, every attachment row it
//! holds has its file among the copies; `restore` brings back those the data folder lacks.
//! `sweep` copies the files written before the copies were kept.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::attachments::{content_path, write_content};

/// The copies' folder inside the backup folder.
pub fn mirror_folder(backup_folder: &Path) -> PathBuf {
    backup_folder.join("attachments")
}

/// What a sweep or a restore of files did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Copied {
    /// Files copied.
    pub copied: usize,
    /// Files that were there already.
    pub present: usize,
    /// Files named but found nowhere, or whose content failed its digest.
    pub missing: usize,
}

/// Copies every file under `root` that `mirror` lacks.
pub fn sweep(root: &Path, mirror: &Path) -> std::io::Result<Copied> {
    let mut done = Copied::default();
    let Ok(prefixes) = std::fs::read_dir(root) else { return Ok(done) };
    for prefix in prefixes {
        let prefix = prefix?;
        if !prefix.file_type()?.is_dir() {
            continue;
        }
        for file in std::fs::read_dir(prefix.path())? {
            let file = file?;
            let name = file.file_name();
            let Some(sha256) = name.to_str().filter(|n| n.len() == 64 && !n.starts_with('.')) else { continue };
            if copy(root, mirror, sha256)? {
                done.copied += 1;
            } else {
                done.present += 1;
            }
        }
    }
    Ok(done)
}

/// Brings back into `root`, from `mirror`, the files of `digests` that `root` lacks.
pub fn restore(root: &Path, mirror: &Path, digests: &[String]) -> std::io::Result<Copied> {
    let mut done = Copied::default();
    for sha256 in digests {
        if content_path(root, sha256).exists() {
            done.present += 1;
        } else if content_path(mirror, sha256).exists() && copy(mirror, root, sha256)? {
            done.copied += 1;
        } else {
            tracing::error!(sha256, "an attachment's file is in neither the data folder nor the backup folder");
            done.missing += 1;
        }
    }
    Ok(done)
}

/// Copies content `sha256` from `from` to `to` when `to` lacks it and it matches its
/// digest: whether it copied.
fn copy(from: &Path, to: &Path, sha256: &str) -> std::io::Result<bool> {
    if content_path(to, sha256).exists() {
        return Ok(false);
    }
    let bytes = std::fs::read(content_path(from, sha256))?;
    if hex::encode(Sha256::digest(&bytes)) != sha256 {
        return Err(std::io::Error::other(format!("{} failed its digest", content_path(from, sha256).display())));
    }
    write_content(to, sha256, &bytes)?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sweep_copies_what_the_copies_lack_and_a_restore_brings_back_what_rows_name() {
        let base = std::env::temp_dir().join(format!("cockpit-backup-files-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&base);
        let (root, mirror) = (base.join("attachments"), base.join("backup/attachments"));
        let content = |text: &str| (hex::encode(Sha256::digest(text.as_bytes())), text.as_bytes().to_vec());
        let (a, a_bytes) = content("a photo");
        let (b, b_bytes) = content("a recording");
        write_content(&root, &a, &a_bytes).unwrap();
        write_content(&root, &b, &b_bytes).unwrap();
        assert_eq!(sweep(&root, &mirror).unwrap(), Copied { copied: 2, present: 0, missing: 0 });
        assert_eq!(sweep(&root, &mirror).unwrap(), Copied { copied: 0, present: 2, missing: 0 });
        // The data folder lost; the restored rows name a, b and one never copied.
        std::fs::remove_dir_all(&root).unwrap();
        let (c, _) = content("never uploaded");
        let done = restore(&root, &mirror, &[a.clone(), b.clone(), c]).unwrap();
        assert_eq!(done, Copied { copied: 2, present: 0, missing: 1 });
        assert_eq!(std::fs::read(content_path(&root, &a)).unwrap(), a_bytes);
        // A copy that was tampered with is refused, not restored.
        std::fs::remove_dir_all(&root).unwrap();
        std::fs::write(content_path(&mirror, &b), b"changed").unwrap();
        assert!(restore(&root, &mirror, &[b]).is_err());
        std::fs::remove_dir_all(&base).unwrap();
    }
}
