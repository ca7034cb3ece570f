//! What `pgbackrest info --output=json` says about the repository, read into plain values.

use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::BackupKind;
use crate::StoreError;

/// The repository: its backups, oldest first, and the WAL archive's range.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RepositoryInfo {
    /// Every backup kept, oldest first.
    pub backups: Vec<BackupSet>,
    /// The first and last WAL segment in the archive (of the current PostgreSQL version).
    pub archive: Option<(String, String)>,
    /// pgBackRest's word on the stanza ("ok", or what is wrong).
    pub status: String,
}

/// One backup in the repository.
#[derive(Debug, Clone, serde::Serialize)]
pub struct BackupSet {
    /// pgBackRest's label, e.g. `20261207-020000F_20261208-020000I`.
    pub label: String,
    /// Full, differential or incremental.
    pub kind: BackupKind,
    /// When it began and ended: it restores to any moment from its end on.
    pub started: DateTime<Utc>,
    /// When it ended.
    pub stopped: DateTime<Utc>,
    /// The cluster's size.
    pub size: u64,
    /// What it takes in the repository (compressed, without what it shares).
    pub stored: u64,
    /// The full backup it stands on (itself for a full one).
    pub full: String,
}

#[derive(Deserialize)]
struct Stanza {
    #[serde(default)]
    backup: Vec<RawBackup>,
    #[serde(default)]
    archive: Vec<RawArchive>,
    status: RawStatus,
}

#[derive(Deserialize)]
struct RawBackup {
    label: String,
    #[serde(rename = "type")]
    kind: String,
    timestamp: RawTimes,
    info: RawSizes,
}

#[derive(Deserialize)]
struct RawTimes {
    start: i64,
    stop: i64,
}

#[derive(Deserialize)]
struct RawSizes {
    size: u64,
    repository: RawRepositorySize,
}

#[derive(Deserialize)]
struct RawRepositorySize {
    delta: u64,
}

#[derive(Deserialize)]
struct RawArchive {
    min: Option<String>,
    max: Option<String>,
}

#[derive(Deserialize)]
struct RawStatus {
    message: String,
}

impl RepositoryInfo {
    /// Reads pgBackRest's JSON (an array of stanzas; the cockpit has one).
    pub(crate) fn parse(json: &str) -> Result<RepositoryInfo, StoreError> {
        let bad = |e: String| StoreError::Backup(format!("reading pgbackrest info: {e}"));
        let stanzas: Vec<Stanza> = serde_json::from_str(json).map_err(|e| bad(e.to_string()))?;
        let Some(stanza) = stanzas.into_iter().next() else {
            return Err(bad("no stanza".into()));
        };
        let time = |s: i64| DateTime::from_timestamp(s, 0).ok_or_else(|| bad(format!("time {s}")));
        let mut backups = Vec::with_capacity(stanza.backup.len());
        for raw in stanza.backup {
            let kind = BackupKind::parse(&raw.kind).ok_or_else(|| bad(format!("backup type {}", raw.kind)))?;
            let full = raw.label.split('_').next().unwrap_or(&raw.label).to_string();
            backups.push(BackupSet {
                kind,
                started: time(raw.timestamp.start)?,
                stopped: time(raw.timestamp.stop)?,
                size: raw.info.size,
                stored: raw.info.repository.delta,
                full,
                label: raw.label,
            });
        }
        backups.sort_by(|a, b| a.started.cmp(&b.started).then_with(|| a.label.cmp(&b.label)));
        let archive = stanza.archive.into_iter().last().and_then(|a| Some((a.min?, a.max?)));
        Ok(RepositoryInfo { backups, archive, status: stanza.status.message })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shape pgBackRest 2.45 writes, cut to two backups.
    const SAMPLE: &str = r#"[{"archive":[{"database":{"id":1,"repo-key":1},"id":"15-1",
        "max":"000000010000000000000007","min":"000000010000000000000003"}],
        "backup":[
          {"archive":{"start":"000000010000000000000003","stop":"000000010000000000000003"},
           "backrest":{"format":5,"version":"2.45"},"database":{"id":1,"repo-key":1},
           "info":{"delta":40000000,"repository":{"delta":5000000,"size":5000000},"size":40000000},
           "label":"20261207-020000F","prior":null,"reference":null,
           "timestamp":{"start":1796594400,"stop":1796594410},"type":"full"},
          {"archive":{"start":"000000010000000000000006","stop":"000000010000000000000006"},
           "backrest":{"format":5,"version":"2.45"},"database":{"id":1,"repo-key":1},
           "info":{"delta":800000,"repository":{"delta":90000,"size":5000000},"size":40100000},
           "label":"20261207-020000F_20261208-020000I","prior":"20261207-020000F",
           "reference":["20261207-020000F"],
           "timestamp":{"start":1796680800,"stop":1796680803},"type":"incr"}],
        "cipher":"none","db":[{"id":1,"repo-key":1,"system-id":7,"version":"15"}],"name":"cockpit",
        "repo":[{"cipher":"none","key":1,"status":{"code":0,"message":"ok"}}],
        "status":{"code":0,"lock":{"backup":{"held":false}},"message":"ok"}}]"#;

    #[test]
    fn a_listing_reads_into_backups_and_the_archive_range() {
        let info = RepositoryInfo::parse(SAMPLE).unwrap();
        assert_eq!(info.status, "ok");
        assert_eq!(info.backups.len(), 2);
        let incr = &info.backups[1];
        assert_eq!(incr.kind, BackupKind::Incremental);
        assert_eq!(incr.full, "20261207-020000F");
        assert_eq!(incr.stored, 90_000);
        assert_eq!(incr.stopped.timestamp(), 1_796_680_803);
        assert_eq!(info.backups[0].full, info.backups[0].label);
        let (min, max) = info.archive.unwrap();
        assert_eq!((min.as_str(), max.as_str()), ("000000010000000000000003", "000000010000000000000007"));
    }

    #[test]
    fn a_stanza_without_backups_lists_none() {
        let info = RepositoryInfo::parse(
            r#"[{"archive":[],"backup":[],"name":"cockpit","status":{"code":2,"message":"no valid backups"}}]"#,
        )
        .unwrap();
        assert!(info.backups.is_empty());
        assert!(info.archive.is_none());
        assert_eq!(info.status, "no valid backups");
    }

    #[test]
    fn what_is_not_a_listing_is_an_error_not_a_panic() {
        for text in ["", "[]", "{}", r#"[{"backup":[{"label":"x"}],"status":{"message":"ok"}}]"#] {
            assert!(RepositoryInfo::parse(text).is_err(), "{text}");
        }
    }
}
