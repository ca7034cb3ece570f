//! The rows the computed indicators count (issue 18), loaded as the columns
//! `cockpit-indicators` evaluates: cases, device alarms and readings, each only as far as
//! the formulas need them ([`Needs`]: a row outside every formula's window and status list
//! stays in the database). Region codes become place indices through a [`Placer`].

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use cockpit_indicators::{Moment, NO_REGION, NO_TIME, Needs, Places, Rows, Slice};
use futures_util::TryStreamExt;
use sqlx::{Postgres, QueryBuilder, Row};

use crate::{Store, StoreError};

/// Turns a row's street, village and grid codes into a place index, numbering the
/// distinct combinations as they come; each code is looked up among its level's regions
/// (an unknown code is no region of that level).
#[derive(Debug, Clone, Default)]
pub struct Placer {
    /// Per level (street, village, grid): code → index.
    index: [HashMap<String, u32>; 3],
    /// The combination's key (`street|village|grid`) → place.
    seen: HashMap<String, u32>,
    places: Places,
    key: String,
}

impl Placer {
    /// A placer over the city's streets, villages and grids, each in its order.
    pub fn new(levels: [Vec<String>; 3]) -> Placer {
        let mut placer = Placer::default();
        for (l, codes) in levels.into_iter().enumerate() {
            placer.places.sizes[l] = codes.len();
            placer.index[l] = codes.into_iter().enumerate().map(|(i, c)| (c, i as u32)).collect();
        }
        placer
    }

    /// The place of a row with these street, village and grid codes.
    pub fn place(&mut self, codes: [Option<&str>; 3]) -> u32 {
        self.key.clear();
        for c in codes {
            self.key.push_str(c.unwrap_or("-"));
            self.key.push('|');
        }
        if let Some(p) = self.seen.get(self.key.as_str()) {
            return *p;
        }
        let mut regions = [NO_REGION; 3];
        for (l, c) in codes.into_iter().enumerate() {
            regions[l] = c.and_then(|c| self.index[l].get(c)).copied().unwrap_or(NO_REGION);
        }
        let p = self.places.regions.len() as u32;
        self.places.regions.push(regions);
        self.seen.insert(self.key.clone(), p);
        p
    }

    /// The places numbered so far.
    pub fn places(&self) -> Places {
        self.places.clone()
    }
}

fn seconds(t: Option<DateTime<Utc>>) -> i64 {
    t.map_or(NO_TIME, |t| t.timestamp())
}

/// `AND (slice OR slice ...)`, each slice its columns' conditions; no slice: nothing.
fn push_slices(q: &mut QueryBuilder<Postgres>, slices: &[Slice], columns: [&str; 3]) {
    let [created, closed, status] = columns;
    q.push(" AND (false");
    for s in slices {
        q.push(" OR (true");
        if let Some((moment, since)) = s.since {
            let column = if moment == Moment::Closed { closed } else { created };
            let since = DateTime::from_timestamp(since, 0).unwrap_or_default();
            q.push(format!(" AND {column} >= ")).push_bind(since);
        }
        if let Some(list) = &s.status {
            q.push(format!(" AND {status} = ANY(")).push_bind(list.clone()).push(")");
        }
        q.push(")");
    }
    q.push(")");
}

impl Store {
    /// The cases, device alarms and readings `needs` asks for, as columns, their places
    /// numbered by `placer` (devices are the caller's: their health is kept in memory).
    pub async fn indicator_rows(&self, needs: &Needs, placer: &mut Placer) -> Result<Rows, StoreError> {
        let mut rows = Rows::default();
        if let Some(slices) = &needs.cases {
            self.case_rows(slices, placer, &mut rows).await?;
        }
        if let Some(slices) = &needs.alarms {
            self.alarm_rows(slices, placer, &mut rows).await?;
        }
        if let Some(slices) = &needs.readings {
            self.reading_rows(slices, placer, &mut rows).await?;
        }
        rows.places = placer.places();
        Ok(rows)
    }

    async fn case_rows(&self, slices: &[Slice], placer: &mut Placer, rows: &mut Rows) -> Result<(), StoreError> {
        let mut q = QueryBuilder::new(
            "SELECT street_code, village_code, grid_code, status, category, source_id, tags, created_at, due_at,
                 closed_at, overdue,
                 CASE WHEN evaluation IS NULL THEN 0
                      WHEN evaluation -> 'verdict' = '\"satisfied\"'::jsonb THEN 1 ELSE 2 END::int2
             FROM cases WHERE true",
        );
        push_slices(&mut q, slices, ["created_at", "closed_at", "status"]);
        let mut stream = q.build().fetch(&self.pool);
        let c = &mut rows.cases;
        while let Some(row) = stream.try_next().await? {
            c.place.push(placer.place([row.try_get(0)?, row.try_get(1)?, row.try_get(2)?]));
            let code = c.statuses.code(row.try_get(3)?);
            c.status.push(code);
            let code = c.categories.code(row.try_get(4)?);
            c.category.push(code);
            let code = c.sources.code(row.try_get(5)?);
            c.source.push(code);
            let tags: Vec<String> = row.try_get(6)?;
            let bits = c.tag_bits(tags.iter().map(String::as_str));
            c.tags.push(bits);
            c.created.push(seconds(row.try_get(7)?));
            c.due.push(seconds(row.try_get(8)?));
            c.closed.push(seconds(row.try_get(9)?));
            c.overdue.push(row.try_get(10)?);
            c.verdict.push(u8::try_from(row.try_get::<i16, _>(11)?).unwrap_or(2));
        }
        Ok(())
    }

    async fn alarm_rows(&self, slices: &[Slice], placer: &mut Placer, rows: &mut Rows) -> Result<(), StoreError> {
        let mut q = QueryBuilder::new(
            "SELECT a.street_code, a.village_code, a.grid_code, a.state, a.severity, a.metric,
                 coalesce(d.device_type, ''), a.raised_at, a.cleared_at
             FROM alarms a LEFT JOIN devices d ON d.id = a.device_id WHERE true",
        );
        push_slices(&mut q, slices, ["a.raised_at", "a.cleared_at", "a.state"]);
        let mut stream = q.build().fetch(&self.pool);
        let a = &mut rows.alarms;
        while let Some(row) = stream.try_next().await? {
            a.place.push(placer.place([row.try_get(0)?, row.try_get(1)?, row.try_get(2)?]));
            let code = a.states.code(row.try_get(3)?);
            a.state.push(code);
            let code = a.severities.code(row.try_get(4)?);
            a.severity.push(code);
            let code = a.metrics.code(row.try_get(5)?);
            a.metric.push(code);
            let code = a.kinds.code(row.try_get(6)?);
            a.kind.push(code);
            a.raised.push(seconds(row.try_get(7)?));
            a.cleared.push(seconds(row.try_get(8)?));
        }
        Ok(())
    }

    async fn reading_rows(&self, slices: &[Slice], placer: &mut Placer, rows: &mut Rows) -> Result<(), StoreError> {
        let mut q = QueryBuilder::new(
            "SELECT d.street_code, d.village_code, d.grid_code, r.metric, d.device_type, r.at, r.value
             FROM readings r JOIN devices d ON d.id = r.device_id WHERE true",
        );
        // Readings have no status and no closing: a slice is its window.
        let slices: Vec<Slice> =
            slices.iter().map(|s| Slice { since: s.since.map(|(_, t)| (Moment::Created, t)), status: None }).collect();
        push_slices(&mut q, &slices, ["r.at", "r.at", "r.metric"]);
        let mut stream = q.build().fetch(&self.pool);
        let r = &mut rows.readings;
        while let Some(row) = stream.try_next().await? {
            r.place.push(placer.place([row.try_get(0)?, row.try_get(1)?, row.try_get(2)?]));
            let code = r.metrics.code(row.try_get(3)?);
            r.metric.push(code);
            let code = r.kinds.code(row.try_get(4)?);
            r.kind.push(code);
            r.at.push(seconds(row.try_get(5)?));
            r.value.push(row.try_get(6)?);
        }
        Ok(())
    }
}
