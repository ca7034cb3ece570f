//! Finding regions by name or code, at every level at once.

use crate::city::City;
use crate::region::Region;

/// How well a region matches a query; lower is better.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Rank {
    CodeExact,
    NameExact,
    CodePrefix,
    NamePrefix,
    NameContains,
}

impl City {
    /// Regions whose code or name matches `query` (trimmed, case-insensitive): exact code,
    /// exact name, code prefix, name prefix, then name containing the query; ties go to the
    /// higher level, then the code. At most `limit` results; none for an empty query.
    pub fn search(&self, query: &str, limit: usize) -> Vec<&Region> {
        let query = query.trim().to_lowercase();
        if query.is_empty() {
            return Vec::new();
        }
        let mut hits: Vec<(Rank, &Region)> =
            self.regions().iter().filter_map(|region| rank(region, &query).map(|r| (r, region))).collect();
        hits.sort_by(|(ra, a), (rb, b)| ra.cmp(rb).then(a.level.cmp(&b.level)).then(a.code.cmp(&b.code)));
        hits.into_iter().take(limit).map(|(_, region)| region).collect()
    }
}

fn rank(region: &Region, query: &str) -> Option<Rank> {
    let code = region.code.as_str().to_lowercase();
    let name = region.name.to_lowercase();
    if code == query {
        Some(Rank::CodeExact)
    } else if name == query {
        Some(Rank::NameExact)
    } else if code.starts_with(query) {
        Some(Rank::CodePrefix)
    } else if name.starts_with(query) {
        Some(Rank::NamePrefix)
    } else if name.contains(query) {
        Some(Rank::NameContains)
    } else {
        None
    }
}
