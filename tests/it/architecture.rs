//! The layers of `src/` (see `src/lib.rs`): each top-level module uses only modules of
//! the layers below it, so the module graph has no cycles; nor do the files within a
//! module. Read from the source text, as a newcomer would read the `use` lines.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Top to bottom; a module may use only modules of later layers.
const LAYERS: &[&[&str]] = &[
    &["startup"],
    &["api"],
    &["curation"],
    &["state"],
    &["auth", "reports", "oruk", "metrics", "rate_limit", "synth"],
    &["wire"],
    &["error"],
    &["import"],
    &["index", "store", "budget"],
    &["domain", "geo", "config"],
];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `src/store/audit.rs` -> `["store", "audit"]`; `src/store/mod.rs` -> `["store"]`.
fn module_path(src: &Path, file: &Path) -> Vec<String> {
    let mut parts: Vec<String> = file
        .strip_prefix(src)
        .unwrap()
        .with_extension("")
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    if parts.last().is_some_and(|p| p == "mod") {
        parts.pop();
    }
    parts
}

/// The identifiers after each occurrence of `prefix` (`crate::a::b` gives `[a, b]`),
/// outside comments.
fn paths_after<'a>(code: &'a str, prefix: &str) -> Vec<Vec<&'a str>> {
    code.lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .flat_map(|l| {
            l.match_indices(prefix)
                .map(move |(i, _)| &l[i + prefix.len()..])
        })
        .map(|rest| {
            rest.split("::")
                .map(|seg| {
                    let end = seg
                        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                        .unwrap_or(seg.len());
                    &seg[..end]
                })
                .take_while(|seg| !seg.is_empty())
                .collect()
        })
        .collect()
}

/// Every source file of the library (not the binaries) and the files it uses.
fn file_graph() -> BTreeMap<Vec<String>, BTreeSet<Vec<String>>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let modules: BTreeSet<Vec<String>> = files
        .iter()
        .filter(|f| {
            !f.ends_with("main.rs") && !f.starts_with(src.join("bin")) && !f.ends_with("lib.rs")
        })
        .map(|f| module_path(&src, f))
        .collect();
    // The longest known module that a path names.
    let resolve = |path: Vec<String>| -> Option<Vec<String>> {
        (1..=path.len())
            .rev()
            .map(|n| path[..n].to_vec())
            .find(|p| modules.contains(p))
    };
    let mut graph = BTreeMap::new();
    for file in &files {
        let me = module_path(&src, file);
        if !modules.contains(&me) {
            continue;
        }
        let code = std::fs::read_to_string(file).unwrap();
        // Unit tests may use anything (e.g. to compare two layers' rules).
        let code = code.split("#[cfg(test)]").next().unwrap_or_default();
        let mut uses = BTreeSet::new();
        for p in paths_after(code, "crate::") {
            uses.extend(resolve(p.iter().map(|s| s.to_string()).collect()));
        }
        // `super::x` from a file: a sibling (or the parent module itself).
        let parent: Vec<String> = if file.ends_with("mod.rs") {
            me[..me.len().saturating_sub(1)].to_vec()
        } else {
            me[..me.len() - 1].to_vec()
        };
        for p in paths_after(code, "super::") {
            let mut full = parent.clone();
            full.extend(p.iter().map(|s| s.to_string()));
            uses.extend(resolve(full));
        }
        uses.remove(&me);
        graph.insert(me, uses);
    }
    graph
}

#[test]
fn each_layer_uses_only_the_layers_below_it() {
    let layer_of = |m: &str| {
        LAYERS
            .iter()
            .position(|layer| layer.contains(&m))
            .unwrap_or_else(|| panic!("module {m} is in no layer: add it to LAYERS and src/lib.rs"))
    };
    let mut wrong = Vec::new();
    for (file, uses) in file_graph() {
        for used in uses {
            let (from, to) = (&file[0], &used[0]);
            if from != to && layer_of(to) <= layer_of(from) {
                wrong.push(format!("{} uses {}", file.join("::"), used.join("::")));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "upward or sideways uses:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn files_within_a_module_have_no_cycles() {
    let graph = file_graph();
    // Depth-first search; a grey node met again closes a cycle.
    fn visit(
        node: &Vec<String>,
        graph: &BTreeMap<Vec<String>, BTreeSet<Vec<String>>>,
        state: &mut BTreeMap<Vec<String>, bool>,
        stack: &mut Vec<Vec<String>>,
    ) -> Option<Vec<String>> {
        match state.get(node) {
            Some(true) => return None,
            Some(false) => {
                let start = stack.iter().position(|n| n == node).unwrap();
                return Some(stack[start..].iter().map(|n| n.join("::")).collect());
            }
            None => {}
        }
        state.insert(node.clone(), false);
        stack.push(node.clone());
        for next in graph.get(node).into_iter().flatten() {
            // A module's own mod.rs and its children belong together.
            if next.starts_with(node) || node.starts_with(next) {
                continue;
            }
            if let Some(cycle) = visit(next, graph, state, stack) {
                return Some(cycle);
            }
        }
        stack.pop();
        state.insert(node.clone(), true);
        None
    }
    let mut state = BTreeMap::new();
    for node in graph.keys() {
        if let Some(cycle) = visit(node, &graph, &mut state, &mut Vec::new()) {
            panic!("an import cycle: {}", cycle.join(" -> "));
        }
    }
}
