//! The generated rows, as columns for the evaluator and with what COPY needs besides (each
//! place's codes, each reading's and alarm's device). Seeded, so every run is the same:
//! cases over the last 60 days (statuses in the proportions of a working district, 85 %
//! with a deadline, 5 % tagged 风险 and 5 % 隐患, 2 % without a place and 3 % with a street
//! only), readings every ~54 minutes per device over 30 days, alarms mostly cleared.

use cockpit_geo::{City, Level};
use cockpit_indicators::{NO_REGION, NO_TIME, Now, Places, Rows};
use cockpit_server::indicators::computed::DeviceNow;
use cockpit_store::Placer;

pub const DEVICES: usize = 5_000;
pub const ALARMS: usize = 30_000;
const DAY: i64 = 86_400;

/// The generated data and how to write it out.
pub struct Generated {
    pub rows: Rows,
    pub now: Now,
    /// Each place's street, village and grid codes.
    pub codes: Vec<[Option<String>; 3]>,
    /// Each device's id (its index) type and place.
    pub device_kind: Vec<&'static str>,
    /// Each reading's device.
    pub reading_device: Vec<u32>,
    /// Each alarm's device.
    pub alarm_device: Vec<u32>,
}

impl Generated {
    /// The devices as the IoT memory gives them.
    pub fn devices_now(&self) -> Vec<DeviceNow> {
        let d = &self.rows.devices;
        (0..d.place.len())
            .map(|i| DeviceNow {
                regions: self.codes[d.place[i] as usize].clone(),
                device_type: self.device_kind[i].to_string(),
                online: d.online[i],
            })
            .collect()
    }
}

/// splitmix64: small, fast, and the same everywhere.
pub struct Random(u64);

impl Random {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    pub fn percent(&mut self) -> u64 {
        self.below(100)
    }
}

const STATUSES: [(&str, u64); 10] = [
    ("submitted", 5),
    ("rejected", 5),
    ("new", 5),
    ("dispatched", 3),
    ("accepted", 3),
    ("in_progress", 8),
    ("handled", 4),
    ("closed", 30),
    ("evaluated_satisfied", 30),
    ("evaluated_unsatisfied", 7),
];
const CATEGORIES: [&str; 8] = ["0101", "0102", "0201", "0301", "0401", "0501", "0502", "0601"];

fn places(city: &City) -> (Places, Vec<[Option<String>; 3]>) {
    let index = |level, code: &str| city.level(level).position(|r| r.code.as_str() == code).map(|i| i as u32);
    let sizes = [Level::Street, Level::Village, Level::Grid].map(|l| city.level(l).count());
    let mut places = Places { sizes, ..Places::default() };
    let mut codes = Vec::new();
    for (g, grid) in city.level(Level::Grid).enumerate() {
        let code = grid.code.as_str();
        let (street, village) = (&code[..9], &code[..12]);
        let s = index(Level::Street, street).expect("a grid's street by its code's prefix");
        let v = index(Level::Village, village).expect("a grid's village by its code's prefix");
        places.regions.push([s, v, g as u32]);
        codes.push([Some(street.to_string()), Some(village.to_string()), Some(code.to_string())]);
    }
    for (s, street) in city.level(Level::Street).enumerate() {
        places.regions.push([s as u32, NO_REGION, NO_REGION]);
        codes.push([Some(street.code.as_str().to_string()), None, None]);
    }
    places.regions.push([NO_REGION; 3]);
    codes.push([None, None, None]);
    (places, codes)
}

/// `total` rows of cases and readings (60 : 40) over `city`.
pub fn generate(city: &City, total: usize) -> Generated {
    let mut rng = Random(20_260_315);
    let (places, codes) = places(city);
    let grids = city.level(Level::Grid).count() as u64;
    let streets = city.level(Level::Street).count() as u64;
    let street_only = grids as u32;
    let nowhere = (grids + streets) as u32;
    // 15 March 2026, 10:00 in Wenzhou.
    let now = Now { at: 1_773_540_000, offset_seconds: 8 * 3600 };
    let mut rows = Rows { places, ..Rows::default() };
    let place = |rng: &mut Random| match rng.percent() {
        0..2 => nowhere,
        2..5 => street_only + rng.below(streets) as u32,
        _ => rng.below(grids) as u32,
    };
    let c = &mut rows.cases;
    let cases = total * 6 / 10;
    for _ in 0..cases {
        c.place.push(place(&mut rng));
        let mut pick = rng.percent();
        let mut status = "new";
        for (name, weight) in STATUSES {
            if pick < weight {
                status = name;
                break;
            }
            pick -= weight;
        }
        let code = c.statuses.code(status);
        c.status.push(code);
        let code = c.categories.code(CATEGORIES[rng.below(CATEGORIES.len() as u64) as usize]);
        c.category.push(code);
        let code = c.sources.code("hotline_12345");
        c.source.push(code);
        let tags: &[&str] = match rng.percent() {
            0..5 => &["风险"],
            5..10 => &["隐患"],
            _ => &[],
        };
        let bits = c.tag_bits(tags.iter().copied());
        c.tags.push(bits);
        let created = now.at - rng.below(60 * DAY as u64) as i64;
        c.created.push(created);
        let due = if rng.percent() < 85 { created + DAY + rng.below(9 * DAY as u64) as i64 } else { NO_TIME };
        c.due.push(due);
        let resolved = matches!(status, "closed" | "evaluated_satisfied" | "evaluated_unsatisfied");
        let closed =
            if resolved { (created + 3600 + rng.below(12 * DAY as u64) as i64).min(now.at - 60) } else { NO_TIME };
        c.closed.push(closed);
        let open = matches!(status, "new" | "dispatched" | "accepted" | "in_progress" | "handled");
        c.overdue.push(open && due != NO_TIME && due <= now.at && rng.percent() < 50);
        c.verdict.push(match status {
            "evaluated_satisfied" => 1,
            "evaluated_unsatisfied" => 2,
            _ => 0,
        });
    }
    let mut device_kind = Vec::with_capacity(DEVICES);
    for i in 0..DEVICES {
        let kind = ["air_quality", "water_level_river", "camera"][i % 3];
        device_kind.push(kind);
        let d = &mut rows.devices;
        d.place.push(rng.below(grids) as u32);
        let code = d.kinds.code(kind);
        d.kind.push(code);
        d.online.push(rng.percent() < 90);
    }
    let readings = total - cases;
    let per_device = readings.div_ceil(DEVICES);
    let step = 30 * DAY / per_device.max(1) as i64;
    let r = &mut rows.readings;
    let mut reading_device = Vec::with_capacity(readings);
    for k in 0..readings {
        let device = k % DEVICES;
        let kind = device_kind[device];
        reading_device.push(device as u32);
        r.place.push(rows.devices.place[device]);
        let (metric, value) = match kind {
            "air_quality" => ("pm25", 5.0 + rng.below(14_500) as f64 / 100.0),
            "water_level_river" => ("water_level_m", 0.5 + rng.below(450) as f64 / 100.0),
            _ => ("people", rng.below(200) as f64),
        };
        let code = r.metrics.code(metric);
        r.metric.push(code);
        let code = r.kinds.code(kind);
        r.kind.push(code);
        r.at.push(now.at - 30 * DAY + (k / DEVICES) as i64 * step + (device % 60) as i64);
        r.value.push(value);
    }
    let mut alarm_device = Vec::with_capacity(ALARMS);
    for i in 0..ALARMS {
        let device = rng.below(DEVICES as u64) as usize;
        alarm_device.push(device as u32);
        let a = &mut rows.alarms;
        a.place.push(rows.devices.place[device]);
        let state = match i % 10 {
            0 => "active",
            1 => "acknowledged",
            _ => "cleared",
        };
        let code = a.states.code(state);
        a.state.push(code);
        let code = a.severities.code("major");
        a.severity.push(code);
        let code = a.metrics.code("water_level_m");
        a.metric.push(code);
        let code = a.kinds.code(device_kind[device]);
        a.kind.push(code);
        let raised = now.at - rng.below(30 * DAY as u64) as i64;
        a.raised.push(raised);
        a.cleared.push(if state == "cleared" { raised + 3600 } else { NO_TIME });
    }
    Generated { rows, now, codes, device_kind, reading_device, alarm_device }
}

/// Adds the devices of the IoT memory to rows loaded from the database.
pub fn add_devices(rows: &mut Rows, placer: &mut Placer, devices: &[DeviceNow]) {
    let d = &mut rows.devices;
    for device in devices {
        let [s, v, g] = &device.regions;
        d.place.push(placer.place([s.as_deref(), v.as_deref(), g.as_deref()]));
        let code = d.kinds.code(&device.device_type);
        d.kind.push(code);
        d.online.push(device.online);
    }
    rows.places = placer.places();
}
