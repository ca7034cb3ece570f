//! Editing the geography while the server runs: a region's boundary or persons in charge,
//! a whole layer, each stored as a document, checked by building the whole city again and
//! put in force on every instance.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use cockpit_geo::{Coord, gcj02_to_wgs84};
use serde_json::{Value, json};
use tokio::sync::watch;

use super::{Crs, Geography, GeographyFiles, GeographyHandle, LayerKind};
use crate::documents::{self, DocumentError, StoredDocument};
use cockpit_store::{AuditActor, Store, StoreError};

/// Why an edit was not taken.
#[derive(Debug, thiserror::Error)]
pub enum EditError {
    /// Nothing of that name.
    #[error("{0}")]
    NotFound(String),
    /// The edit does not check; `field` is the request's field at fault.
    #[error("{field}: {reason}")]
    Invalid {
        /// The request field.
        field: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// The geography could not be rebuilt (the files no longer check).
    #[error("rebuilding the geography: {0}")]
    Build(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<DocumentError> for EditError {
    fn from(e: DocumentError) -> EditError {
        match e {
            DocumentError::Invalid { reason, .. } => EditError::Invalid { field: "body", reason },
            DocumentError::Store(e) => EditError::Store(e),
        }
    }
}

fn invalid(field: &'static str) -> impl Fn(String) -> EditError {
    move |reason| EditError::Invalid { field, reason }
}

/// The files, the handle every request reads, and the edits in force.
#[derive(Clone)]
pub struct GeographyEdits {
    files: Arc<GeographyFiles>,
    handle: GeographyHandle,
    store: Store,
    version: Arc<AtomicI64>,
    /// Serialises this instance's edits: each is checked against the one before.
    writing: Arc<tokio::sync::Mutex<()>>,
}

/// The prefixes of the geography's documents.
const PREFIXES: [&str; 2] = ["region:", "layer:"];

impl GeographyEdits {
    /// Lays the stored edits over `files`, builds the geography, and puts it in force. A
    /// stored edit that no longer checks (the files changed under it) is skipped with a
    /// warning.
    pub async fn start(files: GeographyFiles, store: Store) -> Result<GeographyEdits, EditError> {
        let geography = files.build().map_err(|e| EditError::Build(format!("{e:#}")))?;
        let edits = GeographyEdits {
            files: Arc::new(files),
            handle: GeographyHandle::new(geography),
            store,
            version: Arc::new(AtomicI64::new(0)),
            writing: Default::default(),
        };
        edits.reload().await?;
        Ok(edits)
    }

    /// The handle on the geography in force.
    pub fn handle(&self) -> GeographyHandle {
        self.handle.clone()
    }

    async fn stored(&self) -> Result<Vec<StoredDocument>, StoreError> {
        self.store.documents(&PREFIXES).await
    }

    /// `files` with `stored` laid over, and the geography they build. Edits that do not
    /// check (the files changed under them) are skipped with a warning.
    fn lay_over(files: &GeographyFiles, stored: &[StoredDocument]) -> Result<(GeographyFiles, Geography), EditError> {
        let all = stored.iter().try_fold(files.clone(), |f, d| f.with_edit(&d.name, &d.body));
        if let Ok(next) = all
            && let Ok(geography) = next.build()
        {
            return Ok((next, geography));
        }
        // Some edit does not check: lay them one by one to find it.
        let mut current = files.clone();
        for document in stored {
            let next = current.clone().with_edit(&document.name, &document.body);
            match next.and_then(|n| n.build().map(|_| n).map_err(|e| format!("{e:#}"))) {
                Ok(next) => current = next,
                Err(reason) => tracing::warn!(
                    document = %document.name,
                    version = document.version,
                    %reason,
                    "a stored geography edit does not check; it is not in force"
                ),
            }
        }
        let geography = current.build().map_err(|e| EditError::Build(format!("{e:#}")))?;
        Ok((current, geography))
    }

    /// Runs `f` off the async threads (building the city takes a while).
    async fn blocking<T: Send + 'static>(
        f: impl FnOnce() -> Result<T, EditError> + Send + 'static,
    ) -> Result<T, EditError> {
        tokio::task::spawn_blocking(f).await.map_err(|e| EditError::Build(e.to_string()))?
    }

    /// Rebuilds the geography from the files and the stored edits, puts it in force, and
    /// writes the regions to the database (for the spatial queries over history).
    pub async fn reload(&self) -> Result<(), EditError> {
        let stored = self.stored().await?;
        let version = stored.iter().map(|d| d.version).max().unwrap_or(0);
        let files = self.files.clone();
        let (_, geography) = Self::blocking(move || Self::lay_over(&files, &stored)).await?;
        self.store.sync_regions(&region_records(&geography.city)).await?;
        self.handle.set(geography);
        self.version.store(version, Ordering::Relaxed);
        Ok(())
    }

    /// Replaces the boundary of region `code` with `geometry` (a Polygon or MultiPolygon,
    /// a Feature of one, or a FeatureCollection of exactly one) given in `crs`. The new
    /// version.
    pub async fn set_boundary(
        &self,
        code: &str,
        geometry: &Value,
        crs: Crs,
        who: AuditActor,
    ) -> Result<i64, EditError> {
        self.region_exists(code)?;
        let geometry = single_polygon(geometry).map_err(invalid("geometry"))?;
        let geometry = to_wgs84(geometry, crs).map_err(invalid("geometry"))?;
        self.edit(&format!("region:{code}"), json!({"boundary": geometry}), "geometry", who).await
    }

    /// Replaces the persons in charge of region `code`. The new version.
    pub async fn set_persons(&self, code: &str, persons: &Value, who: AuditActor) -> Result<i64, EditError> {
        self.region_exists(code)?;
        let list: Vec<cockpit_geo::Person> = serde_json::from_value(persons.clone()).map_err(|e| {
            EditError::Invalid { field: "persons", reason: format!("must be a list of {{role, name}}: {e}") }
        })?;
        if let Some(i) = list.iter().position(|p| p.role.trim().is_empty()) {
            return Err(EditError::Invalid { field: "persons", reason: format!("person {i} has no role") });
        }
        if list.len() > 50 {
            return Err(EditError::Invalid { field: "persons", reason: "at most 50 persons".into() });
        }
        self.edit(&format!("region:{code}"), json!({"persons": list}), "persons", who).await
    }

    /// Replaces layer `name` with `features` (a FeatureCollection in `crs`); a new layer
    /// needs its `kind`. The layer's kind and the new version.
    pub async fn set_layer(
        &self,
        name: &str,
        kind: Option<&str>,
        features: &Value,
        crs: Crs,
        who: AuditActor,
    ) -> Result<(LayerKind, i64), EditError> {
        if name.is_empty()
            || name.len() > 64
            || !name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
        {
            return Err(EditError::Invalid {
                field: "name",
                reason: "a layer name is 1 to 64 of a-z, 0-9, _ and -".into(),
            });
        }
        let existing = {
            let g = self.handle.get();
            if g.points.contains_key(name) {
                Some(LayerKind::Points)
            } else if g.areas.contains_key(name) {
                Some(LayerKind::Areas)
            } else {
                None
            }
        };
        let asked = match kind {
            Some(k) => Some(LayerKind::parse(k).ok_or_else(|| EditError::Invalid {
                field: "kind",
                reason: format!("`{k}` is not points or areas"),
            })?),
            None => None,
        };
        let kind = match (existing, asked) {
            (Some(e), Some(a)) if e != a => {
                return Err(EditError::Invalid {
                    field: "kind",
                    reason: format!("layer `{name}` holds {}, not {}", e.as_str(), a.as_str()),
                });
            }
            (Some(k), _) | (None, Some(k)) => k,
            (None, None) => {
                return Err(EditError::Invalid {
                    field: "kind",
                    reason: "a new layer needs its kind: points or areas".into(),
                });
            }
        };
        if features["type"] != "FeatureCollection" || !features["features"].is_array() {
            return Err(EditError::Invalid { field: "features", reason: "must be a GeoJSON FeatureCollection".into() });
        }
        let features = to_wgs84(features.clone(), crs).map_err(invalid("features"))?;
        let body = json!({"kind": kind.as_str(), "features": features});
        let version = self.edit(&format!("layer:{name}"), body, "features", who).await?;
        Ok((kind, version))
    }

    fn region_exists(&self, code: &str) -> Result<(), EditError> {
        match self.handle.get().city.by_code(code) {
            Some(_) => Ok(()),
            None => Err(EditError::NotFound(format!("no region has code `{code}`"))),
        }
    }

    /// Checks `patch` merged into document `name` by building the whole geography, then
    /// stores it (with its audit record) and puts it in force.
    async fn edit(&self, name: &str, patch: Value, field: &'static str, who: AuditActor) -> Result<i64, EditError> {
        let _writing = self.writing.lock().await;
        let stored = self.stored().await?;
        let mut body = stored.iter().find(|d| d.name == name).map(|d| d.body.clone()).unwrap_or_else(|| json!({}));
        if let (Some(body), Some(patch)) = (body.as_object_mut(), patch.as_object()) {
            body.extend(patch.clone());
        }
        let files = self.files.clone();
        let (check_name, check_body) = (name.to_string(), body.clone());
        Self::blocking(move || {
            let others: Vec<StoredDocument> = stored.into_iter().filter(|d| d.name != check_name).collect();
            let (current, _) = Self::lay_over(&files, &others)?;
            let next = current.with_edit(&check_name, &check_body).map_err(invalid(field))?;
            next.build().map(|_| ()).map_err(|e| invalid(field)(format!("{e:#}")))
        })
        .await?;
        let version = self.store.put_document(name, &body, who).await?;
        self.reload().await?;
        Ok(version)
    }

    /// Polls the largest version of the geography's documents every `every` and reloads
    /// when it moved (another instance took an edit), until `stop` turns true.
    pub async fn follow(self, every: Duration, stop: watch::Receiver<bool>) {
        let version = self.version.clone();
        documents::follow(&self.store.clone(), &PREFIXES, every, stop, version, "geography", || self.reload()).await;
    }
}

/// The one Polygon or MultiPolygon in `value`: a geometry, a Feature or a FeatureCollection
/// of one Feature, read by the `geojson` crate.
fn single_polygon(value: &Value) -> Result<Value, String> {
    use cockpit_geo::geojson::{GeoJson, GeometryValue};
    let geometry = match serde_json::from_value::<GeoJson>(value.clone()).map_err(|e| format!("is not GeoJSON: {e}"))? {
        GeoJson::Geometry(geometry) => Some(geometry),
        GeoJson::Feature(feature) => feature.geometry,
        GeoJson::FeatureCollection(collection) => match <[_; 1]>::try_from(collection.features) {
            Ok([one]) => one.geometry,
            Err(many) => return Err(format!("holds {} features; a boundary is exactly one", many.len())),
        },
    };
    match geometry {
        Some(g) if matches!(g.value, GeometryValue::Polygon { .. } | GeometryValue::MultiPolygon { .. }) => {
            serde_json::to_value(g).map_err(|e| e.to_string())
        }
        Some(g) => Err(format!("the geometry is a {}, not a Polygon or MultiPolygon", g.value.type_name())),
        None => Err("the geometry is nothing, not a Polygon or MultiPolygon".into()),
    }
}

/// `value` with every coordinate pair converted from `crs` to WGS84, checked to be finite
/// longitudes and latitudes.
fn to_wgs84(mut value: Value, crs: Crs) -> Result<Value, String> {
    fn walk(v: &mut Value, crs: Crs) -> Result<(), String> {
        match v {
            Value::Array(items) if items.len() >= 2 && items.iter().all(Value::is_number) => {
                let (x, y) = (items[0].as_f64().unwrap_or(f64::NAN), items[1].as_f64().unwrap_or(f64::NAN));
                if !(x.is_finite() && y.is_finite() && (-180.0..=180.0).contains(&x) && (-90.0..=90.0).contains(&y)) {
                    return Err(format!("[{x}, {y}] is not a longitude and latitude"));
                }
                if crs == Crs::Gcj02 {
                    let p = gcj02_to_wgs84(Coord { x, y });
                    *v = json!([round7(p.x), round7(p.y)]);
                }
                Ok(())
            }
            Value::Array(items) => items.iter_mut().try_for_each(|i| walk(i, crs)),
            Value::Object(map) => {
                if let Some(c) = map.get_mut("coordinates") {
                    walk(c, crs)?;
                }
                if let Some(g) = map.get_mut("geometry") {
                    walk(g, crs)?;
                }
                if let Some(Value::Array(fs)) = map.get_mut("features") {
                    fs.iter_mut().try_for_each(|f| walk(f, crs))?;
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }
    walk(&mut value, crs)?;
    Ok(value)
}

fn round7(x: f64) -> f64 {
    (x * 1e7).round() / 1e7
}

/// Every region of `city` as the store keeps it, its boundary as GeoJSON.
fn region_records(city: &cockpit_geo::City) -> Vec<cockpit_store::RegionRecord> {
    city.regions()
        .iter()
        .map(|r| cockpit_store::RegionRecord {
            code: r.code.as_str().to_string(),
            level: r.level.as_str().to_string(),
            name: r.name.clone(),
            parent_code: r.parent.map(|p| city.region(p).code.as_str().to_string()),
            geometry: cockpit_geo::geojson::multipolygon(&r.boundary).to_string(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_boundary_is_exactly_one_polygon() {
        let square =
            json!({"type": "Polygon", "coordinates": [[[120.0, 28.0], [120.1, 28.0], [120.1, 28.1], [120.0, 28.0]]]});
        let feature = json!({"type": "Feature", "properties": {}, "geometry": square});
        for wrapped in [square.clone(), feature.clone(), json!({"type": "FeatureCollection", "features": [feature]})] {
            assert_eq!(single_polygon(&wrapped), Ok(square.clone()), "{wrapped}");
        }
        let two = json!({"type": "FeatureCollection", "features": [
            {"type": "Feature", "properties": {}, "geometry": square},
            {"type": "Feature", "properties": {}, "geometry": square},
        ]});
        for (bad, says) in [
            (two, "holds 2 features"),
            (json!({"type": "Point", "coordinates": [120.0, 28.0]}), "is a Point"),
            (json!({"type": "Feature", "properties": {}, "geometry": null}), "is nothing"),
            (json!({"type": "Polygon", "coordinates": "nowhere"}), "is not GeoJSON"),
            (json!({"coordinates": []}), "is not GeoJSON"),
        ] {
            let refused = single_polygon(&bad).unwrap_err();
            assert!(refused.contains(says), "{bad}: {refused}");
        }
    }
}
