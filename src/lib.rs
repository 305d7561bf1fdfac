//! detloss benchmarks object-detection losses on real datasets.
//!
//! Data flows one way, and each stage has one home:
//!
//! | stage | module |
//! |---|---|
//! | load (COCO json via hotcoco, VOC XML, YOLO txt) and resolve datasets by name | [`data`] |
//! | validate (errors stop the run, warnings are counted) | [`data::validate`] |
//! | losses (the IoU family and element-wise losses, value + exact gradient) | [`losses`] |
//! | match detections to ground truth (COCO greedy at any IoU, best IoU) | [`matching`] |
//! | evaluate with hotcoco's COCOeval (12 stats, per-category/size AP, TIDE, COCO matches) | [`evaluate`] |
//! | experiments (dataset summary, format agreement, loss tables) | [`experiments`] |
//! | figures (loss curves, PNG and SVG) | [`plots`] |
//! | report (markdown + `results.json`, written atomically) | [`report`], [`run`] |
//! | compare with a committed baseline (`--check`, `--bless`) | [`check`] |
//! | config and command line | [`config`], [`cli`] |
//!
//! Boxes are xyxy `f64` in continuous pixel coordinates; see [`data::boxes`]
//! for every convention and conversion.
#![warn(missing_docs)]

pub mod check;
pub mod cli;
pub mod config;
pub mod data;
pub mod error;
pub mod evaluate;
pub mod experiments;
pub mod losses;
pub mod matching;
pub mod plots;
pub mod progress;
pub mod report;
pub mod run;
pub mod stats;
pub mod synth;
