//! Experiments: what a run computes from loaded datasets.
//!
//! Every experiment is one module here that owns, in one place:
//!
//! 1. its **config section** — a serde type with `deny_unknown_fields`
//!    ([`Experiment::Section`]) under the key [`Experiment::KEY`];
//! 2. its **plan** — the section parsed and checked once, when the config is
//!    loaded ([`Experiment::plan`]); the plan is what the loaded config keeps;
//! 3. its **compute step** — datasets in, a plain serialisable result out
//!    ([`Experiment::compute`]);
//! 4. its **report section** — markdown, and any files it draws
//!    ([`Outcome`]).
//!
//! [`ALL`] is the one list of experiments. The config loader, the runner and
//! the report loop over it and never name an experiment.
//!
//! # Why a trait, and trait objects in the list
//!
//! An enum of experiments would need one arm per experiment in every
//! `match` (parse, compute, render, serialise), all in this file. With a
//! trait, everything about an experiment stays in its module, and the list
//! is one line per experiment: [`entry`] erases each module's static types
//! (its section, plan and result) behind [`Plan`] and [`Outcome`], so the
//! runner holds a `Vec<Box<dyn Plan>>` in report order (that of [`ALL`]) and gets a
//! `Vec<Box<dyn Outcome>>` back. The typed API (`loss_table::compute`, …)
//! stays public for library users, who need no trait objects.
//!
//! # How to add an experiment
//!
//! 1. Write `src/experiments/NAME.rs`: a section type (`#[derive(Deserialize)]
//!    #[serde(deny_unknown_fields)]`), a plan type implementing
//!    [`Experiment`] (key, section → plan with its checks, compute), and a
//!    result type implementing [`Outcome`] (results key, JSON, markdown).
//! 2. Add `pub mod NAME;` and one `entry::<NAME::Plan>()` line to [`ALL`],
//!    at the place its report section should appear.
//! 3. Document the section in README.md ("Config reference"), add it to a
//!    config in `configs/`, and test it.

pub mod descent;
pub mod formats;
pub mod loss_curves;
pub mod loss_table;
pub mod regression;
pub mod sampling;
pub mod simulation;
pub mod summary;

use std::fmt::Debug;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;

use crate::data::{Dataset, DatasetSpec};
use crate::error::{Error, Problem, Result};

/// Every experiment, in report order.
pub const ALL: &[Entry] = &[
    entry::<summary::SummaryPlan>(),
    entry::<formats::FormatsPlan>(),
    entry::<loss_table::LossTablePlan>(),
    entry::<simulation::SimulationPlan>(),
    entry::<regression::RegressionPlan>(),
    entry::<loss_curves::LossCurvesPlan>(),
];

/// What an experiment sees of the config while its section is planned.
#[derive(Debug, Clone, Copy)]
pub struct ConfigContext<'a> {
    /// The config file (problems are placed in it).
    pub path: &'a Path,
    /// The config's `[[datasets]]` entries.
    pub datasets: &'a [DatasetSpec],
}

impl ConfigContext<'_> {
    /// The dataset labels of the config, in order.
    pub fn labels(&self) -> Vec<String> {
        self.datasets.iter().map(DatasetSpec::label).collect()
    }

    /// A problem at `record` (e.g. `[loss_table] datasets`) of the config.
    pub fn problem(&self, record: impl Into<String>, problem: String, fix: &str) -> Problem {
        Problem::at(self.path, record, problem, fix)
    }

    /// Problems for every label in `labels` that names no dataset of the
    /// config, placed at `record`.
    pub fn unknown_labels(&self, record: &str, labels: &[String]) -> Vec<Problem> {
        let known = self.labels();
        labels
            .iter()
            .filter(|l| !known.contains(l))
            .map(|l| {
                self.problem(
                    record,
                    format!("`{l}` is not the label of a dataset in this config"),
                    &format!("use one of: {}", known.join(", ")),
                )
            })
            .collect()
    }
}

/// What an experiment may use while it computes.
#[derive(Debug, Clone, Copy)]
pub struct RunContext<'a> {
    /// The config file (for errors that belong to a section).
    pub config: &'a Path,
    /// Worker threads in use (results never depend on it).
    pub threads: usize,
    /// `--quiet`: no progress output.
    pub quiet: bool,
}

pub use crate::report::Section;

/// A file an experiment adds to its report folder.
pub type ReportFile = (PathBuf, Vec<u8>);

/// One experiment: its config section, plan and compute step.
///
/// Implemented by the experiment's plan type; see the module docs for how
/// the pieces fit.
pub trait Experiment: Debug + Sized + Send + Sync + 'static {
    /// The config key of its section (`loss_table` for `[loss_table]`).
    const KEY: &'static str;
    /// The section as written in the config (`deny_unknown_fields`).
    type Section: DeserializeOwned;
    /// What [`compute`](Self::compute) returns.
    type Output: Outcome + 'static;

    /// Checks a section and turns it into a plan. `section` is `None` when
    /// the config has none; return `Ok(None)` when the experiment then does
    /// not run. Problems name the config file and the key.
    ///
    /// # Errors
    /// An input error listing every problem of the section.
    fn plan(section: Option<Self::Section>, cfg: &ConfigContext<'_>) -> Result<Option<Self>>;

    /// Computes the experiment on the run's datasets (all of them, in config
    /// order; the plan picks its own by label).
    ///
    /// # Errors
    /// Whatever stops the experiment: an input error for data it cannot use,
    /// a runtime error otherwise.
    fn compute(&self, datasets: &[Dataset], ctx: &RunContext<'_>) -> Result<Self::Output>;
}

/// An experiment's result, as the report and `results.json` see it.
pub trait Outcome: Debug + Send {
    /// Its key in `results.json`, or `None` when it adds no numbers (figures
    /// only).
    fn results_key(&self) -> Option<&'static str>;

    /// Its value in `results.json` (called when `results_key` is `Some`).
    ///
    /// # Errors
    /// A runtime error when serialisation fails.
    fn to_json(&self) -> Result<serde_json::Value>;

    /// Draws the files the experiment adds to the report folder (figures,
    /// overlays) and records their names in itself. The default draws none.
    ///
    /// # Errors
    /// A runtime error when a figure cannot be rendered; a missing image
    /// costs its overlay only.
    fn draw(&mut self, _datasets: &[Dataset], _quiet: bool) -> Result<Vec<ReportFile>> {
        Ok(Vec::new())
    }

    /// Its sections of `report.md` (none to leave it out).
    fn markdown(&self) -> Vec<Section>;
}

/// Serialises a result to JSON, as [`Outcome::to_json`] implementations do.
///
/// # Errors
/// A runtime error when serde fails.
pub fn json_of<T: serde::Serialize>(value: &T) -> Result<serde_json::Value> {
    serde_json::to_value(value)
        .map_err(|e| Error::runtime(format!("cannot serialise results: {e}")))
}

/// A planned experiment, with its types erased: what a loaded config holds.
pub trait Plan: Debug + Send + Sync {
    /// The config key of its section.
    fn key(&self) -> &'static str;

    /// Runs it (see [`Experiment::compute`]).
    ///
    /// # Errors
    /// As [`Experiment::compute`].
    fn run(&self, datasets: &[Dataset], ctx: &RunContext<'_>) -> Result<Box<dyn Outcome>>;

    /// The plan as `Any`, so a library user can get the typed plan back.
    fn as_any(&self) -> &dyn std::any::Any;
}

impl<E: Experiment> Plan for E {
    fn key(&self) -> &'static str {
        E::KEY
    }

    fn run(&self, datasets: &[Dataset], ctx: &RunContext<'_>) -> Result<Box<dyn Outcome>> {
        Ok(Box::new(self.compute(datasets, ctx)?))
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

/// A config section's TOML, not yet deserialised (it keeps its position in
/// the file, so errors name the line).
pub struct RawSection<'a> {
    value: toml::Spanned<toml::de::DeValue<'a>>,
    path: &'a Path,
    text: &'a str,
}

impl<'a> RawSection<'a> {
    /// A section of the config at `path` whose text is `text`.
    pub fn new(value: toml::Spanned<toml::de::DeValue<'a>>, path: &'a Path, text: &'a str) -> Self {
        RawSection { value, path, text }
    }

    /// Deserialises the section; errors name the line and column.
    ///
    /// # Errors
    /// An input error for unknown keys, wrong types and missing fields.
    pub fn parse<T: DeserializeOwned>(self) -> Result<T> {
        T::deserialize(toml::de::ValueDeserializer::from(self.value))
            .map_err(|e| crate::error::toml_error(self.path, self.text, &e))
    }
}

/// Parses and plans a section (`None`: the config has none); `Ok(None)`
/// when the experiment does not run.
pub type PlanFn = fn(Option<RawSection<'_>>, &ConfigContext<'_>) -> Result<Option<Box<dyn Plan>>>;

/// One row of [`ALL`]: an experiment's config key and how to plan it.
#[derive(Clone, Copy)]
pub struct Entry {
    /// The config key of the experiment's section.
    pub key: &'static str,
    /// Parses and plans the section.
    pub plan: PlanFn,
}

impl std::fmt::Debug for Entry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Entry").field("key", &self.key).finish()
    }
}

/// The [`ALL`] row of experiment `E`.
pub const fn entry<E: Experiment>() -> Entry {
    Entry {
        key: E::KEY,
        plan: plan_erased::<E>,
    }
}

fn plan_erased<E: Experiment>(
    raw: Option<RawSection<'_>>,
    cfg: &ConfigContext<'_>,
) -> Result<Option<Box<dyn Plan>>> {
    let section = raw
        .map(RawSection::parse::<E::Section>)
        .transpose()
        .map_err(|e| match e {
            // `[key]` where the experiment takes a list of tables.
            Error::Input(mut ps) => {
                for p in &mut ps {
                    if p.problem.contains("expected a sequence") {
                        p.fix = format!(
                            "this section is a list of tables: write [[{}]] (double brackets), once per entry",
                            E::KEY
                        );
                    }
                }
                Error::Input(ps)
            }
            other => other,
        })?;
    Ok(E::plan(section, cfg)?.map(|p| Box::new(p) as Box<dyn Plan>))
}

/// The [`ALL`] row with config key `key`.
pub fn find(key: &str) -> Option<&'static Entry> {
    ALL.iter().find(|e| e.key == key)
}

/// Runs every planned experiment in order.
///
/// # Errors
/// The first experiment that fails.
pub fn run_all(
    plans: &[Box<dyn Plan>],
    datasets: &[Dataset],
    ctx: &RunContext<'_>,
) -> Result<Vec<Box<dyn Outcome>>> {
    plans.iter().map(|p| p.run(datasets, ctx)).collect()
}

/// The caveats ([`crate::losses::iou_recent::caveat`]) of the losses among
/// `specs`, once per loss name, in order of first appearance.
pub fn loss_caveats<'a>(specs: impl Iterator<Item = &'a str>) -> Vec<String> {
    let mut seen: Vec<&str> = Vec::new();
    let mut out = Vec::new();
    for spec in specs {
        let name = spec.split('(').next().unwrap_or(spec).trim();
        if seen.contains(&name) {
            continue;
        }
        seen.push(name);
        if let Some(c) = crate::losses::iou_recent::caveat(name) {
            out.push(c.to_string());
        }
    }
    out
}

/// Collects problems into one input error (`Ok` when there are none).
///
/// # Errors
/// An input error with every problem.
pub fn problems_to_result(problems: Vec<Problem>) -> Result<()> {
    if problems.is_empty() {
        Ok(())
    } else {
        Err(Error::Input(problems))
    }
}
