//! The runner: one config in, one report folder out.
//!
//! load config → load + validate every dataset → experiments → report.

use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::Serialize;

use crate::config::{self, LoadedConfig};
use crate::data::{self, Dataset, LoadContext, SourceFile};
use crate::error::{Error, Result};
use crate::experiments::formats::{self, FormatAgreement};
use crate::experiments::loss_table::{self, LossTable};
use crate::experiments::summary::{self, DatasetSummary};
use crate::report::{self, sections};

/// Version of the `results.json` layout; bumped on any incompatible change.
pub const SCHEMA_VERSION: u32 = 1;

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

/// Provenance of one dataset in `results.json`.
#[derive(Debug, Clone, Serialize)]
pub struct DatasetHeader {
    /// Label.
    pub label: String,
    /// Known name or label.
    pub name: String,
    /// Format read.
    pub format: String,
    /// Files with sha256.
    pub sources: Vec<SourceFile>,
}

/// The header block of `results.json`: what produced the numbers.
#[derive(Debug, Clone, Serialize)]
pub struct Header {
    /// detloss version.
    pub detloss_version: String,
    /// hotcoco version (the loader and evaluator).
    pub hotcoco_version: String,
    /// Run name.
    pub run: String,
    /// Config path as given.
    pub config: String,
    /// sha256 of the config text.
    pub config_sha256: String,
    /// Worker threads.
    pub threads: usize,
    /// The git commit of the working directory, when it is a checkout.
    pub git_commit: Option<String>,
    /// Datasets and their files.
    pub datasets: Vec<DatasetHeader>,
}

/// Everything a run computed: the content of `results.json`.
#[derive(Debug, Clone, Serialize)]
pub struct Results {
    /// See [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// Provenance.
    pub header: Header,
    /// One summary per dataset, in config order.
    pub datasets: Vec<DatasetSummary>,
    /// Format-agreement checks.
    pub format_checks: Vec<FormatAgreement>,
    /// Loss tables, one per dataset with detections named by `[loss_table]`.
    pub loss_tables: Vec<LossTable>,
}

/// Loads every dataset of a config, in order.
pub fn load_datasets(cfg: &LoadedConfig, opts: &RunOptions) -> Result<Vec<Dataset>> {
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
pub fn report_loaded(ds: &Dataset) {
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

/// `git rev-parse HEAD` (with `-dirty` when the tree has changes), if git
/// and a checkout are there.
fn git_commit() -> Option<String> {
    let run = |args: &[&str]| {
        std::process::Command::new("git")
            .args(args)
            .stderr(std::process::Stdio::null())
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
    };
    let head = run(&["rev-parse", "HEAD"])?;
    let dirty =
        run(&["status", "--porcelain", "--untracked-files=no"]).is_some_and(|s| !s.is_empty());
    Some(if dirty { format!("{head}-dirty") } else { head })
}

/// Computes every experiment of a config on loaded datasets.
pub fn compute(cfg: &LoadedConfig, datasets: &[Dataset], threads: usize) -> Result<Results> {
    let qs = &cfg.config.summary.quantiles;
    let by_label = |l: &str| datasets.iter().find(|d| d.label == l);
    let mut checks = Vec::new();
    for cf in &cfg.config.compare_formats {
        // Labels were checked against the config when it was loaded.
        let Some(reference) = by_label(&cf.datasets[0]) else {
            continue;
        };
        for other in cf.datasets[1..].iter().filter_map(|l| by_label(l)) {
            checks.push(formats::compare(reference, other, cf.tolerance_px));
        }
    }
    let mut loss_tables = Vec::new();
    if let Some(section) = &cfg.config.loss_table {
        let plan = section.plan(&cfg.path)?;
        let chosen: Vec<&Dataset> = if plan.datasets.is_empty() {
            datasets.iter().filter(|d| d.dets.is_some()).collect()
        } else {
            plan.datasets.iter().filter_map(|l| by_label(l)).collect()
        };
        for ds in chosen {
            if ds.dets.is_none() {
                return Err(Error::input(crate::error::Problem::at(
                    &cfg.path,
                    "[loss_table] datasets",
                    format!("dataset `{}` has no detections", ds.label),
                    "list datasets with a results file (`dets`), or leave `datasets` out to take every such dataset",
                )));
            }
            loss_tables.push(loss_table::compute(ds, &plan)?);
        }
    }
    Ok(Results {
        schema_version: SCHEMA_VERSION,
        header: Header {
            detloss_version: env!("CARGO_PKG_VERSION").into(),
            hotcoco_version: env!("DETLOSS_HOTCOCO_VERSION").into(),
            run: cfg.run_name.clone(),
            config: cfg.path.display().to_string(),
            config_sha256: crate::data::root::sha256_hex(cfg.text.as_bytes()),
            threads,
            git_commit: git_commit(),
            datasets: datasets
                .iter()
                .map(|d| DatasetHeader {
                    label: d.label.clone(),
                    name: d.name.clone(),
                    format: d.format.name().into(),
                    sources: d.sources.clone(),
                })
                .collect(),
        },
        datasets: datasets.iter().map(|d| summary::summarise(d, qs)).collect(),
        format_checks: checks,
        loss_tables,
    })
}

/// Renders `report.md`.
pub fn render_markdown(cfg: &LoadedConfig, r: &Results, wall_seconds: f64) -> String {
    let h = &r.header;
    let mut md = format!("# detloss report: {}\n\n", h.run);
    if let Some(d) = &cfg.config.run.description {
        md.push_str(&format!("{d}\n\n"));
    }
    let mut t = report::markdown::Table::new(&["", ""]);
    t.row(vec!["detloss".into(), h.detloss_version.clone()]);
    t.row(vec!["hotcoco".into(), h.hotcoco_version.clone()]);
    t.row(vec![
        "config".into(),
        format!("`{}` (sha256 `{}`)", h.config, &h.config_sha256[..16]),
    ]);
    t.row(vec![
        "git commit".into(),
        h.git_commit.clone().unwrap_or_else(|| "–".into()),
    ]);
    t.row(vec!["threads".into(), h.threads.to_string()]);
    t.row(vec!["wall time".into(), format!("{wall_seconds:.2} s")]);
    t.row(vec![
        "results".into(),
        "[results.json](results.json) (schema version 1)".into(),
    ]);
    md.push_str(&t.render());
    md.push_str(
        "\n## Contents\n\n- [Datasets](#datasets)\n- [Dataset summary](#dataset-summary)\n",
    );
    if !r.format_checks.is_empty() {
        md.push_str("- [Format agreement](#format-agreement)\n");
    }
    if !r.loss_tables.is_empty() {
        md.push_str("- [Loss tables](#loss-tables)\n");
    }
    md.push_str("- [Validation warnings](#validation-warnings)\n");
    if cfg.config.plots.loss_curves {
        md.push_str("- [Loss curves](#loss-curves)\n");
    }
    md.push_str("\n## Datasets\n\n");
    let mut t = report::markdown::Table::new(&["dataset", "format", "file", "sha256"]);
    for d in &h.datasets {
        for s in &d.sources {
            t.row(vec![
                d.label.clone(),
                d.format.clone(),
                format!("`{}`", s.path),
                format!("`{}`", s.sha256),
            ]);
        }
    }
    md.push_str(&t.render());
    md.push('\n');
    md.push_str(&sections::summary(
        &r.datasets,
        &cfg.config.summary.quantiles,
    ));
    md.push('\n');
    let f = sections::formats(&r.format_checks);
    if !f.is_empty() {
        md.push_str(&f);
        md.push('\n');
    }
    md.push_str(&sections::loss_tables(&r.loss_tables));
    md.push_str(&sections::warnings(&r.datasets));
    if cfg.config.plots.loss_curves {
        md.push('\n');
        md.push_str(&sections::loss_curves());
    }
    md
}

/// Draws the overlay crops of every loss table whose dataset has images,
/// records their file names in the results, and returns the files. An image
/// that cannot be read costs its overlay only (with a warning), not the run.
fn overlays(results: &mut Results, datasets: &[Dataset], quiet: bool) -> Vec<(PathBuf, Vec<u8>)> {
    let mut files = Vec::new();
    for (t, table) in results.loss_tables.iter_mut().enumerate() {
        let Some(dir) = datasets
            .iter()
            .find(|d| d.label == table.dataset)
            .and_then(|d| d.images_dir.clone())
        else {
            continue;
        };
        for (k, d) in table.disagreements.iter_mut().enumerate() {
            match crate::report::overlay::draw(&dir.join(&d.file_name), d.pred, d.target) {
                Ok(png) => {
                    let name = format!("figures/overlay_{t}_{k}.png");
                    d.overlay = Some(name.clone());
                    files.push((PathBuf::from(name), png));
                }
                Err(e) if !quiet => eprintln!("warning: no overlay for {}: {e}", d.file_name),
                Err(_) => {}
            }
        }
    }
    files
}

/// What a run produced.
#[derive(Debug)]
pub struct RunOutput {
    /// The report folder.
    pub dir: PathBuf,
    /// The results.
    pub results: Results,
    /// The `results.json` bytes.
    pub json: Vec<u8>,
    /// The baseline comparison, with `--check` (not with `--bless`).
    pub check: Option<crate::check::Outcome>,
    /// The baseline written, with `--bless`.
    pub blessed: Option<PathBuf>,
}

/// Runs a config end to end: report folder, and the baseline check or bless.
pub fn run_config(config_path: &Path, opts: &RunOptions) -> Result<RunOutput> {
    let start = Instant::now();
    let cfg = config::load(config_path)?;
    let baseline = match &opts.check {
        None if opts.bless => {
            return Err(Error::input(crate::error::Problem::general(
                "--bless without --check",
                "name the baseline to write: `--check reports/baselines/NAME.json --bless`",
            )));
        }
        None => None,
        Some(Some(p)) => Some(p.clone()),
        Some(None) => Some(cfg.config.check.baseline.as_ref().map(|b| cfg.base_dir().join(b)).ok_or_else(|| {
            Error::input(crate::error::Problem::in_file(
                &cfg.path,
                "--check without a file, and the config has no [check] baseline",
                "give the baseline path after --check, or set `baseline` in the config's [check] section",
            ))
        })?),
    };
    // Read the baseline first: a missing or broken one fails before any work.
    let baseline_doc = match (&baseline, opts.bless) {
        (Some(p), false) => Some(crate::check::read_baseline(p)?),
        _ => None,
    };
    let datasets = load_datasets(&cfg, opts)?;
    let mut results = compute(&cfg, &datasets, opts.threads)?;
    let mut files = overlays(&mut results, &datasets, opts.quiet);
    if cfg.config.plots.loss_curves {
        let pb = crate::progress::spinner("rendering loss-curve figures", opts.quiet);
        let figures = crate::plots::render_files();
        pb.finish_and_clear();
        for (name, bytes) in figures? {
            files.push((PathBuf::from("figures").join(name), bytes));
        }
    }
    // The wall time goes into report.md only: results.json stays byte-identical
    // across runs of one config.
    let md = render_markdown(&cfg, &results, start.elapsed().as_secs_f64());
    let json = [
        serde_json::to_vec_pretty(&results)
            .map_err(|e| Error::runtime(format!("cannot serialise results: {e}")))?,
        b"\n".to_vec(),
    ]
    .concat();
    let mut check = None;
    if let (Some(path), Some(doc)) = (&baseline, &baseline_doc) {
        let now: serde_json::Value = serde_json::from_slice(&json)
            .map_err(|e| Error::runtime(format!("cannot re-read results: {e}")))?;
        let outcome = crate::check::compare(doc, &now, &cfg.config.check);
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
        results,
        json,
        check,
        blessed,
    })
}
