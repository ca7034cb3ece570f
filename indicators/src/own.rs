//! The cockpit's own indicators in the catalogue people edit: each [`Definition`] becomes
//! a [`CatalogueEntry`] for the whole district, kept by the catalogue's [`Keeper`], its
//! frequency that of its formula's window (a value per local day for a rolling window or
//! none: 实时, the day's latest value stands for it), so that its values are stored per
//! period beside the others' and compared over time the same way.

use serde::{Deserialize, Serialize};

use crate::{CatalogueEntry, Definition, Domain, Formula, Frequency, IndicatorId, Owner, Source, System, Unit};

/// Who keeps the computed indicators, and where they stand among the tender's systems.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Keeper {
    /// Their system.
    pub system: System,
    /// Their domain (a definition may name its own).
    pub domain: Domain,
    /// The owner department and person.
    pub owner: Owner,
    /// The responsible leader.
    #[serde(default)]
    pub leader: String,
}

impl Formula {
    /// How often its value stands for a new period: its window's period, else a day.
    pub fn frequency(&self) -> Frequency {
        match self.window.as_ref().and_then(|w| w.period) {
            Some(period) => period,
            None => Frequency::RealTime,
        }
    }
}

impl Definition {
    /// Its entry in the catalogue people edit, for `district` (its code), kept by `keeper`;
    /// neither published (the wall shows it as a computed tile) nor public. `None` for an id the catalogue people edit cannot take (the
    /// built-in ones all can).
    pub fn catalogue_entry(&self, keeper: &Keeper, district: &str) -> Option<CatalogueEntry> {
        let formula = serde_json::to_string(&self.compute).unwrap_or_default();
        Some(CatalogueEntry {
            id: IndicatorId::new(self.id.as_str()).ok()?,
            name: self.name.clone(),
            definition: format!("驾驶舱按公式从本系统数据计算 (computed by the cockpit from its own data): {formula}"),
            system: keeper.system,
            domain: self.domain.unwrap_or(keeper.domain),
            unit: match self.unit {
                Unit::Count if self.compute.source == Source::Cases => "件".to_string(),
                Unit::Count => "个".to_string(),
                Unit::Percent => "%".to_string(),
            },
            better: self.better,
            owner: keeper.owner.clone(),
            leader: keeper.leader.clone(),
            frequency: self.compute.frequency(),
            target: None,
            regions: vec![district.to_string()],
            public: false,
            keywords: vec!["computed".to_string(), "驾驶舱".to_string()],
            // The wall shows them already, as the computed table's tiles.
            published: false,
            source: Some("computed".to_string()),
        })
    }
}
