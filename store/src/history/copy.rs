//! The text of `COPY ... FROM STDIN` (PostgreSQL's text format) for the cases and timeline
//! entries of a generated history: rendered without I/O, so that a caller can render on
//! one thread while another writes, and a benchmark can write the same bytes again.

use std::fmt::Write as _;

use chrono::{DateTime, Utc};
use cockpit_events::{CaseState, Deadline, TimelineEntry};

/// The columns of [`PastCase`] rows, in their order.
pub(crate) const CASE_COLUMNS: &str =
    "id, source_id, source_ref, category, urgency, tags, title, description, location,
    street_code, village_code, grid_code, address, occurred_at, created_at, status, assignee, dispatch_rule, leaders,
    evaluation, duplicate_of, deadline_limit, started_at, warn_at, due_at, warned, overdue, next_alarm_at, closed_at,
    updated_at";
/// The columns of timeline rows (the id is the table's sequence).
pub(crate) const TIMELINE_COLUMNS: &str =
    "case_id, at, actor_user, actor_role, action, from_status, to_status, content";

/// A case of the past, borrowed from the generator's.
#[allow(missing_docs)] // One field per column; see migrations/0001_cases.sql.
#[derive(Debug, Clone)]
pub struct PastCase<'a> {
    pub id: i64,
    pub source_id: &'a str,
    pub source_ref: &'a str,
    pub category: &'a str,
    pub urgency: &'a str,
    pub tags: Vec<&'a str>,
    pub title: &'a str,
    pub description: &'a str,
    pub address: &'a str,
    /// WGS84 (lon, lat).
    pub location: (f64, f64),
    pub street_code: Option<&'a str>,
    pub village_code: Option<&'a str>,
    pub grid_code: Option<&'a str>,
    pub occurred_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub state: &'a CaseState,
    pub duplicate_of: Option<i64>,
    pub deadline: Option<&'a Deadline>,
    pub warned: bool,
    pub overdue: bool,
    pub next_alarm_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
    /// Its timeline, the intake first.
    pub timeline: &'a [TimelineEntry],
}

/// Rendered rows of cases and of their timeline entries, ready to be copied.
#[derive(Debug, Clone, Default)]
pub struct CopyChunk {
    pub(crate) cases: String,
    pub(crate) timeline: String,
    pub(crate) case_rows: u64,
    pub(crate) timeline_rows: u64,
}

impl CopyChunk {
    /// Appends a case and its timeline.
    pub fn push(&mut self, case: &PastCase<'_>) {
        let c = &mut self.cases;
        let state = case.state;
        let _ = write!(c, "{}\t", case.id);
        for text in [case.source_id, case.source_ref, case.category, case.urgency] {
            field(c, text);
        }
        let tags: String = format!(
            "{{{}}}",
            case.tags
                .iter()
                .map(|t| format!("\"{}\"", t.replace('\\', "\\\\").replace('"', "\\\"")))
                .collect::<Vec<_>>()
                .join(",")
        );
        field(c, &tags);
        field(c, case.title);
        field(c, case.description);
        point(c, case.location);
        for code in [case.street_code, case.village_code, case.grid_code] {
            optional(c, code);
        }
        field(c, case.address);
        time(c, case.occurred_at);
        time(c, case.created_at);
        field(c, state.status.as_str());
        optional(c, state.assignee.as_ref().and_then(|a| serde_json::to_string(a).ok()).as_deref());
        optional(c, state.dispatch_rule.as_ref().map(|r| r.as_str()));
        let leaders = format!(
            "{{{}}}",
            state.leaders.iter().map(|l| format!("\"{}\"", l.as_str())).collect::<Vec<_>>().join(",")
        );
        field(c, &leaders);
        optional(c, state.evaluation.as_ref().and_then(|e| serde_json::to_string(e).ok()).as_deref());
        optional(c, case.duplicate_of.map(|d| d.to_string()).as_deref());
        let d = case.deadline;
        optional(c, d.and_then(|d| serde_json::to_string(&d.limit).ok()).as_deref());
        optional_time(c, d.map(|d| d.started_at));
        optional_time(c, d.map(|d| d.warn_at));
        optional_time(c, d.map(|d| d.due_at));
        field(c, if case.warned { "t" } else { "f" });
        field(c, if case.overdue { "t" } else { "f" });
        optional_time(c, case.next_alarm_at);
        optional_time(c, case.closed_at);
        time(c, case.updated_at);
        end(c);
        self.case_rows += 1;
        for entry in case.timeline {
            let t = &mut self.timeline;
            let _ = write!(t, "{}\t", case.id);
            time(t, entry.at);
            field(t, entry.actor.user.as_str());
            field(t, entry.actor.role.as_str());
            optional(t, entry.action.map(|a| a.as_str()));
            optional(t, entry.from.map(|s| s.as_str()));
            field(t, entry.to.as_str());
            field(t, &entry.content);
            end(t);
            self.timeline_rows += 1;
        }
    }

    /// Cases in the chunk.
    pub fn case_rows(&self) -> u64 {
        self.case_rows
    }

    /// Timeline entries in the chunk.
    pub fn timeline_rows(&self) -> u64 {
        self.timeline_rows
    }

    /// The bytes of both copies.
    pub fn len(&self) -> usize {
        self.cases.len() + self.timeline.len()
    }

    /// Whether the chunk holds nothing.
    pub fn is_empty(&self) -> bool {
        self.case_rows == 0
    }
}

/// A text value and its tab, escaped for the text format.
pub(super) fn field(out: &mut String, text: &str) {
    for ch in text.chars() {
        match ch {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('\t');
}

pub(super) fn optional(out: &mut String, text: Option<&str>) {
    match text {
        Some(text) => field(out, text),
        None => out.push_str("\\N\t"),
    }
}

pub(super) fn time(out: &mut String, at: DateTime<Utc>) {
    let _ = write!(out, "{}\t", at.format("%Y-%m-%d %H:%M:%S%.6f+00"));
}

pub(super) fn optional_time(out: &mut String, at: Option<DateTime<Utc>>) {
    match at {
        Some(at) => time(out, at),
        None => out.push_str("\\N\t"),
    }
}

/// A WGS84 point and its tab as hex EWKB, which PostGIS reads without parsing text (WKT
/// costs it about as much as the rest of the row).
fn point(out: &mut String, (x, y): (f64, f64)) {
    // Little-endian, type 1 (point) with the SRID flag, SRID 4326, x, y.
    out.push_str("0101000020E6100000");
    for byte in x.to_le_bytes().into_iter().chain(y.to_le_bytes()) {
        let _ = write!(out, "{byte:02X}");
    }
    out.push('\t');
}

/// Ends a row: its last tab becomes the newline.
pub(super) fn end(out: &mut String) {
    out.pop();
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_for_copy() {
        let mut out = String::new();
        field(&mut out, "a\tb\\c\nd");
        optional(&mut out, None);
        end(&mut out);
        assert_eq!(out, "a\\tb\\\\c\\nd\t\\N\n");
    }

    #[test]
    fn points_are_hex_ewkb() {
        let mut out = String::new();
        point(&mut out, (120.5, 28.0));
        // x = 120.5 = 0x405E200000000000, y = 28.0 = 0x403C000000000000, little-endian.
        assert_eq!(out, "0101000020E61000000000000000205E400000000000003C40\t");
    }
}
