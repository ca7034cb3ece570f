//! How many cases a day brings and what they are: the channels (sources) and their shares,
//! the weekday and weekend, the hour of the day, the seasons (the plum rains of June and
//! July and the typhoons of August and September bring flooding), and the categories and
//! urgencies each channel reports.

use chrono::{Datelike, NaiveDate, Weekday};
use cockpit_events::Urgency;

/// A channel through which cases come, and the source it is stored under.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Channel {
    /// Grid workers' patrol reports, through the grassroots platform (基层治理四平台).
    Patrol,
    /// The 12345 citizen hotline.
    Hotline,
    /// Public-opinion monitoring.
    PublicOpinion,
    /// Police non-emergency referrals (110 非警务警情).
    Police,
    /// Sensor alarms.
    IotAlarm,
    /// Cameras' AI detections.
    Camera,
}

impl Channel {
    /// Every channel, most cases first.
    pub const ALL: [Channel; 6] = [
        Channel::Patrol,
        Channel::Hotline,
        Channel::PublicOpinion,
        Channel::Police,
        Channel::IotAlarm,
        Channel::Camera,
    ];

    /// The source id the cases are stored under (`data/<city>/cases/sources.json`).
    pub fn source(self) -> &'static str {
        match self {
            Channel::Patrol => "grassroots-platform",
            Channel::Hotline => "hotline-12345",
            Channel::PublicOpinion => "public-opinion",
            Channel::Police => "police-110",
            Channel::IotAlarm | Channel::Camera => "alarm",
        }
    }

    /// The share of a working day's cases, in per mille.
    pub fn share(self) -> u32 {
        match self {
            Channel::Patrol => 460,
            Channel::Hotline => 280,
            Channel::PublicOpinion => 80,
            Channel::Police => 70,
            Channel::IotAlarm => 60,
            Channel::Camera => 50,
        }
    }

    /// How busy the channel is on a day off, against a working day: grid workers patrol
    /// less, citizens call almost as much.
    pub fn day_off_factor(self) -> f64 {
        match self {
            Channel::Patrol => 0.45,
            Channel::Hotline => 0.9,
            Channel::PublicOpinion => 1.0,
            Channel::Police => 1.15,
            Channel::IotAlarm | Channel::Camera => 1.0,
        }
    }

    /// Relative weights of the 24 local hours.
    pub fn hours(self) -> [u32; 24] {
        match self {
            // Patrols in office hours, a little in the evening.
            Channel::Patrol => [0, 0, 0, 0, 0, 0, 1, 4, 10, 14, 14, 10, 4, 6, 12, 14, 12, 8, 3, 2, 1, 0, 0, 0],
            Channel::Hotline => [1, 1, 0, 0, 0, 1, 2, 5, 10, 12, 12, 9, 6, 7, 10, 11, 10, 8, 6, 6, 5, 4, 3, 2],
            Channel::PublicOpinion => [2, 1, 1, 1, 1, 1, 2, 4, 6, 8, 8, 7, 6, 6, 7, 7, 7, 6, 6, 7, 8, 8, 6, 4],
            Channel::Police => [4, 3, 2, 2, 1, 1, 2, 3, 5, 6, 6, 6, 6, 6, 6, 6, 6, 7, 8, 9, 9, 9, 8, 6],
            Channel::IotAlarm => [3, 3, 3, 3, 3, 3, 4, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 4, 4, 4, 3],
            Channel::Camera => [1, 1, 1, 1, 1, 1, 2, 5, 8, 9, 9, 9, 8, 8, 9, 9, 9, 9, 8, 6, 4, 3, 2, 1],
        }
    }

    /// The categories the channel reports, by code, with weights out of season.
    pub fn categories(self) -> &'static [(&'static str, u32)] {
        match self {
            Channel::Patrol => &[
                ("0102", 25),
                ("0402", 20),
                ("0201", 12),
                ("0104", 10),
                ("0101", 8),
                ("0301", 5),
                ("06", 8),
                ("0701", 4),
                ("0704", 5),
                ("0503", 2),
                ("0501", 1),
            ],
            Channel::Hotline => &[
                ("0301", 18),
                ("0701", 14),
                ("0708", 8),
                ("0104", 8),
                ("0102", 8),
                ("0402", 8),
                ("06", 14),
                ("0101", 6),
                ("0503", 3),
                ("0501", 4),
                ("0704", 4),
                ("0201", 4),
            ],
            Channel::PublicOpinion => {
                &[("0701", 25), ("0708", 15), ("06", 20), ("0301", 10), ("0101", 10), ("0102", 10), ("0704", 10)]
            }
            Channel::Police => &[("0701", 55), ("0402", 10), ("06", 20), ("0704", 15)],
            Channel::IotAlarm => &[("0503", 35), ("05", 35), ("0704", 30)],
            Channel::Camera => &[("0402", 40), ("0704", 20), ("0102", 20), ("06", 20)],
        }
    }

    /// How urgent a case of `category` from this channel is: weights of normal, urgent,
    /// critical.
    pub fn urgencies(self, category: &str) -> [u32; 3] {
        match (self, category.starts_with("05")) {
            (Channel::IotAlarm, _) => [0, 70, 30],
            (_, true) => [45, 45, 10],
            (Channel::Police, false) => [75, 23, 2],
            _ => [88, 11, 1],
        }
    }
}

/// The season a date falls in, as flooding goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Season {
    /// Plum rains (梅雨), mid-June to mid-July.
    PlumRain,
    /// Typhoons (台风), August and September.
    Typhoon,
    /// The rest of the year.
    Dry,
}

impl Season {
    /// The season of a local date.
    pub fn of(date: NaiveDate) -> Season {
        match (date.month(), date.day()) {
            (6, 10..) | (7, ..=15) => Season::PlumRain,
            (8 | 9, _) => Season::Typhoon,
            _ => Season::Dry,
        }
    }

    /// How much more often flooding categories (`05`, `0501`, `0503`) come in the season.
    pub fn flooding_factor(self) -> u32 {
        match self {
            Season::PlumRain => 5,
            Season::Typhoon => 4,
            Season::Dry => 1,
        }
    }

    /// How many more cases the season brings overall, in per mille of the usual.
    pub fn volume_per_mille(self) -> u32 {
        match self {
            Season::PlumRain => 1100,
            Season::Typhoon => 1080,
            Season::Dry => 1000,
        }
    }
}

/// Whether a category is one of flooding (its weight grows in the wet seasons).
pub fn is_flooding(category: &str) -> bool {
    matches!(category, "05" | "0501" | "0503")
}

/// A day's volume against a working Tuesday: Mondays bring the weekend's backlog.
pub fn weekday_per_mille(weekday: Weekday, working: bool) -> u32 {
    match (working, weekday) {
        (false, _) => 720,
        (true, Weekday::Mon) => 1120,
        (true, Weekday::Fri) => 960,
        (true, _) => 1000,
    }
}

/// The stored urgency for an index into [`Channel::urgencies`].
pub fn urgency(index: usize) -> Urgency {
    Urgency::ALL[index.min(2)]
}
