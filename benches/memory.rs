//! What the snapshot costs in memory, per entry: the heap bytes of 100,000 synthetic
//! assets (placed where people live, each with its source record, in the official IoD2019
//! areas with boundaries) as entries alone and as a whole snapshot (entries, spatial tiles, the
//! id map), counted by a global allocator that adds up malloc's real chunk sizes (usable size
//! plus its 8-byte header), so allocator rounding is included. Also the time to build the
//! entries and to write 50 of them as JSON (what a `near` page costs).
//!
//! `cargo bench --bench memory` (needs ../shared/data); `COUNT=1000000` for another size.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use community_assets::domain::SourceRef;
use community_assets::index::{build_entries, Snapshot};

struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

fn chunk(p: *mut u8) -> isize {
    // SAFETY: `p` was returned by the system allocator and is not yet freed.
    (unsafe { libc::malloc_usable_size(p.cast()) } + 8) as isize
}

// SAFETY: every call is forwarded to the system allocator; only a counter is added.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        let p = System.alloc(l);
        if !p.is_null() {
            LIVE.fetch_add(chunk(p), Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        LIVE.fetch_sub(chunk(p), Ordering::Relaxed);
        System.dealloc(p, l)
    }

    unsafe fn realloc(&self, p: *mut u8, l: Layout, new_size: usize) -> *mut u8 {
        let old = chunk(p);
        let q = System.realloc(p, l, new_size);
        if !q.is_null() {
            LIVE.fetch_add(chunk(q) - old, Ordering::Relaxed);
        }
        q
    }
}

#[global_allocator]
static COUNTING: Counting = Counting;

fn live() -> isize {
    LIVE.load(Ordering::Relaxed)
}

fn main() {
    let count: usize = std::env::var("COUNT")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(100_000);
    let (mut assets, categories, _) = common::inputs_of(count);
    // As stored: microsecond timestamps, and the source record each import links.
    let now = community_assets::store::now();
    for a in &mut assets {
        a.created_at = now;
        a.updated_at = a.created_at;
        a.sources = vec![SourceRef {
            source: a.fields.source.clone().unwrap_or_default(),
            source_id: a.fields.source_id.clone().unwrap_or_default(),
        }];
    }
    let areas = Arc::new(common::areas());
    let n = assets.len() as f64;

    let before = live();
    let started = Instant::now();
    let entries = build_entries(assets.clone(), &areas);
    let build = started.elapsed();
    let entries_bytes = live() - before;
    println!(
        "entries: {} B/entry (size_of Entry {} B), built in {:.0} ms",
        (entries_bytes as f64 / n).round(),
        std::mem::size_of_val(&entries[0]),
        build.as_secs_f64() * 1e3
    );

    let idx: Vec<u32> = (0..50).map(|i| (i * 1999 % entries.len()) as u32).collect();
    let rounds: usize = std::env::var("ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(20_000);
    let started = Instant::now();
    let mut total = 0;
    for _ in 0..rounds {
        let mut out = String::with_capacity(64 * 1024);
        for &i in &idx {
            entries[i as usize].write_json_open(&mut out);
            out.push('}');
        }
        total += std::hint::black_box(out).len();
    }
    println!(
        "50 entries as JSON: {:.1} µs ({} B)",
        started.elapsed().as_secs_f64() * 1e6 / rounds as f64,
        total / rounds
    );
    drop(entries);

    let before = live();
    let snap = Snapshot::build(1, &categories, assets.clone(), areas);
    println!(
        "snapshot: {} B/entry (entries, spatial tiles, id map) for {} assets",
        ((live() - before) as f64 / n).round(),
        snap.len()
    );
}
