//! City vital signs as pure values. A catalogue (`indicators.json`) defines each indicator:
//! its names, unit, which way is better, and traffic-light bands. Given the counts of one
//! region (cases, devices, alarms), [`Catalogue::assess`] gives each indicator's value and
//! light, a score of 0–100 from the lights, and the region's five-colour rating (五色图).
//! [`rank`] orders regions by score.
//!
//! The catalogue people edit ([`CatalogueEntry`], `entry.rs`) names each indicator of the
//! tender's four systems and sixteen domains, its owner, [`Frequency`] and target. Values
//! are kept per period (`period.rs`: a period is named by the local date it starts on), and
//! [`compare`] (`series.rs`) tells a value against the period before, the same period last
//! year, the target, the trend and the historical peak, low and mean. A [`Threshold`]
//! (`threshold.rs`: a line or bands, raise and clear levels, minimum durations, on the value
//! or its change against last year or a rolling baseline) steps an [`AlarmState`] through
//! an alarm's episodes, one observation at a time.
//!
//! Assessment: a [`Model`] (`model.rs`) scores streets or departments by weighted items
//! and rules and ranks them; [`vital_index`] (`index.rs`) scores each street over the
//! sixteen domains into the vital-sign index and its five colours.
//!
//! Each of the cockpit's own indicators is computed by a [`Formula`] (`formula.rs`, written
//! in the catalogue): a source (cases, alarms, readings, devices), a filter, a time window
//! and a measure (count, rate, mean, percentile), grouped by district, street, village and
//! grid. [`evaluate`] (`evaluate.rs`) computes every formula for every region in one pass
//! per source over columnar [`Rows`] (`rows.rs`) the server loads.
//!
//! No I/O and no clock: the server loads the rows and passes them in with the moment
//! ([`Now`]); it turns moments into local dates with the working calendar.
//!
//! The computed indicators over time (`own.rs`, `past.rs`): each becomes an entry of the
//! catalogue people edit ([`Definition::catalogue_entry`], per local day), and
//! [`Rows::as_of`] takes rows back to a past moment, so that a formula evaluated there
//! gives that day's value (the back-fill from the history).
//!
//! Polars, named in the design for time windows and aggregates, is not used: one
//! indicator's series in one region is at most a few thousand periods, which a sort and one
//! pass handle in microseconds; the ten built-in formulas over ten million rows take a
//! plain blocked pass well under the second the design asks (BENCHMARKS.md, "Computed
//! indicators"), and polars would multiply this crate's build time many times over on the
//! machines that build it.
//!
//! ```text
//! Counts --assess--> value per indicator --bands--> light (green / yellow / red)
//!        lights --weighted points--> score 0..100 --cut points--> colour (green blue yellow orange red)
//! ```

mod assess;
mod entry;
mod evaluate;
mod formula;
mod index;
mod model;
mod needs;
mod own;
mod past;
mod period;
mod rows;
mod series;
mod threshold;
mod vital;

pub use assess::{Assessment, Catalogue, Reading, rank};
pub use entry::{CatalogueEntry, Domain, Frequency, IndicatorId, Owner, Search, System, is_region_code};
pub use evaluate::{BLOCK, Grouped, Now, evaluate};
pub use formula::{Aggregate, Filter, Formula, Moment, Quantity, RegionLevel, Source, Window};
pub use index::{DomainScore, StreetIndex, vital_index};
pub use model::{Item, ItemMeasure, ItemScore, Model, Scored, Scoring, Subject};
pub use needs::{Needs, Slice, needs};
pub use own::Keeper;
pub use past::{Reopened, horizon};
pub use rows::{AlarmRows, CaseRows, DeviceRows, Dictionary, NO_REGION, NO_TIME, Places, ReadingRows, Rows};
pub use series::{Change, Comparison, Point, TrendPoint, compare};
pub use threshold::{AlarmState, Level, Measure, Pending, QuietWindow, Severity, Step, Threshold};
pub use vital::{Bands, Better, Colour, Counts, Definition, Indicator, Light, LightPoints, Names, Rating, Unit};

/// What is wrong with a catalogue.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum IndicatorError {
    /// The document is not a catalogue (bad JSON, a missing field, an unknown indicator).
    #[error("not an indicator catalogue: {0}")]
    Malformed(String),
    /// An indicator is defined twice.
    #[error("indicator {0} is defined twice")]
    Duplicate(Indicator),
    /// Bands that cannot be read one way (green must be the better side of yellow).
    #[error("indicator {0}: {1}")]
    Bands(Indicator, String),
    /// A tag where none is counted, or none where one is.
    #[error("indicator {0}: {1}")]
    Tag(Indicator, String),
    /// Rating cut points or light points out of order or range.
    #[error("{0}")]
    Rating(String),
    /// A field of a catalogue entry or a value that cannot be taken.
    #[error("{field}: {reason}")]
    Field {
        /// The field's path (`name.zh`, `regions[2]`).
        field: String,
        /// What it must be.
        reason: String,
    },
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_assessment;
#[cfg(test)]
mod tests_formula;
#[cfg(test)]
mod tests_over_time;
#[cfg(test)]
mod tests_past;
#[cfg(test)]
mod tests_threshold;
