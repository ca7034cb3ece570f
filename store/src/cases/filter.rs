//! Which cases: the list's filters and sorts, the caller's scope, and the reads that go
//! through them.

use chrono::{DateTime, Utc};
use cockpit_access::ScopeLevel;
use cockpit_events::CaseId;
use sqlx::{Postgres, QueryBuilder};

use super::{CASE_COLUMNS, CaseRow};
use crate::{Store, StoreError};

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

fn escape_like(text: &str) -> String {
    text.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
}
