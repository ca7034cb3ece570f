//! Locking out after repeated failed logins. The server keeps, per username and client
//! address, the failures in a row and the time the lock ends; this module decides how they
//! change and whether a lock holds. The
//! count restarts when a lock is set, so after the lock ends the user again has the full
//! number of attempts, and each further run of failures locks again.

/// How many failures lock an account, and for how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockoutPolicy {
    /// Consecutive failures that lock the account (5 by default).
    pub max_failures: u32,
    /// How long a lock lasts, in seconds (900 by default).
    pub lock_seconds: i64,
}

impl Default for LockoutPolicy {
    fn default() -> Self {
        LockoutPolicy { max_failures: 5, lock_seconds: 900 }
    }
}

impl LockoutPolicy {
    /// The new failure count and, when this failure reaches the limit, the unix second the
    /// lock ends (the count then restarts at 0). A successful login resets the count to 0;
    /// that needs no policy.
    pub fn after_failure(&self, failures_before: u32, now_unix: i64) -> (u32, Option<i64>) {
        let failures = failures_before.saturating_add(1);
        if failures >= self.max_failures {
            (0, Some(now_unix.saturating_add(self.lock_seconds)))
        } else {
            (failures, None)
        }
    }

    /// Whether an account whose lock ends at `locked_until` is locked at `now_unix`. The
    /// lock ends exactly at `locked_until`.
    pub fn is_locked(locked_until: Option<i64>, now_unix: i64) -> bool {
        locked_until.is_some_and(|until| now_unix < until)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_750_000_000;

    #[test]
    fn the_fifth_failure_locks_for_fifteen_minutes_and_restarts_the_count() {
        let policy = LockoutPolicy::default();
        let mut failures = 0;
        for expected in 1..=4 {
            let (n, locked) = policy.after_failure(failures, NOW);
            assert_eq!((n, locked), (expected, None));
            failures = n;
        }
        assert_eq!(policy.after_failure(failures, NOW), (0, Some(NOW + 900)));
    }

    #[test]
    fn a_custom_policy_is_respected() {
        let policy = LockoutPolicy { max_failures: 3, lock_seconds: 60 };
        assert_eq!(policy.after_failure(1, NOW), (2, None));
        assert_eq!(policy.after_failure(2, NOW), (0, Some(NOW + 60)));
        // A count already past the limit (the policy was tightened) locks at once.
        assert_eq!(policy.after_failure(7, NOW), (0, Some(NOW + 60)));
        // Extreme values saturate instead of overflowing.
        assert_eq!(policy.after_failure(u32::MAX, i64::MAX), (0, Some(i64::MAX)));
    }

    #[test]
    fn the_lock_ends_exactly_at_its_time() {
        assert!(!LockoutPolicy::is_locked(None, NOW));
        assert!(LockoutPolicy::is_locked(Some(NOW + 1), NOW));
        assert!(!LockoutPolicy::is_locked(Some(NOW), NOW));
        assert!(!LockoutPolicy::is_locked(Some(NOW - 1), NOW));
    }
}
