//! The architecture's rules, checked on the source text, so a change that
//! breaks one fails the test suite with the file and line:
//!
//! 1. only `src/losses/` defines box-overlap geometry (IoU, intersection,
//!    union, enclosing box): one implementation of each rule;
//! 2. only `src/evaluate/` constructs a hotcoco evaluation (`COCOeval`);
//! 3. the runner (`src/run.rs`), the config loader (`src/config.rs`) and the
//!    report (`src/report/`) name no individual experiment — neither its
//!    module, nor its config key, nor a type it defines;
//! 4. no import cycle between the crate's top-level modules.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// Every `.rs` file under `dir`, sorted, with its text.
fn sources(dir: &Path) -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                let text = std::fs::read_to_string(&p).unwrap();
                out.push((p, text));
            }
        }
    }
    out.sort();
    out
}

fn src() -> PathBuf {
    Path::new(ROOT).join("src")
}

/// Path relative to `src/`, with `/` separators.
fn rel(p: &Path) -> String {
    p.strip_prefix(src())
        .unwrap()
        .to_string_lossy()
        .replace('\\', "/")
}

/// Identifiers (ASCII words) in a line.
fn words(line: &str) -> impl Iterator<Item = &str> {
    line.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
}

/// The code of a line: empty for comment lines, else the text before a
/// trailing `//` comment.
fn code(line: &str) -> &str {
    let t = line.trim_start();
    if t.starts_with("//") {
        return "";
    }
    line.split(" // ").next().unwrap_or(line)
}

/// True when `line` computes an interval overlap: `….min(…) - ….max(…)` or
/// `….min(…) - ….max(…)` with `min(a, b)` / `max(a, b)` call forms too.
fn computes_overlap(line: &str) -> bool {
    let mut rest = line;
    while let Some(i) = rest.find("min(") {
        let after = &rest[i + 4..];
        let mut depth = 1;
        let close = after.char_indices().find_map(|(j, c)| {
            match c {
                '(' => depth += 1,
                ')' => depth -= 1,
                _ => {}
            }
            (depth == 0).then_some(j)
        });
        let Some(j) = close else { return false };
        let tail = after[j + 1..].trim_start();
        if let Some(t) = tail.strip_prefix('-')
            && t.contains("max(")
        {
            return true;
        }
        rest = &after[j + 1..];
    }
    false
}

#[test]
fn only_losses_define_box_overlap_geometry() {
    let geometry = [
        "iou",
        "giou",
        "diou",
        "ciou",
        "intersection",
        "union",
        "enclosing",
        "overlap",
    ];
    let mut offenders = Vec::new();
    for (path, text) in sources(&src()) {
        let r = rel(&path);
        if r.starts_with("losses/") {
            continue;
        }
        for (n, line) in text.lines().map(code).enumerate() {
            let t = line.trim_start();
            let def = ["fn ", "pub fn ", "pub(crate) fn "]
                .iter()
                .find_map(|kw| t.strip_prefix(kw))
                .and_then(|rest| words(rest).next());
            if let Some(name) = def {
                let name = name.to_ascii_lowercase();
                if geometry
                    .iter()
                    .any(|g| name == *g || name.starts_with(&format!("{g}_")))
                {
                    offenders.push(format!("src/{r}:{}: fn {name}", n + 1));
                }
            }
            if computes_overlap(line) {
                offenders.push(format!("src/{r}:{}: {}", n + 1, line.trim()));
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "box-overlap geometry belongs in src/losses/ (call crate::losses::iou_family \
         from elsewhere); found outside it:\n{}",
        offenders.join("\n")
    );
}

#[test]
fn the_overlap_pattern_is_recognised() {
    assert!(computes_overlap(
        "let iw = (a[2].min(b[2]) - a[0].max(b[0])).max(0.0);"
    ));
    assert!(computes_overlap(
        "let iw = f64::min(ax2, bx2) - f64::max(ax1, bx1);"
    ));
    assert!(!computes_overlap("let v = v.max(0.0).min(hi);"));
    assert!(!computes_overlap(
        "(ta.min(tb).max(0.0), ta.max(tb).min(1.0))"
    ));
}

#[test]
fn only_evaluate_constructs_a_hotcoco_evaluation() {
    let mut offenders = Vec::new();
    for (path, text) in sources(&src()) {
        let r = rel(&path);
        if r.starts_with("evaluate/") {
            continue;
        }
        for (n, line) in text.lines().map(code).enumerate() {
            if line.contains("COCOeval::") || (line.contains("use ") && line.contains("COCOeval")) {
                offenders.push(format!("src/{r}:{}: {}", n + 1, line.trim()));
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "hotcoco evaluations are run by src/evaluate/ only (one evaluation per dataset); \
         found elsewhere:\n{}",
        offenders.join("\n")
    );
}

/// The names that identify each experiment: its module, its config key, and
/// the types it defines.
fn experiment_names() -> BTreeMap<String, BTreeSet<String>> {
    let dir = src().join("experiments");
    let list = std::fs::read_to_string(dir.join("mod.rs")).unwrap();
    let mut out = BTreeMap::new();
    for line in list.lines() {
        let Some(m) = line
            .trim()
            .strip_prefix("pub mod ")
            .and_then(|r| r.strip_suffix(';'))
        else {
            continue;
        };
        let mut names = BTreeSet::from([m.to_string()]);
        let file = dir.join(format!("{m}.rs"));
        let text = std::fs::read_to_string(&file)
            .or_else(|_| std::fs::read_to_string(dir.join(m).join("mod.rs")))
            .unwrap_or_else(|e| panic!("experiment module {m}: {e}"));
        // Shared helpers (the descent loop) are modules without a config key.
        if !text.contains("const KEY: &'static str") {
            continue;
        }
        for l in text.lines() {
            let t = l.trim();
            for kw in ["pub struct ", "pub enum ", "pub type ", "pub trait "] {
                if let Some(rest) = t.strip_prefix(kw)
                    && let Some(name) = words(rest).next()
                {
                    names.insert(name.to_string());
                }
            }
            if let Some(rest) = t.strip_prefix("const KEY: &'static str = \"")
                && let Some(key) = rest.split('"').next()
            {
                names.insert(key.to_string());
            }
        }
        out.insert(m.to_string(), names);
    }
    assert!(
        out.len() >= 4,
        "found only {:?} in src/experiments/mod.rs",
        out.keys()
    );
    out
}

#[test]
fn runner_config_and_report_name_no_experiment() {
    let experiments = experiment_names();
    let mut files = vec![src().join("run.rs"), src().join("config.rs")];
    files.extend(sources(&src().join("report")).into_iter().map(|(p, _)| p));
    let mut offenders = Vec::new();
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap();
        for (n, line) in text.lines().map(code).enumerate() {
            for w in words(line) {
                for (module, names) in &experiments {
                    if names.contains(w) {
                        offenders.push(format!(
                            "src/{}:{}: `{w}` (experiment `{module}`)",
                            rel(&path),
                            n + 1
                        ));
                    }
                }
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "the runner, config loader and report loop over experiments::ALL and name none \
         of them; move this into the experiment's module:\n{}",
        offenders.join("\n")
    );
}

/// `crate::X` references of each top-level module (a file under `src/` or a
/// folder's files), to other top-level modules.
fn module_graph() -> BTreeMap<String, BTreeSet<String>> {
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (path, text) in sources(&src()) {
        let r = rel(&path);
        let module = r.split('/').next().unwrap().trim_end_matches(".rs");
        if module == "lib" || module == "main" {
            continue;
        }
        let deps = graph.entry(module.to_string()).or_default();
        let code_only: String = text.lines().map(code).collect::<Vec<_>>().join("\n");
        for part in code_only.split("crate::").skip(1) {
            let dep = words(part).next().unwrap_or("");
            if !dep.is_empty() && dep != module {
                deps.insert(dep.to_string());
            }
        }
    }
    graph
}

/// A cycle of `graph`, if it has one (depth-first search; a back edge
/// closes a cycle).
fn find_cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        m: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        state: &mut BTreeMap<String, u8>,
        stack: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        state.insert(m.to_string(), 1);
        stack.push(m.to_string());
        for d in graph.get(m).into_iter().flatten() {
            match state.get(d.as_str()) {
                Some(1) => {
                    let start = stack.iter().position(|s| s == d).unwrap();
                    let mut cycle = stack[start..].to_vec();
                    cycle.push(d.clone());
                    return Some(cycle);
                }
                Some(_) => {}
                None => {
                    if let Some(c) = visit(d, graph, state, stack) {
                        return Some(c);
                    }
                }
            }
        }
        stack.pop();
        state.insert(m.to_string(), 2);
        None
    }
    let mut state = BTreeMap::new();
    for m in graph.keys() {
        if !state.contains_key(m.as_str())
            && let Some(cycle) = visit(m, graph, &mut state, &mut Vec::new())
        {
            return Some(cycle);
        }
    }
    None
}

#[test]
fn no_import_cycle_between_modules() {
    let graph = module_graph();
    assert!(graph["experiments"].contains("losses"), "{graph:?}");
    if let Some(cycle) = find_cycle(&graph) {
        panic!(
            "import cycle between modules: {} (data flows one way: load → validate → \
             match → losses/experiments → evaluate → report)",
            cycle.join(" → ")
        );
    }
}

#[test]
fn the_cycle_finder_finds_cycles() {
    let g = |edges: &[(&str, &str)]| {
        let mut m: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (a, b) in edges {
            m.entry(a.to_string()).or_default().insert(b.to_string());
        }
        m
    };
    assert_eq!(find_cycle(&g(&[("a", "b"), ("b", "c"), ("a", "c")])), None);
    assert_eq!(
        find_cycle(&g(&[("a", "b"), ("b", "c"), ("c", "a")])),
        Some(vec!["a".into(), "b".into(), "c".into(), "a".into()])
    );
}
