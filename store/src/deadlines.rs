//! The deadline scheduler's statements: claiming due warnings and overdue alarms with
//! `FOR NO KEY UPDATE SKIP LOCKED` (each fires once across instances; a reference to the
//! case, such as a duplicate created meanwhile, does not wait for the claim, which would
//! deadlock on the live log's counter), acknowledging a case's alarms, and forgetting old
//! action keys.

use chrono::{DateTime, TimeDelta, Utc};
use cockpit_events::{Actor, CaseId};

use crate::{Store, StoreError, open_statuses};

impl Store {
    /// Forgets the action keys made before `cutoff`; how many went.
    pub async fn prune_action_keys(&self, cutoff: DateTime<Utc>) -> Result<u64, StoreError> {
        let done =
            sqlx::query("DELETE FROM action_keys WHERE created_at < $1").bind(cutoff).execute(&self.pool).await?;
        Ok(done.rows_affected())
    }
}

impl Store {
    /// Raises every warning and alarm due at `now`: how many warnings and overdue alarms.
    /// Each kind is claimed, marked, recorded and put on the live log (the case changed, and
    /// an alarm) in one transaction.
    pub async fn raise_due_alarms(&self, now: DateTime<Utc>, realarm: TimeDelta) -> Result<(u64, u64), StoreError> {
        let warnings = raise(
            self,
            "WITH due AS (
                 SELECT id FROM cases
                 WHERE NOT warned AND warn_at <= $1 AND closed_at IS NULL AND status = ANY($2)
                 ORDER BY warn_at LIMIT 1000 FOR NO KEY UPDATE SKIP LOCKED),
             marked AS (UPDATE cases c SET warned = true FROM due WHERE c.id = due.id RETURNING c.*),
             raised AS (INSERT INTO case_alarms (case_id, kind, raised_at) SELECT id, 'warning', $1 FROM marked)
             SELECT id, street_code, village_code, grid_code, assignee, ST_X(location), ST_Y(location) FROM marked",
            "warning",
            now,
            None,
        )
        .await?;
        let overdue_alarms = raise(
            self,
            "WITH due AS (
                 SELECT id FROM cases
                 WHERE next_alarm_at <= $1 AND closed_at IS NULL AND status = ANY($2)
                 ORDER BY next_alarm_at LIMIT 1000 FOR NO KEY UPDATE SKIP LOCKED),
             marked AS (
                 UPDATE cases c SET overdue = true, warned = true, next_alarm_at = $1 + $3
                 FROM due WHERE c.id = due.id RETURNING c.*),
             raised AS (INSERT INTO case_alarms (case_id, kind, raised_at) SELECT id, 'overdue', $1 FROM marked)
             SELECT id, street_code, village_code, grid_code, assignee, ST_X(location), ST_Y(location) FROM marked",
            "overdue",
            now,
            Some(realarm),
        )
        .await?;
        Ok((warnings, overdue_alarms))
    }
}

type Marked =
    (i64, Option<String>, Option<String>, Option<String>, Option<serde_json::Value>, Option<f64>, Option<f64>);

/// Runs one claiming statement and logs, for each case it marked, the case's change and
/// the alarm (`kind`) for the live streams, in the same transaction.
async fn raise(
    store: &Store,
    sql: &'static str,
    kind: &str,
    now: DateTime<Utc>,
    realarm: Option<TimeDelta>,
) -> Result<u64, StoreError> {
    let mut tx = store.pool.begin().await?;
    let mut query = sqlx::query_as::<_, Marked>(sql).bind(now).bind(open_statuses());
    if let Some(realarm) = realarm {
        query = query.bind(realarm);
    }
    let marked: Vec<Marked> = query.fetch_all(&mut *tx).await?;
    if marked.is_empty() {
        return Ok(0);
    }
    let mut entries = Vec::with_capacity(marked.len() * 2);
    for (id, street, village, grid, assignee, lon, lat) in &marked {
        let regions: Vec<String> = [street, village, grid].into_iter().flatten().cloned().collect();
        let position = lon.zip(*lat);
        entries.push(crate::live_log::NewEntry {
            channel: cockpit_live::Channel::Cases,
            key: format!("case:{id}"),
            regions: regions.clone(),
            position,
            layer: None,
            assignee: assignee.clone(),
            payload: serde_json::json!({"id": id, "change": kind}),
        });
        entries.push(crate::live_log::NewEntry {
            channel: cockpit_live::Channel::Alarms,
            key: format!("case:{id}:{kind}"),
            regions,
            position,
            layer: None,
            assignee: None,
            payload: serde_json::json!({"source": "deadline", "case_id": id, "kind": kind, "raised_at": now}),
        });
    }
    crate::live_log::append(&mut tx, &entries).await?;
    tx.commit().await?;
    Ok(marked.len() as u64)
}

impl Store {
    /// Stops a case's re-alarms and marks its alarms acknowledged. False if no such case.
    /// Before the deadline there is nothing to stop: acknowledging a warning leaves the first
    /// overdue alarm (and the overdue flag it sets) due as before.
    pub async fn acknowledge_case_alarms(
        &self,
        id: CaseId,
        actor: &Actor,
        now: DateTime<Utc>,
        who: crate::AuditActor,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        let found = sqlx::query(
            "UPDATE cases SET next_alarm_at = CASE WHEN overdue THEN NULL ELSE next_alarm_at END WHERE id = $1",
        )
        .bind(id.0)
        .execute(&mut *tx)
        .await?;
        if found.rows_affected() == 0 {
            return Ok(false);
        }
        sqlx::query(
            "UPDATE case_alarms SET acknowledged_at = $2, acknowledged_by = $3 WHERE case_id = $1 AND acknowledged_at IS NULL",
        )
        .bind(id.0)
        .bind(now)
        .bind(actor.user.as_str())
        .execute(&mut *tx)
        .await?;
        let entry = crate::AuditEntry {
            who,
            action: "case.acknowledge_alarms".into(),
            object: format!("case:{}", id.0),
            result: "ok".into(),
            detail: serde_json::json!({}),
        };
        Store::audit(&mut tx, now, &[entry]).await?;
        tx.commit().await?;
        Ok(true)
    }
}
