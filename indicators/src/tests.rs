use std::collections::HashSet;

use super::*;

fn sample() -> Catalogue {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../data/ouhai/indicators/catalogue.json"))
        .expect("the sample catalogue");
    Catalogue::parse(&text).expect("the sample catalogue parses")
}

fn reading(a: &Assessment, id: Indicator) -> Reading {
    a.readings.iter().find(|(i, _)| *i == id).map(|(_, r)| *r).expect("shown")
}

#[test]
fn the_sample_catalogue_shows_every_indicator_once() {
    let c = sample();
    let ids: Vec<Indicator> = c.definitions.iter().map(|d| d.id).collect();
    assert_eq!(ids.len(), 10);
    assert_eq!(ids.iter().collect::<HashSet<_>>().len(), 10);
    assert_eq!(c.tag(Indicator::RisksToday), Some("风险"));
    assert_eq!(c.tag(Indicator::HazardsToday), Some("隐患"));
}

#[test]
fn values_are_counts_and_shares_and_a_share_of_nothing_has_no_value() {
    let c = sample();
    let counts = Counts { created_today: 4, open: 20, overdue: 2, with_deadline: 40, on_time: 38, ..Counts::default() };
    let a = c.assess(&counts);
    assert_eq!(reading(&a, Indicator::CasesToday), Reading { value: Some(4.0), light: None });
    let tagged = c.assess(&Counts { risks_today: 2, hazards_today: 1, ..Counts::default() });
    assert_eq!(reading(&tagged, Indicator::RisksToday), Reading { value: Some(2.0), light: None });
    assert_eq!(reading(&tagged, Indicator::HazardsToday), Reading { value: Some(1.0), light: None });
    assert_eq!(reading(&a, Indicator::OverdueRate).value, Some(10.0));
    assert_eq!(reading(&a, Indicator::OnTimeRate).value, Some(95.0));
    // No evaluations, no devices: no value, no light, no part in the score.
    assert_eq!(reading(&a, Indicator::SatisfactionRate), Reading { value: None, light: None });
    assert_eq!(reading(&a, Indicator::DeviceOnlineRate), Reading { value: None, light: None });
}

#[test]
fn bands_read_in_the_better_direction_with_limits_inclusive() {
    let c = sample();
    let overdue = c.definition(Indicator::OverdueRate).unwrap();
    assert_eq!(overdue.light(5.0), Some(Light::Green));
    assert_eq!(overdue.light(5.1), Some(Light::Yellow));
    assert_eq!(overdue.light(15.0), Some(Light::Yellow));
    assert_eq!(overdue.light(15.1), Some(Light::Red));
    let on_time = c.definition(Indicator::OnTimeRate).unwrap();
    assert_eq!(on_time.light(95.0), Some(Light::Green));
    assert_eq!(on_time.light(94.9), Some(Light::Yellow));
    assert_eq!(on_time.light(84.9), Some(Light::Red));
    assert_eq!(c.definition(Indicator::OpenCases).unwrap().light(1e9), None, "unrated");
}

#[test]
fn the_score_weighs_the_lights_and_rates_in_five_colours() {
    let c = sample();
    // Overdue 10 % (yellow, weight 2), on time 95 % (green, 2), alarms 0 (green, 1):
    // (70·2 + 100·2 + 100·1) / 5 = 88 → blue.
    let counts = Counts { open: 20, overdue: 2, with_deadline: 40, on_time: 38, ..Counts::default() };
    let a = c.assess(&counts);
    assert_eq!(a.score, Some(88.0));
    assert_eq!(a.colour, Some(Colour::Blue));
    assert_eq!(a.alarmed, 0);
    // Everything green → 100, green.
    let good = Counts {
        open: 20,
        with_deadline: 10,
        on_time: 10,
        evaluated: 5,
        satisfied: 5,
        devices: 4,
        devices_online: 4,
        ..Counts::default()
    };
    assert_eq!(c.assess(&good).colour, Some(Colour::Green));
    // Everything rated red → 30, red, and every red reading is alarmed.
    let bad = Counts {
        open: 10,
        overdue: 5,
        with_deadline: 10,
        on_time: 1,
        evaluated: 10,
        satisfied: 1,
        devices: 10,
        devices_online: 1,
        active_alarms: 9,
        ..Counts::default()
    };
    let a = c.assess(&bad);
    assert_eq!((a.score, a.colour, a.alarmed), (Some(30.0), Some(Colour::Red), 5));
    // Only the alarm count has a value (no cases, no devices): it alone decides.
    let a = c.assess(&Counts { active_alarms: 1, ..Counts::default() });
    assert_eq!((a.score, a.colour), (Some(70.0), Some(Colour::Yellow)));
}

#[test]
fn every_cut_point_gives_its_colour() {
    let r = sample().rating;
    let got: Vec<Colour> =
        [100.0, 90.0, 89.9, 80.0, 70.0, 69.9, 60.0, 59.9, 0.0].iter().map(|s| r.colour(*s)).collect();
    use Colour::*;
    assert_eq!(got, vec![Green, Green, Blue, Blue, Yellow, Orange, Orange, Red, Red]);
}

#[test]
fn ranks_share_places_on_equal_scores_and_leave_out_the_unscored() {
    assert_eq!(
        rank(&[Some(80.0), None, Some(95.0), Some(80.0), Some(60.0)]),
        vec![Some(2), None, Some(1), Some(2), Some(4)]
    );
    assert_eq!(rank(&[]), Vec::<Option<u32>>::new());
}

#[test]
fn bad_catalogues_are_refused_with_the_reason() {
    let good = serde_json::to_value(sample()).unwrap();
    let with = |f: &dyn Fn(&mut serde_json::Value)| {
        let mut v = good.clone();
        f(&mut v);
        Catalogue::parse(&v.to_string())
    };
    let e = with(&|v| v["definitions"][0]["id"] = "weather".into()).unwrap_err();
    assert!(matches!(&e, IndicatorError::Malformed(m) if m.contains("weather")), "{e}");
    let e = with(&|v| {
        let first = v["definitions"][3].clone();
        v["definitions"].as_array_mut().unwrap().push(first);
    })
    .unwrap_err();
    assert_eq!(e, IndicatorError::Duplicate(Indicator::OverdueRate));
    let e = with(&|v| v["definitions"][3]["bands"] = serde_json::json!({"green": 20, "yellow": 10})).unwrap_err();
    assert!(matches!(e, IndicatorError::Bands(Indicator::OverdueRate, _)), "{e}");
    let e = with(&|v| v["rating"]["blue"] = 95.into()).unwrap_err();
    assert!(matches!(e, IndicatorError::Rating(_)), "{e}");
    let e = with(&|v| v["points"]["red"] = 80.into()).unwrap_err();
    assert!(matches!(e, IndicatorError::Rating(_)), "{e}");
    let e = with(&|v| v["window_days"] = 0.into()).unwrap_err();
    assert!(matches!(e, IndicatorError::Rating(_)), "{e}");
    let hazards = good["definitions"].as_array().unwrap().iter().position(|d| d["id"] == "hazards_today").unwrap();
    let e = with(&|v| {
        v["definitions"][hazards]["compute"]["filter"].as_object_mut().unwrap().remove("tag").map(|_| ()).unwrap()
    })
    .unwrap_err();
    assert_eq!(e, IndicatorError::Tag(Indicator::HazardsToday, "its filter names no `tag` to count".into()));
    // A formula's condition that its source has not is refused, naming the field.
    let e = with(&|v| v["definitions"][6]["compute"]["filter"]["tag"] = "隐患".into()).unwrap_err();
    assert_eq!(
        e,
        IndicatorError::Field {
            field: "definitions[6].compute.filter.tag".into(),
            reason: "does not apply to devices".into()
        }
    );
    let e = with(&|v| v["definitions"][0]["compute"]["window"]["last_days"] = 3.into()).unwrap_err();
    assert!(matches!(&e, IndicatorError::Field { field, .. } if field == "definitions[0].compute.window"), "{e}");
    let e = with(&|v| v["definitions"][0]["compute"]["measure"] = serde_json::json!({"mean": "value"})).unwrap_err();
    assert!(matches!(&e, IndicatorError::Field { field, .. } if field == "definitions[0].compute.measure"), "{e}");
    let e = with(&|v| v["definitions"][0]["compute"]["filter"] = serde_json::json!({"colour": "red"})).unwrap_err();
    assert!(matches!(&e, IndicatorError::Malformed(m) if m.contains("colour")), "{e}");
    let e = with(&|v| v["definitions"][3]["colour"] = "red".into()).unwrap_err();
    assert!(matches!(&e, IndicatorError::Malformed(m) if m.contains("colour")), "{e}");
}

#[test]
fn counts_add_up_for_a_parent_region() {
    let mut total = Counts { open: 1, devices: 2, ..Counts::default() };
    total += Counts { open: 3, devices_online: 1, active_alarms: 4, ..Counts::default() };
    assert_eq!(total, Counts { open: 4, devices: 2, devices_online: 1, active_alarms: 4, ..Counts::default() });
}
