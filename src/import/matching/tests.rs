//! The failure cases the issue names, and each normalisation, through the whole decision.

use super::*;
use crate::domain::{Asset, Category, Status};

const LAT: f64 = 51.5106;
const LON: f64 = -0.0678;

/// A point `north_m` metres north and `east_m` east of (LAT, LON).
fn moved(north_m: f64, east_m: f64) -> (f64, f64) {
    (
        LAT + north_m / 111_195.0,
        LON + east_m / (111_195.0 * LAT.to_radians().cos()),
    )
}

fn place(name: &str, category: &str, north_m: f64, east_m: f64) -> AssetFields {
    let (lat, lon) = moved(north_m, east_m);
    AssetFields::at(name, category, lat, lon)
}

fn snapshot(assets: &[AssetFields]) -> Snapshot {
    let now = chrono::Utc::now();
    let categories: Vec<Category> = [
        "museum", "gallery", "heritage", "theatre", "library", "cafe",
    ]
    .iter()
    .map(|s| Category {
        slug: s.to_string(),
        label: s.to_string(),
        description: String::new(),
    })
    .collect();
    let published = assets
        .iter()
        .enumerate()
        .map(|(i, f)| Asset::new(Uuid::from_u128(i as u128 + 1), f.clone(), now))
        .collect();
    Snapshot::build(1, &categories, published, Default::default())
}

/// The decision for one row against `published`.
fn decide(row: AssetFields, published: &[AssetFields]) -> Decision {
    let snap = snapshot(published);
    decide_all(&[row], &[false], &snap, &MatchSettings::default())
        .pop()
        .flatten()
        .expect("a row not skipped is decided")
}

fn linked_to_first(d: &Decision) -> bool {
    d.outcome == Outcome::Linked && d.candidates[0].asset_id == Some(Uuid::from_u128(1))
}

#[test]
fn the_missed_pairs_of_the_old_check_link() {
    for (a, b, metres) in [
        ("Wilton's Music Hall", "Wiltons Music Hall", 2.0),
        ("Bishop's Castle", "Bishops Castle", 6.0),
        ("Kidsgrove Library", "KIDSGROVE LIBRARY", 93.0),
    ] {
        let category = if a.contains("Library") {
            "library"
        } else {
            "theatre"
        };
        let d = decide(
            place(b, category, metres, 0.0),
            &[place(a, category, 0.0, 0.0)],
        );
        assert!(linked_to_first(&d), "{a} / {b}: {d:?}");
    }
}

#[test]
fn a_clearly_different_distinctive_word_is_not_linked() {
    let d = decide(
        place("London Film Museum", "museum", 40.0, 0.0),
        &[place("London Transport Museum", "museum", 0.0, 0.0)],
    );
    assert_eq!(d.outcome, Outcome::New, "{d:?}");
    assert!(d.candidates[0].reasons[0].starts_with("distinct words differ: film / transport"));
    // Even with the same postcode.
    let mut row = place("London Film Museum", "museum", 10.0, 0.0);
    let mut asset = place("London Transport Museum", "museum", 0.0, 0.0);
    row.postcode = Some("WC2E 7BB".into());
    asset.postcode = Some("WC2E 7BB".into());
    assert_ne!(decide(row, &[asset]).outcome, Outcome::Linked);
}

#[test]
fn each_spelling_variant_links() {
    for (a, b) in [
        ("Arts & Crafts Museum", "Arts and Crafts Museum"),
        ("St George's Hall", "Saint Georges Hall"),
        ("The Lowry", "Lowry"),
        ("Musée Curie", "Musee Curie"),
        ("Maritime Museum, Lancaster", "Lancaster Maritime Museum"),
        ("Ordsall Hall Museum", "Ordshall Hall Museum"),
    ] {
        let d = decide(
            place(b, "museum", 20.0, 0.0),
            &[place(a, "museum", 0.0, 0.0)],
        );
        assert!(linked_to_first(&d), "{a} / {b}: {d:?}");
    }
}

#[test]
fn the_datum_shift_with_an_equal_name_links() {
    // OSGB36 coordinates read as WGS84 are about 124 m off in London.
    let d = decide(
        place("Whitechapel Gallery", "gallery", -58.0, 110.0),
        &[place("Whitechapel Gallery", "gallery", 0.0, 0.0)],
    );
    assert!(linked_to_first(&d), "{d:?}");
}

#[test]
fn numbers_that_differ_never_link() {
    for far in [0.0, 5.0] {
        let mut row = place("Studio 2", "theatre", far, 0.0);
        let mut asset = place("Studio 1", "theatre", 0.0, 0.0);
        row.postcode = Some("E1 8BB".into());
        asset.postcode = Some("E1 8BB".into());
        row.website = Some("https://studios.example".into());
        asset.website = Some("https://studios.example".into());
        let d = decide(row, &[asset]);
        assert_ne!(d.outcome, Outcome::Linked, "{d:?}");
    }
}

#[test]
fn incompatible_categories_and_far_places_are_not_candidates() {
    let d = decide(
        place("Whitechapel", "library", 0.0, 0.0),
        &[place("Whitechapel", "theatre", 0.0, 0.0)],
    );
    assert_eq!(
        d,
        Decision {
            outcome: Outcome::New,
            candidates: vec![]
        }
    );
    let d = decide(
        place("Whitechapel Gallery", "gallery", 600.0, 0.0),
        &[place("Whitechapel Gallery", "museum", 0.0, 0.0)],
    );
    assert!(d.candidates.is_empty(), "{d:?}");
    // An equal postcode extends the radius.
    let mut row = place("Whitechapel Gallery", "gallery", 600.0, 0.0);
    let mut asset = place("Whitechapel Gallery", "museum", 0.0, 0.0);
    row.postcode = Some("E1 7QX".into());
    asset.postcode = Some("e17qx".into());
    let d = decide(row, &[asset]);
    assert_eq!(d.candidates.len(), 1, "{d:?}");
    assert!(d.candidates[0]
        .reasons
        .iter()
        .any(|r| r.starts_with("postcode equal")));
}

#[test]
fn two_rows_of_one_file_for_one_place_make_one_new_asset() {
    let from = |source: &str, f: AssetFields| AssetFields {
        source: Some(source.into()),
        ..f
    };
    let rows = vec![
        from("a", place("Wilton's Music Hall", "theatre", 0.0, 0.0)),
        from("a", place("Arts Centre", "theatre", 3000.0, 0.0)),
        from("b", place("Wiltons Music Hall", "theatre", 30.0, 0.0)),
        from("b", place("Wiltons Music Hall", "theatre", 10.0, 0.0)),
        from("a", place("Wiltons Music Hall", "theatre", 20.0, 0.0)),
    ];
    let skip = [false, false, false, true, false];
    let got = decide_all(&rows, &skip, &snapshot(&[]), &MatchSettings::default());
    assert_eq!(got[0].as_ref().map(|d| d.outcome), Some(Outcome::New));
    assert_eq!(got[1].as_ref().map(|d| d.outcome), Some(Outcome::New));
    let third = got[2].as_ref().expect("decided");
    assert_eq!(third.outcome, Outcome::Linked);
    assert_eq!(
        (third.candidates[0].row, third.candidates[0].asset_id),
        (Some(0), None)
    );
    // A skipped row is not decided, and is no candidate for later rows.
    assert_eq!(got[3], None);
    // A list's own rows are distinct records: never matched with each other.
    let fifth = got[4].as_ref().expect("decided");
    assert_eq!(fifth.outcome, Outcome::New);
    assert!(fifth.candidates.is_empty(), "{fifth:?}");
}

#[test]
fn an_archived_row_finds_the_asset_it_closes() {
    let mut row = place("Bishops Castle", "museum", 3.0, 0.0);
    row.status = Status::Archived;
    assert!(linked_to_first(&decide(
        row,
        &[place("Bishop's Castle", "museum", 0.0, 0.0)]
    )));
}

#[test]
fn two_candidates_above_the_link_threshold_go_to_review() {
    let d = decide(
        place("Lancaster Maritime Museum", "museum", 0.0, 0.0),
        &[
            place("Maritime Museum, Lancaster", "museum", 5.0, 0.0),
            place("Lancaster Maritime Museum", "museum", -5.0, 0.0),
        ],
    );
    assert_eq!(d.outcome, Outcome::Review, "{d:?}");
    assert!(d.candidates[0]
        .reasons
        .last()
        .is_some_and(|r| r.contains("also reaches")));
}

#[test]
fn strong_identifiers_count() {
    // A renamed place at the same postcode with the same phone: review, not new.
    let mut row = place("The Transport Museum, Wythall", "museum", 30.0, 0.0);
    let mut asset = place(
        "Birmingham & Midlands Museum of Transport",
        "museum",
        0.0,
        0.0,
    );
    for f in [&mut row, &mut asset] {
        f.postcode = Some("B47 6JX".into());
        f.phone = Some("01564 826471".into());
    }
    asset.phone = Some("+44 1564 826471".into());
    let d = decide(row, &[asset]);
    assert_ne!(d.outcome, Outcome::New, "{d:?}");
    assert!(d.candidates[0]
        .reasons
        .iter()
        .any(|r| r.starts_with("phone equal")));
}

#[test]
fn compare_gives_a_probability_and_reasons() {
    let (p, reasons) = compare(
        &place("Wilton's Music Hall", "theatre", 0.0, 0.0),
        &place("Wiltons Music Hall", "arts_centre", 84.0, 0.0),
        &MatchSettings::default(),
    );
    assert!(p > 0.99 && p < 1.0, "{p}");
    assert_eq!(
        reasons,
        [
            "names equal after normalisation (+12.0)",
            "84 m apart (+1.5)",
            "compatible categories theatre ~ arts_centre (-1.5)"
        ]
    );
    // The probability is the logistic of the summed weights.
    let w: f64 = weights::PRIOR + 12.0 + 1.5 - 1.5;
    assert!((p - 1.0 / (1.0 + (-w).exp2())).abs() < 1e-12);
}

#[test]
fn compatible_categories() {
    assert!(compatible("museum", "gallery") && compatible("heritage", "museum"));
    assert!(compatible("theatre", "arts_centre") && !compatible("cafe", "theatre"));
    assert!(compatible("library", "library") && compatible("library", "community_centre"));
    assert!(!compatible("library", "theatre") && !compatible("museum", "cinema"));
    assert_eq!(compatible_with("cafe"), ["cafe"]);
}

#[test]
fn thousands_of_rows_at_one_point_are_decided_quickly() {
    // Each from a list of its own, so that every earlier row is a candidate.
    let rows: Vec<AssetFields> = (0..3000)
        .map(|i| AssetFields {
            source: Some(format!("list {i}")),
            ..place(&format!("Studio {i}"), "cafe", 0.0, 0.0)
        })
        .collect();
    let started = std::time::Instant::now();
    let got = decide_all(
        &rows,
        &vec![false; rows.len()],
        &snapshot(&[]),
        &MatchSettings::default(),
    );
    assert!(got
        .iter()
        .all(|d| d.as_ref().is_some_and(|d| d.outcome == Outcome::New)));
    assert!(got[2999]
        .as_ref()
        .is_some_and(|d| d.candidates.len() == MAX_LISTED));
    assert!(started.elapsed().as_secs() < 20, "{:?}", started.elapsed());
}
