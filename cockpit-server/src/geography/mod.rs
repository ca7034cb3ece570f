//! The city and its layers: read from a data folder at start, with the edits an operator
//! made while the server ran (a region's boundary or persons in charge, a whole layer)
//! laid over the files. Edits are stored as documents in `config_documents` (`region:<code>`,
//! `layer:<name>`, always WGS84), checked by building the whole city again exactly as at
//! start, and followed by every instance (polled) so that all of them agree within a poll.
//! Big answers built from a geography are kept in it (`answers`), so an edit, which
//! replaces the whole geography, leaves none of them stale.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, RwLock};

use anyhow::{Context, bail};
use cockpit_geo::{AreaLayer, City, CityGeoJson, PointLayer, Tolerance};
use serde_json::Value;

mod answers;
mod edits;

pub use answers::{Answers, EncodedAnswer};
pub use edits::{EditError, GeographyEdits};

/// The city and its named layers.
pub struct Geography {
    /// Regions and the locate index.
    pub city: City,
    /// Point layers by name (file stem of `points/*.geojson`).
    pub points: BTreeMap<String, PointLayer>,
    /// Area layers by name (file stem of `areas/*.geojson`).
    pub areas: BTreeMap<String, AreaLayer>,
    /// The big answers built from this geography so far, encoded (`/api/regions`,
    /// `/api/layers/{name}`); dropped with it when an edit lands.
    pub answers: Answers,
}

impl Geography {
    /// Reads `dir` (see the `data_dir` setting for its layout).
    pub fn load(dir: &Path) -> anyhow::Result<Geography> {
        GeographyFiles::read(dir)?.build()
    }
}

/// The kind of a layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LayerKind {
    /// Points (`points/`).
    Points,
    /// Polygons (`areas/`).
    Areas,
}

impl LayerKind {
    fn parse(text: &str) -> Option<LayerKind> {
        match text {
            "points" => Some(LayerKind::Points),
            "areas" => Some(LayerKind::Areas),
            _ => None,
        }
    }

    /// As in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            LayerKind::Points => "points",
            LayerKind::Areas => "areas",
        }
    }
}

/// The data folder's GeoJSON, parsed but not yet checked: what edits are laid over.
#[derive(Debug, Clone)]
pub struct GeographyFiles {
    /// District, streets, villages, grids (the last two optional).
    levels: [Option<Value>; 4],
    layers: BTreeMap<String, (LayerKind, Value)>,
}

impl GeographyFiles {
    /// Reads `dir`'s files.
    pub fn read(dir: &Path) -> anyhow::Result<GeographyFiles> {
        let parse = |name: &str| -> anyhow::Result<Option<Value>> {
            let path = dir.join(name);
            if !path.exists() {
                return Ok(None);
            }
            let text = std::fs::read_to_string(&path).with_context(|| format!("reading {name}"))?;
            Ok(Some(serde_json::from_str(&text).with_context(|| format!("{name} is not JSON"))?))
        };
        let district = parse("district.geojson")?.context("reading district.geojson: missing")?;
        let streets = parse("streets.geojson")?.context("reading streets.geojson: missing")?;
        let levels = [Some(district), Some(streets), parse("villages.geojson")?, parse("grids.geojson")?];
        let mut layers = BTreeMap::new();
        for (kind, folder) in [(LayerKind::Points, "points"), (LayerKind::Areas, "areas")] {
            for (name, text) in layer_files(&dir.join(folder))? {
                if layers.contains_key(&name) {
                    bail!("layer `{name}` is both in points/ and areas/");
                }
                let value: Value = serde_json::from_str(&text).with_context(|| format!("{folder}/{name}.geojson"))?;
                layers.insert(name, (kind, value));
            }
        }
        Ok(GeographyFiles { levels, layers })
    }

    /// Checks everything and builds the city and its layers.
    pub fn build(&self) -> anyhow::Result<Geography> {
        let text = |v: &Option<Value>| v.as_ref().map(Value::to_string);
        let [district, streets, villages, grids] = [0, 1, 2, 3].map(|i| text(&self.levels[i]));
        let city = City::from_geojson(
            CityGeoJson {
                district: district.as_deref().unwrap_or_default(),
                streets: streets.as_deref().unwrap_or_default(),
                villages: villages.as_deref(),
                grids: grids.as_deref(),
            },
            Tolerance::default(),
        )?;
        let mut points = BTreeMap::new();
        let mut areas = BTreeMap::new();
        for (name, (kind, value)) in &self.layers {
            let text = value.to_string();
            match kind {
                LayerKind::Points => {
                    points.insert(name.clone(), PointLayer::from_geojson(name, &text)?);
                }
                LayerKind::Areas => {
                    areas.insert(name.clone(), AreaLayer::from_geojson(name, &text)?);
                }
            }
        }
        Ok(Geography { city, points, areas, answers: Answers::default() })
    }

    /// These files with one stored edit laid over them; the error says what is wrong.
    fn with_edit(mut self, name: &str, body: &Value) -> Result<GeographyFiles, String> {
        if let Some(code) = name.strip_prefix("region:") {
            let feature = self
                .levels
                .iter_mut()
                .flatten()
                .filter_map(|c| c.get_mut("features").and_then(Value::as_array_mut))
                .flatten()
                .find(|f| f["properties"]["code"].as_str() == Some(code))
                .ok_or_else(|| format!("no region has code `{code}`"))?;
            if let Some(geometry) = body.get("boundary").filter(|g| !g.is_null()) {
                feature["geometry"] = geometry.clone();
            }
            if let Some(persons) = body.get("persons").filter(|p| !p.is_null()) {
                feature["properties"]["persons"] = persons.clone();
            }
        } else if let Some(layer) = name.strip_prefix("layer:") {
            let kind = body["kind"].as_str().and_then(LayerKind::parse).ok_or("`kind` must be points or areas")?;
            if let Some((existing, _)) = self.layers.get(layer)
                && *existing != kind
            {
                return Err(format!("layer `{layer}` holds {}, not {}", existing.as_str(), kind.as_str()));
            }
            self.layers.insert(layer.to_string(), (kind, body["features"].clone()));
        } else {
            return Err(format!("`{name}` is not a geography document"));
        }
        Ok(self)
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

/// The geography in force, replaced whole when an edit lands. Cheap to clone.
#[derive(Clone)]
pub struct GeographyHandle(Arc<RwLock<Arc<Geography>>>);

impl GeographyHandle {
    /// A handle on `geography`.
    pub fn new(geography: Geography) -> GeographyHandle {
        GeographyHandle(Arc::new(RwLock::new(Arc::new(geography))))
    }

    /// The geography as it is now.
    pub fn get(&self) -> Arc<Geography> {
        match self.0.read() {
            Ok(g) => g.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    fn set(&self, geography: Geography) {
        let geography = Arc::new(geography);
        match self.0.write() {
            Ok(mut slot) => *slot = geography,
            Err(poisoned) => *poisoned.into_inner() = geography,
        }
    }
}

/// The coordinate system of an edit's coordinates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Crs {
    /// WGS84, as stored.
    Wgs84,
    /// GCJ-02 (the offset Chinese web maps use), converted to WGS84 before storing.
    Gcj02,
}

impl Crs {
    /// Parses `wgs84` or `gcj02` (absent: WGS84).
    pub fn parse(text: Option<&str>) -> Result<Crs, String> {
        match text.map(str::to_ascii_lowercase).as_deref() {
            None | Some("wgs84") => Ok(Crs::Wgs84),
            Some("gcj02") => Ok(Crs::Gcj02),
            Some(other) => Err(format!("`{other}` is not wgs84 or gcj02")),
        }
    }
}
