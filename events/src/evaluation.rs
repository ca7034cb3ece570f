//! Evaluation after closure (综合评价) and the statistics built on outcomes: on-time
//! closure and satisfaction rates. The server counts rows; these functions say what
//! counts, so every screen and report agrees.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::EventsError;

/// The verdict on how a closed case was handled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct Evaluation {
    /// Satisfied, or unsatisfied with a reason.
    pub verdict: Verdict,
    /// A free remark (may be empty).
    #[serde(default)]
    pub remark: String,
}

/// Satisfied or not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// 满意.
    Satisfied,
    /// 不满意, with the required reason.
    Unsatisfied(UnsatisfiedReason),
}

/// Why an evaluation is unsatisfied; the tender requires one of these.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum UnsatisfiedReason {
    /// 虚假办结: reported done, but nothing was done.
    FalseClosure,
    /// 过程性办结: closed while work was still only under way.
    ProceduralClosure,
    /// 描述性办结: closed with a description instead of a resolution.
    DescriptiveClosure,
    /// 其他, with the evaluator's explanation (must not be blank).
    Other(String),
}

impl UnsatisfiedReason {
    /// The reason's code, as stored in the `unsatisfied_reason` column (the text of
    /// `Other` goes into the remark column beside it).
    pub fn code(&self) -> &'static str {
        match self {
            UnsatisfiedReason::FalseClosure => "false_closure",
            UnsatisfiedReason::ProceduralClosure => "procedural_closure",
            UnsatisfiedReason::DescriptiveClosure => "descriptive_closure",
            UnsatisfiedReason::Other(_) => "other",
        }
    }
}

impl Evaluation {
    /// A satisfied evaluation with a remark.
    pub fn satisfied(remark: impl Into<String>) -> Evaluation {
        Evaluation { verdict: Verdict::Satisfied, remark: remark.into() }
    }

    /// An unsatisfied evaluation with its reason.
    pub fn unsatisfied(reason: UnsatisfiedReason, remark: impl Into<String>) -> Evaluation {
        Evaluation { verdict: Verdict::Unsatisfied(reason), remark: remark.into() }
    }

    /// Whether the verdict is satisfied.
    pub fn is_satisfied(&self) -> bool {
        self.verdict == Verdict::Satisfied
    }

    /// Refuses an "other" reason without an explanation.
    pub fn validate(&self) -> Result<(), EventsError> {
        match &self.verdict {
            Verdict::Unsatisfied(UnsatisfiedReason::Other(text)) if text.trim().is_empty() => {
                Err(EventsError::MissingText { what: "the unsatisfied reason \"other\"" })
            }
            _ => Ok(()),
        }
    }
}

/// A share: `hits` out of `total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Rate {
    /// How many met the condition.
    pub hits: u64,
    /// How many were counted.
    pub total: u64,
}

impl Rate {
    /// The share in percent, or `None` when nothing was counted (a screen shows "—",
    /// not 0 % or 100 %).
    pub fn percent(self) -> Option<f64> {
        (self.total > 0).then(|| self.hits as f64 * 100.0 / self.total as f64)
    }
}

/// A case closed on time: closed no later than its deadline.
pub fn closed_on_time(closed_at: DateTime<Utc>, due_at: DateTime<Utc>) -> bool {
    closed_at <= due_at
}

/// The on-time closure rate (按期结案率) of closed cases given as `(closed_at, due_at)`.
/// Cases without a deadline are left out of the count: they had no clock to beat.
pub fn on_time_closure_rate(closures: impl IntoIterator<Item = (DateTime<Utc>, Option<DateTime<Utc>>)>) -> Rate {
    closures.into_iter().fold(Rate::default(), |rate, (closed_at, due_at)| match due_at {
        Some(due_at) => Rate { hits: rate.hits + u64::from(closed_on_time(closed_at, due_at)), total: rate.total + 1 },
        None => rate,
    })
}

/// The satisfaction rate (满意率) over evaluations.
pub fn satisfaction_rate<'a>(evaluations: impl IntoIterator<Item = &'a Evaluation>) -> Rate {
    evaluations.into_iter().fold(Rate::default(), |rate, evaluation| Rate {
        hits: rate.hits + u64::from(evaluation.is_satisfied()),
        total: rate.total + 1,
    })
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn at(hour: u32, minute: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 10, hour, minute, 0).unwrap()
    }

    #[test]
    fn on_time_means_no_later_than_the_deadline() {
        let due = at(9, 0);
        let check = |closed: DateTime<Utc>, expected: bool| {
            assert_eq!(closed_on_time(closed, due), expected, "{closed}");
        };
        check(at(8, 59), true);
        check(at(9, 0), true);
        check(at(9, 1), false);
    }

    #[test]
    fn on_time_rate_skips_cases_without_deadline() {
        let rate = on_time_closure_rate([
            (at(8, 0), Some(at(9, 0))),
            (at(10, 0), Some(at(9, 0))),
            (at(11, 0), None),
            (at(9, 0), Some(at(9, 0))),
        ]);
        assert_eq!(rate, Rate { hits: 2, total: 3 });
        let percent = rate.percent().unwrap();
        assert!((percent - 66.666_666).abs() < 1e-3, "{percent}");
        assert_eq!(on_time_closure_rate([]).percent(), None);
    }

    #[test]
    fn satisfaction_rate_counts_satisfied_verdicts() {
        let evaluations = [
            Evaluation::satisfied(""),
            Evaluation::unsatisfied(UnsatisfiedReason::FalseClosure, "垃圾仍在"),
            Evaluation::satisfied("处理及时"),
            Evaluation::unsatisfied(UnsatisfiedReason::Other("态度差".into()), ""),
        ];
        assert_eq!(satisfaction_rate(&evaluations), Rate { hits: 2, total: 4 });
        assert_eq!(satisfaction_rate(&evaluations).percent(), Some(50.0));
    }

    #[test]
    fn other_reason_needs_an_explanation() {
        let check = |reason: UnsatisfiedReason, ok: bool| {
            assert_eq!(Evaluation::unsatisfied(reason.clone(), "").validate().is_ok(), ok, "{reason:?}");
        };
        check(UnsatisfiedReason::FalseClosure, true);
        check(UnsatisfiedReason::ProceduralClosure, true);
        check(UnsatisfiedReason::DescriptiveClosure, true);
        check(UnsatisfiedReason::Other("还在施工".into()), true);
        check(UnsatisfiedReason::Other("  ".into()), false);
        assert_eq!(UnsatisfiedReason::Other("x".into()).code(), "other");
    }

    #[test]
    fn evaluations_serialise_for_the_api() {
        let json = serde_json::to_value(Evaluation::unsatisfied(UnsatisfiedReason::ProceduralClosure, "r")).unwrap();
        assert_eq!(json, serde_json::json!({"verdict": {"unsatisfied": "procedural_closure"}, "remark": "r"}));
    }
}
