//! Creating cases: what a batch of new cases needs looked up (ids, duplicate candidates,
//! grid workers) and the one statement that writes them with their first timeline entries,
//! audit records and live log entries.

use chrono::{DateTime, Utc};
use cockpit_events::{CaseId, CaseState, TimelineEntry};
use serde_json::Value;
use sqlx::AssertSqlSafe;

use super::{CASE_COLUMNS, CaseRow};
use crate::access::GRID_WORKERS;
use crate::{AuditActor, Store, StoreError};

/// What a case about to be created needs looked up: its duplicate candidates (open cases
/// of `category` within `metres` of `point` that happened since `since`) and its grid's
/// worker.
#[derive(Debug, Clone)]
pub struct NearQuery {
    /// The category.
    pub category: String,
    /// WGS84; none means no candidates.
    pub point: Option<(f64, f64)>,
    /// The distance.
    pub metres: f64,
    /// The start of the time window.
    pub since: DateTime<Utc>,
    /// The grid the case is in, if any.
    pub grid: Option<String>,
}

/// The answer to a [`NearQuery`]: the new case's id, its duplicate candidates and the
/// username of its grid's full-time worker, if the grid has one with an account.
#[derive(Debug, Clone)]
pub struct Lookup {
    /// The id the new case will have.
    pub id: i64,
    /// Open cases it may duplicate.
    pub near: Vec<NearCase>,
    /// The grid worker's username.
    pub worker: Option<String>,
}

/// A candidate: id, lon, lat, occurred at.
pub type NearCase = (i64, f64, f64, DateTime<Utc>);

/// Everything a new case row needs.
#[allow(missing_docs)] // One field per column or setting; see migrations/0001_cases.sql and the config.
#[derive(Debug, Clone)]
pub struct InsertCase {
    /// From [`Store::next_case_ids`], so that cases of one batch can name each other.
    pub id: i64,
    pub source_id: String,
    pub source_ref: Option<String>,
    pub category: String,
    pub urgency: String,
    pub tags: Vec<String>,
    pub title: String,
    pub description: String,
    /// WGS84.
    pub location: Option<(f64, f64)>,
    pub outside_district: bool,
    pub street_code: Option<String>,
    pub village_code: Option<String>,
    pub grid_code: Option<String>,
    pub address: Option<String>,
    /// Sealed with the personal-data key ring, and masked for every response.
    pub reporter_sealed: Option<Vec<u8>>,
    pub reporter_masked: Option<Value>,
    pub occurred_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    /// Who created it, for the audit trail.
    pub who: AuditActor,
    /// The lifecycle state it starts in (after automatic dispatch, when a rule matched).
    pub state: CaseState,
    /// Its first timeline entries (intake, and automatic dispatch), in order.
    pub timeline: Vec<TimelineEntry>,
    pub duplicate_of: Option<i64>,
    pub deadline_limit: Option<String>,
    pub started_at: Option<DateTime<Utc>>,
    pub warn_at: Option<DateTime<Utc>>,
    pub due_at: Option<DateTime<Utc>>,
}

impl Store {
    /// Inserts cases with their first timeline entries, their audit records and their live
    /// log entries, in one statement (so one commit), except those whose source already
    /// delivered the same reference. For each case, in
    /// order: the new row, or the id of the one delivered before.
    pub async fn create_cases(&self, cases: &[InsertCase]) -> Result<Vec<Result<CaseRow, CaseId>>, StoreError> {
        if cases.is_empty() {
            return Ok(Vec::new());
        }
        // Ids come first, so that the timeline entries can name their case in the same statement.
        let ids: Vec<i64> = cases.iter().map(|c| c.id).collect();
        let col = |f: &dyn Fn(&InsertCase) -> Option<&str>| cases.iter().map(f).collect::<Vec<_>>();
        let mut entry_case = Vec::new();
        let mut entries = Vec::new();
        for (case, id) in cases.iter().zip(&ids) {
            for entry in &case.timeline {
                entry_case.push(*id);
                entries.push(entry);
            }
        }
        // One statement, so one transaction committing on its own: the cases, their first
        // timeline entries, their audit records and their live log entries. Audit records
        // are stored, so hashed, at microsecond precision.
        let at = cases.iter().map(|c| c.created_at).max().unwrap_or_else(Utc::now);
        let audit_at = DateTime::from_timestamp_micros(at.timestamp_micros()).unwrap_or(at);
        let inserted: Vec<CaseRow> = sqlx::query_as(AssertSqlSafe(format!(
            "WITH input AS (
                 SELECT * FROM unnest($1::int8[], $2::text[], $3::text[], $4::text[], $5::text[], $6::jsonb[],
                     $7::text[], $8::text[], $9::float8[], $10::float8[], $11::bool[], $12::text[], $13::text[],
                     $14::text[], $15::text[], $16::jsonb[], $17::timestamptz[], $18::timestamptz[], $19::text[],
                     $20::jsonb[], $21::text[], $22::int8[], $23::text[], $24::timestamptz[], $25::timestamptz[],
                     $26::timestamptz[], $35::bytea[], $36::text[], $37::text[], $38::text[], $39::text[])
                 AS i(id, source_id, source_ref, category, urgency, tags, title, description, lon, lat,
                     outside_district, street_code, village_code, grid_code, address, reporter_masked, occurred_at,
                     created_at, status, assignee, dispatch_rule, duplicate_of, deadline_limit, started_at, warn_at,
                     due_at, reporter_sealed, actor, role, address_from, audit_detail)),
             c AS (
                 INSERT INTO cases (id, source_id, source_ref, category, urgency, tags, title, description, location,
                     outside_district, street_code, village_code, grid_code, address, reporter_masked, occurred_at,
                     created_at, status, assignee, dispatch_rule, duplicate_of, deadline_limit, started_at, warn_at,
                     due_at, next_alarm_at, updated_at, reporter_sealed)
                 SELECT id, source_id, source_ref, category, urgency,
                     ARRAY(SELECT jsonb_array_elements_text(tags)), title, description,
                     CASE WHEN lon IS NULL THEN NULL ELSE ST_SetSRID(ST_MakePoint(lon, lat), 4326) END,
                     outside_district, street_code, village_code, grid_code, address, reporter_masked, occurred_at,
                     created_at, status, assignee, dispatch_rule, duplicate_of, deadline_limit, started_at, warn_at,
                     due_at, due_at, created_at, reporter_sealed
                 FROM input ORDER BY id
                 ON CONFLICT (source_id, source_ref) DO NOTHING
                 RETURNING {CASE_COLUMNS}),
             t AS (
                 INSERT INTO case_timeline (case_id, at, actor_user, actor_role, action, from_status, to_status, content)
                 SELECT e.case_id, e.at, e.actor_user, e.actor_role, e.action, e.from_status, e.to_status, e.content
                 FROM unnest($27::int8[], $28::timestamptz[], $29::text[], $30::text[], $31::text[], $32::text[],
                     $33::text[], $34::text[]) WITH ORDINALITY AS e(case_id, at, actor_user, actor_role, action,
                     from_status, to_status, content, k)
                 WHERE e.case_id IN (SELECT id FROM c)
                 ORDER BY e.k),
             audited AS (
                 INSERT INTO audit_pending (at, actor, role, address, action, object, result, detail)
                 SELECT $40, i.actor, i.role, i.address_from, 'case.create', 'case:' || i.id, 'ok', i.audit_detail
                 FROM input i WHERE i.id IN (SELECT id FROM c) ORDER BY i.id),
             -- The live log's counter row is locked last, once the cases are in, until the commit,
             -- which notifies every instance (a data-modifying WITH runs whether read or not).
             h AS (
                 UPDATE live_head SET last = last + (SELECT count(*) FROM c) WHERE EXISTS (SELECT 1 FROM c)
                 RETURNING epoch, last, pg_notify($41, last::text)),
             -- Each entry as `live_entry` makes it: key, regions, position, assignee, payload.
             logged AS (
                 INSERT INTO live_log (seq, channel, key, regions, lon, lat, layer, assignee, payload)
                 SELECT h.last - (SELECT count(*) FROM c) + row_number() OVER (ORDER BY c.id), 'cases', 'case:' || c.id,
                     array_remove(ARRAY[c.street_code, c.village_code, c.grid_code], NULL), c.lon, c.lat, NULL,
                     c.assignee, jsonb_build_object('id', c.id, 'change', 'created')
                 FROM c, h)
             SELECT * FROM c ORDER BY id"
        )))
        .bind(&ids)
        .bind(cases.iter().map(|c| c.source_id.as_str()).collect::<Vec<_>>())
        .bind(col(&|c| c.source_ref.as_deref()))
        .bind(cases.iter().map(|c| c.category.as_str()).collect::<Vec<_>>())
        .bind(cases.iter().map(|c| c.urgency.as_str()).collect::<Vec<_>>())
        .bind(cases.iter().map(|c| serde_json::json!(c.tags)).collect::<Vec<_>>())
        .bind(cases.iter().map(|c| c.title.as_str()).collect::<Vec<_>>())
        .bind(cases.iter().map(|c| c.description.as_str()).collect::<Vec<_>>())
        .bind(cases.iter().map(|c| c.location.map(|l| l.0)).collect::<Vec<_>>())
        .bind(cases.iter().map(|c| c.location.map(|l| l.1)).collect::<Vec<_>>())
        .bind(cases.iter().map(|c| c.outside_district).collect::<Vec<_>>())
        .bind(col(&|c| c.street_code.as_deref()))
        .bind(col(&|c| c.village_code.as_deref()))
        .bind(col(&|c| c.grid_code.as_deref()))
        .bind(col(&|c| c.address.as_deref()))
        .bind(cases.iter().map(|c| c.reporter_masked.clone()).collect::<Vec<_>>())
        .bind(cases.iter().map(|c| c.occurred_at).collect::<Vec<_>>())
        .bind(cases.iter().map(|c| c.created_at).collect::<Vec<_>>())
        .bind(cases.iter().map(|c| c.state.status.as_str()).collect::<Vec<_>>())
        .bind(cases.iter().map(|c| c.state.assignee.as_ref().and_then(|a| serde_json::to_value(a).ok())).collect::<Vec<_>>())
        .bind(col(&|c| c.state.dispatch_rule.as_ref().map(|r| r.as_str())))
        .bind(cases.iter().map(|c| c.duplicate_of).collect::<Vec<_>>())
        .bind(col(&|c| c.deadline_limit.as_deref()))
        .bind(cases.iter().map(|c| c.started_at).collect::<Vec<_>>())
        .bind(cases.iter().map(|c| c.warn_at).collect::<Vec<_>>())
        .bind(cases.iter().map(|c| c.due_at).collect::<Vec<_>>())
        .bind(&entry_case)
        .bind(entries.iter().map(|e| e.at).collect::<Vec<_>>())
        .bind(entries.iter().map(|e| e.actor.user.as_str()).collect::<Vec<_>>())
        .bind(entries.iter().map(|e| e.actor.role.as_str()).collect::<Vec<_>>())
        .bind(entries.iter().map(|e| e.action.map(|a| a.as_str())).collect::<Vec<_>>())
        .bind(entries.iter().map(|e| e.from.map(|s| s.as_str())).collect::<Vec<_>>())
        .bind(entries.iter().map(|e| e.to.as_str()).collect::<Vec<_>>())
        .bind(entries.iter().map(|e| e.content.as_str()).collect::<Vec<_>>())
        .bind(cases.iter().map(|c| c.reporter_sealed.clone()).collect::<Vec<_>>())
        .bind(cases.iter().map(|c| c.who.actor.as_str()).collect::<Vec<_>>())
        .bind(cases.iter().map(|c| c.who.role.as_str()).collect::<Vec<_>>())
        .bind(cases.iter().map(|c| c.who.address.as_str()).collect::<Vec<_>>())
        .bind(
            cases
                .iter()
                .map(|c| serde_json::json!({"status": c.state.status.as_str(), "source": c.source_id}).to_string())
                .collect::<Vec<_>>(),
        )
        .bind(audit_at)
        .bind(crate::live_log::NOTIFY_CHANNEL)
        .fetch_all(&self.pool)
        .await?;
        let mut by_id: std::collections::HashMap<i64, CaseRow> = inserted.into_iter().map(|r| (r.id, r)).collect();
        let mut out = Vec::with_capacity(cases.len());
        for (case, id) in cases.iter().zip(ids) {
            match by_id.remove(&id) {
                Some(row) => out.push(Ok(row)),
                None => {
                    let (existing,): (i64,) =
                        sqlx::query_as("SELECT id FROM cases WHERE source_id = $1 AND source_ref = $2")
                            .bind(&case.source_id)
                            .bind(&case.source_ref)
                            .fetch_one(&self.pool)
                            .await?;
                    out.push(Err(CaseId(existing)));
                }
            }
        }
        Ok(out)
    }

    /// For each case about to be created, in one statement: a new id from the cases'
    /// sequence (in order), its duplicate candidates and its grid's worker (see
    /// [`Store::grid_workers`]).
    pub async fn lookup_new_cases(&self, queries: &[NearQuery]) -> Result<Vec<Lookup>, StoreError> {
        if queries.is_empty() {
            return Ok(Vec::new());
        }
        /// Per case (by its place in `queries`): the new id, the worker, and one candidate.
        type Row = (i64, i64, Option<String>, Option<i64>, Option<f64>, Option<f64>, Option<DateTime<Utc>>);
        let rows: Vec<Row> =
            sqlx::query_as(AssertSqlSafe(format!(
                // The spatial condition runs first, fenced off by OFFSET 0, so that the
                // geography index answers it; planned together with the category, a generic
                // plan can take the category index and measure the distance to every open case.
                "WITH i AS MATERIALIZED (
                     SELECT i.*, nextval('cases_id_seq') AS id
                     FROM unnest($1::text[], $2::float8[], $3::float8[], $4::float8[], $5::timestamptz[], $7::text[])
                         WITH ORDINALITY AS i(category, lon, lat, metres, since, grid, n)
                     ORDER BY i.n)
                 SELECT i.n, i.id, worker.username, near.id, ST_X(near.location), ST_Y(near.location), near.occurred_at
                 FROM i
                 LEFT JOIN LATERAL (
                     SELECT username FROM ({GRID_WORKERS}) w WHERE w.grid = i.grid ORDER BY username LIMIT 1) worker
                   ON true
                 LEFT JOIN LATERAL (
                     SELECT id, location, category, status, occurred_at, closed_at, duplicate_of FROM cases
                     WHERE i.lon IS NOT NULL
                       AND ST_DWithin(location::geography, ST_SetSRID(ST_MakePoint(i.lon, i.lat), 4326)::geography, i.metres)
                     OFFSET 0) near
                   ON near.category = i.category AND near.closed_at IS NULL AND near.duplicate_of IS NULL
                     AND near.occurred_at >= i.since AND near.status = ANY($6)
                 ORDER BY i.n"
            )))
            .bind(queries.iter().map(|q| q.category.clone()).collect::<Vec<_>>())
            .bind(queries.iter().map(|q| q.point.map(|p| p.0)).collect::<Vec<_>>())
            .bind(queries.iter().map(|q| q.point.map(|p| p.1)).collect::<Vec<_>>())
            .bind(queries.iter().map(|q| q.metres).collect::<Vec<_>>())
            .bind(queries.iter().map(|q| q.since).collect::<Vec<_>>())
            .bind(crate::open_statuses())
            .bind(queries.iter().map(|q| q.grid.clone()).collect::<Vec<_>>())
            .fetch_all(&self.pool)
            .await?;
        let mut out: Vec<Option<Lookup>> = vec![None; queries.len()];
        for (n, id, worker, near, lon, lat, occurred_at) in rows {
            let Some(slot) = usize::try_from(n - 1).ok().and_then(|i| out.get_mut(i)) else { continue };
            let lookup = slot.get_or_insert_with(|| Lookup { id, near: Vec::new(), worker });
            if let (Some(near), Some(lon), Some(lat), Some(at)) = (near, lon, lat, occurred_at) {
                lookup.near.push((near, lon, lat, at));
            }
        }
        out.into_iter().map(|lookup| lookup.ok_or_else(|| StoreError::Corrupt("a new case got no id".into()))).collect()
    }
}
