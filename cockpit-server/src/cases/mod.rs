//! Cases in the server: the city's case rules (categories, dispatch rules, calendar,
//! sources and their mappings) loaded from `<data_dir>/cases/`, and the service that
//! creates cases and applies actions, each in one transaction with its timeline.

mod batch;
mod rules;
mod service;
mod view;

pub use batch::Batcher;
pub use rules::CaseRules;
pub use service::{ActionKey, Applied, CaseService, ServiceError};
pub use view::{case_json, timeline_json};
