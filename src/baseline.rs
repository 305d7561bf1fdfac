//! Baselines: compare a run's results with a committed `results.json`
//! (`--check`), or write one (`--check --bless`).
//!
//! Both documents are flattened into `path → value` metrics (the `header`
//! block, which holds provenance such as versions and thread counts, is left
//! out). Array elements are keyed by their natural name where they have one
//! (`label`, `dataset`, `spec`, `name`, `group`, `area`, …), so a metric keeps
//! its path when others are added, e.g.
//! `loss_tables[coco-val2014-100].box_losses[giou(variant=torchvision)].mean`.
//!
//! | family | which metrics | default tolerance |
//! |---|---|---|
//! | `coco` | everything under `evaluation` (COCO stats, per-category and per-size AP, TIDE), and the regression's AP at each checkpoint (`ap*`, `giou_ap*`) | exact |
//! | `stats` | every other number | relative 1e-9 |
//! | `text` | strings and booleans | exact |
//! | `timing` | keys naming seconds or wall time | never compared |
//!
//! A metric whose value moved beyond its tolerance fails; so does a metric
//! that appears in only one of the two documents (re-bless the baseline when
//! the set of metrics changes on purpose). Tolerances are set in a config's
//! `[check]` section ([`Tolerances`]).

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;
use serde_json::Value;

use crate::error::{Error, Problem, Result};
use crate::report::markdown::Table;

/// `[check]` in a config: the baseline `--check` uses and the tolerances
/// of the comparison.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Tolerances {
    /// Baseline used by `--check` / `--bless` without a path (relative to the
    /// config file).
    #[serde(default)]
    pub baseline: Option<std::path::PathBuf>,
    /// Absolute tolerance for COCO metrics.
    #[serde(default)]
    pub coco: f64,
    /// Relative tolerance for other numbers.
    #[serde(default = "default_relative")]
    pub stats: f64,
}

impl Default for Tolerances {
    fn default() -> Self {
        Tolerances {
            baseline: None,
            coco: 0.0,
            stats: default_relative(),
        }
    }
}

fn default_relative() -> f64 {
    1e-9
}

impl Tolerances {
    /// Problems with the section's values, placed in the config at `path`.
    pub fn problems(&self, path: &Path) -> Vec<Problem> {
        [("coco", self.coco), ("stats", self.stats)]
            .into_iter()
            .filter(|(_, v)| !(v.is_finite() && *v >= 0.0))
            .map(|(key, v)| {
                Problem::at(
                    path,
                    format!("[check] {key}"),
                    format!("tolerance {v} is not a non-negative number"),
                    "use 0 for exact, or a small tolerance such as 1e-9",
                )
            })
            .collect()
    }
}

/// One metric's value.
#[derive(Debug, Clone, PartialEq)]
pub enum Metric {
    /// A number (null, for NaN, is stored as NaN).
    Number(f64),
    /// A string or boolean.
    Text(String),
}

/// Flattens the numbers' section of a results document.
pub fn flatten(doc: &Value) -> BTreeMap<String, Metric> {
    let mut out = BTreeMap::new();
    if let Some(obj) = doc.as_object() {
        for (k, v) in obj {
            if k != "header" {
                walk(k, v, &mut out);
            }
        }
    }
    out
}

const KEYS: [&str; 10] = [
    "label",
    "dataset",
    "spec",
    "name",
    "group",
    "area",
    "category_id",
    "other",
    "q",
    "step",
];

fn element_key(v: &Value, i: usize) -> String {
    if let Some(obj) = v.as_object() {
        // Categories carry both: names need not be unique, ids are.
        if let (Some(Value::String(n)), Some(Value::Number(id))) =
            (obj.get("name"), obj.get("category_id"))
        {
            return format!("{n} (id {id})");
        }
        for k in KEYS {
            match obj.get(k) {
                Some(Value::String(s)) => return s.clone(),
                Some(Value::Number(n)) => return n.to_string(),
                _ => {}
            }
        }
    }
    i.to_string()
}

fn walk(path: &str, v: &Value, out: &mut BTreeMap<String, Metric>) {
    match v {
        Value::Object(o) => {
            for (k, x) in o {
                walk(&format!("{path}.{k}"), x, out);
            }
        }
        Value::Array(a) => {
            let keys: Vec<String> = a
                .iter()
                .enumerate()
                .map(|(i, x)| element_key(x, i))
                .collect();
            for (i, (x, k)) in a.iter().zip(&keys).enumerate() {
                // A repeated key (two groups with one name) gets its position too,
                // so no metric hides behind another.
                let k = if keys.iter().filter(|o| *o == k).count() > 1 {
                    format!("{k}#{i}")
                } else {
                    k.clone()
                };
                walk(&format!("{path}[{k}]"), x, out);
            }
        }
        Value::Number(n) => {
            out.insert(
                path.to_string(),
                Metric::Number(n.as_f64().unwrap_or(f64::NAN)),
            );
        }
        Value::Null => {
            out.insert(path.to_string(), Metric::Number(f64::NAN));
        }
        Value::String(s) => {
            out.insert(path.to_string(), Metric::Text(s.clone()));
        }
        Value::Bool(b) => {
            out.insert(path.to_string(), Metric::Text(b.to_string()));
        }
    }
}

/// COCO AP numbers outside an `evaluation` block: the regression's
/// `ap`/`ap50`/`ap75` (IoU metric) and `giou_ap*` (GIoU metric) at each
/// checkpoint.
fn is_coco_ap(path: &str) -> bool {
    path.split('.').any(|seg| {
        let name = seg.split('[').next().unwrap_or(seg);
        matches!(
            name,
            "ap" | "ap50" | "ap75" | "giou_ap" | "giou_ap50" | "giou_ap75"
        )
    })
}

/// The family of a metric path.
pub fn family(path: &str) -> &'static str {
    let lower = path.to_ascii_lowercase();
    if lower.contains("seconds") || lower.contains("wall_time") || lower.contains("elapsed") {
        "timing"
    } else if path.contains(".evaluation.") || is_coco_ap(path) {
        "coco"
    } else {
        "stats"
    }
}

/// One line of the comparison.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    /// Metric path.
    pub metric: String,
    /// Baseline value, as text.
    pub baseline: String,
    /// Current value, as text.
    pub now: String,
    /// now − baseline, for numbers.
    pub delta: String,
    /// Tolerance applied.
    pub tolerance: String,
    /// `ok`, `MOVED`, `ADDED`, `REMOVED`, or `skipped` (timings).
    pub status: &'static str,
}

/// The comparison of a run with its baseline.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// Every metric, in path order.
    pub lines: Vec<Line>,
}

impl Outcome {
    /// Lines that fail.
    pub fn failures(&self) -> Vec<&Line> {
        self.lines
            .iter()
            .filter(|l| matches!(l.status, "MOVED" | "ADDED" | "REMOVED"))
            .collect()
    }

    /// True when nothing fails.
    pub fn passed(&self) -> bool {
        self.failures().is_empty()
    }

    /// A markdown table of `lines` (metric, baseline, now, delta,
    /// tolerance, status).
    pub fn table(lines: &[&Line]) -> String {
        let mut t = Table::new(&["metric", "baseline", "now", "delta", "tolerance", "status"]);
        for l in lines {
            t.row(vec![
                format!("`{}`", l.metric),
                l.baseline.clone(),
                l.now.clone(),
                l.delta.clone(),
                l.tolerance.clone(),
                l.status.to_string(),
            ]);
        }
        t.render()
    }

    /// What a failed check prints on the terminal: a count, the first
    /// `limit` failing metrics as a table, where the rest are (`check_md`),
    /// and how to re-bless.
    pub fn failure_summary(&self, limit: usize, check_md: &Path, config: &Path) -> String {
        let fails = self.failures();
        let mut out = format!(
            "check failed: {} metrics differ from the baseline\n",
            fails.len()
        );
        out.push_str(&Self::table(&fails[..fails.len().min(limit)]));
        if fails.len() > limit {
            out.push_str(&format!(
                "… and {} more: {}\n",
                fails.len() - limit,
                check_md.display()
            ));
        }
        out.push_str(&format!(
            "If the change is intended, re-bless: detloss --config {} --check BASELINE --bless\n",
            config.display()
        ));
        out
    }

    /// `check.md`: a summary, the failing metrics, then every metric.
    pub fn markdown(&self, baseline: &Path) -> String {
        let fails = self.failures();
        let compared = self.lines.iter().filter(|l| l.status != "skipped").count();
        let mut md = format!(
            "# detloss check\n\nBaseline `{}`: {} metrics compared, {} failing.\n\n",
            baseline.display(),
            compared,
            fails.len()
        );
        if fails.is_empty() {
            md.push_str("Every metric holds.\n");
        } else {
            md.push_str("## Failing metrics\n\n");
            md.push_str(&Self::table(&fails));
            md.push_str("\nIf the change is intended, re-bless the baseline: `detloss --config C --check BASELINE --bless`.\n");
        }
        md.push_str("\n<details><summary>Every metric</summary>\n\n");
        md.push_str(&Self::table(&self.lines.iter().collect::<Vec<_>>()));
        md.push_str("\n</details>\n");
        md
    }
}

fn show(m: Option<&Metric>) -> String {
    match m {
        None => "–".into(),
        Some(Metric::Number(x)) if x.is_nan() => "null".into(),
        Some(Metric::Number(x)) => format!("{x}"),
        Some(Metric::Text(s)) => s.clone(),
    }
}

/// Compares current results with a baseline document.
pub fn compare(baseline: &Value, now: &Value, tol: &Tolerances) -> Outcome {
    let (b, n) = (flatten(baseline), flatten(now));
    let mut paths: Vec<&String> = b.keys().chain(n.keys()).collect();
    paths.sort();
    paths.dedup();
    let lines = paths
        .into_iter()
        .map(|p| {
            let (old, new) = (b.get(p), n.get(p));
            let fam = family(p);
            let (delta, tolerance, status) = match (old, new) {
                _ if fam == "timing" => ("".into(), "never compared".into(), "skipped"),
                (None, Some(_)) => ("".into(), "".into(), "ADDED"),
                (Some(_), None) => ("".into(), "".into(), "REMOVED"),
                (Some(Metric::Number(x)), Some(Metric::Number(y))) => {
                    let (ok, tol_text) = if fam == "coco" {
                        (
                            (x - y).abs() <= tol.coco || (x.is_nan() && y.is_nan()),
                            if tol.coco == 0.0 {
                                "exact".to_string()
                            } else {
                                format!("abs {:e}", tol.coco)
                            },
                        )
                    } else {
                        let scale = x.abs().max(y.abs());
                        (
                            (x - y).abs() <= tol.stats * scale
                                || x == y
                                || (x.is_nan() && y.is_nan()),
                            format!("rel {:e}", tol.stats),
                        )
                    };
                    (
                        format!("{}", y - x),
                        tol_text,
                        if ok { "ok" } else { "MOVED" },
                    )
                }
                (Some(x), Some(y)) => (
                    "".into(),
                    "exact".into(),
                    if x == y { "ok" } else { "MOVED" },
                ),
                (None, None) => unreachable!("path from one of the maps"),
            };
            Line {
                metric: p.clone(),
                baseline: show(old),
                now: show(new),
                delta,
                tolerance,
                status,
            }
        })
        .collect();
    Outcome { lines }
}

/// Reads a baseline file.
pub fn read_baseline(path: &Path) -> Result<Value> {
    let bytes = std::fs::read(path).map_err(|e| {
        Error::input(Problem::in_file(
            path,
            format!("cannot read the baseline: {e}"),
            "create it from a good run with `--bless`, or fix the path",
        ))
    })?;
    let doc: Value = serde_json::from_slice(&bytes).map_err(|e| {
        Error::input(Problem::at(
            path,
            format!("line {}, column {}", e.line(), e.column()),
            format!("the baseline is not valid JSON: {e}"),
            "restore it from version control, or re-bless it with `--bless`",
        ))
    })?;
    let version = doc.get("schema_version").and_then(Value::as_u64);
    if version != Some(u64::from(crate::report::results::SCHEMA_VERSION)) {
        return Err(Error::input(Problem::in_file(
            path,
            format!(
                "not a detloss results file of schema version {}: `schema_version` is {}",
                crate::report::results::SCHEMA_VERSION,
                version.map_or("missing".to_string(), |v| v.to_string())
            ),
            "point --check at a results.json written by this detloss version, or re-bless it with `--bless`",
        )));
    }
    Ok(doc)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn repeated_names_do_not_hide_metrics() {
        let doc = json!({"t": [{"group": "cat", "n": 1}, {"group": "cat", "n": 2}], "c": [{"name": "a", "category_id": 3, "ap": 0.5}]});
        let m = flatten(&doc);
        assert!(
            m.contains_key("t[cat#0].n") && m.contains_key("t[cat#1].n"),
            "{m:?}"
        );
        assert!(m.contains_key("c[a (id 3)].ap"), "{m:?}");
    }

    #[test]
    fn keyed_paths_and_tolerances() {
        let base = json!({"header": {"threads": 1}, "loss_tables": [{"dataset": "d", "evaluation": {"stats": [0.5]}, "box_losses": [{"spec": "giou", "mean": 0.25}]}]});
        let same = json!({"header": {"threads": 2}, "loss_tables": [{"dataset": "d", "evaluation": {"stats": [0.5]}, "box_losses": [{"spec": "giou", "mean": 0.25 + 1e-12}]}]});
        let o = compare(&base, &same, &Tolerances::default());
        assert!(o.passed(), "{:?}", o.failures());
        assert!(
            o.lines
                .iter()
                .any(|l| l.metric == "loss_tables[d].box_losses[giou].mean")
        );
        let moved = json!({"loss_tables": [{"dataset": "d", "evaluation": {"stats": [0.5000001]}, "box_losses": [{"spec": "giou", "mean": 0.25}, {"spec": "ciou", "mean": 1.0}]}]});
        let o = compare(&base, &moved, &Tolerances::default());
        let f: Vec<(&str, &str)> = o
            .failures()
            .iter()
            .map(|l| (l.metric.as_str(), l.status))
            .collect();
        assert_eq!(
            f,
            vec![
                ("loss_tables[d].box_losses[ciou].mean", "ADDED"),
                ("loss_tables[d].box_losses[ciou].spec", "ADDED"),
                ("loss_tables[d].evaluation.stats[0]", "MOVED"),
            ]
        );
    }
}
