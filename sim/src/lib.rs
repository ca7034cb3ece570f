//! The sample district's generated past, as pure values: its people ([`People`]: the
//! centre's commander and dispatchers, the leaders, handlers in every department, each
//! street's platform, a worker for every grid) and N days of cases ([`History`]) that went
//! through the real lifecycle of `cockpit-events` (the same transition table, deadlines on
//! the same working calendar, the same dispatch rules and duplicate links as live cases).
//!
//! The present too: the case feeds' next items ([`Feeds`]: the hotline's and the grassroots
//! platform's documents written through their own mappings, Open311 requests) and what the
//! simulated handlers do next with a live case ([`Handlers`]), at the history's delays
//! divided by a time scale.
//!
//! Sample values for the indicator catalogue ([`indicator_sample`]): every indicator, the
//! district and each street, one value per period over the last N days, by unit and
//! frequency, so that comparisons over time have shape before other systems send values.
//!
//! And the sample sensors' past ([`SensorHistory`]): readings at a thinned rate and the
//! alarms `cockpit-iot`'s rule engine raises from them.
//!
//! Seeded: ChaCha8 streams, one per day, so one seed gives one history on every platform,
//! and a day can be made without the days before it. No I/O, no clock: the caller passes
//! the city, the rules and `now`, and writes what comes out.

mod born;
mod error;
mod handling;
mod history;
mod indicator_sample;
mod life;
mod names;
mod people;
mod present;
mod sensors;
mod shape;
mod text;
mod weather;

pub use error::SimError;
pub use handling::{Handlers, Move, Mover, Next, Seen, generated, person_involved};
pub use history::{Day, History, HistoryCase, Plan, Rules};
pub use indicator_sample::{SampleValue, indicator_sample};
pub use life::Lived;
pub use names::person_name;
pub use people::{Demo, Department, People, Person};
pub use present::{Feed, FeedItem, Feeds};
pub use sensors::{PastAlarm, Sensor, SensorHistory, SensorPlan};
pub use shape::{Channel, Season};
