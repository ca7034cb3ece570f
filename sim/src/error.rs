//! The generator's one error type.

/// Why a history cannot be generated.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// A plan that asks for nothing or for too much.
    #[error("the history plan is invalid: {0}")]
    Plan(String),
    /// The city has nothing to put cases in.
    #[error("the city has no {0}")]
    City(&'static str),
    /// The rules cannot compute a deadline.
    #[error("computing a deadline: {0}")]
    Rules(#[from] cockpit_events::EventsError),
}
