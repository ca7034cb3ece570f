//! The schedule and the retention, as plain values: which backup is due now, which are
//! kept, and whether the WAL archive keeps the recovery point. No clock, no files: `now`,
//! the city's offset and the repository's listing come in.
//!
//! The tender (L4878): the database backed up incrementally every day and kept 10 days,
//! in full every week and kept a month, in full every month and kept half a year.

use chrono::{DateTime, Datelike, FixedOffset, NaiveTime, TimeDelta, Utc, Weekday};
use cockpit_store::{ArchiveStatus, BackupKind, BackupSet};

/// Time left for a closed WAL segment to reach the repository within the recovery point.
pub const PUSH_MARGIN_SECONDS: u32 = 10;

/// When backups are taken and how long they are kept.
#[derive(Debug, Clone)]
pub struct Schedule {
    /// The local hour of the daily backup.
    pub hour: u32,
    /// The day of the full backup.
    pub full_weekday: Weekday,
    /// Incremental backups are kept at least this long.
    pub incremental_days: u32,
    /// Full backups are kept at least this long.
    pub weekly_full_days: u32,
    /// The first full backup of a month is kept this many months after it.
    pub monthly_full_months: u32,
}

impl Schedule {
    /// The backup due at `now` in a city at `offset`, given those in the repository: a
    /// full one when there is none, or none in the last week; else the day's, once the
    /// day's hour has passed and none began since (a server down at the hour catches up).
    pub fn due(&self, now: DateTime<Utc>, offset: FixedOffset, backups: &[BackupSet]) -> Option<BackupKind> {
        let last_full = backups.iter().filter(|b| b.kind == BackupKind::Full).map(|b| b.started).max();
        let Some(last_full) = last_full else { return Some(BackupKind::Full) };
        let slot = self.last_slot(now, offset);
        let last = backups.iter().map(|b| b.started).max().unwrap_or(last_full);
        if last >= slot {
            return None;
        }
        let full_day = slot.with_timezone(&offset).weekday() == self.full_weekday;
        if full_day || now - last_full >= TimeDelta::days(7) {
            Some(BackupKind::Full)
        } else {
            Some(BackupKind::Incremental)
        }
    }

    /// The labels to expire at `now`; expiring one takes those that depend on it along.
    /// A full backup goes once it is older than `weekly_full_days` and is not the first of
    /// a month within `monthly_full_months`; a full backup's incremental and differential
    /// ones go together, once the newest of them is older than `incremental_days` (an
    /// incremental one stands on the one before it). The newest full backup always stays.
    pub fn expired(&self, now: DateTime<Utc>, offset: FixedOffset, backups: &[BackupSet]) -> Vec<String> {
        let mut fulls: Vec<&BackupSet> = backups.iter().filter(|b| b.kind == BackupKind::Full).collect();
        fulls.sort_by_key(|b| b.started);
        let Some(newest) = fulls.last().map(|b| b.label.clone()) else { return Vec::new() };
        let month = |t: DateTime<Utc>| {
            let local = t.with_timezone(&offset);
            local.year() * 12 + local.month0() as i32
        };
        let this_month = month(now);
        let mut first_of_month = std::collections::BTreeMap::new();
        for full in &fulls {
            first_of_month.entry(month(full.started)).or_insert(full.label.as_str());
        }
        let monthly_kept = |full: &BackupSet| {
            let m = month(full.started);
            first_of_month.get(&m) == Some(&full.label.as_str()) && this_month - m <= self.monthly_full_months as i32
        };
        let mut expired = Vec::new();
        for full in &fulls {
            let old = now - full.started > TimeDelta::days(i64::from(self.weekly_full_days));
            if old && !monthly_kept(full) && full.label != newest {
                expired.push(full.label.clone());
                continue;
            }
            let chain: Vec<&BackupSet> =
                backups.iter().filter(|b| b.kind != BackupKind::Full && b.full == full.label).collect();
            let newest_in_chain = chain.iter().map(|b| b.started).max();
            let chain_old =
                newest_in_chain.is_some_and(|t| now - t > TimeDelta::days(i64::from(self.incremental_days)));
            // A newer full backup must exist, or the chain is still growing.
            if chain_old && full.label != newest {
                // Each incremental stands on the one before; the first takes all along,
                // and differential ones stand on the full one alone.
                let mut heads: Vec<&BackupSet> =
                    chain.iter().copied().filter(|b| b.kind == BackupKind::Differential).collect();
                if let Some(first) =
                    chain.iter().copied().filter(|b| b.kind == BackupKind::Incremental).min_by_key(|b| b.started)
                {
                    heads.push(first);
                }
                expired.extend(heads.into_iter().map(|b| b.label.clone()));
            }
        }
        expired
    }

    /// The latest moment at the schedule's hour at or before `now`.
    fn last_slot(&self, now: DateTime<Utc>, offset: FixedOffset) -> DateTime<Utc> {
        let local = now.with_timezone(&offset);
        let at = NaiveTime::from_hms_opt(self.hour.min(23), 0, 0).unwrap_or(NaiveTime::MIN);
        let today = local.date_naive().and_time(at);
        let slot = if local.naive_local() >= today { today } else { today - TimeDelta::days(1) };
        (slot - TimeDelta::seconds(i64::from(offset.local_minus_utc()))).and_utc()
    }
}

/// The WAL archive judged against the recovery point.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct ArchiveLag {
    /// How long the oldest closed segment has waited for the archive (0: none waits).
    pub waiting_seconds: i64,
    /// The most a lost disk would cost now: the wait, plus the open segment's time.
    pub recovery_point_seconds: i64,
    /// The last attempt failed.
    pub failing: bool,
    /// Within the recovery point and not failing.
    pub ok: bool,
}

/// Judges `status` at `now` against `rpo_seconds`, segments closing every
/// `archive_timeout_seconds`.
pub fn archive_lag(
    status: &ArchiveStatus,
    now: DateTime<Utc>,
    rpo_seconds: u32,
    archive_timeout_seconds: u32,
) -> ArchiveLag {
    let waiting_seconds = status.oldest_pending_at.map(|t| (now - t).num_seconds().max(0)).unwrap_or(0);
    let failing = match (status.last_failed_at, status.last_archived_at) {
        (Some(failed), Some(archived)) => failed > archived,
        (Some(_), None) => true,
        _ => false,
    };
    let recovery_point_seconds = waiting_seconds + i64::from(archive_timeout_seconds);
    let ok = status.enabled && !failing && recovery_point_seconds <= i64::from(rpo_seconds);
    ArchiveLag { waiting_seconds, recovery_point_seconds, failing, ok }
}

/// PostgreSQL's `archive_timeout` for a recovery point of `rpo_seconds`.
pub fn archive_timeout(rpo_seconds: u32) -> u32 {
    rpo_seconds.saturating_sub(PUSH_MARGIN_SECONDS).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn china() -> FixedOffset {
        FixedOffset::east_opt(8 * 3600).unwrap()
    }

    /// A moment in the city's time, "2026-12-06 02:00".
    fn at(local: &str) -> DateTime<Utc> {
        chrono::NaiveDateTime::parse_from_str(local, "%Y-%m-%d %H:%M")
            .unwrap()
            .and_local_timezone(china())
            .unwrap()
            .to_utc()
    }

    fn schedule() -> Schedule {
        Schedule {
            hour: 2,
            full_weekday: Weekday::Sun,
            incremental_days: 10,
            weekly_full_days: 31,
            monthly_full_months: 6,
        }
    }

    fn set(label: &str, kind: BackupKind, full: &str, local: &str) -> BackupSet {
        BackupSet {
            label: label.into(),
            kind,
            started: at(local),
            stopped: at(local) + TimeDelta::minutes(1),
            size: 1,
            stored: 1,
            full: full.into(),
        }
    }

    /// The repository the schedule makes from `first` (a Sunday) to `last`, daily at 02:00.
    fn history(first: &str, days: i64) -> Vec<BackupSet> {
        let s = schedule();
        let mut backups: Vec<BackupSet> = Vec::new();
        let mut full = String::new();
        for day in 0..days {
            let now = at(first) + TimeDelta::days(day) + TimeDelta::minutes(1);
            let kind = s.due(now, china(), &backups).unwrap();
            let local = now.with_timezone(&china()).format("%Y-%m-%d %H:%M").to_string();
            let label = match kind {
                BackupKind::Full => {
                    full = format!("F{day}");
                    full.clone()
                }
                _ => format!("{full}_I{day}"),
            };
            backups.push(set(&label, kind, &full, &local));
            assert_eq!(s.due(now, china(), &backups), None, "one a day");
        }
        backups
    }

    /// What pgBackRest does with `expire --set`: the backup and those standing on it go.
    fn apply(backups: &mut Vec<BackupSet>, expired: &[String]) {
        for label in expired {
            let Some(gone) = backups.iter().find(|b| &b.label == label).cloned() else { continue };
            backups.retain(|b| match gone.kind {
                BackupKind::Full => b.full != gone.label,
                BackupKind::Differential => b.label != gone.label,
                BackupKind::Incremental => {
                    !(b.full == gone.full && b.kind == BackupKind::Incremental && b.started >= gone.started)
                }
            });
        }
    }

    #[test]
    fn a_full_backup_first_then_daily_incrementals_and_a_full_one_on_sundays() {
        let s = schedule();
        assert_eq!(s.due(at("2026-12-02 15:00"), china(), &[]), Some(BackupKind::Full));
        let backups = vec![set("F", BackupKind::Full, "F", "2026-12-02 15:00")];
        // Wednesday's taken; Thursday's is due at 02:00 local, not before.
        assert_eq!(s.due(at("2026-12-03 01:59"), china(), &backups), None);
        assert_eq!(s.due(at("2026-12-03 02:00"), china(), &backups), Some(BackupKind::Incremental));
        // 2026-12-06 is a Sunday.
        assert_eq!(s.due(at("2026-12-06 02:30"), china(), &backups), Some(BackupKind::Full));
        // A server down at the hour catches up at its start; a week without a full one
        // makes a full one whatever the day.
        assert_eq!(s.due(at("2026-12-05 23:00"), china(), &backups), Some(BackupKind::Incremental));
        let monday = vec![set("F", BackupKind::Full, "F", "2026-12-07 02:00")];
        assert_eq!(s.due(at("2026-12-14 03:00"), china(), &monday), Some(BackupKind::Full));
    }

    #[test]
    fn retention_keeps_ten_days_of_incrementals_a_month_of_fulls_and_half_a_year_of_monthly_ones() {
        let s = schedule();
        // A year of daily backups from Sunday 2026-01-04.
        let mut backups = history("2026-01-04 02:00", 365);
        let now = backups.last().unwrap().started + TimeDelta::hours(1);
        let expired = s.expired(now, china(), &backups);
        apply(&mut backups, &expired);
        let age = |b: &BackupSet| (now - b.started).num_days();
        let fulls: Vec<&BackupSet> = backups.iter().filter(|b| b.kind == BackupKind::Full).collect();
        // Every incremental of the last ten days, and their fulls, are there.
        for b in history("2026-01-04 02:00", 365).iter().filter(|b| (now - b.started).num_days() < 10) {
            assert!(backups.iter().any(|k| k.label == b.label), "{} kept", b.label);
        }
        // Fulls: every one of the last 31 days, one a month for six months, none older.
        assert!(fulls.iter().filter(|b| age(b) <= 31).count() >= 4);
        let monthly: Vec<&&BackupSet> = fulls.iter().filter(|b| age(b) > 31).collect();
        assert!((5..=6).contains(&monthly.len()), "{:?}", monthly.iter().map(|b| &b.label).collect::<Vec<_>>());
        assert!(monthly.iter().all(|b| b.started.with_timezone(&china()).day() <= 7), "the first of its month");
        assert!(fulls.iter().all(|b| age(b) <= 7 * 31), "none older than half a year and a month");
        // Incrementals older than 17 days (ten days and the rest of a week's chain) are gone.
        assert!(backups.iter().filter(|b| b.kind != BackupKind::Full).all(|b| age(b) <= 17));
        assert!(expired.len() > 40, "{}", expired.len());
        // Expiring again changes nothing.
        assert!(s.expired(now, china(), &backups).is_empty(), "{:?}", s.expired(now, china(), &backups));
    }

    #[test]
    fn the_newest_full_backup_stays_however_old() {
        let s = schedule();
        let old = vec![
            set("F1", BackupKind::Full, "F1", "2025-01-05 02:00"),
            set("F1_I", BackupKind::Incremental, "F1", "2025-01-06 02:00"),
            set("F2", BackupKind::Full, "F2", "2025-02-09 02:00"),
        ];
        assert_eq!(s.expired(at("2026-12-01 00:00"), china(), &old), ["F1"]);
    }

    fn status(pending_since: Option<DateTime<Utc>>, failed: bool) -> ArchiveStatus {
        let now = at("2026-12-06 12:00");
        ArchiveStatus {
            enabled: true,
            last_archived_wal: Some("000000010000000000000009".into()),
            last_archived_at: Some(now - TimeDelta::seconds(30)),
            failed_count: i64::from(failed),
            last_failed_at: failed.then(|| now - TimeDelta::seconds(5)),
            pending_segments: Some(i64::from(pending_since.is_some())),
            oldest_pending_at: pending_since,
        }
    }

    #[test]
    fn the_archive_keeps_the_recovery_point_until_a_segment_waits_or_a_push_fails() {
        let now = at("2026-12-06 12:00");
        let timeout = archive_timeout(60);
        assert_eq!(timeout, 50);
        let lag = archive_lag(&status(None, false), now, 60, timeout);
        assert!(lag.ok && lag.waiting_seconds == 0 && lag.recovery_point_seconds == 50, "{lag:?}");
        let lag = archive_lag(&status(Some(now - TimeDelta::seconds(5)), false), now, 60, timeout);
        assert!(lag.ok, "{lag:?}");
        let lag = archive_lag(&status(Some(now - TimeDelta::seconds(45)), false), now, 60, timeout);
        assert!(!lag.ok && lag.recovery_point_seconds == 95, "{lag:?}");
        let lag = archive_lag(&status(None, true), now, 60, timeout);
        assert!(!lag.ok && lag.failing, "{lag:?}");
        let off = ArchiveStatus { enabled: false, ..status(None, false) };
        assert!(!archive_lag(&off, now, 60, timeout).ok);
    }
}
