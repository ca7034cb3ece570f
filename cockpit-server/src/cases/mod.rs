//! Cases in the server: the city's case rules (categories, dispatch rules, calendar,
//! sources and their mappings) loaded from `<data_dir>/cases/`, with the documents an
//! operator edits laid over them, and the service that creates cases and applies actions,
//! each in one transaction with its timeline.

mod batch;
mod documents;
mod error;
mod rules;
mod service;
mod tokens;
mod view;

pub use crate::documents::DocumentError;
pub use batch::Batcher;
pub use documents::RuleDocuments;
pub use rules::{CaseRules, RulesHandle};
pub use service::{ActionKey, Applied, CaseService, ServiceError};
pub use tokens::{TokenError, bootstrap_source_tokens, issue_source_token};
pub use view::{CaseView, TimelineStep, case_view, free_text, live_case_text, timeline};
