//! Run configuration: the TOML file behind `detloss --config`.
//!
//! Unknown keys are rejected with the file, line and the keys that are valid
//! there. The reference of every key is in README.md ("Config reference").

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::data::DatasetSpec;
use crate::error::{Error, Problem, Result};

/// A whole config file.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Run-wide settings.
    #[serde(default)]
    pub run: RunSection,
    /// The datasets to load, in report order.
    pub datasets: Vec<DatasetSpec>,
    /// The dataset summary experiment.
    #[serde(default)]
    pub summary: SummarySection,
    /// Format-agreement checks between datasets of the run.
    #[serde(default)]
    pub compare_formats: Vec<CompareFormats>,
    /// Loss-curve figures.
    #[serde(default)]
    pub plots: PlotsSection,
    /// The loss-table experiment.
    #[serde(default)]
    pub loss_table: Option<crate::experiments::loss_table::LossTableSection>,
    /// Baseline comparison settings.
    #[serde(default)]
    pub check: crate::check::CheckSection,
}

/// `[plots]`: the loss-curve figures (focal vs CE, QFL, margin losses,
/// regression losses, box losses and their gradients along a sliding box).
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PlotsSection {
    /// Render the figures into `reports/<run>/figures/` and show them in the report.
    #[serde(default)]
    pub loss_curves: bool,
}

/// `[run]`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RunSection {
    /// The report folder name: `reports/<name>/`. Default: the config file's stem.
    #[serde(default)]
    pub name: Option<String>,
    /// A sentence for the report's header.
    #[serde(default)]
    pub description: Option<String>,
}

/// `[summary]`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SummarySection {
    /// Quantile probabilities reported for box sizes, scores and counts.
    #[serde(default = "default_quantiles")]
    pub quantiles: Vec<f64>,
}

impl Default for SummarySection {
    fn default() -> Self {
        SummarySection {
            quantiles: default_quantiles(),
        }
    }
}

fn default_quantiles() -> Vec<f64> {
    vec![0.0, 0.05, 0.25, 0.5, 0.75, 0.95, 1.0]
}

/// `[[compare_formats]]`: check that several loadings of one dataset agree.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CompareFormats {
    /// Dataset labels; every one is compared with the first.
    pub datasets: Vec<String>,
    /// Largest coordinate difference, in pixels, that still counts as equal.
    #[serde(default = "default_tolerance")]
    pub tolerance_px: f64,
}

fn default_tolerance() -> f64 {
    0.5
}

/// A parsed config with where it came from.
#[derive(Debug, Clone)]
pub struct LoadedConfig {
    /// The config.
    pub config: Config,
    /// Its path.
    pub path: PathBuf,
    /// Its text, as read (copied into the report).
    pub text: String,
    /// The run name.
    pub run_name: String,
}

impl LoadedConfig {
    /// The folder relative dataset paths are resolved against.
    pub fn base_dir(&self) -> PathBuf {
        self.path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default()
    }
}

/// Reads, parses and checks a config file.
pub fn load(path: &Path) -> Result<LoadedConfig> {
    let bytes = crate::error::read_input(path, "config file")?;
    let text = String::from_utf8(bytes).map_err(|_| {
        Error::input(Problem::in_file(
            path,
            "config file is not UTF-8 text",
            "save it as UTF-8",
        ))
    })?;
    let config = parse(path, &text)?;
    let run_name = match &config.run.name {
        Some(n) => n.clone(),
        None => path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "run".into()),
    };
    check(path, &config, &run_name)?;
    Ok(LoadedConfig {
        config,
        path: path.to_path_buf(),
        text,
        run_name,
    })
}

/// Parses config text; errors name the line and column.
pub fn parse(path: &Path, text: &str) -> Result<Config> {
    toml::from_str(text).map_err(|e| {
        let record = e.span().map(|s| {
            let (line, col) = line_col(text, s.start);
            format!("line {line}, column {col}")
        });
        let fix = if e.message().contains("unknown field") {
            "use one of the keys listed (README.md, \"Config reference\", documents each)"
        } else {
            "fix the TOML at that position (README.md, \"Config reference\", documents every key)"
        };
        Error::input(Problem {
            file: Some(path.to_path_buf()),
            record,
            problem: e.message().trim().to_string(),
            fix: fix.into(),
        })
    })
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

fn check(path: &Path, c: &Config, run_name: &str) -> Result<()> {
    let mut problems = Vec::new();
    let mut bad = |record: String, problem: String, fix: &str| {
        problems.push(Problem::at(path, record, problem, fix));
    };
    if run_name.is_empty()
        || !run_name
            .chars()
            .all(|ch| ch.is_ascii_alphanumeric() || "-_.".contains(ch))
        || run_name.starts_with('.')
    {
        bad(
            "[run] name".into(),
            format!("run name `{run_name}` is not a plain folder name"),
            "use letters, digits, `-`, `_` and `.` only",
        );
    }
    if c.datasets.is_empty() {
        bad(
            "datasets".into(),
            "no datasets".into(),
            "add at least one [[datasets]] entry with `name` or `gt`",
        );
    }
    let mut labels = std::collections::BTreeSet::new();
    for (i, d) in c.datasets.iter().enumerate() {
        let l = d.label();
        if !labels.insert(l.clone()) {
            bad(
                format!("datasets[{i}]"),
                format!("dataset label `{l}` is used twice"),
                "give each [[datasets]] entry a distinct `label`",
            );
        }
    }
    for &q in &c.summary.quantiles {
        if !(0.0..=1.0).contains(&q) {
            bad(
                "[summary] quantiles".into(),
                format!("quantile {q} is outside [0, 1]"),
                "use probabilities between 0 and 1, e.g. [0.05, 0.5, 0.95]",
            );
        }
    }
    for (i, cf) in c.compare_formats.iter().enumerate() {
        if cf.datasets.len() < 2 {
            bad(
                format!("compare_formats[{i}]"),
                "needs at least two datasets".into(),
                "list the labels of two or more [[datasets]] entries",
            );
        }
        for l in &cf.datasets {
            if !labels.contains(l) {
                bad(
                    format!("compare_formats[{i}]"),
                    format!("`{l}` is not the label of a dataset in this config"),
                    &format!(
                        "use one of: {}",
                        labels.iter().cloned().collect::<Vec<_>>().join(", ")
                    ),
                );
            }
        }
        if !(cf.tolerance_px.is_finite() && cf.tolerance_px >= 0.0) {
            bad(
                format!("compare_formats[{i}] tolerance_px"),
                format!(
                    "tolerance_px {} is not a non-negative number",
                    cf.tolerance_px
                ),
                "use a pixel distance such as 0.5",
            );
        }
    }
    if c.summary.quantiles.is_empty() {
        bad(
            "[summary] quantiles".into(),
            "no quantiles".into(),
            "list at least one probability, e.g. [0.05, 0.5, 0.95]",
        );
    }
    for (key, v) in [("coco", c.check.coco), ("stats", c.check.stats)] {
        if !(v.is_finite() && v >= 0.0) {
            bad(
                format!("[check] {key}"),
                format!("tolerance {v} is not a non-negative number"),
                "use 0 for exact, or a small tolerance such as 1e-9",
            );
        }
    }
    if let Some(lt) = &c.loss_table {
        // Specs and the assignment rule, before any dataset is loaded.
        if let Err(Error::Input(ps)) = lt.plan(path) {
            for p in ps {
                bad(p.record.unwrap_or_default(), p.problem, &p.fix);
            }
        }
        let with_dets = c.datasets.iter().any(|d| {
            d.files.dets.is_some()
                || d.name
                    .as_deref()
                    .is_some_and(|n| crate::data::root::has_detections(n, d.format))
        });
        if !with_dets {
            bad(
                "[loss_table]".into(),
                "no dataset of this config has detections, so there is no loss table to compute"
                    .into(),
                "give a dataset a results file (`dets`), or remove [loss_table]",
            );
        }
        for l in &lt.datasets {
            if !labels.contains(l) {
                bad(
                    "[loss_table] datasets".into(),
                    format!("`{l}` is not the label of a dataset in this config"),
                    &format!(
                        "use one of: {}",
                        labels.iter().cloned().collect::<Vec<_>>().join(", ")
                    ),
                );
            }
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(Error::Input(problems))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_key_names_line_and_valid_keys() {
        let text = "[[datasets]]\nname = \"coco-val2014-100\"\nfromat = \"coco\"\n";
        let Err(Error::Input(p)) = parse(Path::new("c.toml"), text) else {
            panic!("accepted a typo")
        };
        assert_eq!(p[0].record.as_deref(), Some("line 3, column 1"));
        assert!(
            p[0].problem.contains("fromat") && p[0].problem.contains("`format`"),
            "{}",
            p[0]
        );
    }

    #[test]
    fn labels_default_and_must_be_unique() {
        let text = "[[datasets]]\nname = \"a\"\n[[datasets]]\nname = \"a\"\n";
        let c = parse(Path::new("c.toml"), text).unwrap();
        assert!(check(Path::new("c.toml"), &c, "x").is_err());
    }
}
