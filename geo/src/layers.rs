//! Layers: points (cameras, hospitals, fire stations, shelters, ...) with geodesic radius
//! and nearest queries, and areas (key areas such as flood-prone or landslide zones,
//! monitoring blind spots) with point-in-area queries.

use geo::{BoundingRect, Coord, MultiPolygon, Rect};
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{AABB, RTree};
use serde_json::{Map, Value};

use crate::error::{GeoError, Problem};
use crate::geodesic::{degree_box, distance_m};
use crate::load::{self, Feature, text_property};
use crate::pip::PreparedArea;

/// One point of a layer.
#[derive(Debug, Clone)]
pub struct PointFeature {
    /// Its id, unique in the layer.
    pub id: String,
    /// Its name, if it has one.
    pub name: Option<String>,
    /// Where it is, WGS84.
    pub position: Coord,
    /// Every other property, as given.
    pub properties: Map<String, Value>,
}

/// A point found near a place, with its geodesic distance.
#[derive(Debug, Clone, Copy)]
pub struct Nearby<'a> {
    /// The feature.
    pub feature: &'a PointFeature,
    /// Geodesic distance in metres.
    pub distance_m: f64,
}

type Indexed = GeomWithData<[f64; 2], usize>;

/// A named layer of points with an R-tree over them.
#[derive(Debug, Clone)]
pub struct PointLayer {
    /// The layer's name, e.g. `cameras`.
    pub name: String,
    features: Vec<PointFeature>,
    tree: RTree<Indexed>,
    /// Longitude is scaled by this in the nearest-neighbour tree, so that its Euclidean
    /// distances approximate ground distances near the layer.
    lon_scale: f64,
    scaled: RTree<Indexed>,
}

impl PointLayer {
    /// Loads a FeatureCollection of points; each needs an `id` (property or feature id),
    /// unique in the layer, and may have a `name`.
    pub fn from_geojson(name: &str, text: &str) -> Result<PointLayer, GeoError> {
        let mut problems = Vec::new();
        let parsed = load::points(name, text, "id", &mut problems)?;
        let mut features = Vec::with_capacity(parsed.len());
        for (id, feature) in with_unique_ids(parsed, &mut problems) {
            features.push(PointFeature {
                id,
                name: text_property(&feature.properties, "name"),
                position: feature.geometry,
                properties: feature.properties,
            });
        }
        if !problems.is_empty() {
            return Err(GeoError::Invalid { problems });
        }
        Ok(PointLayer::new(name, features))
    }

    /// A layer from features already in hand.
    pub fn new(name: &str, features: Vec<PointFeature>) -> PointLayer {
        let mean_lat = if features.is_empty() {
            0.0
        } else {
            features.iter().map(|f| f.position.y).sum::<f64>() / features.len() as f64
        };
        let lon_scale = mean_lat.to_radians().cos();
        let tree = RTree::bulk_load(
            features.iter().enumerate().map(|(i, f)| Indexed::new([f.position.x, f.position.y], i)).collect(),
        );
        let scaled = RTree::bulk_load(
            features
                .iter()
                .enumerate()
                .map(|(i, f)| Indexed::new([f.position.x * lon_scale, f.position.y], i))
                .collect(),
        );
        PointLayer { name: name.to_string(), features, tree, lon_scale, scaled }
    }

    /// Every feature, in load order.
    pub fn features(&self) -> &[PointFeature] {
        &self.features
    }

    /// Features within `metres` (geodesic) of `p`, nearest first (ties by load order).
    pub fn within_radius(&self, p: Coord, metres: f64) -> Vec<Nearby<'_>> {
        let (min, max) = degree_box(p, metres);
        let mut hits: Vec<(usize, f64)> = self
            .tree
            .locate_in_envelope(&AABB::from_corners([min.x, min.y], [max.x, max.y]))
            .map(|hit| (hit.data, distance_m(p, self.features[hit.data].position)))
            .filter(|&(_, d)| d <= metres)
            .collect();
        hits.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
        hits.into_iter().map(|(i, d)| Nearby { feature: &self.features[i], distance_m: d }).collect()
    }

    /// The `k` features nearest to `p` by geodesic distance, nearest first.
    pub fn nearest(&self, p: Coord, k: usize) -> Vec<Nearby<'_>> {
        if k == 0 {
            return Vec::new();
        }
        // Walk the scaled tree outwards. Its Euclidean distance, in degrees of latitude,
        // is within 1 % of the ground distance over a city; stop once even that lower
        // bound is past the k-th best true distance.
        let mut best: Vec<(usize, f64)> = Vec::with_capacity(k + 1);
        let query = [p.x * self.lon_scale, p.y];
        for hit in self.scaled.nearest_neighbor_iter(&query) {
            let dx = hit.geom()[0] - query[0];
            let dy = hit.geom()[1] - query[1];
            let lower_bound_m = (dx * dx + dy * dy).sqrt() * 110_000.0 * 0.99 - 1.0;
            if best.len() == k && lower_bound_m > best[k - 1].1 {
                break;
            }
            let d = distance_m(p, self.features[hit.data].position);
            let at = best.partition_point(|&(i, bd)| bd < d || (bd == d && i < hit.data));
            if at < k {
                best.insert(at, (hit.data, d));
                best.truncate(k);
            }
        }
        best.into_iter().map(|(i, d)| Nearby { feature: &self.features[i], distance_m: d }).collect()
    }

    /// Geodesic distances to every feature, sorted: the reference for the tests and
    /// benchmarks of [`PointLayer::within_radius`] and [`PointLayer::nearest`].
    pub fn scan_by_distance(&self, p: Coord) -> Vec<Nearby<'_>> {
        let mut all: Vec<(usize, f64)> =
            self.features.iter().enumerate().map(|(i, f)| (i, distance_m(p, f.position))).collect();
        all.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
        all.into_iter().map(|(i, d)| Nearby { feature: &self.features[i], distance_m: d }).collect()
    }
}

/// One area of an area layer.
#[derive(Debug, Clone)]
pub struct AreaFeature {
    /// Its id, unique in the layer.
    pub id: String,
    /// Its name.
    pub name: Option<String>,
    /// Its kind, e.g. `flood`, `landslide`, `blind_spot` (property `kind`).
    pub kind: Option<String>,
    /// Its outline.
    pub boundary: MultiPolygon<f64>,
    /// Every other property, as given.
    pub properties: Map<String, Value>,
    prepared: PreparedArea,
}

/// A named layer of areas.
#[derive(Debug, Clone)]
pub struct AreaLayer {
    /// The layer's name, e.g. `key_areas`.
    pub name: String,
    features: Vec<AreaFeature>,
    tree: RTree<GeomWithData<Rectangle<[f64; 2]>, usize>>,
}

impl AreaLayer {
    /// Loads a FeatureCollection of polygons; each needs an `id`.
    pub fn from_geojson(name: &str, text: &str) -> Result<AreaLayer, GeoError> {
        let mut problems = Vec::new();
        let parsed = load::polygons(name, text, "id", &mut problems)?;
        let mut features = Vec::with_capacity(parsed.len());
        for (id, feature) in with_unique_ids(parsed, &mut problems) {
            let Some(bbox) = feature.geometry.bounding_rect() else { continue };
            features.push(AreaFeature {
                id,
                name: text_property(&feature.properties, "name"),
                kind: text_property(&feature.properties, "kind"),
                prepared: PreparedArea::new(&feature.geometry, bbox),
                boundary: feature.geometry,
                properties: feature.properties,
            });
        }
        if !problems.is_empty() {
            return Err(GeoError::Invalid { problems });
        }
        let tree = RTree::bulk_load(
            features
                .iter()
                .enumerate()
                .filter_map(|(i, f)| {
                    let b: Rect<f64> = f.boundary.bounding_rect()?;
                    Some(GeomWithData::new(Rectangle::from_corners([b.min().x, b.min().y], [b.max().x, b.max().y]), i))
                })
                .collect(),
        );
        Ok(AreaLayer { name: name.to_string(), features, tree })
    }

    /// Every feature, in load order.
    pub fn features(&self) -> &[AreaFeature] {
        &self.features
    }

    /// The areas that contain `p` (same boundary rule as regions), in load order.
    pub fn containing(&self, p: Coord) -> Vec<&AreaFeature> {
        let mut hits: Vec<usize> = self
            .tree
            .locate_all_at_point(&[p.x, p.y])
            .map(|hit| hit.data)
            .filter(|&i| self.features[i].prepared.contains(p))
            .collect();
        hits.sort_unstable();
        hits.into_iter().map(|i| &self.features[i]).collect()
    }
}

/// The features that have an id not used before in the layer, with it; a problem for each
/// of the others.
fn with_unique_ids<G>(features: Vec<Feature<G>>, problems: &mut Vec<Problem>) -> Vec<(String, Feature<G>)> {
    let mut seen = std::collections::HashMap::new();
    let mut out = Vec::with_capacity(features.len());
    for feature in features {
        let Some(id) = feature.at.code.clone() else {
            problems.push(Problem::Property { feature: feature.at, property: "id", reason: "is missing".into() });
            continue;
        };
        if let Some(first) = seen.insert(id.clone(), feature.at.to_string()) {
            problems.push(Problem::DuplicateId { feature: feature.at, code: id, first });
            continue;
        }
        out.push((id, feature));
    }
    out
}
