//! PLACEHOLDER until the matching branch lands (replaced wholesale on merge; not committed).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::domain::AssetFields;
use crate::geo::sphere::haversine_m;
use crate::index::Snapshot;

#[derive(Clone, Copy, Debug, Serialize, Deserialize, ToSchema)]
pub struct MatchSettings {
    pub link_at: f64,
    pub review_at: f64,
    pub radius_m: f64,
}

impl Default for MatchSettings {
    fn default() -> Self {
        MatchSettings {
            link_at: 0.9,
            review_at: 0.5,
            radius_m: 250.0,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Linked,
    Review,
    New,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Candidate {
    pub asset_id: Option<Uuid>,
    pub row: Option<usize>,
    pub name: String,
    pub category: String,
    pub distance_m: f64,
    pub score: f64,
    pub reasons: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Decision {
    pub outcome: Outcome,
    pub candidates: Vec<Candidate>,
}

pub fn decide_all(
    rows: &[AssetFields],
    skip: &[bool],
    snapshot: &Snapshot,
    settings: &MatchSettings,
) -> Vec<Option<Decision>> {
    rows.iter()
        .zip(skip)
        .map(|(row, &skip)| {
            if skip {
                return None;
            }
            let mut candidates = Vec::new();
            for i in 0..snapshot.len() as u32 {
                let e = snapshot.entry(i);
                let d = haversine_m(row.lat, row.lon, e.lat, e.lon);
                if d <= settings.radius_m && &*e.category == row.category.as_str() {
                    let a = e.asset();
                    if super::duplicates::similar_names(&row.name, &a.fields.name) {
                        let exact = a.fields.name.to_lowercase() == row.name.to_lowercase();
                        candidates.push(Candidate {
                            asset_id: Some(a.id),
                            row: None,
                            name: a.fields.name,
                            category: a.fields.category,
                            distance_m: d,
                            score: if exact { 0.95 } else { 0.6 },
                            reasons: vec![format!("{d:.0} m apart")],
                        });
                    }
                }
            }
            candidates.sort_by(|a, b| b.score.total_cmp(&a.score));
            let outcome = match candidates.first() {
                Some(c) if c.score >= settings.link_at => Outcome::Linked,
                Some(c) if c.score >= settings.review_at => Outcome::Review,
                _ => Outcome::New,
            };
            Some(Decision {
                outcome,
                candidates,
            })
        })
        .collect()
}
