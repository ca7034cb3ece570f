//! The city: every region of the four levels, loaded and checked, and the index that
//! places points in them.

use std::collections::HashMap;

use geo::{BoundingRect, Coord, InteriorPoint, MultiPolygon, Rect};
use serde_json::Value;

use crate::error::{FeatureRef, GeoError, Problem};
use crate::geodesic::area_m2;
use crate::load::{self, Feature, Tolerance, text_property};
use crate::locate::LeafIndex;
use crate::pip::{PreparedArea, contains_brute};
use crate::region::{Level, Person, Region, RegionCode, RegionId};
use crate::validate::{area_outside, area_shared};

/// How many raster cells the locate index aims for (4 bytes each).
const INDEX_CELLS: usize = 1 << 20;

/// The GeoJSON texts of a city, one FeatureCollection per level. The district has one
/// feature; every other feature names its parent's code in the `parent` property (streets
/// may leave it out). Each feature has `code` and `name`, and may have `centre`
/// (`[lon, lat]`), `persons` (`[{"role": ..., "name": ...}]`) and `generated` (bool).
#[derive(Debug, Clone, Copy)]
pub struct CityGeoJson<'a> {
    /// The district outline.
    pub district: &'a str,
    /// Streets and towns.
    pub streets: &'a str,
    /// Villages and communities, if the city has them.
    pub villages: Option<&'a str>,
    /// Grids, if the city has them.
    pub grids: Option<&'a str>,
}

/// The regions of one city and the index over them.
#[derive(Debug, Clone)]
pub struct City {
    regions: Vec<Region>,
    by_code: HashMap<RegionCode, RegionId>,
    /// The finest regions (those without children), which tile the district.
    leaves: Vec<RegionId>,
    index: LeafIndex,
}

/// Where a point lies: its street, and its village and grid where the city has them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Location {
    /// The street or town.
    pub street: RegionId,
    /// The village or community.
    pub village: Option<RegionId>,
    /// The grid.
    pub grid: Option<RegionId>,
}

/// Counts of tagged things per region, every level rolled up from below.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegionCounts {
    counts: Vec<u64>,
    /// Things that lay in no region.
    pub outside: u64,
}

impl RegionCounts {
    /// The count for one region (its own and all below it).
    pub fn get(&self, region: RegionId) -> u64 {
        self.counts[region.index()]
    }
}

impl City {
    /// Loads and checks a city. Every problem found is returned together: geometry
    /// (rings, ranges, self-intersections), duplicate codes, missing parents, regions
    /// outside their parent or overlapping a sibling beyond `tolerance`.
    pub fn from_geojson(source: CityGeoJson<'_>, tolerance: Tolerance) -> Result<City, GeoError> {
        let mut problems = Vec::new();
        let mut regions: Vec<Region> = Vec::new();
        let mut by_code: HashMap<RegionCode, RegionId> = HashMap::new();
        let mut first_seen: HashMap<String, FeatureRef> = HashMap::new();
        let levels = [
            (Level::District, Some(source.district)),
            (Level::Street, Some(source.streets)),
            (Level::Village, source.villages),
            (Level::Grid, source.grids),
        ];
        for (level, text) in levels {
            let Some(text) = text else { continue };
            let features = load::polygons(level.as_str(), text, "code", &mut problems)?;
            if level == Level::District && features.len() != 1 && problems.is_empty() {
                return Err(GeoError::NotGeoJson {
                    what: "district".into(),
                    reason: format!("has {} features, expected exactly 1", features.len()),
                });
            }
            for feature in features {
                if let Some(region) = region_from(level, feature, &regions, &by_code, &mut first_seen, &mut problems) {
                    by_code.insert(region.code.clone(), region.id);
                    regions.push(region);
                }
            }
        }
        if problems.is_empty() {
            check_nesting(&regions, tolerance, &mut problems);
        }
        if !problems.is_empty() {
            return Err(GeoError::Invalid { problems });
        }
        let parents: Vec<(RegionId, RegionId)> = regions.iter().filter_map(|r| r.parent.map(|p| (p, r.id))).collect();
        for (parent, child) in parents {
            regions[parent.index()].children.push(child);
        }
        let leaves: Vec<RegionId> =
            regions.iter().filter(|r| r.children.is_empty() && r.level != Level::District).map(|r| r.id).collect();
        let areas = leaves
            .iter()
            .map(|&id| PreparedArea::new(&regions[id.index()].boundary, regions[id.index()].bbox))
            .collect();
        let bboxes: Vec<Rect<f64>> = leaves.iter().map(|&id| regions[id.index()].bbox).collect();
        let index = LeafIndex::new(areas, &bboxes, INDEX_CELLS);
        Ok(City { regions, by_code, leaves, index })
    }

    /// Every region, districts first, then streets, villages and grids in load order;
    /// `regions()[id.index()]` is the region `id`.
    pub fn regions(&self) -> &[Region] {
        &self.regions
    }

    /// One region.
    pub fn region(&self, id: RegionId) -> &Region {
        &self.regions[id.index()]
    }

    /// The district.
    pub fn district(&self) -> &Region {
        &self.regions[0]
    }

    /// A region by its code.
    pub fn by_code(&self, code: &str) -> Option<&Region> {
        self.by_code.get(&RegionCode(code.to_string())).map(|&id| self.region(id))
    }

    /// The regions of one level, in load order.
    pub fn level(&self, level: Level) -> impl Iterator<Item = &Region> {
        self.regions.iter().filter(move |r| r.level == level)
    }

    /// The region and its ancestors up to the district, nearest first.
    pub fn ancestors(&self, id: RegionId) -> impl Iterator<Item = &Region> {
        std::iter::successors(Some(self.region(id)), |r| r.parent.map(|p| self.region(p)))
    }

    /// The street, village and grid that contain `p`, or none outside the district.
    ///
    /// Boundary rule: a point on a boundary belongs to the region immediately east of it,
    /// or immediately north where the boundary runs exactly east–west (as if nudged an
    /// infinitesimal step east and a far smaller step north). A point on the district's
    /// western or southern edge is inside; on its eastern or northern edge, outside.
    /// Where two regions overlap (within the load tolerance), the one loaded first wins.
    /// A non-finite coordinate is outside.
    pub fn locate(&self, p: Coord) -> Option<Location> {
        self.index.locate(p).map(|leaf| self.location_of(self.leaves[leaf]))
    }

    /// [`City::locate`] for many points.
    pub fn locate_many(&self, points: &[Coord]) -> Vec<Option<Location>> {
        points.iter().map(|&p| self.locate(p)).collect()
    }

    /// [`City::locate`] by testing every leaf region in turn, without the index: the
    /// reference the index is tested and benchmarked against.
    pub fn locate_by_scan(&self, p: Coord) -> Option<Location> {
        self.leaves
            .iter()
            .find(|&&leaf| contains_brute(&self.region(leaf).boundary, p))
            .map(|&leaf| self.location_of(leaf))
    }

    /// The size of the locate index: cells in all, and cells that need a polygon test.
    pub fn index_stats(&self) -> (usize, usize) {
        self.index.stats()
    }

    fn location_of(&self, leaf: RegionId) -> Location {
        let mut location = Location { street: leaf, village: None, grid: None };
        for region in self.ancestors(leaf) {
            match region.level {
                Level::Grid => location.grid = Some(region.id),
                Level::Village => location.village = Some(region.id),
                Level::Street => location.street = region.id,
                Level::District => {}
            }
        }
        location
    }

    /// Counts things tagged with a region (at any level), rolled up to every ancestor.
    pub fn count<I: IntoIterator<Item = Option<RegionId>>>(&self, tags: I) -> RegionCounts {
        let mut counts = RegionCounts { counts: vec![0; self.regions.len()], outside: 0 };
        for tag in tags {
            match tag {
                Some(id) => {
                    for region in self.ancestors(id) {
                        counts.counts[region.id.index()] += 1;
                    }
                }
                None => counts.outside += 1,
            }
        }
        counts
    }

    /// Locates points and counts them per region.
    pub fn count_points(&self, points: &[Coord]) -> RegionCounts {
        self.count(points.iter().map(|&p| self.locate(p).map(|l| l.grid.or(l.village).unwrap_or(l.street))))
    }
}

fn region_from(
    level: Level,
    feature: Feature<MultiPolygon<f64>>,
    regions: &[Region],
    by_code: &HashMap<RegionCode, RegionId>,
    first_seen: &mut HashMap<String, FeatureRef>,
    problems: &mut Vec<Problem>,
) -> Option<Region> {
    let Feature { at, properties, geometry } = feature;
    let missing = |property: &'static str, reason: &str| Problem::Property {
        feature: at.clone(),
        property,
        reason: reason.to_string(),
    };
    let Some(code) = at.code.clone() else {
        problems.push(missing("code", "is missing"));
        return None;
    };
    let Some(name) = text_property(&properties, "name") else {
        problems.push(missing("name", "is missing"));
        return None;
    };
    if let Some(first) = first_seen.get(&code) {
        problems.push(Problem::DuplicateId { feature: at, code, first: first.to_string() });
        return None;
    }
    first_seen.insert(code.clone(), at.clone());
    let parent = match level {
        Level::District => None,
        _ => {
            let parent_code = text_property(&properties, "parent")
                .or_else(|| (level == Level::Street).then(|| regions[0].code.0.clone()));
            let Some(parent_code) = parent_code else {
                problems.push(missing("parent", "is missing"));
                return None;
            };
            match by_code.get(&RegionCode(parent_code.clone())) {
                Some(&id) if Some(regions[id.index()].level) == level.parent() => Some(id),
                _ => {
                    problems.push(Problem::MissingParent { feature: at, parent: parent_code });
                    return None;
                }
            }
        }
    };
    let centre = match properties.get("centre") {
        None | Some(Value::Null) => None,
        Some(Value::Array(pair)) if pair.len() == 2 => match (pair[0].as_f64(), pair[1].as_f64()) {
            (Some(x), Some(y)) if load::in_range(Coord { x, y }) => Some(Coord { x, y }),
            _ => {
                problems.push(missing("centre", "must be [longitude, latitude] in range"));
                return None;
            }
        },
        Some(_) => {
            problems.push(missing("centre", "must be [longitude, latitude]"));
            return None;
        }
    };
    let persons = match properties.get("persons") {
        None | Some(Value::Null) => {
            level.default_roles().iter().map(|role| Person { role: role.to_string(), name: None }).collect()
        }
        Some(value) => match serde_json::from_value::<Vec<Person>>(value.clone()) {
            Ok(persons) => persons,
            Err(e) => {
                problems.push(missing("persons", &format!("must be a list of {{role, name}}: {e}")));
                return None;
            }
        },
    };
    let bbox = geometry.bounding_rect()?;
    let centre = centre.or_else(|| geometry.interior_point().map(|p| p.0)).unwrap_or(bbox.center());
    Some(Region {
        id: RegionId(regions.len() as u32),
        level,
        code: RegionCode(code),
        name,
        parent,
        children: Vec::new(),
        area_km2: area_m2(&geometry) / 1e6,
        boundary: geometry,
        centre,
        bbox,
        persons,
        generated: properties.get("generated").and_then(Value::as_bool).unwrap_or(false),
    })
}

/// Children inside their parent, siblings not overlapping, both within the tolerance.
fn check_nesting(regions: &[Region], tolerance: Tolerance, problems: &mut Vec<Problem>) {
    let at =
        |r: &Region| FeatureRef { input: r.level.as_str().into(), index: r.id.index(), code: Some(r.code.0.clone()) };
    let mut siblings: HashMap<RegionId, Vec<&Region>> = HashMap::new();
    for region in regions {
        let Some(parent) = region.parent else { continue };
        let parent = &regions[parent.index()];
        let outside = area_outside(&region.boundary, &parent.boundary);
        if outside > tolerance.outside_parent_m2 {
            problems.push(Problem::OutsideParent {
                feature: at(region),
                parent: parent.code.0.clone(),
                outside_m2: outside,
                tolerance_m2: tolerance.outside_parent_m2,
            });
        }
        siblings.entry(parent.id).or_default().push(region);
    }
    let mut groups: Vec<_> = siblings.into_values().collect();
    groups.sort_by_key(|g| g[0].id);
    for group in groups {
        for (i, a) in group.iter().enumerate() {
            for b in &group[i + 1..] {
                if !rects_intersect(&a.bbox, &b.bbox) {
                    continue;
                }
                let shared = area_shared(&a.boundary, &b.boundary);
                if shared > tolerance.sibling_overlap_m2 {
                    problems.push(Problem::OverlapsSibling {
                        feature: at(b),
                        sibling: a.code.0.clone(),
                        overlap_m2: shared,
                        tolerance_m2: tolerance.sibling_overlap_m2,
                    });
                }
            }
        }
    }
}

fn rects_intersect(a: &Rect<f64>, b: &Rect<f64>) -> bool {
    a.min().x <= b.max().x && b.min().x <= a.max().x && a.min().y <= b.max().y && b.min().y <= a.max().y
}
