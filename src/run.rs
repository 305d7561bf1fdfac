//! The runner: one config in, one report folder out.
//!
//! load config (sections planned once) → load + validate every dataset →
//! run the planned experiments in order → draw their files → report, and
//! the baseline check or bless. The runner loops over the config's plans
//! ([`crate::experiments::Plan`]) and names none of them.

use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::baseline;
use crate::config::{self, LoadedConfig};
use crate::data::{self, Dataset, LoadContext};
use crate::error::{Error, Problem, Result};
use crate::experiments::{self, RunContext};
use crate::report::{self, results::Header, results::Results};

/// Command-line settings that shape a run.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Reports root; the run writes `<out>/<run name>/`.
    pub out: PathBuf,
    /// `--data-root`.
    pub data_root: Option<PathBuf>,
    /// `--strict`.
    pub strict: bool,
    /// `--quiet`.
    pub quiet: bool,
    /// Worker threads in use.
    pub threads: usize,
    /// `--check [FILE]`: `Some(None)` takes the config's `[check] baseline`.
    pub check: Option<Option<PathBuf>>,
    /// `--bless`: write the baseline instead of comparing.
    pub bless: bool,
}

/// Loads every dataset of a config, in order.
fn load_datasets(cfg: &LoadedConfig, opts: &RunOptions) -> Result<Vec<Dataset>> {
    let ctx = LoadContext {
        data_root: opts.data_root.clone(),
        base_dir: cfg.base_dir(),
        strict: opts.strict,
    };
    let mut out = Vec::new();
    for (i, spec) in cfg.config.datasets.iter().enumerate() {
        let pb = crate::progress::spinner(format!("loading {}", spec.label()), opts.quiet);
        let ds = data::load(spec, &ctx);
        pb.finish_and_clear();
        let ds = ds.map_err(|e| in_config(e, &cfg.path, i))?;
        if !opts.quiet {
            report_loaded(&ds);
        }
        out.push(ds);
    }
    Ok(out)
}

/// Problems that are about the dataset entry itself (not one of its files)
/// are placed at the `[[datasets]]` entry of the config that caused them.
fn in_config(e: Error, config: &Path, index: usize) -> Error {
    match e {
        Error::Input(problems) => Error::Input(
            problems
                .into_iter()
                .map(|mut p| {
                    if p.file.is_none() {
                        p.file = Some(config.to_path_buf());
                        p.record = Some(format!("datasets[{index}]"));
                    }
                    p
                })
                .collect(),
        ),
        other => other,
    }
}

/// One stderr line per loaded dataset, plus its warnings by kind.
pub(crate) fn report_loaded(ds: &Dataset) {
    eprintln!(
        "loaded {}: {} images, {} boxes, {} categories{}{}",
        ds.label,
        ds.images.len(),
        ds.gt.len(),
        ds.categories.len(),
        ds.dets
            .as_ref()
            .map_or(String::new(), |d| format!(", {} detections", d.len())),
        if ds.warnings.is_empty() {
            String::new()
        } else {
            format!(", {} warnings", ds.warnings.len())
        }
    );
    for (kind, n) in data::validate::summarise(&ds.warnings) {
        let first = ds
            .warnings
            .iter()
            .find(|w| w.problem.starts_with(&kind))
            .map(|w| w.to_string())
            .unwrap_or_default();
        eprintln!("  warning: {kind} ×{n}; first: {first}");
    }
}

/// What a run produced.
#[derive(Debug)]
pub struct RunOutput {
    /// The report folder.
    pub dir: PathBuf,
    /// The `results.json` bytes.
    pub json: Vec<u8>,
    /// The baseline comparison, with `--check` (not with `--bless`).
    pub check: Option<baseline::Outcome>,
    /// The baseline written, with `--bless`.
    pub blessed: Option<PathBuf>,
}

/// The baseline `--check` names: its own path, or the config's `[check]
/// baseline` (relative to the config file).
fn baseline_path(cfg: &LoadedConfig, opts: &RunOptions) -> Result<Option<PathBuf>> {
    match &opts.check {
        None if opts.bless => Err(Error::input(Problem::general(
            "--bless without --check",
            "name the baseline to write: `--check configs/baselines/NAME.json --bless`",
        ))),
        None => Ok(None),
        Some(Some(p)) => Ok(Some(p.clone())),
        Some(None) => cfg
            .config
            .check
            .baseline
            .as_ref()
            .map(|b| Some(cfg.base_dir().join(b)))
            .ok_or_else(|| {
                Error::input(Problem::in_file(
                    &cfg.path,
                    "--check without a file, and the config has no [check] baseline",
                    "give the baseline path after --check, or set `baseline` in the config's [check] section",
                ))
            }),
    }
}

/// Runs a config end to end: report folder, and the baseline check or bless.
///
/// # Errors
/// An input error for a bad config, dataset or baseline; a runtime error
/// when the report cannot be written.
pub fn run_config(config_path: &Path, opts: &RunOptions) -> Result<RunOutput> {
    let start = Instant::now();
    let cfg = config::load(config_path)?;
    let baseline = baseline_path(&cfg, opts)?;
    // Read the baseline first: a missing or broken one fails before any work.
    let baseline_doc = match (&baseline, opts.bless) {
        (Some(p), false) => Some(baseline::read_baseline(p)?),
        _ => None,
    };
    let datasets = load_datasets(&cfg, opts)?;
    let ctx = RunContext {
        config: &cfg.path,
        threads: opts.threads,
        quiet: opts.quiet,
    };
    let mut outcomes = experiments::run_all(&cfg.config.experiments, &datasets, &ctx)?;
    let mut files = Vec::new();
    for o in &mut outcomes {
        files.extend(o.draw(&datasets, opts.quiet)?);
    }
    let results = Results {
        schema_version: report::results::SCHEMA_VERSION,
        header: Header::new(&cfg.run_name, &cfg.path, &cfg.text, opts.threads, &datasets),
        experiments: outcomes
            .iter()
            .filter_map(|o| o.results_key().map(|k| Ok((k.to_string(), o.to_json()?))))
            .collect::<Result<_>>()?,
    };
    let sections: Vec<report::Section> = outcomes.iter().flat_map(|o| o.markdown()).collect();
    // The wall time goes into report.md only: results.json stays byte-identical
    // across runs of one config.
    let md = report::render_markdown(
        &results.header,
        cfg.config.run.description.as_deref(),
        &sections,
        start.elapsed().as_secs_f64(),
    );
    let json = results.to_json()?;
    let mut check = None;
    if let (Some(path), Some(doc)) = (&baseline, &baseline_doc) {
        let now: serde_json::Value = serde_json::from_slice(&json)
            .map_err(|e| Error::runtime(format!("cannot re-read results: {e}")))?;
        let outcome = baseline::compare(doc, &now, &cfg.config.check);
        files.push((
            PathBuf::from("check.md"),
            outcome.markdown(path).into_bytes(),
        ));
        check = Some(outcome);
    }
    files.extend([
        (PathBuf::from("report.md"), md.into_bytes()),
        (PathBuf::from("results.json"), json.clone()),
        (PathBuf::from("config.toml"), cfg.text.clone().into_bytes()),
    ]);
    let dir = report::write_atomically(&opts.out, &cfg.run_name, &files)?;
    let mut blessed = None;
    if opts.bless
        && let Some(path) = &baseline
    {
        report::write_file_atomically(path, &json)?;
        blessed = Some(path.clone());
    }
    Ok(RunOutput {
        dir,
        json,
        check,
        blessed,
    })
}
