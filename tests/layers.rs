//! The module graph, drawn from the imports: modules form layers (listed in `src/lib.rs`'s doc,
//! lowest first), each imports only from layers below it, and no files import each other in a
//! circle. A new top-level module must be given a layer here.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;

/// The layers, lowest first; modules in one layer do not import each other.
const LAYERS: &[&[&str]] = &[
    &[
        "block",
        "shutdown",
        "procstat",
        "stats",
        "spool",
        "random",
        "liveness",
        "privilege",
    ],
    &["edges"],
    &["vcd"],
    &["signal"],
    &["hw"],
    &["emu"],
    &["sampler"],
    &["config"],
    &["pipeline", "queue", "wire"],
    &["presence"],
    &["capture", "mqtt"],
    &["agent"],
];

/// Module path of every library source file (tests left out), with its code before any
/// `#[cfg(test)]` and without comments.
fn sources() -> BTreeMap<Vec<String>, String> {
    fn walk(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in fs::read_dir(dir).expect("src readable") {
            let path = entry.expect("dir entry").path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    walk(&src, &mut files);
    let mut out = BTreeMap::new();
    for path in files {
        let rel = path
            .strip_prefix(&src)
            .expect("under src")
            .with_extension("");
        let mut module: Vec<String> = rel
            .iter()
            .map(|s| s.to_string_lossy().into_owned())
            .collect();
        if module == ["main"] || module.iter().any(|s| s.ends_with("tests")) {
            continue;
        }
        if matches!(module.last().map(String::as_str), Some("mod" | "lib")) {
            module.pop();
        }
        let text = fs::read_to_string(&path).expect("source readable");
        let code = text.split("#[cfg(test)]").next().unwrap_or_default();
        let code: String = code
            .lines()
            .map(|l| l.split("//").next().unwrap_or_default())
            .collect::<Vec<_>>()
            .join("\n");
        out.insert(module, code);
    }
    out
}

/// Paths named after `crate::` or `super::` in `code`, as absolute module paths; a group
/// `crate::{a, b::c}` names each of its members.
fn named_paths(module: &[String], code: &str) -> Vec<Vec<String>> {
    let ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let mut out = Vec::new();
    let bytes: Vec<char> = code.chars().collect();
    let mut i = 0;
    while i < bytes.len() {
        let rest: String = bytes[i..bytes.len().min(i + 7)].iter().collect();
        let starts_word = i == 0 || !ident(bytes[i - 1]);
        let (base, skip) = if starts_word && rest.starts_with("crate::") {
            (Vec::new(), 7)
        } else if starts_word && rest.starts_with("super::") {
            (module[..module.len().saturating_sub(1)].to_vec(), 7)
        } else {
            i += 1;
            continue;
        };
        i += skip;
        let mut path = base;
        loop {
            let start = i;
            while i < bytes.len() && ident(bytes[i]) {
                i += 1;
            }
            let seg: String = bytes[start..i].iter().collect();
            if seg == "super" {
                path.pop();
            } else if !seg.is_empty() {
                path.push(seg);
            }
            if bytes.get(i) == Some(&':') && bytes.get(i + 1) == Some(&':') {
                i += 2;
                if bytes.get(i) == Some(&'{') {
                    let end = (i..bytes.len()).find(|&j| bytes[j] == '}').unwrap_or(i);
                    let group: String = bytes[i + 1..end].iter().collect();
                    for member in group.split(',') {
                        let mut p = path.clone();
                        p.extend(
                            member
                                .trim()
                                .split("::")
                                .map(|s| s.trim().to_string())
                                .filter(|s| !s.is_empty() && s != "self"),
                        );
                        out.push(p);
                    }
                    i = end + 1;
                    path.clear();
                    break;
                }
                continue;
            }
            break;
        }
        if !path.is_empty() {
            out.push(path);
        }
    }
    out
}

/// Which module each file imports from (the longest module prefix of each path named), leaving
/// out a file's own ancestors (a parent re-exports its children).
fn imports() -> BTreeMap<Vec<String>, BTreeSet<Vec<String>>> {
    let sources = sources();
    let modules: BTreeSet<Vec<String>> = sources.keys().cloned().collect();
    let mut graph = BTreeMap::new();
    for (module, code) in &sources {
        let targets: &mut BTreeSet<Vec<String>> = graph.entry(module.clone()).or_default();
        for path in named_paths(module, code) {
            let Some(target) = (1..=path.len())
                .rev()
                .map(|n| path[..n].to_vec())
                .find(|p| modules.contains(p))
            else {
                continue;
            };
            if target != *module && !module.starts_with(&target) {
                targets.insert(target);
            }
        }
    }
    graph
}

fn layer_of(top: &str) -> Option<usize> {
    LAYERS.iter().position(|layer| layer.contains(&top))
}

#[test]
fn every_top_level_module_has_a_layer() {
    let lib = fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/lib.rs"))
        .expect("lib.rs");
    let declared: Vec<&str> = lib
        .lines()
        .filter_map(|l| l.trim().strip_prefix("pub mod "))
        .map(|l| l.trim_end_matches(';'))
        .collect();
    assert!(declared.len() > 10, "{declared:?}");
    for m in declared {
        assert!(layer_of(m).is_some(), "module `{m}` has no layer in LAYERS");
    }
}

#[test]
fn imports_only_run_down_the_layers() {
    let mut wrong = BTreeSet::new();
    for (module, targets) in imports() {
        for target in targets {
            let (Some(from), Some(to)) = (module.first(), target.first()) else {
                continue; // the crate root declares the modules
            };
            let (from, to) = (from.as_str(), to.as_str());
            if from == to {
                continue;
            }
            let (Some(a), Some(b)) = (layer_of(from), layer_of(to)) else {
                panic!("{from} or {to} has no layer in LAYERS");
            };
            if b >= a {
                wrong.insert((from.to_string(), to.to_string(), module.join("::")));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "imports that run up or sideways (from, to, file): {wrong:?}"
    );
}

#[test]
fn no_files_import_each_other_in_a_circle() {
    let graph = imports();
    // Every file that can reach itself again lies on a circle.
    let mut circles = BTreeSet::new();
    for start in graph.keys() {
        let mut seen = BTreeSet::new();
        let mut todo: Vec<&Vec<String>> = graph[start].iter().collect();
        while let Some(m) = todo.pop() {
            if m == start {
                circles.insert(start.join("::"));
                break;
            }
            if seen.insert(m.clone()) {
                todo.extend(graph.get(m).into_iter().flatten());
            }
        }
    }
    assert!(circles.is_empty(), "files on an import circle: {circles:?}");
}

/// One place for a file's unit tests: `src/a/b.rs` declares `#[cfg(test)] #[path =
/// "b_tests.rs"] mod tests;` (a `mod.rs` its `tests.rs`), so a reader finds them beside the file
/// and the file itself stays the code. An inline `mod tests { … }` fails here.
#[test]
fn unit_tests_live_in_sibling_files() {
    fn walk(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in fs::read_dir(dir).expect("src readable") {
            let path = entry.expect("dir entry").path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    let mut files = Vec::new();
    walk(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut files,
    );
    let inline: Vec<String> = files
        .iter()
        .filter(|p| {
            let text = fs::read_to_string(p).expect("source readable");
            text.contains("mod tests {") || text.contains("mod proptests {")
        })
        .map(|p| p.display().to_string())
        .collect();
    assert!(
        inline.is_empty(),
        "inline test modules (move them to a sibling <file>_tests.rs): {inline:?}"
    );
}
