//! Stable record ids: every Open Referral id is a UUID, and the same record keeps its id
//! from one snapshot (and one server) to the next. A venue's location is the venue's own
//! id; the records derived from it (its organization, its "visit" service, the link
//! between them, addresses, schedules...) are UUID v5 names under [`NAMESPACE`].

use uuid::Uuid;

/// The namespace of every derived id (documented in `docs/oruk.md`; never change it: ids
/// harvesters hold would all change).
pub const NAMESPACE: Uuid = Uuid::from_u128(0x1898f7e3_a822_437e_8937_14351f168cb6);

/// The UUID v5 of `name` under [`NAMESPACE`].
pub fn derived(name: &str) -> Uuid {
    Uuid::new_v5(&NAMESPACE, name.as_bytes())
}

/// The organization running a venue (one per venue until operators are modelled).
pub fn organization(venue: Uuid) -> Uuid {
    derived(&format!("venue/{venue}/organization"))
}

/// The "visit" service of a venue without activities.
pub fn visit_service(venue: Uuid) -> Uuid {
    derived(&format!("venue/{venue}/visit"))
}

/// The link between a service and the location where it is given.
pub fn service_at_location(service: Uuid, location: Uuid) -> Uuid {
    derived(&format!("service/{service}/at/{location}"))
}

/// A part of a record (`address`, `accessibility`, `phone`, `schedule/2`, ...).
pub fn part(owner: Uuid, what: &str) -> Uuid {
    derived(&format!("{owner}/{what}"))
}

/// A taxonomy (`categories`, later `activity-kinds`, `audiences`).
pub fn taxonomy(slug: &str) -> Uuid {
    derived(&format!("taxonomy/{slug}"))
}

/// A term of a taxonomy.
pub fn taxonomy_term(taxonomy: &str, term: &str) -> Uuid {
    derived(&format!("taxonomy/{taxonomy}/term/{term}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_stable_version_5_and_distinct_by_role() {
        let venue = Uuid::parse_str("1beaf664-065e-41cd-8e44-c134d70862a0").unwrap();
        let ids = [
            organization(venue),
            visit_service(venue),
            service_at_location(visit_service(venue), venue),
            part(venue, "address"),
            taxonomy("categories"),
            taxonomy_term("categories", "museum"),
        ];
        for id in ids {
            assert_eq!(id.get_version_num(), 5);
        }
        let distinct: std::collections::HashSet<_> = ids.iter().collect();
        assert_eq!(distinct.len(), ids.len());
        // The same inputs give the same ids (computed independently, by Python's uuid5).
        assert_eq!(
            taxonomy("categories").to_string(),
            "8b65f807-ff47-5d92-a35b-b5ce5cfc21e4"
        );
    }
}
