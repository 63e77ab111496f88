//! ARCHITECTURE.md's floors against the library's own imports (`use crate::…`, `super::…` and
//! paths written inline): every module placed on one floor, no import running up a floor, no
//! circle of files or of folders, no library file over 800 lines, every file named in the map.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const MAX_LINES: usize = 800;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The library's files (the binaries' `main.rs`, `cli/` and `front/` are front ends of other
/// crates).
fn library_files() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p.strip_prefix(root()).unwrap().to_owned());
            }
        }
    }
    let mut out = Vec::new();
    walk(&root().join("src"), &mut out);
    // A unit-test module in a file of its own (`tests.rs`) is no more part of the structure than
    // one written inline.
    out.retain(|p| {
        p != Path::new("src/main.rs")
            && !p.starts_with("src/cli")
            && !p.starts_with("src/front")
            && !p.ends_with("tests.rs")
    });
    out.sort();
    out
}

/// `src/agent/process.rs` → `["agent", "process"]`; `src/link/mod.rs` → `["link"]`.
fn module_of(file: &Path) -> Vec<String> {
    let mut parts: Vec<String> = file
        .strip_prefix("src")
        .unwrap()
        .with_extension("")
        .iter()
        .map(|s| s.to_string_lossy().into_owned())
        .collect();
    if matches!(parts.last().map(String::as_str), Some("mod" | "lib")) {
        parts.pop();
    }
    parts
}

/// The code without comments, string literals and the unit-test module (tests are not part of
/// the structure).
fn code_of(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if text[i..].starts_with("//") {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
        } else if text[i..].starts_with("/*") {
            i += text[i..].find("*/").map_or(b.len() - i, |e| e + 2);
        } else if let Some(hashes) = raw_string_at(&text[i..]) {
            let close = format!("\"{}", "#".repeat(hashes));
            let body = i + 2 + hashes;
            i = text[body..]
                .find(&close)
                .map_or(b.len(), |e| body + e + close.len());
            out.push_str("\"\"");
        } else if b[i] == b'"' && (i == 0 || b[i - 1] != b'\'') {
            i += 1;
            while i < b.len() && b[i] != b'"' {
                i += if b[i] == b'\\' { 2 } else { 1 };
            }
            i += 1;
            out.push_str("\"\"");
        } else {
            let c = text[i..].chars().next().unwrap();
            out.push(c);
            i += c.len_utf8();
        }
    }
    match out.find("#[cfg(test)]\nmod tests {") {
        Some(cut) => out[..cut].to_owned(),
        None => out,
    }
}

/// `r"…"`, `r#"…"#`: how many `#`.
fn raw_string_at(s: &str) -> Option<usize> {
    let rest = s.strip_prefix('r')?;
    let hashes = rest.len() - rest.trim_start_matches('#').len();
    rest[hashes..].starts_with('"').then_some(hashes)
}

/// `crate::{a::b, c::{d, e as f}}` → `[crate a b]`, `[crate c d]`, `[crate c e]`.
fn expand_use(tree: &str) -> Vec<Vec<String>> {
    fn rec(prefix: &[String], tree: &str, out: &mut Vec<Vec<String>>) {
        let tree = tree.trim();
        if let Some(open) = tree.find('{') {
            let mut head = prefix.to_vec();
            head.extend(
                tree[..open]
                    .split("::")
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned),
            );
            let body = &tree[open + 1..tree.rfind('}').unwrap()];
            let (mut depth, mut start) = (0, 0);
            for (i, c) in body.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        rec(&head, &body[start..i], out);
                        start = i + 1;
                    }
                    _ => {}
                }
            }
            rec(&head, &body[start..], out);
        } else if !tree.is_empty() {
            let tree = tree.split(" as ").next().unwrap();
            let mut path = prefix.to_vec();
            path.extend(tree.split("::").map(|s| s.trim().to_owned()));
            out.push(path);
        }
    }
    let mut out = Vec::new();
    rec(&[], tree, &mut out);
    out
}

/// The paths a file names: its `use` trees and the `crate::`/`super::` paths written inline.
fn paths_in(code: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let mut rest = code;
    while let Some(at) = rest.find("use ") {
        let before = rest[..at].chars().last();
        rest = &rest[at + 4..];
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue;
        }
        let Some(end) = rest.find(';') else { break };
        let tree = &rest[..end];
        if ["crate", "super", "self"]
            .iter()
            .any(|r| tree.trim_start().starts_with(&format!("{r}::")))
        {
            out.extend(expand_use(tree));
        }
    }
    let words: Vec<(usize, &str)> = code
        .match_indices(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
        .scan(0, |start, (i, sep)| {
            let w = (*start, &code[*start..i]);
            *start = i + sep.len();
            Some(w)
        })
        .collect();
    for (_, w) in words {
        if w.starts_with("crate::") || w.starts_with("super::") {
            out.push(w.split("::").map(str::to_owned).collect());
        }
    }
    out
}

/// The file a path points into: the longest module prefix that is a file of ours.
fn target(
    path: &[String],
    here: &[String],
    modules: &BTreeMap<Vec<String>, PathBuf>,
) -> Option<PathBuf> {
    let mut abs: Vec<String> = match path.first()?.as_str() {
        "crate" => Vec::new(),
        "self" => here.to_vec(),
        "super" => here.to_vec(),
        _ => return None,
    };
    let mut rest = &path[1..];
    if path[0] == "super" {
        abs.pop();
        while rest.first().is_some_and(|s| s == "super") {
            abs.pop();
            rest = &rest[1..];
        }
    }
    abs.extend(rest.iter().cloned());
    (1..=abs.len())
        .rev()
        .find_map(|n| modules.get(&abs[..n]).cloned())
}

struct Graph {
    files: Vec<PathBuf>,
    /// file → the files it imports from, with the names taken.
    edges: BTreeMap<PathBuf, BTreeMap<PathBuf, BTreeSet<String>>>,
}

fn graph() -> Graph {
    let files = library_files();
    let modules: BTreeMap<Vec<String>, PathBuf> =
        files.iter().map(|f| (module_of(f), f.clone())).collect();
    let mut edges = BTreeMap::new();
    for f in &files {
        let here = module_of(f);
        let code = code_of(&std::fs::read_to_string(root().join(f)).unwrap());
        let mut to: BTreeMap<PathBuf, BTreeSet<String>> = BTreeMap::new();
        for p in paths_in(&code) {
            if let Some(t) = target(&p, &here, &modules).filter(|t| t != f && !here.is_empty()) {
                to.entry(t).or_default().insert(p.last().cloned().unwrap());
            }
        }
        edges.insert(f.clone(), to);
    }
    Graph { files, edges }
}

/// Strongly connected sets of more than one node (Tarjan's algorithm).
fn circles<N: Ord + Clone>(nodes: &[N], next: &dyn Fn(&N) -> Vec<N>) -> Vec<Vec<N>> {
    struct Walk<N> {
        index: BTreeMap<N, usize>,
        low: BTreeMap<N, usize>,
        stack: Vec<N>,
        out: Vec<Vec<N>>,
    }
    fn visit<N: Ord + Clone>(v: &N, w: &mut Walk<N>, next: &dyn Fn(&N) -> Vec<N>) {
        let i = w.index.len();
        w.index.insert(v.clone(), i);
        w.low.insert(v.clone(), i);
        w.stack.push(v.clone());
        for u in next(v) {
            if !w.index.contains_key(&u) {
                visit(&u, w, next);
                let l = w.low[&u].min(w.low[v]);
                w.low.insert(v.clone(), l);
            } else if w.stack.contains(&u) {
                let l = w.index[&u].min(w.low[v]);
                w.low.insert(v.clone(), l);
            }
        }
        if w.low[v] == w.index[v] {
            let mut set = Vec::new();
            loop {
                let u = w.stack.pop().unwrap();
                let done = &u == v;
                set.push(u);
                if done {
                    break;
                }
            }
            if set.len() > 1 {
                w.out.push(set);
            }
        }
    }
    let mut w = Walk {
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        out: Vec::new(),
    };
    for n in nodes {
        if !w.index.contains_key(n) {
            visit(n, &mut w, next);
        }
    }
    w.out
}

fn architecture_md() -> String {
    std::fs::read_to_string(root().join("ARCHITECTURE.md")).unwrap()
}

/// `## Floors`: `- NAME: module module …`, top floor first.
fn floors() -> Vec<(String, Vec<String>)> {
    let md = architecture_md();
    let section = md
        .split("\n## ")
        .find(|s| s.starts_with("Floors"))
        .expect("ARCHITECTURE.md has a `## Floors` section");
    section
        .lines()
        .filter_map(|l| l.strip_prefix("- "))
        .filter_map(|l| l.split_once(':'))
        .map(|(name, mods)| {
            (
                name.trim().to_owned(),
                mods.split_whitespace()
                    .map(|m| m.trim_matches(|c| c == '`' || c == ',').to_owned())
                    .filter(|m| !m.is_empty())
                    .collect(),
            )
        })
        .collect()
}

fn floor_of(file: &Path, floors: &[(String, Vec<String>)]) -> Option<usize> {
    let top = module_of(file).first()?.clone();
    // Listed top first: a higher floor has a smaller index.
    floors.iter().position(|(_, mods)| mods.contains(&top))
}

#[test]
fn every_module_sits_on_one_floor() {
    let floors = floors();
    assert!(floors.len() >= 4, "floors read: {floors:?}");
    let mut placed = BTreeMap::new();
    for (name, mods) in &floors {
        for m in mods {
            assert!(
                placed.insert(m.clone(), name.clone()).is_none(),
                "{m} is on two floors"
            );
        }
    }
    let lib = code_of(&std::fs::read_to_string(root().join("src/lib.rs")).unwrap());
    // A module compiled for tests only (`#[cfg(test)]` above it) is not part of the structure.
    let lines: Vec<&str> = lib.lines().map(str::trim).collect();
    let declared: BTreeSet<String> = lines
        .iter()
        .enumerate()
        .filter(|(i, _)| *i == 0 || lines[i - 1] != "#[cfg(test)]")
        .filter_map(|(_, l)| {
            let l = l.strip_prefix("pub ").unwrap_or(l);
            l.strip_prefix("mod ")?.strip_suffix(';').map(str::to_owned)
        })
        .collect();
    assert!(
        declared.len() > 20,
        "modules read from lib.rs: {declared:?}"
    );
    let unplaced: Vec<_> = declared
        .iter()
        .filter(|m| !placed.contains_key(*m))
        .collect();
    assert!(
        unplaced.is_empty(),
        "not on any floor in ARCHITECTURE.md: {unplaced:?}"
    );
    let unknown: Vec<_> = placed.keys().filter(|m| !declared.contains(*m)).collect();
    assert!(
        unknown.is_empty(),
        "ARCHITECTURE.md places modules that do not exist: {unknown:?}"
    );
}

#[test]
fn imports_never_run_up_a_floor() {
    let floors = floors();
    let g = graph();
    let mut up = Vec::new();
    let mut arrows = 0;
    for (from, to) in &g.edges {
        let Some(a) = floor_of(from, &floors) else {
            continue;
        };
        for (t, names) in to {
            arrows += 1;
            match floor_of(t, &floors) {
                Some(b) if b < a => up.push(format!(
                    "{} ({}) -> {} ({}): {names:?}",
                    from.display(),
                    floors[a].0,
                    t.display(),
                    floors[b].0
                )),
                _ => {}
            }
        }
    }
    assert!(
        arrows > 100,
        "only {arrows} imports read: the reader is broken"
    );
    assert!(
        up.is_empty(),
        "imports that run up a floor:\n{}",
        up.join("\n")
    );
}

#[test]
fn no_circle_of_files_or_folders() {
    let g = graph();
    let next = |f: &PathBuf| g.edges[f].keys().cloned().collect::<Vec<_>>();
    let files = circles(&g.files, &next);
    assert!(
        files.is_empty(),
        "files importing each other in a circle: {files:?}"
    );
    // A folder is one room: its files together must not import something that imports them.
    // `src/unlock.rs` belongs with `src/unlock/`.
    let room = |f: &Path| -> PathBuf {
        match f.parent() {
            Some(p) if p != Path::new("src") => p.to_owned(),
            _ if root().join(f.with_extension("")).is_dir() => f.with_extension(""),
            _ => f.to_owned(),
        }
    };
    let mut rooms: BTreeMap<PathBuf, BTreeSet<PathBuf>> = BTreeMap::new();
    for (from, to) in &g.edges {
        let r = rooms.entry(room(from)).or_default();
        r.extend(to.keys().map(|t| room(t)).filter(|t| *t != room(from)));
    }
    let names: Vec<PathBuf> = rooms.keys().cloned().collect();
    let next = |r: &PathBuf| rooms[r].iter().cloned().collect::<Vec<_>>();
    let folders = circles(&names, &next);
    assert!(
        folders.is_empty(),
        "folders importing each other in a circle: {folders:?}"
    );
}

#[test]
fn a_circle_is_seen() {
    // The detector itself: a → b → c → a is one circle, d alone none.
    let edges: BTreeMap<char, Vec<char>> = [
        ('a', vec!['b']),
        ('b', vec!['c']),
        ('c', vec!['a']),
        ('d', vec!['a']),
    ]
    .into();
    let found = circles(&['a', 'b', 'c', 'd'], &|n| edges[n].clone());
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].iter().collect::<BTreeSet<_>>().len(), 3);
    // And the reader: a grouped, renamed, nested `use`.
    let paths = paths_in("use crate::{a::B, c::{d::E as F, self}};\nfn x() { super::g::h(); }");
    assert!(paths.contains(&vec!["crate".into(), "a".into(), "B".into()]));
    assert!(paths.contains(&vec!["crate".into(), "c".into(), "d".into(), "E".into()]));
    assert!(paths.contains(&vec!["super".into(), "g".into(), "h".into()]));
}

#[test]
fn library_files_stay_small_and_named() {
    let md = architecture_md();
    let mut long = Vec::new();
    let mut unnamed = Vec::new();
    for f in library_files() {
        let lines = std::fs::read_to_string(root().join(&f))
            .unwrap()
            .lines()
            .count();
        if lines > MAX_LINES {
            long.push(format!("{} ({lines} lines)", f.display()));
        }
        // A folder's mod.rs is named by its folder.
        let name = if f.ends_with("mod.rs") {
            format!("{}/", f.parent().unwrap().display())
        } else {
            f.display().to_string()
        };
        if !md.contains(&name) {
            unnamed.push(name);
        }
    }
    assert!(
        long.is_empty(),
        "library files over {MAX_LINES} lines: {long:?}"
    );
    assert!(
        unnamed.is_empty(),
        "files ARCHITECTURE.md does not name: {unnamed:?}"
    );
}
