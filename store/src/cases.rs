//! The `cases`, `case_timeline` and `case_alarms` tables.

use chrono::{DateTime, Utc};
use cockpit_events::{CaseId, CaseState, Status, TimelineEntry};
use serde_json::Value;
use sqlx::{AssertSqlSafe, FromRow, PgConnection, Postgres, QueryBuilder};

use super::access::GRID_WORKERS;
use super::{AuditActor, Store, StoreError};
use cockpit_access::ScopeLevel;

/// A case as stored: one field per column (location as lon/lat).
#[allow(missing_docs)] // One field per column or setting; see migrations/0001_cases.sql and the config.
#[derive(Debug, Clone, FromRow)]
pub struct CaseRow {
    pub id: i64,
    pub source_id: String,
    pub source_ref: Option<String>,
    pub category: String,
    pub urgency: String,
    pub tags: Vec<String>,
    pub title: String,
    pub description: String,
    pub lon: Option<f64>,
    pub lat: Option<f64>,
    pub outside_district: bool,
    pub street_code: Option<String>,
    pub village_code: Option<String>,
    pub grid_code: Option<String>,
    pub address: Option<String>,
    /// The reporter's personal data, masked (the sealed original is read only to unmask).
    pub reporter_masked: Option<Value>,
    pub occurred_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub status: String,
    pub assignee: Option<Value>,
    pub dispatch_rule: Option<String>,
    pub leaders: Vec<String>,
    pub evaluation: Option<Value>,
    pub duplicate_of: Option<i64>,
    pub deadline_limit: Option<String>,
    pub started_at: Option<DateTime<Utc>>,
    pub warn_at: Option<DateTime<Utc>>,
    pub due_at: Option<DateTime<Utc>>,
    pub warned: bool,
    pub overdue: bool,
    pub closed_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
}

const CASE_COLUMNS: &str = "id, source_id, source_ref, category, urgency, tags, title, description,
    ST_X(location) AS lon, ST_Y(location) AS lat, outside_district, street_code, village_code, grid_code,
    address, reporter_masked, occurred_at, created_at, status, assignee, dispatch_rule, leaders, evaluation,
    duplicate_of, deadline_limit, started_at, warn_at, due_at, warned, overdue, closed_at, updated_at";

impl CaseRow {
    /// The lifecycle part, as the state machine sees it.
    pub fn state(&self) -> Result<CaseState, StoreError> {
        let corrupt =
            |what: &str, e: &dyn std::fmt::Display| StoreError::Corrupt(format!("case {}: {what}: {e}", self.id));
        Ok(CaseState {
            status: Status::parse(&self.status).ok_or_else(|| corrupt("status", &self.status))?,
            assignee: self
                .assignee
                .clone()
                .map(serde_json::from_value)
                .transpose()
                .map_err(|e| corrupt("assignee", &e))?,
            dispatch_rule: self.dispatch_rule.clone().map(cockpit_events::RuleId),
            leaders: self.leaders.iter().cloned().map(cockpit_events::UserId).collect(),
            evaluation: self
                .evaluation
                .clone()
                .map(serde_json::from_value)
                .transpose()
                .map_err(|e| corrupt("evaluation", &e))?,
        })
    }
}

/// A timeline row.
#[allow(missing_docs)] // One field per column or setting; see migrations/0001_cases.sql and the config.
#[derive(Debug, Clone, FromRow)]
pub struct TimelineRow {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub actor_user: String,
    pub actor_role: String,
    pub action: Option<String>,
    pub from_status: Option<String>,
    pub to_status: String,
    pub content: String,
    pub attachments: Value,
    pub lon: Option<f64>,
    pub lat: Option<f64>,
}

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

/// Filters for the case list; every field narrows it.
#[allow(missing_docs)] // One field per column or setting; see migrations/0001_cases.sql and the config.
#[derive(Debug, Clone, Default)]
pub struct CaseFilter {
    /// A region code at any level (the district's code matches every case inside it).
    pub region: Option<String>,
    pub statuses: Vec<String>,
    /// A category code or prefix.
    pub category: Option<String>,
    pub tag: Option<String>,
    pub source: Option<String>,
    pub urgency: Option<String>,
    pub overdue: Option<bool>,
    pub created_from: Option<DateTime<Utc>>,
    pub created_to: Option<DateTime<Utc>>,
    /// A substring of the title or description (Chinese works: trigram index).
    pub keyword: Option<String>,
    /// Within `metres` of a WGS84 point (geodesic).
    pub near: Option<(f64, f64, f64)>,
    /// Inside a WGS84 box: west, south, east, north.
    pub bbox: Option<(f64, f64, f64, f64)>,
    /// Keyset pagination: only cases with an id below this one (newest first).
    pub before_id: Option<i64>,
    pub limit: i64,
    /// Rows to skip (the sorts other than newest first page by offset).
    pub offset: i64,
    pub sort: CaseSort,
    /// Only what is assigned to this user, their department or their grid.
    pub assigned: Option<Assigned>,
    /// Only cases this user is bound to as a leader.
    pub leader: Option<String>,
    /// Only cases this user gave an instruction (批示) on.
    pub instructed_by: Option<String>,
    /// What the caller may see at all (the whole district when left default).
    pub scope: CaseScope,
}

/// The order of a case list.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum CaseSort {
    /// Newest first (keyset paging by id).
    #[default]
    Newest,
    /// Oldest first.
    Oldest,
    /// The nearest deadline first; cases without one last.
    Deadline,
    /// Critical, then urgent, then normal; newest first within each.
    Urgency,
}

impl CaseSort {
    /// Parses `newest`, `oldest`, `deadline` or `urgency`.
    pub fn parse(text: &str) -> Option<CaseSort> {
        Some(match text {
            "newest" => CaseSort::Newest,
            "oldest" => CaseSort::Oldest,
            "deadline" => CaseSort::Deadline,
            "urgency" => CaseSort::Urgency,
            _ => return None,
        })
    }

    fn order_by(self) -> &'static str {
        match self {
            CaseSort::Newest => " ORDER BY id DESC",
            CaseSort::Oldest => " ORDER BY id",
            CaseSort::Deadline => " ORDER BY due_at NULLS LAST, id",
            CaseSort::Urgency => {
                " ORDER BY CASE urgency WHEN 'critical' THEN 0 WHEN 'urgent' THEN 1 ELSE 2 END, id DESC"
            }
        }
    }
}

/// Whose cases `assigned=me` means: the user's own, their department's, and, for a grid
/// worker, those given to their grid's worker.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Assigned {
    /// The username.
    pub user: String,
    /// Their department, as the case scope names it.
    pub department: Option<String>,
    /// Their grid's code, when they are scoped to one grid.
    pub grid: Option<String>,
}

/// The cases a caller may see: those in their region (none: the whole district, and the
/// cases outside it), and, for those who see by assignment, only what is assigned to them
/// (by username) or to their department (by name).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CaseScope {
    /// A street, village or grid and its code.
    pub region: Option<(ScopeLevel, String)>,
    /// Username and department name.
    pub assigned_to: Option<(String, Option<String>)>,
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

    /// Appends a timeline entry.
    pub async fn insert_timeline(tx: &mut PgConnection, case: CaseId, entry: &TimelineEntry) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO case_timeline (case_id, at, actor_user, actor_role, action, from_status, to_status, content,
                 attachments, position)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9,
                 CASE WHEN $10::float8 IS NULL THEN NULL ELSE ST_SetSRID(ST_MakePoint($10, $11), 4326) END)",
        )
        .bind(case.0)
        .bind(entry.at)
        .bind(entry.actor.user.as_str())
        .bind(entry.actor.role.as_str())
        .bind(entry.action.map(|a| a.as_str()))
        .bind(entry.from.map(|s| s.as_str()))
        .bind(entry.to.as_str())
        .bind(&entry.content)
        .bind(serde_json::to_value(&entry.attachments).unwrap_or(Value::Array(Vec::new())))
        .bind(entry.position.map(|p| p.lon))
        .bind(entry.position.map(|p| p.lat))
        .execute(&mut *tx)
        .await?;
        Ok(())
    }

    /// Reads a case and locks its row until the transaction ends.
    pub async fn case_for_update(tx: &mut PgConnection, id: CaseId) -> Result<Option<CaseRow>, StoreError> {
        Ok(sqlx::query_as(AssertSqlSafe(format!("SELECT {CASE_COLUMNS} FROM cases WHERE id = $1 FOR UPDATE")))
            .bind(id.0)
            .fetch_optional(&mut *tx)
            .await?)
    }

    /// Writes a new lifecycle state. Closing stops the deadline clock and its alarms.
    pub async fn update_state(
        tx: &mut PgConnection,
        id: CaseId,
        state: &CaseState,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let closed = !state.status.is_open() && state.status != Status::Submitted;
        sqlx::query(
            "UPDATE cases SET status = $2, assignee = $3, dispatch_rule = $4, leaders = $5, evaluation = $6,
                 closed_at = CASE WHEN $7 THEN COALESCE(closed_at, $8) ELSE NULL END,
                 next_alarm_at = CASE WHEN $7 THEN NULL ELSE next_alarm_at END,
                 updated_at = $8
             WHERE id = $1",
        )
        .bind(id.0)
        .bind(state.status.as_str())
        .bind(state.assignee.as_ref().map(|a| serde_json::to_value(a).unwrap_or(Value::Null)))
        .bind(state.dispatch_rule.as_ref().map(|r| r.as_str().to_string()))
        .bind(state.leaders.iter().map(|l| l.as_str().to_string()).collect::<Vec<_>>())
        .bind(state.evaluation.as_ref().map(|e| serde_json::to_value(e).unwrap_or(Value::Null)))
        .bind(closed)
        .bind(at)
        .execute(&mut *tx)
        .await?;
        Ok(())
    }

    /// One case, if the scope lets its caller see it.
    pub async fn case_in(&self, id: CaseId, scope: &CaseScope) -> Result<Option<CaseRow>, StoreError> {
        let mut q: QueryBuilder<Postgres> = QueryBuilder::new(format!("SELECT {CASE_COLUMNS} FROM cases WHERE id = "));
        q.push_bind(id.0);
        push_scope(&mut q, scope);
        Ok(q.build_query_as().fetch_optional(&self.pool).await?)
    }

    /// Which of `ids` the scope sees.
    pub async fn cases_in(&self, ids: &[i64], scope: &CaseScope) -> Result<std::collections::HashSet<i64>, StoreError> {
        let mut q: QueryBuilder<Postgres> = QueryBuilder::new("SELECT id FROM cases WHERE id = ANY(");
        q.push_bind(ids.to_vec());
        q.push(")");
        push_scope(&mut q, scope);
        let rows: Vec<(i64,)> = q.build_query_as().fetch_all(&self.pool).await?;
        Ok(rows.into_iter().map(|(id,)| id).collect())
    }

    /// The sealed personal data of a case's reporter.
    pub async fn reporter_sealed(&self, id: CaseId) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(sqlx::query_scalar("SELECT reporter_sealed FROM cases WHERE id = $1")
            .bind(id.0)
            .fetch_optional(&self.pool)
            .await?
            .flatten())
    }

    /// The cases of `ids` that exist.
    pub async fn cases_by_ids(&self, ids: &[i64]) -> Result<Vec<CaseRow>, StoreError> {
        Ok(sqlx::query_as(AssertSqlSafe(format!("SELECT {CASE_COLUMNS} FROM cases WHERE id = ANY($1)")))
            .bind(ids)
            .fetch_all(&self.pool)
            .await?)
    }

    /// One case.
    pub async fn case(&self, id: CaseId) -> Result<Option<CaseRow>, StoreError> {
        Ok(sqlx::query_as(AssertSqlSafe(format!("SELECT {CASE_COLUMNS} FROM cases WHERE id = $1")))
            .bind(id.0)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// A case's timeline, oldest first.
    pub async fn timeline(&self, id: CaseId) -> Result<Vec<TimelineRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT id, at, actor_user, actor_role, action, from_status, to_status, content, attachments,
                 ST_X(position) AS lon, ST_Y(position) AS lat
             FROM case_timeline WHERE case_id = $1 ORDER BY id",
        )
        .bind(id.0)
        .fetch_all(&self.pool)
        .await?)
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
            .bind(super::open_statuses())
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

    /// Cases matching `filter`, newest first.
    pub async fn cases(&self, filter: &CaseFilter) -> Result<Vec<CaseRow>, StoreError> {
        let mut q: QueryBuilder<Postgres> = QueryBuilder::new(format!("SELECT {CASE_COLUMNS} FROM cases WHERE true"));
        push_filter(&mut q, filter);
        if let Some(before) = filter.before_id {
            q.push(" AND id < ").push_bind(before);
        }
        q.push(filter.sort.order_by())
            .push(" LIMIT ")
            .push_bind(filter.limit)
            .push(" OFFSET ")
            .push_bind(filter.offset);
        Ok(q.build_query_as().fetch_all(&self.pool).await?)
    }
}

/// Appends the conditions of a caller's scope.
pub(crate) fn push_scope(q: &mut QueryBuilder<Postgres>, scope: &CaseScope) {
    if let Some((level, code)) = &scope.region {
        let column = match level {
            ScopeLevel::District => "NULL",
            ScopeLevel::Street => "street_code",
            ScopeLevel::Village => "village_code",
            ScopeLevel::Grid => "grid_code",
        };
        if *level != ScopeLevel::District {
            q.push(format!(" AND {column} = ")).push_bind(code.clone());
        }
    }
    if let Some((user, department)) = &scope.assigned_to {
        q.push(" AND (assignee ->> 'user' = ")
            .push_bind(user.clone())
            .push(" OR assignee ->> 'worker' = ")
            .push_bind(user.clone())
            .push(" OR assignee ->> 'department' = ")
            .push_bind(department.clone().unwrap_or_default())
            .push(")");
    }
}

/// Appends the filter's conditions (shared by the list, the statistics and the exports),
/// the caller's scope first.
pub(crate) fn push_filter(q: &mut QueryBuilder<Postgres>, f: &CaseFilter) {
    push_scope(q, &f.scope);
    if let Some(region) = &f.region {
        q.push(" AND (street_code = ").push_bind(region.clone());
        q.push(" OR village_code = ").push_bind(region.clone());
        q.push(" OR grid_code = ").push_bind(region.clone());
        q.push(" OR (NOT outside_district AND EXISTS (SELECT 1 FROM regions r WHERE r.code = ")
            .push_bind(region.clone())
            .push(" AND r.level = 'district')))");
    }
    if !f.statuses.is_empty() {
        q.push(" AND status = ANY(").push_bind(f.statuses.clone()).push(")");
    }
    if let Some(category) = &f.category {
        q.push(" AND category LIKE ").push_bind(format!("{}%", escape_like(category)));
    }
    if let Some(tag) = &f.tag {
        q.push(" AND ").push_bind(tag.clone()).push(" = ANY(tags)");
    }
    if let Some(source) = &f.source {
        q.push(" AND source_id = ").push_bind(source.clone());
    }
    if let Some(urgency) = &f.urgency {
        q.push(" AND urgency = ").push_bind(urgency.clone());
    }
    if let Some(a) = &f.assigned {
        q.push(" AND (assignee ->> 'user' = ")
            .push_bind(a.user.clone())
            .push(" OR assignee ->> 'worker' = ")
            .push_bind(a.user.clone())
            .push(" OR assignee ->> 'department' = ")
            .push_bind(a.department.clone().unwrap_or_default())
            .push(" OR (assignee ->> 'kind' = 'grid_worker' AND assignee ->> 'grid' = ")
            .push_bind(a.grid.clone().unwrap_or_default())
            .push("))");
    }
    if let Some(user) = &f.instructed_by {
        q.push(" AND EXISTS (SELECT 1 FROM case_timeline t WHERE t.case_id = cases.id AND t.action = 'instruct' AND t.actor_user = ")
            .push_bind(user.clone())
            .push(")");
    }
    if let Some(leader) = &f.leader {
        q.push(" AND ").push_bind(leader.clone()).push(" = ANY(leaders)");
    }
    if let Some(overdue) = f.overdue {
        q.push(" AND overdue = ").push_bind(overdue);
    }
    if let Some(from) = f.created_from {
        q.push(" AND created_at >= ").push_bind(from);
    }
    if let Some(to) = f.created_to {
        q.push(" AND created_at < ").push_bind(to);
    }
    if let Some(keyword) = &f.keyword {
        q.push(" AND (title || ' ' || description) LIKE ").push_bind(format!("%{}%", escape_like(keyword)));
    }
    if let Some((lon, lat, metres)) = f.near {
        q.push(" AND ST_DWithin(location::geography, ST_SetSRID(ST_MakePoint(")
            .push_bind(lon)
            .push(", ")
            .push_bind(lat)
            .push("), 4326)::geography, ")
            .push_bind(metres)
            .push(")");
    }
    if let Some((w, s, e, n)) = f.bbox {
        q.push(" AND location && ST_MakeEnvelope(")
            .push_bind(w)
            .push(", ")
            .push_bind(s)
            .push(", ")
            .push_bind(e)
            .push(", ")
            .push_bind(n)
            .push(", 4326)");
    }
}

/// The live log entry of a change to case `id` (`change`: `created` or the action), tagged
/// with the case's regions and assignee for the viewers' scopes.
pub fn live_entry(id: i64, change: &str, row: &CaseRow, assignee: Option<Value>) -> crate::live_log::NewEntry {
    crate::live_log::NewEntry {
        channel: cockpit_live::Channel::Cases,
        key: format!("case:{id}"),
        regions: [&row.street_code, &row.village_code, &row.grid_code].into_iter().flatten().cloned().collect(),
        position: row.lon.zip(row.lat),
        layer: None,
        assignee,
        payload: serde_json::json!({"id": id, "change": change}),
    }
}

fn escape_like(text: &str) -> String {
    text.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
}

impl Store {
    /// Starts the deadline clock again (or clears it when the category has no limit).
    pub async fn restart_deadline(
        tx: &mut PgConnection,
        id: CaseId,
        deadline: Option<&cockpit_events::Deadline>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE cases SET deadline_limit = $2, started_at = $3, warn_at = $4, due_at = $5, next_alarm_at = $5,
                 warned = false, overdue = false
             WHERE id = $1",
        )
        .bind(id.0)
        .bind(deadline.map(|d| serde_json::to_string(&d.limit).unwrap_or_default()))
        .bind(deadline.map(|d| d.started_at))
        .bind(deadline.map(|d| d.warn_at))
        .bind(deadline.map(|d| d.due_at))
        .execute(&mut *tx)
        .await?;
        Ok(())
    }
}
