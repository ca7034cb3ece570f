//! The handlers' side of the demonstration: the generated people (once the history has
//! written them) act on the cases the feeds delivered, through the case service as any
//! person's action goes (the lifecycle's transition, the assignee check, the timeline, the
//! audit trail and the live log in one transaction), each move when its compressed delay
//! after the case's last change has passed. The cases followed, and the moves made on each,
//! are kept in the database too (`demo_followed`), so that a restart goes on with them.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use cockpit_events::{CaseId, CategoryCode, Handler, Urgency};
use cockpit_sim::{Handlers, Next, People, Seen, person_involved};
use cockpit_store::AuditActor;

use super::DemoError;
use crate::cases::CaseService;

/// A case the handlers follow.
#[derive(Debug, Clone, Copy)]
pub struct Followed {
    /// Moves made on it.
    pub step: u32,
    /// When to look at it again.
    pub due: DateTime<Utc>,
    /// Moves refused in a row (someone else acted meanwhile); three and it is let go.
    pub refused: u32,
}

/// The generated people, once the history has written their accounts (none before).
pub async fn people(cases: &CaseService) -> Result<Option<People>, DemoError> {
    let Some(record) = cases.store.history_seeds().await?.into_iter().next() else { return Ok(None) };
    let geography = cases.geography.get();
    let (people, _) = crate::history::people(&cases.store, &geography.city, record.seed as u64).await?;
    // The accounts are written with the history, in its one transaction.
    let written = match people.persons.first() {
        Some(p) => cases.store.user_named(&p.username).await?.is_some(),
        None => false,
    };
    Ok(written.then_some(people))
}

/// Looks at every followed case that is due at `now`: makes its next move if its time has
/// come, or says when it will; lets go of the cases whose story is over, those left to go
/// overdue, and every case a person is in.
pub async fn tick(
    cases: &CaseService,
    handlers: &Handlers<'_>,
    followed: &mut BTreeMap<i64, Followed>,
    now: DateTime<Utc>,
) {
    let due: Vec<i64> = followed.iter().filter(|(_, f)| f.due <= now).map(|(id, _)| *id).collect();
    for id in due {
        let Some(mut f) = followed.get(&id).copied() else { continue };
        let step = f.step;
        let keep = match look(cases, handlers, id, &mut f, now).await {
            Ok(keep) => keep,
            Err(e) => {
                tracing::debug!(case = id, error = %e, "a simulated handler's move was refused");
                f.refused += 1;
                f.due = now + chrono::TimeDelta::seconds(5);
                f.refused < 3
            }
        };
        let kept = if keep {
            followed.insert(id, f);
            if f.step == step { Ok(()) } else { cases.store.followed_step(id, f.step).await }
        } else {
            followed.remove(&id);
            cases.store.unfollow_case(id).await
        };
        if let Err(e) = kept {
            tracing::warn!(case = id, error = %e, "recording a followed case");
        }
    }
}

/// Starts following a delivered case, here and in the database.
pub async fn follow(cases: &CaseService, followed: &mut BTreeMap<i64, Followed>, id: i64, now: DateTime<Utc>) {
    followed.insert(id, Followed { step: 0, due: now, refused: 0 });
    if let Err(e) = cases.store.follow_case(id).await {
        tracing::warn!(case = id, error = %e, "recording a followed case; a restart will not follow it");
    }
}

/// The cases followed before a restart, each due for a look now.
pub async fn followed(cases: &CaseService, now: DateTime<Utc>) -> Result<BTreeMap<i64, Followed>, DemoError> {
    let rows = cases.store.followed_cases().await?;
    Ok(rows.into_iter().map(|(id, step)| (id, Followed { step, due: now, refused: 0 })).collect())
}

/// One look at case `id`: whether to keep following it.
async fn look(
    cases: &CaseService,
    handlers: &Handlers<'_>,
    id: i64,
    f: &mut Followed,
    now: DateTime<Utc>,
) -> Result<bool, DemoError> {
    let Some(row) = cases.store.case(CaseId(id)).await? else { return Ok(false) };
    let state = row.state()?;
    let timeline = cases.store.timeline(CaseId(id)).await?;
    if person_involved(&state, timeline.iter().map(|t| (t.actor_user.as_str(), t.actor_role.as_str()))) {
        return Ok(false);
    }
    let category = CategoryCode(row.category.clone());
    let seen = Seen {
        id,
        state: &state,
        source: &row.source_id,
        category: &category,
        urgency: Urgency::parse(&row.urgency).unwrap_or(Urgency::Normal),
        street: row.street_code.as_deref(),
        step: f.step,
    };
    let m = match handlers.next(&seen) {
        Next::Leave => return Ok(false),
        Next::Act(m) => m,
    };
    let at = row.updated_at + m.after;
    if at > now {
        f.due = at;
        return Ok(true);
    }
    let handler = Handler {
        user: m.by.actor.user.as_str(),
        department: m.by.department.as_deref(),
        region: m.by.region.as_deref(),
    };
    let who = AuditActor {
        actor: m.by.actor.user.as_str().to_string(),
        role: m.by.actor.role.as_str().to_string(),
        address: "127.0.0.1".into(),
    };
    cases.act(CaseId(id), &m.by.actor, &handler, m.action, now, who, None).await?;
    f.step += 1;
    f.refused = 0;
    f.due = now;
    Ok(true)
}
