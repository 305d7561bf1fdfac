//! The command line: `detloss [--config F] [OPTIONS] [COMMAND]`.

pub mod loss;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::data::{self, DatasetFiles, DatasetSpec, Format, LoadContext, VocCorners};
use crate::error::{Error, Problem, Result};
use crate::run::{self, RunOptions};

/// detloss benchmarks object-detection losses on real datasets.
///
/// Give a config to run it: `detloss --config configs/quickstart.toml` writes
/// `reports/<run>/report.md` and `results.json`. Exit codes: 0 success,
/// 1 run failure, 2 bad input (config, dataset, checksum).
#[derive(Debug, Parser)]
#[command(name = "detloss", version, about, long_about)]
pub struct Cli {
    /// Config file (TOML) to run; see README.md, "Config reference".
    #[arg(short, long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Output folder: for a run, the folder that receives `<run name>/`
    /// with the report (default `reports`); for `plot`, the figure folder
    /// (default `figures`).
    #[arg(short, long, global = true, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Where datasets are looked up by name first (then $DETLOSS_DATA,
    /// ./datasets, ../shared/datasets).
    #[arg(long, global = true, value_name = "DIR")]
    pub data_root: Option<PathBuf>,
    /// Worker threads (default: all cores). Results do not depend on it.
    #[arg(short = 'j', long, global = true, value_name = "N")]
    pub threads: Option<usize>,
    /// Treat validation warnings as errors.
    #[arg(long, global = true)]
    pub strict: bool,
    /// Print only errors.
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// Compare the run's results with a baseline (default: the config's
    /// `[check] baseline`); exit code 1 when a metric moved.
    #[arg(long, global = true, value_name = "BASELINE", num_args = 0..=1)]
    pub check: Option<Option<PathBuf>>,
    /// With --check: write the baseline from this run instead of comparing.
    #[arg(long, global = true)]
    pub bless: bool,
    /// What a run prints on stdout: `text` (nothing; a summary on stderr) or
    /// `json` (results.json, for scripts).
    #[arg(long, value_name = "FORMAT", default_value = "text", value_parser = ["text", "json"])]
    pub format: String,
    /// What to do; without one, `run` the config.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the config given with --config (the default command).
    Run,
    /// Load and validate one dataset and print its summary.
    Validate(ValidateArgs),
    /// List the known datasets and where each one resolves.
    Datasets,
    /// List every loss with its parameters, defaults, variants and encodings.
    Losses,
    /// Compute one loss and its gradient on pairs from a JSON file.
    Loss(LossArgs),
    /// Render the loss-curve figures (PNG and SVG) into a folder.
    Plot,
    /// Write a seeded synthetic COCO set (instances.json, results.json) into --out.
    Synth {
        /// Images.
        #[arg(long, default_value_t = 5000)]
        images: usize,
        /// Detections per image.
        #[arg(long, default_value_t = 50)]
        dets_per_image: usize,
        /// Seed.
        #[arg(long, default_value_t = 0)]
        seed: u64,
    },
}

/// `detloss loss`.
#[derive(Debug, Args)]
pub struct LossArgs {
    /// Loss spec, e.g. `giou`, `ciou(variant=mmdet)`, `smooth_l1(beta=0.5)`.
    #[arg(long)]
    pub name: String,
    /// IoU-family conventions: torchvision (default), mmdet, ultralytics, paper.
    #[arg(long)]
    pub variant: Option<String>,
    /// Element-wise losses: raw (default), normalized, deltas.
    #[arg(long)]
    pub encoding: Option<String>,
    /// `{"pred": [[x1, y1, x2, y2], …], "target": [[…], …]}` (+ `"image_size"` for normalized).
    #[arg(long, value_name = "FILE")]
    pub input: std::path::PathBuf,
    /// Where to write `{"loss": […], "grad": [[…], …]}`.
    #[arg(long, value_name = "FILE")]
    pub output: std::path::PathBuf,
    /// Compute the batch this many times and print the compute time (not
    /// the file I/O) to stderr, for side-by-side speed comparisons.
    #[arg(long, value_name = "N")]
    pub repeat: Option<u32>,
}

/// `detloss validate`: one dataset, by name or by files.
#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// A known dataset name (see `detloss datasets`).
    pub name: Option<String>,
    /// coco, voc or yolo.
    #[arg(long)]
    pub format: Option<Format>,
    /// The files (`--gt` …), the config keys of a `[[datasets]]` entry.
    #[command(flatten)]
    pub files: DatasetFiles,
    /// VOC corner convention: one_based (default) or as_is.
    #[arg(long, default_value_t)]
    pub voc_corners: VocCorners,
}

/// Writes to stdout, ignoring a closed pipe (`detloss … | head`).
fn emit(text: &str) {
    use std::io::Write;
    let _ = std::io::stdout().write_all(text.as_bytes());
}

macro_rules! emitln {
    ($($arg:tt)*) => {
        emit(&format!("{}\n", format!($($arg)*)))
    };
}

/// Runs the parsed command line; the `Ok` value is the exit code.
pub fn execute(cli: Cli) -> Result<i32> {
    let threads = cli
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    if threads == 0 {
        return Err(Error::input(Problem::general(
            "--threads 0",
            "give a positive thread count, or leave it out to use every core",
        )));
    }
    // A second initialisation (only possible in tests) keeps the first pool.
    let _ = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build_global();
    let opts = RunOptions {
        out: cli.out.clone().unwrap_or_else(|| PathBuf::from("reports")),
        data_root: cli.data_root.clone(),
        strict: cli.strict,
        quiet: cli.quiet,
        threads,
        check: cli.check.clone(),
        bless: cli.bless,
    };
    match cli.command.unwrap_or(Command::Run) {
        Command::Run => {
            let Some(config) = cli.config else {
                return Err(Error::input(Problem::general(
                    "no config given",
                    "run `detloss --config configs/quickstart.toml`, or see `detloss --help`",
                )));
            };
            let out = run::run_config(&config, &opts)?;
            if cli.format == "json" {
                emit(&String::from_utf8_lossy(&out.json));
            } else if !opts.quiet {
                eprintln!("wrote {}", out.dir.join("report.md").display());
            }
            if let Some(p) = &out.blessed {
                if !opts.quiet {
                    eprintln!("blessed {}", p.display());
                }
                return Ok(0);
            }
            match &out.check {
                Some(outcome) if !outcome.passed() => {
                    // Regressions are the point of --check: print them even with --quiet.
                    eprint!(
                        "{}",
                        outcome.failure_summary(40, &out.dir.join("check.md"), &config)
                    );
                    Ok(1)
                }
                Some(outcome) => {
                    if !opts.quiet {
                        eprintln!("check passed: {} metrics hold", outcome.lines.len());
                    }
                    Ok(0)
                }
                None => Ok(0),
            }
        }
        Command::Validate(a) => validate(a, &opts),
        Command::Datasets => {
            list_datasets(&opts);
            Ok(0)
        }
        Command::Synth {
            images,
            dets_per_image,
            seed,
        } => {
            if images == 0 {
                return Err(Error::input(Problem::general(
                    "--images 0",
                    "give at least one image",
                )));
            }
            let out = cli.out.clone().unwrap_or_else(|| PathBuf::from("synth"));
            let spec = crate::synth::SynthSpec {
                images,
                dets_per_image,
                seed,
            };
            for p in crate::synth::write(&out, spec)? {
                if !opts.quiet {
                    emitln!("{}", p.display());
                }
            }
            Ok(0)
        }
        Command::Plot => {
            let out = cli.out.clone().unwrap_or_else(|| PathBuf::from("figures"));
            let pb = crate::progress::spinner("rendering loss-curve figures", opts.quiet);
            let written = crate::plots::render_all(&out);
            pb.finish_and_clear();
            for p in written? {
                if !opts.quiet {
                    emitln!("{}", p.display());
                }
            }
            Ok(0)
        }
        Command::Losses => {
            emit(&loss::listing());
            Ok(0)
        }
        Command::Loss(a) => {
            loss::run(&a, opts.threads)?;
            Ok(0)
        }
    }
}

fn validate(a: ValidateArgs, opts: &RunOptions) -> Result<i32> {
    let spec = DatasetSpec {
        name: a.name,
        label: None,
        format: a.format,
        files: a.files,
        voc_corners: a.voc_corners,
    };
    let ctx = LoadContext {
        data_root: opts.data_root.clone(),
        base_dir: PathBuf::new(),
        strict: opts.strict,
    };
    let pb = crate::progress::spinner(format!("loading {}", spec.label()), opts.quiet);
    let ds = data::load(&spec, &ctx);
    pb.finish_and_clear();
    let ds = ds?;
    if !opts.quiet {
        run::report_loaded(&ds);
        let qs = crate::experiments::summary::SummarySection::default().quantiles;
        let s = crate::experiments::summary::summarise(&ds, &qs);
        emitln!(
            "## Dataset summary\n\n{}",
            crate::experiments::summary::markdown(&[s], &qs)
        );
    }
    Ok(0)
}

fn list_datasets(opts: &RunOptions) {
    let m = data::root::manifest();
    let roots = data::root::data_roots(opts.data_root.as_deref());
    for (name, d) in &m.datasets {
        let found = roots.iter().map(|(r, _)| r.join(name)).find(|p| p.is_dir());
        emitln!("{name}: {}", d.title);
        emitln!(
            "  formats: {} (default {})",
            d.formats.keys().cloned().collect::<Vec<_>>().join(", "),
            d.default_format.name()
        );
        match found {
            Some(p) => emitln!("  found at {}", p.display()),
            None => emitln!(
                "  not found; searched {}; {}",
                roots
                    .iter()
                    .map(|(r, why)| format!("{} ({why})", r.join(name).display()))
                    .collect::<Vec<_>>()
                    .join(", "),
                d.get
            ),
        }
    }
}
