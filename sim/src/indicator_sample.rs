//! Sample values for the indicator catalogue: for every indicator, the district and each
//! street it is kept for, one value per period of its frequency over the last N days, so
//! that year-on-year, month-on-month, trends and rankings have shape before any other
//! system sends a value. Labelled as generated wherever they are stored.
//!
//! The shape of one indicator comes from its unit: a percentage is a rate around a level
//! on the better or the worse side (a street a little above or below the district), a
//! count of cases (件) or money (万元) is a flow that adds up over the period and over the
//! streets, anything else counted (个, 人, 平方米, 公里) is a stock that grows slowly. Each
//! has a yearly trend, a seasonal swing peaking in its own month, and noise. A street's
//! share of a flow or stock is its share of the district's grids (where people live and
//! work). The district's value is the streets' sum, or their mean for a rate.
//!
//! Seeded per indicator (the seed and the indicator's id), so one indicator's values do
//! not change when another is added to the catalogue.

use chrono::{Datelike, Months, NaiveDate};
use cockpit_geo::{City, Level, RegionId};
use cockpit_indicators::{Better, CatalogueEntry, Frequency};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// One generated value.
#[derive(Debug, Clone, PartialEq)]
pub struct SampleValue {
    /// The indicator's id.
    pub indicator: String,
    /// The region's code (the district or a street).
    pub region: String,
    /// The local date its period starts on.
    pub period: NaiveDate,
    /// The value, rounded as the unit is shown.
    pub value: f64,
}

/// How an indicator's values behave over time and across streets.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Shape {
    /// A percentage: streets average to the district.
    Rate,
    /// Counted over the period (cases, money): longer periods hold more.
    Flow,
    /// Counted at a moment (facilities, people, area): the same whatever the period.
    Stock,
}

impl Shape {
    fn of(unit: &str) -> Shape {
        match unit.trim() {
            "%" | "percent" => Shape::Rate,
            "件" | "万元" | "元" | "起" | "次" | "count" => Shape::Flow,
            _ => Shape::Stock,
        }
    }
}

/// The values of every indicator of `entries` for the district and each street it covers,
/// for every period from the one holding `today - days` to the last that ended before
/// `today`, from `seed`.
pub fn indicator_sample(
    entries: &[CatalogueEntry],
    city: &City,
    today: NaiveDate,
    days: u32,
    seed: u64,
) -> Vec<SampleValue> {
    let district = city.district();
    let total_grids = grids_under(city, district.id).max(1) as f64;
    let streets: Vec<(String, f64)> =
        city.level(Level::Street).map(|s| (s.code.to_string(), grids_under(city, s.id) as f64 / total_grids)).collect();
    let first = today - chrono::Days::new(u64::from(days));
    let mut out = Vec::new();
    for entry in entries {
        let periods = periods(entry.frequency, first, today);
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ fnv(entry.id.as_str()));
        let model = Model::draw(&mut rng, entry);
        let covered: Vec<&(String, f64)> = streets.iter().filter(|(code, _)| entry.covers(code)).collect();
        // Each street's lasting offset from the district: ahead or behind on a rate.
        let leanings: Vec<f64> = covered.iter().map(|_| rng.random_range(-1.0..1.0)).collect();
        for (k, period) in periods.iter().enumerate() {
            let months = months_between(periods[0], *period);
            let base = model.at(months, period.month0());
            let mut sum = 0.0;
            for ((code, share), leaning) in covered.iter().zip(&leanings) {
                let jitter: f64 = rng.random_range(-1.0..1.0);
                let value = match model.shape {
                    Shape::Rate => clamp_rate(base + model.spread * leaning + model.noise * jitter),
                    Shape::Flow | Shape::Stock => base * share * (1.0 + 0.15 * leaning) * (1.0 + model.noise * jitter),
                };
                let value = model.round(value);
                sum += value;
                out.push(SampleValue { indicator: entry.id.to_string(), region: code.clone(), period: *period, value });
            }
            if entry.covers(district.code.as_str()) {
                let value = match (model.shape, covered.len()) {
                    (_, 0) => model.round(base),
                    (Shape::Rate, n) => model.round(sum / n as f64),
                    (_, _) => model.round(sum),
                };
                out.push(SampleValue {
                    indicator: entry.id.to_string(),
                    region: district.code.to_string(),
                    period: periods[k],
                    value,
                });
            }
        }
    }
    out
}

/// One indicator's drawn behaviour.
#[derive(Debug, Clone, Copy)]
struct Model {
    shape: Shape,
    /// The district's level at the first period (a rate in percent; a flow per month).
    level: f64,
    /// Growth per year (a fraction; in points for a rate).
    trend: f64,
    /// The seasonal swing (a fraction of the level; in points for a rate).
    season: f64,
    /// The month (0–11) the swing peaks in.
    peak: u32,
    /// Noise: a fraction of the value; points for a rate.
    noise: f64,
    /// How far a street's rate lies from the district's, in points.
    spread: f64,
    /// Months in a period (a flow over a quarter holds three months); days are 1/30.
    months_per_period: f64,
    /// Decimal places shown.
    decimals: i32,
}

impl Model {
    fn draw(rng: &mut ChaCha8Rng, entry: &CatalogueEntry) -> Model {
        let shape = Shape::of(&entry.unit);
        let higher = entry.better == Better::Higher;
        let months_per_period = match entry.frequency {
            Frequency::RealTime | Frequency::Daily => 1.0 / 30.0,
            Frequency::Monthly => 1.0,
            Frequency::Quarterly => 3.0,
            Frequency::HalfYearly => 6.0,
            Frequency::Yearly => 12.0,
        };
        let (level, trend, season, spread, decimals) = match shape {
            Shape::Rate => {
                let level = if higher { rng.random_range(72.0..96.0) } else { rng.random_range(2.0..18.0) };
                // Improving slowly, in points a year.
                let trend = rng.random_range(0.2..2.5) * if higher { 1.0 } else { -0.3 };
                (level, trend, rng.random_range(0.0..2.0), rng.random_range(1.0..4.0), 1)
            }
            Shape::Flow => {
                let money = entry.unit.contains('元');
                let level =
                    if money { 10f64.powf(rng.random_range(3.0..5.5)) } else { 10f64.powf(rng.random_range(1.3..3.3)) };
                (level, rng.random_range(-0.04..0.12), rng.random_range(0.05..0.25), 0.0, i32::from(money))
            }
            Shape::Stock => {
                let level = 10f64.powf(rng.random_range(1.0..4.0));
                (level, rng.random_range(0.0..0.06), rng.random_range(0.0..0.03), 0.0, 0)
            }
        };
        let noise = match shape {
            Shape::Rate => 0.6,
            Shape::Flow => rng.random_range(0.03..0.10),
            Shape::Stock => 0.01,
        };
        Model { shape, level, trend, season, peak: rng.random_range(0..12), noise, spread, months_per_period, decimals }
    }

    /// The district's expected value `months` after the first period, in month `month0`.
    fn at(&self, months: i32, month0: u32) -> f64 {
        let years = f64::from(months) / 12.0;
        let phase = (f64::from(month0) - f64::from(self.peak)) / 12.0 * std::f64::consts::TAU;
        match self.shape {
            Shape::Rate => clamp_rate(self.level + self.trend * years + self.season * phase.cos()),
            Shape::Flow => {
                self.level * self.months_per_period * (1.0 + self.trend).powf(years) * (1.0 + self.season * phase.cos())
            }
            Shape::Stock => self.level * (1.0 + self.trend).powf(years) * (1.0 + self.season * phase.cos()),
        }
    }

    fn round(&self, value: f64) -> f64 {
        let scale = 10f64.powi(self.decimals);
        ((value * scale).round() / scale).max(0.0)
    }
}

fn clamp_rate(value: f64) -> f64 {
    value.clamp(0.0, 100.0)
}

/// The starts of the periods of `frequency` from the one holding `first` to the last one
/// that ended before `today` (the current period is left for a value to arrive).
fn periods(frequency: Frequency, first: NaiveDate, today: NaiveDate) -> Vec<NaiveDate> {
    let mut out = Vec::new();
    let mut start = frequency.period_start(first);
    let Some(end) = frequency.period_start(today).pred_opt().map(|d| frequency.period_start(d)) else {
        return out;
    };
    while start <= end {
        out.push(start);
        let next = match frequency {
            Frequency::RealTime | Frequency::Daily => start.succ_opt(),
            Frequency::Monthly => start.checked_add_months(Months::new(1)),
            Frequency::Quarterly => start.checked_add_months(Months::new(3)),
            Frequency::HalfYearly => start.checked_add_months(Months::new(6)),
            Frequency::Yearly => start.checked_add_months(Months::new(12)),
        };
        match next {
            Some(n) => start = n,
            None => break,
        }
    }
    out
}

fn months_between(from: NaiveDate, to: NaiveDate) -> i32 {
    (to.year() - from.year()) * 12 + to.month() as i32 - from.month() as i32
}

/// The grids in `region`, itself counted when it is one.
fn grids_under(city: &City, region: RegionId) -> usize {
    let r = city.region(region);
    if r.level == Level::Grid {
        return 1;
    }
    r.children.iter().map(|c| grids_under(city, *c)).sum()
}

/// FNV-1a of `text`: a stable seed per indicator.
fn fnv(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};
    use std::path::PathBuf;

    use cockpit_geo::{CityGeoJson, Tolerance};

    use super::*;

    fn sample() -> (City, Vec<CatalogueEntry>) {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../data/ouhai");
        let read = |name: &str| std::fs::read_to_string(dir.join(name)).unwrap_or_default();
        let (district, streets, villages, grids) =
            (read("district.geojson"), read("streets.geojson"), read("villages.geojson"), read("grids.geojson"));
        let source =
            CityGeoJson { district: &district, streets: &streets, villages: Some(&villages), grids: Some(&grids) };
        let Ok(city) = City::from_geojson(source, Tolerance::default()) else { panic!("the sample city loads") };
        let file: serde_json::Value = serde_json::from_str(&read("indicators/tender.json")).unwrap_or_default();
        let Ok(entries) = serde_json::from_value::<Vec<CatalogueEntry>>(file["indicators"].clone()) else {
            panic!("the sample catalogue reads")
        };
        (city, entries)
    }

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default()
    }

    #[test]
    fn every_indicator_has_fourteen_months_per_street_and_the_district_adds_them_up() {
        let (city, entries) = sample();
        let today = day(2026, 12, 7);
        let values = indicator_sample(&entries, &city, today, 420, 20260101);
        let streets: BTreeSet<String> = city.level(Level::Street).map(|s| s.code.to_string()).collect();
        let district = city.district().code.to_string();
        let mut by_key: BTreeMap<(&str, &str), Vec<&SampleValue>> = BTreeMap::new();
        for v in &values {
            by_key.entry((v.indicator.as_str(), v.region.as_str())).or_default().push(v);
            assert!(v.value.is_finite() && v.value >= 0.0, "{v:?}");
        }
        for entry in &entries {
            let expected = match entry.frequency {
                // 2025-10-13 to 2026-11: October 2025 and the thirteen months after it.
                Frequency::Monthly => 14,
                // 2025 Q4 to 2026 Q3.
                Frequency::Quarterly => 4,
                Frequency::HalfYearly => 2,
                // 2025 only: 2026 is not over.
                Frequency::Yearly => 1,
                Frequency::RealTime | Frequency::Daily => 420,
            };
            for region in streets.iter().chain([&district]) {
                let got = by_key.get(&(entry.id.as_str(), region.as_str())).map(Vec::as_slice).unwrap_or_default();
                assert_eq!(got.len(), expected, "{} in {region}", entry.id);
                // The current period is left for a value to arrive.
                let current = entry.frequency.period_start(today);
                assert!(got.iter().all(|v| v.period < current), "{} in {region} reaches {current}", entry.id);
            }
            if entry.unit == "%" {
                assert!(values.iter().filter(|v| v.indicator == entry.id.as_str()).all(|v| v.value <= 100.0));
            }
        }
        // A count of cases over the district is its streets' sum, period by period.
        let Some(flow) = entries.iter().find(|e| e.unit == "件" && e.frequency == Frequency::Monthly) else {
            panic!("the sample has a monthly count of cases")
        };
        let of = |region: &str, period: NaiveDate| {
            values
                .iter()
                .find(|v| v.indicator == flow.id.as_str() && v.region == region && v.period == period)
                .map(|v| v.value)
        };
        let month = day(2026, 3, 1);
        let sum: f64 = streets.iter().filter_map(|s| of(s, month)).sum();
        assert_eq!(of(&district, month), Some(sum));
        assert!(sum > 0.0);
    }

    #[test]
    fn one_seed_gives_the_same_values_and_an_indicator_keeps_its_values_when_another_is_added() {
        let (city, entries) = sample();
        let today = day(2026, 12, 7);
        let a = indicator_sample(&entries[..20], &city, today, 420, 7);
        assert_eq!(a, indicator_sample(&entries[..20], &city, today, 420, 7));
        assert_ne!(a, indicator_sample(&entries[..20], &city, today, 420, 8));
        let more = indicator_sample(&entries[..30], &city, today, 420, 7);
        assert_eq!(&more[..a.len()], &a[..]);
    }

    #[test]
    fn a_street_with_more_grids_counts_more() {
        let (city, entries) = sample();
        let values = indicator_sample(&entries, &city, day(2026, 12, 7), 420, 1);
        let grids = |code: &str| city.by_code(code).map_or(0, |r| grids_under(&city, r.id));
        let mut streets: Vec<String> = city.level(Level::Street).map(|s| s.code.to_string()).collect();
        streets.sort_by_key(|s| grids(s));
        let (small, big) = (&streets[0], &streets[streets.len() - 1]);
        // Over every stock and flow, the biggest street is ahead of the smallest.
        let total = |region: &str| {
            values
                .iter()
                .filter(|v| v.region == region)
                .filter(|v| entries.iter().any(|e| e.id.as_str() == v.indicator && e.unit != "%"))
                .map(|v| v.value)
                .sum::<f64>()
        };
        assert!(total(big) > total(small), "{big} ({} grids) against {small} ({} grids)", grids(big), grids(small));
    }
}
