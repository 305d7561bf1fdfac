//! detloss benchmarks object-detection losses on real datasets.
//!
//! Data flows one way, and each stage has one home:
//!
//! | stage | module |
//! |---|---|
//! | load (COCO json via hotcoco, VOC XML, YOLO txt) and resolve datasets by name | [`data`] |
//! | validate (errors stop the run, warnings are counted) | [`data::validate`] |
//! | losses (the IoU family, element-wise and classification losses, value + exact gradient), by spec string | [`losses`] |
//! | match detections to ground truth (COCO greedy at any IoU, best IoU) | [`matching`] |
//! | evaluate with hotcoco's COCOeval (12 stats, per-category/size AP, TIDE, COCO matches) | [`evaluate`] |
//! | experiments (dataset summary, format agreement, loss tables, the DIoU simulation, real-box regression, loss curves), one module each | [`experiments`] |
//! | figures (loss curves, PNG and SVG) | [`plots`] |
//! | report (markdown, the `results.json` document, written atomically) | [`report`] |
//! | compare results with a committed baseline (`--check`, `--bless`) | [`baseline`] |
//!
//! The config loader, the runner and the command line are internal; the
//! `detloss` binary runs them through [`cli_main`].
//!
//! Boxes are xyxy `f64` in continuous pixel coordinates; see [`data::boxes`]
//! for every convention and conversion.
//!
//! # Example
//!
//! A loss and its gradient, then the loss table of a shared dataset (which
//! must be under a data root, see [`data::root`]):
//!
//! ```no_run
//! use detloss::data::{self, DatasetSpec, LoadContext};
//! use detloss::experiments::loss_table::{self, LossTableSection};
//! use detloss::losses::{BoxLoss, BoxLossSpec};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let giou = BoxLossSpec::parse("giou", None)?;
//! let (value, grad) = giou.pair([0.0, 0.0, 2.0, 2.0], [1.0, 1.0, 3.0, 3.0]);
//! assert!(value > 0.0 && grad[0] != 0.0);
//!
//! let spec = DatasetSpec {
//!     name: Some("coco-val2014-100".into()),
//!     ..Default::default()
//! };
//! let ds = data::load(&spec, &LoadContext::default())?;
//! let plan = LossTableSection::default().plan(std::path::Path::new("(api)"))?;
//! let table = loss_table::compute(&ds, &plan)?;
//! println!("AP {} over {} pairs", table.evaluation.stats[0], table.pairs);
//! # Ok(())
//! # }
//! ```
#![warn(missing_docs)]

pub mod baseline;
mod cli;
mod config;
pub mod data;
pub mod error;
pub mod evaluate;
pub mod experiments;
pub mod losses;
pub mod matching;
pub mod plots;
mod progress;
pub mod report;
mod run;
pub mod stats;
pub mod synth;

/// The `detloss` command line: parses the process arguments, runs the
/// command, prints errors, and returns the process exit code (see README.md,
/// "Command line").
pub fn cli_main() -> i32 {
    use clap::Parser;
    match cli::execute(cli::Cli::parse()) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("{e}");
            e.exit_code()
        }
    }
}
