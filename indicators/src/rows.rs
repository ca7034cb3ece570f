//! The rows formulas are evaluated over, as columns: one `Vec` per field, a row being the
//! same index in each. Text that repeats (a status, a category) is a code into a
//! [`Dictionary`]; a row's place is an index into [`Places`], which names its street,
//! village and grid by their index among the regions of that level. Moments are Unix
//! seconds, [`NO_TIME`] where a row has none.

/// A row without this moment (a case without a deadline, an open case's closing).
pub const NO_TIME: i64 = i64::MIN;

/// A place without a region at this level (a case without a grid).
pub const NO_REGION: u32 = u32::MAX;

/// The distinct texts of one column, a row holding the index of its own.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Dictionary {
    /// The texts, by code.
    names: Vec<String>,
    /// Text → code.
    codes: std::collections::HashMap<String, u16>,
}

impl Dictionary {
    /// The code of `name`, added if new. Codes run out at 65,536 names: the last is
    /// shared by the rest, which no real column comes near (ten statuses, a few hundred
    /// categories).
    pub fn code(&mut self, name: &str) -> u16 {
        if let Some(c) = self.codes.get(name) {
            return *c;
        }
        if self.names.len() > usize::from(u16::MAX) {
            return u16::MAX;
        }
        let c = self.names.len() as u16;
        self.names.push(name.to_string());
        self.codes.insert(name.to_string(), c);
        c
    }

    /// The texts, by code.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// For each code, whether its name passes `keep`.
    pub(crate) fn select(&self, keep: impl Fn(&str) -> bool) -> Vec<bool> {
        let mut out: Vec<bool> = self.names.iter().map(|n| keep(n)).collect();
        out.resize(usize::from(u16::MAX) + 1, false);
        out
    }
}

/// Where rows are: each place's street, village and grid (their index among the regions
/// of their level, or [`NO_REGION`]), and how many regions each level has.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Places {
    /// Per place: street, village, grid.
    pub regions: Vec<[u32; 3]>,
    /// Streets, villages and grids in the city.
    pub sizes: [usize; 3],
}

/// Cases, one column per field.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CaseRows {
    /// Index into [`Places`].
    pub place: Vec<u32>,
    /// Status code (`statuses`).
    pub status: Vec<u16>,
    /// Category code (`categories`).
    pub category: Vec<u16>,
    /// Source system code (`sources`).
    pub source: Vec<u16>,
    /// Bit `i`: the case carries tag `tags.names[i]` (the first 64 tags seen).
    pub tags: Vec<u64>,
    /// Created.
    pub created: Vec<i64>,
    /// Due, or [`NO_TIME`].
    pub due: Vec<i64>,
    /// Closed, or [`NO_TIME`].
    pub closed: Vec<i64>,
    /// Marked overdue by the deadline clock.
    pub overdue: Vec<bool>,
    /// 0: not evaluated; 1: satisfied; 2: evaluated otherwise.
    pub verdict: Vec<u8>,
    /// Status names.
    pub statuses: Dictionary,
    /// Category codes.
    pub categories: Dictionary,
    /// Source ids.
    pub sources: Dictionary,
    /// Tags.
    pub tag_names: Dictionary,
}

/// Device alarms, one column per field.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AlarmRows {
    /// Index into [`Places`].
    pub place: Vec<u32>,
    /// State code (`states`).
    pub state: Vec<u16>,
    /// Severity code (`severities`).
    pub severity: Vec<u16>,
    /// Metric code (`metrics`).
    pub metric: Vec<u16>,
    /// Device type code (`kinds`).
    pub kind: Vec<u16>,
    /// Raised.
    pub raised: Vec<i64>,
    /// Cleared, or [`NO_TIME`].
    pub cleared: Vec<i64>,
    /// State names.
    pub states: Dictionary,
    /// Severities.
    pub severities: Dictionary,
    /// Metric names.
    pub metrics: Dictionary,
    /// Device types.
    pub kinds: Dictionary,
}

/// Sensor readings, one column per field.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReadingRows {
    /// Index into [`Places`] (the device's).
    pub place: Vec<u32>,
    /// Metric code (`metrics`).
    pub metric: Vec<u16>,
    /// Device type code (`kinds`).
    pub kind: Vec<u16>,
    /// When measured.
    pub at: Vec<i64>,
    /// The value.
    pub value: Vec<f64>,
    /// Metric names.
    pub metrics: Dictionary,
    /// Device types.
    pub kinds: Dictionary,
}

/// Registered devices as they are now.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DeviceRows {
    /// Index into [`Places`].
    pub place: Vec<u32>,
    /// Device type code (`kinds`).
    pub kind: Vec<u16>,
    /// Online now.
    pub online: Vec<bool>,
    /// Device types.
    pub kinds: Dictionary,
}

/// Every source's rows, and the places they refer to.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Rows {
    /// Where rows are.
    pub places: Places,
    /// Cases.
    pub cases: CaseRows,
    /// Device alarms.
    pub alarms: AlarmRows,
    /// Readings.
    pub readings: ReadingRows,
    /// Devices.
    pub devices: DeviceRows,
}

impl CaseRows {
    /// Rows held.
    pub fn len(&self) -> usize {
        self.place.len()
    }

    /// Whether none is held.
    pub fn is_empty(&self) -> bool {
        self.place.is_empty()
    }

    /// The tag bits of `names` (tags beyond the 64th are not counted).
    pub fn tag_bits<'a>(&mut self, names: impl IntoIterator<Item = &'a str>) -> u64 {
        names.into_iter().map(|n| self.tag_names.code(n)).filter(|c| *c < 64).fold(0, |bits, c| bits | 1 << c)
    }
}
