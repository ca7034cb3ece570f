//! Loading the city and its layers from a data folder.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, bail};
use cockpit_geo::{AreaLayer, City, CityGeoJson, PointLayer, Tolerance};

/// The city and its named layers.
pub struct Geography {
    /// Regions and the locate index.
    pub city: City,
    /// Point layers by name (file stem of `points/*.geojson`).
    pub points: BTreeMap<String, PointLayer>,
    /// Area layers by name (file stem of `areas/*.geojson`).
    pub areas: BTreeMap<String, AreaLayer>,
}

impl Geography {
    /// Reads `dir` (see the `data_dir` setting for its layout).
    pub fn load(dir: &Path) -> anyhow::Result<Geography> {
        let read = |name: &str| std::fs::read_to_string(dir.join(name)).with_context(|| format!("reading {name}"));
        let optional = |name: &str| -> anyhow::Result<Option<String>> {
            if dir.join(name).exists() { read(name).map(Some) } else { Ok(None) }
        };
        let (district, streets) = (read("district.geojson")?, read("streets.geojson")?);
        let (villages, grids) = (optional("villages.geojson")?, optional("grids.geojson")?);
        let city = City::from_geojson(
            CityGeoJson {
                district: &district,
                streets: &streets,
                villages: villages.as_deref(),
                grids: grids.as_deref(),
            },
            Tolerance::default(),
        )?;
        let mut points = BTreeMap::new();
        for (name, text) in layer_files(&dir.join("points"))? {
            points.insert(name.clone(), PointLayer::from_geojson(&name, &text)?);
        }
        let mut areas = BTreeMap::new();
        for (name, text) in layer_files(&dir.join("areas"))? {
            if points.contains_key(&name) {
                bail!("layer `{name}` is both in points/ and areas/");
            }
            areas.insert(name.clone(), AreaLayer::from_geojson(&name, &text)?);
        }
        Ok(Geography { city, points, areas })
    }
}

fn layer_files(dir: &Path) -> anyhow::Result<Vec<(String, String)>> {
    if !dir.exists() {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("listing {}", dir.display()))? {
        let path = entry?.path();
        if path.extension().and_then(|e| e.to_str()) == Some("geojson") {
            let name = path.file_stem().and_then(|s| s.to_str()).context("layer file name")?.to_string();
            let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
            out.push((name, text));
        }
    }
    out.sort();
    Ok(out)
}
