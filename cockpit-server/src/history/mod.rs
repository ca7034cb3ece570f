//! The demonstration's past: the district's generated people and N days of cases
//! (`cockpit-sim`), written in bulk (`cockpit-store`'s `HistoryWriter`). The generator runs
//! on a blocking thread, a day at a time, rendering each day's `COPY` text, while this task
//! copies the day before: generation and PostgreSQL work side by side. At a start with
//! `[history] seed_on_start` (set by `--demo`) and no history yet, it runs in the
//! background while the server serves; `cockpit-server seed-history` runs it on demand.
//! The sample sensors' readings and alarms follow the cases' commit (`sensors.rs`).

mod sensors;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use cockpit_access::{Role, ScopeLevel};
use cockpit_sim::{Demo, Department, History, HistoryCase, People, Plan, Rules, SimError};
use cockpit_store::{AuditActor, AuditEntry, CopyChunk, NewUser, PastCase, SeedRecord, Store, StoreError};
use tokio::sync::mpsc;

use crate::cases::CaseRules;
use crate::config::HistoryConfig;
use crate::geography::Geography;

pub use sensors::{SensorSettings, seed_sensors, severity_name};

/// Why a history could not be written.
#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    /// The database refused.
    #[error("writing the history: {0}")]
    Store(#[from] StoreError),
    /// The generator refused the plan.
    #[error("generating the history: {0}")]
    Sim(#[from] SimError),
    /// The generator's thread failed.
    #[error("the history generator stopped: {0}")]
    Generator(String),
}

/// What seeding did.
#[derive(Debug, Clone, Copy)]
pub struct Seeded {
    /// The record written.
    pub record: SeedRecord,
    /// Generated accounts added.
    pub people: u64,
    /// Timeline entries written.
    pub entries: u64,
    /// From the start to the commit, when the history could be read (its text search
    /// index followed).
    pub committed: std::time::Duration,
}

/// The demonstration's accounts, when they exist: the grid worker's grid and the leader.
async fn demo_accounts(store: &Store) -> Result<Option<Demo>, StoreError> {
    let (Some(worker), Some(_)) = (store.credentials("gridworker").await?, store.credentials("leader").await?) else {
        return Ok(None);
    };
    if worker.user.scope_level != ScopeLevel::Grid.as_str() {
        return Ok(None);
    }
    Ok(Some(Demo { grid: worker.user.scope_code, grid_worker: "gridworker".into(), leader: "leader".into() }))
}

/// The generated people of `seed` over the departments in the database, the
/// demonstration's accounts kept: the history's accounts, whom the present's handlers act as.
pub(crate) async fn people(
    store: &Store,
    city: &cockpit_geo::City,
    seed: u64,
) -> Result<(People, Option<Demo>), StoreError> {
    let departments: Vec<Department> =
        store.departments().await?.into_iter().map(|(id, name, parent)| Department { id, name, parent }).collect();
    let demo = demo_accounts(store).await?;
    Ok((People::generate(city, &departments, demo.as_ref(), seed), demo))
}

/// On a start with `[history] seed_on_start`, the demonstration's past in the background:
/// the cases, then the sensors' (their open alarms handed to the live pipeline), the
/// computed indicators' past days, and the sample indicator values.
pub(crate) async fn start_in_background(config: &crate::Config, state: &crate::AppState) {
    let sensors = match config.history.seed_on_start {
        true => SensorSettings::load(config, &state.cases.store)
            .await
            .inspect_err(|e| tracing::warn!(error = %e, "the IoT rules could not be read; no sensors' history"))
            .ok()
            .map(|s| (s, state.iot.clone())),
        false => None,
    };
    let history = seed_in_background(
        state.cases.store.clone(),
        state.geography.get(),
        state.cases.rules.get(),
        config.history.clone(),
        sensors,
    );
    crate::indicators::computed_values::backfill_after(
        history,
        state.cases.store.clone(),
        state.indicators.clone(),
        state.geography.get(),
        state.cases.rules.get().calendar.offset(),
        config.history.days,
    );
    crate::indicators::sample::seed_in_background(
        state.cases.store.clone(),
        state.geography.get(),
        state.cases.rules.get().calendar.offset(),
        config.history.clone(),
    );
}

/// Seeds when configured to and when the database has no history yet; in the background,
/// so that the first start serves at once: what reads cases waits for the commit (the
/// store locks the two tables for the load), then shows the whole past. The task answers
/// whether it wrote a history.
pub fn seed_in_background(
    store: Store,
    geography: Arc<Geography>,
    rules: Arc<CaseRules>,
    config: HistoryConfig,
    sensors: Option<(SensorSettings, crate::iot::Iot)>,
) -> tokio::task::JoinHandle<bool> {
    if !config.seed_on_start {
        return tokio::spawn(async { false });
    }
    tokio::spawn(async move {
        match store.history_seeds().await {
            Ok(seeds) if !seeds.is_empty() => return false,
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(error = %e, "reading the history's record; not seeding");
                return false;
            }
        }
        tracing::info!(days = config.days, seed = config.seed, "writing the demonstration's history in the background");
        let started = std::time::Instant::now();
        let now = Utc::now();
        match seed(&store, geography.clone(), rules.clone(), &config, now).await {
            Ok(s) => tracing::info!(
                cases = s.record.cases,
                entries = s.entries,
                people = s.people,
                seconds = started.elapsed().as_secs_f64(),
                "history written"
            ),
            Err(e) => {
                tracing::warn!(error = %e, "the history was not written");
                return false;
            }
        }
        let Some((sensors, iot)) = sensors else { return true };
        match seed_sensors_of(&store, &geography, rules, &config, &sensors, now).await {
            Ok(w) => tracing::info!(
                readings = w.readings,
                aggregates = w.aggregates,
                alarms = w.alarms,
                seconds = started.elapsed().as_secs_f64(),
                "the sensors' history written"
            ),
            Err(e) => {
                tracing::warn!(error = %e, "the sensors' history was not written");
                return true;
            }
        }
        // The past's alarms still open now are the live pipeline's to clear.
        if let Err(e) = iot.adopt_open_alarms().await {
            tracing::warn!(error = %e, "the history's open alarms were not handed to the live pipeline");
        }
        true
    })
}

/// Writes the people and `config.days` days of history ending at `now` from `config.seed`,
/// in one transaction.
pub async fn seed(
    store: &Store,
    geography: Arc<Geography>,
    rules: Arc<CaseRules>,
    config: &HistoryConfig,
    now: DateTime<Utc>,
) -> Result<Seeded, SeedError> {
    let started = std::time::Instant::now();
    // The accounts' roles must exist (a start writes them; so does this, idempotently).
    store.seed_roles().await?;
    let (people, demo) = people(store, &geography.city, config.seed).await?;
    let people = Arc::new(people);
    let plan = Plan { days: config.days, per_day: config.per_day, seed: config.seed, now };
    let total = History::new(&geography.city, sim_rules(&rules), &people, plan, demo.clone())?.total();
    // One hash for every generated account, of a password nobody keeps: they cannot log in
    // until an administrator sets a password (hashing each would take minutes).
    let hash = tokio::task::spawn_blocking(|| {
        cockpit_access::random_token().and_then(|secret| cockpit_access::hash_password(&secret))
    })
    .await
    .map_err(|e| SeedError::Generator(e.to_string()))?
    .map_err(|e| SeedError::Generator(e.to_string()))?;
    let mut writer = store.history_writer(total).await?;
    let users: Vec<(NewUser, Role)> = people
        .persons
        .iter()
        .map(|p| {
            let user = NewUser {
                username: p.username.clone(),
                display_name: p.display_name.clone(),
                password_hash: hash.clone(),
                department_id: p.department.clone(),
                scope: p.scope.clone(),
                must_change_password: true,
            };
            (user, p.role)
        })
        .collect();
    let new_departments: Vec<_> =
        people.departments.iter().map(|d| (d.id.clone(), d.name.clone(), d.parent.clone())).collect();
    let added = writer.people(&new_departments, &users).await?;

    // The generator renders a day at a time; two days wait at most (then it waits).
    let (tx, mut rx) = mpsc::channel::<Result<CopyChunk, SimError>>(2);
    let base = writer.first_case();
    let generator = {
        let (people, demo) = (people.clone(), demo.clone());
        tokio::task::spawn_blocking(move || {
            let history = match History::new(&geography.city, sim_rules(&rules), &people, plan, demo) {
                Ok(h) => h,
                Err(e) => return tx.blocking_send(Err(e)).map_err(|_| ()),
            };
            for i in 0..history.days() {
                let chunk = history.day(i).map(|day| render(&day.cases, base));
                tx.blocking_send(chunk).map_err(|_| ())?;
            }
            Ok(())
        })
    };
    let mut entries = 0;
    while let Some(chunk) = rx.recv().await {
        let chunk = chunk?;
        entries += chunk.timeline_rows();
        writer.write(&chunk).await?;
    }
    generator.await.map_err(|e| SeedError::Generator(e.to_string()))?.ok();
    let audit = AuditEntry {
        who: AuditActor::system(),
        action: "history.seed".into(),
        object: "history".into(),
        result: "ok".into(),
        detail: serde_json::json!({
            "seed": config.seed, "days": config.days, "cases": total, "people": added, "generated": true
        }),
    };
    let (record, deferred) = writer.finish(config.seed, config.days, now, audit).await?;
    let committed = started.elapsed();
    deferred.build(store).await?;
    Ok(Seeded { record, people: added, entries, committed })
}

/// The sensors' past of the history written from `config` at `now`, its people made again
/// from the seed (for who acknowledged alarms).
pub async fn seed_sensors_of(
    store: &Store,
    geography: &Geography,
    rules: Arc<CaseRules>,
    config: &HistoryConfig,
    settings: &SensorSettings,
    now: DateTime<Utc>,
) -> Result<cockpit_store::SensorsWritten, SeedError> {
    let (people, _) = people(store, &geography.city, config.seed).await?;
    seed_sensors(store, &people, rules, config, settings, now).await
}

/// The case rules as the generator takes them.
fn sim_rules(rules: &CaseRules) -> Rules<'_> {
    Rules {
        categories: &rules.categories,
        dispatch: &rules.dispatch,
        calendar: &rules.calendar,
        deadlines: rules.deadlines,
    }
}

/// A day's cases as `COPY` text, their ids from `base` on.
pub fn render(cases: &[HistoryCase], base: i64) -> CopyChunk {
    let mut chunk = CopyChunk::default();
    for case in cases {
        chunk.push(&past_case(case, base));
    }
    chunk
}

fn past_case(case: &HistoryCase, base: i64) -> PastCase<'_> {
    let lived = &case.lived;
    PastCase {
        id: base + case.n as i64,
        source_id: case.channel.source(),
        source_ref: &case.source_ref,
        category: case.category.as_str(),
        urgency: case.urgency.as_str(),
        tags: case.tags.iter().map(|t| t.as_str()).collect(),
        title: &case.title,
        description: &case.description,
        address: &case.address,
        location: (case.point.x, case.point.y),
        street_code: case.place.street_code(),
        village_code: case.place.village_code(),
        grid_code: case.place.grid_code(),
        occurred_at: case.occurred_at,
        created_at: case.created_at,
        state: &lived.state,
        duplicate_of: case.duplicate_of.map(|n| base + n as i64),
        deadline: lived.deadline.as_ref(),
        warned: lived.warned,
        overdue: lived.overdue,
        next_alarm_at: lived.next_alarm_at,
        closed_at: lived.closed_at,
        updated_at: lived.updated_at,
        timeline: &lived.timeline,
    }
}
