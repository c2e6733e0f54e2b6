//! Imports read, match and write a batch at a time within one transaction: a file of many
//! small batches (`batch_rows`) imports exactly as one batch does, a bad row in a late
//! batch changes nothing, line numbers run on across batches, and a complete list's
//! closures see every batch's keys. On SQLite and PostgreSQL.

use crate::support::{on_both_backends, sql_number, Backend, TestDb};
use diesel::prelude::*;

use community_assets::curation::imports::{import_file, ImportOptions, ImportReport};
use community_assets::import::ImportError;
use community_assets::store::schema::{assets, source_records};
use community_assets::store::Store;

on_both_backends!(
    a_bad_row_in_a_late_batch_changes_nothing,
    many_batches_import_what_one_batch_does,
    closures_of_a_complete_list_see_every_batch,
    skipped_rows_are_reported_by_line_across_batches,
);

const HEADER: &str = "source,source_id,name,category,lat,lon,address";

/// A CSV (CRLF line ends) of `n` rows of `source`, every tenth with a quoted line break in
/// its address; `bad` rows get an unknown category. Returns the text and the line each row
/// starts on, counted here as the file is written.
fn file(source: &str, n: usize, bad: &[usize], lat0: f64) -> (String, Vec<usize>) {
    let mut s = format!("{HEADER}\r\n");
    let mut line = 2;
    let mut lines = Vec::new();
    for i in 0..n {
        lines.push(line);
        let category = if bad.contains(&i) { "zoo" } else { "museum" };
        let address = if i % 10 == 3 {
            line += 1;
            "\"1 High Street\r\nTown\""
        } else {
            ""
        };
        s.push_str(&format!(
            "{source},{i},Museum number {i},{category},{},-1.5,{address}\r\n",
            lat0 + i as f64 * 0.01
        ));
        line += 1;
    }
    (s, lines)
}

fn options(batch_rows: usize) -> ImportOptions {
    ImportOptions {
        batch_rows,
        ..Default::default()
    }
}

/// Every record with its asset's name, category, status and position, sorted: the
/// state an import leaves, whatever ids it chose.
fn dump(store: &Store) -> Vec<String> {
    let mut c = store.conn().unwrap();
    let records: Vec<(String, String, String)> = source_records::table
        .select((
            source_records::source,
            source_records::source_id,
            source_records::asset_id,
        ))
        .load(&mut *c)
        .unwrap();
    let assets: std::collections::HashMap<String, (String, String, String, f64, f64)> =
        assets::table
            .select((
                assets::id,
                assets::name,
                assets::category,
                assets::status,
                assets::lat,
                assets::lon,
            ))
            .load::<(String, String, String, String, f64, f64)>(&mut *c)
            .unwrap()
            .into_iter()
            .map(|(id, n, c, s, lat, lon)| (id, (n, c, s, lat, lon)))
            .collect();
    let mut out: Vec<String> = records
        .into_iter()
        .map(|(s, id, asset)| {
            let (name, cat, status, lat, lon) = &assets[&asset];
            format!("{s}:{id} {name}|{cat}|{status}|{lat:.5}|{lon:.5}")
        })
        .collect();
    out.sort();
    out
}

/// The rows of every table an import writes, and the data version.
fn totals(url: &str) -> Vec<i64> {
    [
        "SELECT COUNT(*) AS n FROM assets",
        "SELECT COUNT(*) AS n FROM source_records",
        "SELECT COUNT(*) AS n FROM audit_log",
        "SELECT COUNT(*) AS n FROM match_reviews",
        "SELECT COUNT(*) AS n FROM sources",
        "SELECT MAX(version) AS n FROM data_version",
    ]
    .iter()
    .map(|q| sql_number(url, q))
    .collect()
}

fn a_bad_row_in_a_late_batch_changes_nothing(backend: Backend) {
    let db = TestDb::new(backend);
    let store = Store::open(&db.url).unwrap();
    let (first, _) = file("old", 30, &[], 50.0);
    let path = db.temp_path("first.csv");
    std::fs::write(&path, first).unwrap();
    import_file(&store, &path, &options(4)).unwrap();
    let before = (dump(&store), totals(&db.url));

    // 100 rows in batches of 7 (15 batches); bad rows in the second and the last batch.
    let bad = [9, 96];
    let (text, lines) = file("new", 100, &bad, 51.0);
    let path = db.temp_path("late.csv");
    std::fs::write(&path, text).unwrap();
    for dry_run in [false, true] {
        let o = ImportOptions {
            dry_run,
            snapshot: true,
            ..options(7)
        };
        match import_file(&store, &path, &o) {
            Err(ImportError::Rejected(errors)) => {
                let got: Vec<(String, String)> = errors
                    .iter()
                    .map(|e| (e.location.clone(), e.field.clone()))
                    .collect();
                let want: Vec<(String, String)> = bad
                    .iter()
                    .map(|&i| (format!("line {}", lines[i]), "category".to_string()))
                    .collect();
                assert_eq!(got, want, "{backend:?}");
            }
            other => panic!("{backend:?}: expected a rejection, got {other:?}"),
        }
        assert_eq!(
            (dump(&store), totals(&db.url)),
            before,
            "{backend:?}: a rejected import changes nothing"
        );
    }
}

/// Two sources in one file (the second names the first's places again, a few metres
/// away, and must be linked to the assets the first's rows create, in earlier batches),
/// and a re-import that changes some rows: in batches of 1, 3 and 7 the database ends as
/// with one batch, and the reports count the same.
fn many_batches_import_what_one_batch_does(backend: Backend) {
    let mut s = format!("{HEADER}\n");
    for i in 0..20 {
        s.push_str(&format!(
            "a,{i},Gallery of Town {i},gallery,{},-2.0,\n",
            52.0 + i as f64 * 0.01
        ));
    }
    for i in 0..20 {
        s.push_str(&format!(
            "b,{i},Gallery of Town {i},gallery,{},-2.00001,\n",
            52.0 + i as f64 * 0.01
        ));
    }
    let changed = s.replace("a,5,Gallery of Town 5,", "a,5,Gallery of Town Five,");
    let mut results: Vec<(Vec<String>, Vec<i64>, Vec<String>)> = Vec::new();
    for batch_rows in [0, 1, 3, 7] {
        let db = TestDb::new(backend);
        let store = Store::open(&db.url).unwrap();
        let path = db.temp_path("two.csv");
        std::fs::write(&path, &s).unwrap();
        let first = import_file(&store, &path, &options(batch_rows)).unwrap();
        std::fs::write(&path, &changed).unwrap();
        let second = import_file(&store, &path, &options(batch_rows)).unwrap();
        let c = |r: &ImportReport| {
            let c = &r.counts;
            format!(
                "{} {} {} {} {} {} {}",
                c.inserted,
                c.updated,
                c.unchanged,
                c.linked,
                c.to_review,
                r.decisions_total,
                r.decisions.len()
            )
        };
        assert_eq!(
            (first.counts.inserted, first.counts.linked),
            (20, 20),
            "{backend:?}, batches of {batch_rows}: {:?}",
            first.decisions
        );
        let d = dump(&store);
        let t = totals(&db.url);
        // Not the audit: a row's asset changed in two batches has two entries.
        results.push((d, vec![t[0], t[1], t[3], t[4]], vec![c(&first), c(&second)]));
    }
    for r in &results[1..] {
        assert_eq!(r, &results[0], "{backend:?}");
    }
    // The second source's records are on the first's assets.
    assert!(results[0]
        .0
        .contains(&"b:5 Gallery of Town Five|gallery|published|52.05000|-2.00000".to_string()));
}

/// A complete list named again with half its records, in batches of 3: exactly the
/// records it no longer names are unlinked and their assets archived.
fn closures_of_a_complete_list_see_every_batch(backend: Backend) {
    let db = TestDb::new(backend);
    let store = Store::open(&db.url).unwrap();
    let (all, _) = file("list", 40, &[], 50.0);
    let path = db.temp_path("all.csv");
    std::fs::write(&path, &all).unwrap();
    import_file(&store, &path, &options(3)).unwrap();
    // Keep the rows with an even id, in reverse order (closures must not depend on order).
    let mut kept: Vec<&str> = all
        .split("\r\n")
        .skip(1)
        .filter(|l| !l.is_empty())
        .collect();
    // Rows with a quoted line break span two pieces: join them back.
    let mut rows: Vec<String> = Vec::new();
    while let Some(l) = kept.first().copied() {
        kept.remove(0);
        if l.ends_with("\"1 High Street") {
            let rest = kept.remove(0);
            rows.push(format!("{l}\r\n{rest}"));
        } else {
            rows.push(l.to_string());
        }
    }
    let even: Vec<&String> = rows
        .iter()
        .filter(|r| r.split(',').nth(1).unwrap().parse::<usize>().unwrap() % 2 == 0)
        .rev()
        .collect();
    let text = format!(
        "{HEADER}\r\n{}\r\n",
        even.iter()
            .map(|r| r.as_str())
            .collect::<Vec<_>>()
            .join("\r\n")
    );
    std::fs::write(&path, text).unwrap();
    let o = ImportOptions {
        snapshot: true,
        ..options(3)
    };
    let report = import_file(&store, &path, &o).unwrap();
    let c = &report.counts;
    assert_eq!(
        (c.unchanged, c.unlinked, c.archived),
        (20, 20, 20),
        "{backend:?}"
    );
    let d = dump(&store);
    assert_eq!(d.len(), 20, "{backend:?}: only the named records stay");
    assert!(d.iter().all(|r| {
        let id: usize = r[5..r.find(' ').unwrap()].parse().unwrap();
        id % 2 == 0 && r.contains("|published|")
    }));
    let archived = sql_number(
        &db.url,
        "SELECT COUNT(*) AS n FROM assets WHERE status = 'archived'",
    );
    assert_eq!(archived, 20, "{backend:?}");
}

fn skipped_rows_are_reported_by_line_across_batches(backend: Backend) {
    let db = TestDb::new(backend);
    let store = Store::open(&db.url).unwrap();
    let bad = [0, 13, 14, 58, 99];
    let (text, lines) = file("s", 100, &bad, 50.0);
    let path = db.temp_path("skip.csv");
    std::fs::write(&path, text).unwrap();
    let o = ImportOptions {
        skip_invalid: true,
        ..options(6)
    };
    let report = import_file(&store, &path, &o).unwrap();
    let got: Vec<String> = report.rejected.iter().map(|e| e.location.clone()).collect();
    let want: Vec<String> = bad.iter().map(|&i| format!("line {}", lines[i])).collect();
    assert_eq!(got, want, "{backend:?}");
    assert_eq!(report.counts.inserted, 95, "{backend:?}");
    assert_eq!(dump(&store).len(), 95, "{backend:?}");
}
