//! Run configuration: the TOML file behind `detloss --config`.
//!
//! The loader knows three sections of its own — `[run]`, `[[datasets]]` and
//! `[check]` (baseline tolerances) — and hands every other top-level key to
//! the experiment registered under it ([`crate::experiments::ALL`]), which
//! parses and plans its section once, here; the loaded config keeps the
//! plans. Unknown keys are rejected with the file, line and the keys that
//! are valid there. The reference of every key is in README.md ("Config
//! reference").

use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::baseline::Tolerances;
use crate::data::DatasetSpec;
use crate::error::{Error, Problem, Result};
use crate::experiments::{self, ConfigContext, Plan, RawSection};

/// The config's own top-level keys; every other one belongs to an experiment.
const OWN_KEYS: [&str; 3] = ["run", "datasets", "check"];

/// A whole config file, parsed and planned.
#[derive(Debug)]
pub struct Config {
    /// Run-wide settings.
    pub run: RunSection,
    /// The datasets to load, in report order.
    pub datasets: Vec<DatasetSpec>,
    /// `[check]`: the baseline and its tolerances (`--check`).
    pub check: Tolerances,
    /// The experiments that run, in report order, each with its plan.
    pub experiments: Vec<Box<dyn Plan>>,
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

/// A parsed config with where it came from.
#[derive(Debug)]
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

/// Reads, parses and plans a config file.
///
/// # Errors
/// An input error naming the file, the line or key, and the fix.
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
    let mut problems = run_name_problems(path, &run_name);
    problems.extend(own_problems(path, &config));
    experiments::problems_to_result(problems)?;
    Ok(LoadedConfig {
        config,
        path: path.to_path_buf(),
        text,
        run_name,
    })
}

/// Parses config text and plans its experiments; errors name the line and
/// column (syntax, unknown keys, types) or the key (values).
///
/// # Errors
/// An input error.
pub fn parse(path: &Path, text: &str) -> Result<Config> {
    let doc =
        toml::de::DeTable::parse(text).map_err(|e| crate::error::toml_error(path, text, &e))?;
    let section = |v| RawSection::new(v, path, text);
    let (mut run, mut datasets, mut check) = (None, None, None);
    let mut raw: Vec<(&str, RawSection<'_>)> = Vec::new();
    for (key, value) in doc.into_inner() {
        let k: &str = key.get_ref();
        match k {
            "run" => run = Some(own::<RunSection>(section(value))?),
            "datasets" => datasets = Some(own::<Vec<DatasetSpec>>(section(value))?),
            "check" => check = Some(own::<Tolerances>(section(value))?),
            _ => match experiments::find(k) {
                Some(e) => raw.push((e.key, section(value))),
                None => {
                    let (line, col) = crate::error::line_col(text, key.span().start);
                    let valid: Vec<String> = OWN_KEYS
                        .iter()
                        .copied()
                        .chain(experiments::ALL.iter().map(|e| e.key))
                        .map(|k| format!("`{k}`"))
                        .collect();
                    return Err(Error::input(Problem::at(
                        path,
                        format!("line {line}, column {col}"),
                        format!("unknown field `{k}`, expected one of {}", valid.join(", ")),
                        "use one of the keys listed (README.md, \"Config reference\", documents each)",
                    )));
                }
            },
        }
    }
    // A config may name no dataset when its experiments need none (the
    // simulation); one with nothing to run is rejected below.
    let datasets = datasets.unwrap_or_default();
    let cfg = ConfigContext {
        path,
        datasets: &datasets,
    };
    let mut plans = Vec::new();
    let mut problems = Vec::new();
    for e in experiments::ALL {
        let mine = raw.iter().position(|(k, _)| *k == e.key);
        let section = mine.map(|i| raw.swap_remove(i).1);
        match (e.plan)(section, &cfg) {
            Ok(Some(p)) => plans.push(p),
            Ok(None) => {}
            Err(Error::Input(ps)) => problems.extend(ps),
            Err(other) => return Err(other),
        }
    }
    experiments::problems_to_result(problems)?;
    Ok(Config {
        run: run.unwrap_or_default(),
        datasets,
        check: check.unwrap_or_default(),
        experiments: plans,
    })
}

fn own<T: DeserializeOwned>(s: RawSection<'_>) -> Result<T> {
    s.parse()
}

fn run_name_problems(path: &Path, run_name: &str) -> Vec<Problem> {
    let plain = !run_name.is_empty()
        && run_name
            .chars()
            .all(|ch| ch.is_ascii_alphanumeric() || "-_.".contains(ch))
        && !run_name.starts_with('.');
    if plain {
        Vec::new()
    } else {
        vec![Problem::at(
            path,
            "[run] name",
            format!("run name `{run_name}` is not a plain folder name"),
            "use letters, digits, `-`, `_` and `.` only",
        )]
    }
}

/// The problems of the config's own sections (datasets, `[check]`), and a
/// config with nothing to run.
fn own_problems(path: &Path, c: &Config) -> Vec<Problem> {
    let mut problems = Vec::new();
    if c.experiments.is_empty() {
        problems.push(Problem::in_file(
            path,
            "nothing to run: the config has no datasets and no experiment that needs none",
            "add a [[datasets]] entry with `name` or `gt`, or a section of an experiment that needs no dataset (README.md, \"Config reference\")",
        ));
    }
    let mut labels = std::collections::BTreeSet::new();
    for (i, d) in c.datasets.iter().enumerate() {
        let l = d.label();
        if !labels.insert(l.clone()) {
            problems.push(Problem::at(
                path,
                format!("datasets[{i}]"),
                format!("dataset label `{l}` is used twice"),
                "give each [[datasets]] entry a distinct `label`",
            ));
        }
    }
    problems.extend(c.check.problems(path));
    problems
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
    fn unknown_section_names_line_and_every_section() {
        let text = "[[datasets]]\nname = \"a\"\n\n[no_such_section]\n";
        let Err(Error::Input(p)) = parse(Path::new("c.toml"), text) else {
            panic!("accepted a typo")
        };
        assert_eq!(p[0].record.as_deref(), Some("line 4, column 2"));
        let keys = OWN_KEYS
            .iter()
            .chain(experiments::ALL.iter().map(|e| &e.key));
        for key in keys {
            assert!(p[0].problem.contains(&format!("`{key}`")), "{}", p[0]);
        }
    }

    #[test]
    fn labels_default_and_must_be_unique() {
        let text = "[[datasets]]\nname = \"a\"\n[[datasets]]\nname = \"a\"\n";
        let c = parse(Path::new("c.toml"), text).unwrap();
        assert!(!own_problems(Path::new("c.toml"), &c).is_empty());
    }
}
