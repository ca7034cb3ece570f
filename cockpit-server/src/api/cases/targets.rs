//! Who a case may be dispatched to: a department, a person, a street or a grid and its
//! worker that exist (and people who are active), each refusal naming the member of `to`.

use cockpit_events::Assignee;
use cockpit_geo::Level;

use crate::AppState;
use crate::api::ApiError;

/// Refuses a dispatch to no one: the department (by name or id), the person, the street
/// or the grid and its worker must exist (and the people be active), each refusal naming
/// the member of `to`.
pub(super) async fn assignee_exists(state: &AppState, to: &Assignee) -> Result<(), ApiError> {
    let region = |code: &str, level: Level, field: &'static str| {
        let geography = state.geography.get();
        match geography.city.by_code(code) {
            Some(r) if r.level == level => Ok(()),
            _ => Err(ApiError::bad(field, format!("`{code}` is not a {} of the city", level.as_str()))),
        }
    };
    match to {
        Assignee::Department { department } => {
            let name = department.as_str();
            let known = state.cases.store.departments().await?;
            if !known.iter().any(|(id, n, _)| id == name || n == name) {
                return Err(ApiError::bad("to.department", format!("no department `{name}`")));
            }
            Ok(())
        }
        Assignee::Person { user } => active_account(state, user.as_str(), "to.user").await,
        Assignee::StreetPlatform { street } => region(street.as_str(), Level::Street, "to.street"),
        Assignee::GridWorker { grid, worker } => {
            region(grid.as_str(), Level::Grid, "to.grid")?;
            active_account(state, worker.as_str(), "to.worker").await
        }
    }
}

/// Refuses, naming `field`, a name that is no active account.
async fn active_account(state: &AppState, name: &str, field: &'static str) -> Result<(), ApiError> {
    if state.cases.store.user_named(name).await?.is_some_and(|u| u.active) {
        Ok(())
    } else {
        Err(ApiError::bad(field, format!("no active account `{name}`")))
    }
}
