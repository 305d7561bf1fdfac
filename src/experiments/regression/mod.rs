//! The simulation's optimisation on real boxes, scored the way detectors are:
//! the YOLOv3-style comparison of the DIoU paper (Zheng et al., AAAI 2020,
//! arXiv 1911.08287, Table 1: AP and AP75 per loss under the IoU and the
//! GIoU metric, relative to IoU loss) measured on the regression itself.
//!
//! Boxes start from anchors around every ground-truth box or from a
//! detector's results ([`starts`]), move by B ← B − η(2 − IoU)·s²·∂L/∂B for
//! each configured loss ([`crate::experiments::descent`], s = √(w_g·h_g): the
//! frame where the target has unit area, as in the simulation), and at each
//! checkpoint are evaluated with COCO's protocol twice — IoU as the overlap
//! (hotcoco-exact) and GIoU as the overlap (the GIoU/DIoU authors' metric,
//! [`crate::evaluate::overlap`]) — after an optional NMS ([`nms`]).
//!
//! Each `[[regression]]` entry is one run (a start on some datasets); a
//! config may have several, e.g. anchors on every dataset and detections
//! with and without DIoU-NMS:
//!
//! ```toml
//! [[regression]]
//! datasets = ["voc2007-test"]        # labels (default: every dataset of the config)
//! start = "anchors"                  # or "detections" (the dataset's results file)
//! losses = ["iou", "giou", "diou", "ciou", "wiou", "smooth_l1(encoding=deltas)"]  # default: the IoU family, the newer losses, Smooth-L1
//! steps = 200
//! lr = [0.1, 0.01, 0.001]
//! lr_until = [160, 180]
//! checkpoints = [0, 10, 25, 50, 100, 200]   # the last step is always added
//! # anchors: one centre per box within `radius` box sizes, `scales` × `ratios` sets
//! radius = 0.5
//! seed = 5489
//! scales = [0.5, 0.67, 0.75, 1.0, 1.33, 1.5, 2.0]
//! ratios = [0.25, 0.3333333333333333, 0.5, 1.0, 2.0, 3.0, 4.0]
//! # detections: NMS after regression
//! nms = "none"                       # or "iou@0.45", "diou@0.45"
//! diou_beta = 1.0
//! ```

pub mod nms;
mod report;
pub mod starts;

use std::time::Instant;

use serde::{Deserialize, Serialize};

use super::descent::{self, Schedule, Xywh};
use super::{ConfigContext, Experiment, Outcome, ReportFile, RunContext, Section};
use crate::data::Dataset;
use crate::error::{Error, Problem, Result};
use crate::evaluate::overlap::{Overlap, OverlapEvaluator, ScoredDetection};
use crate::losses::{BoxLossSpec, iou_family};
use nms::Nms;
use starts::Start;

/// One `[[regression]]` entry of a config.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RegressionSection {
    /// Dataset labels (default: every dataset of the config).
    #[serde(default)]
    pub datasets: Vec<String>,
    /// `anchors` or `detections`.
    #[serde(default = "default_start")]
    pub start: String,
    /// Box-loss specs.
    #[serde(default = "default_losses")]
    pub losses: Vec<String>,
    /// Steps.
    #[serde(default = "crate::experiments::descent::paper_steps")]
    pub steps: usize,
    /// Learning rates.
    #[serde(default = "crate::experiments::descent::paper_lr")]
    pub lr: Vec<f64>,
    /// The last step of each rate but the last.
    #[serde(default = "crate::experiments::descent::paper_lr_until")]
    pub lr_until: Vec<usize>,
    /// Steps after which the boxes are evaluated (0: the start).
    #[serde(default = "default_checkpoints")]
    pub checkpoints: Vec<usize>,
    /// Anchors: radius of the centre disk, in box sizes.
    #[serde(default = "default_radius")]
    pub radius: f64,
    /// Anchors: MT19937 seed of the centres.
    #[serde(default = "default_seed")]
    pub seed: u32,
    /// Anchors: areas × the box's.
    #[serde(default = "crate::experiments::sampling::paper_scales")]
    pub scales: Vec<f64>,
    /// Anchors: aspect ratios × the box's.
    #[serde(default = "crate::experiments::sampling::paper_ratios")]
    pub ratios: Vec<f64>,
    /// Detections: `none`, `iou@T` or `diou@T`.
    #[serde(default = "default_nms")]
    pub nms: String,
    /// Detections: β of DIoU-NMS.
    #[serde(default = "default_beta")]
    pub diou_beta: f64,
}

fn default_start() -> String {
    "anchors".into()
}
/// The default losses: the IoU family of the DIoU paper's table, EIoU,
/// SIoU, the newer losses of 2021–2024 (Wise-IoU v3, MPDIoU, Inner-CIoU,
/// Shape-IoU, Focaler-CIoU, NWD) and Smooth-L1 on Faster R-CNN deltas.
pub fn default_losses() -> Vec<String> {
    ["iou", "giou", "diou", "ciou", "eiou", "siou"]
        .iter()
        .chain(&crate::losses::iou_recent::DEFAULT_SPECS)
        .chain(&["smooth_l1(encoding=deltas)"])
        .map(|s| s.to_string())
        .collect()
}
fn default_checkpoints() -> Vec<usize> {
    vec![0, 10, 25, 50, 100, 200]
}
fn default_radius() -> f64 {
    0.5
}
fn default_seed() -> u32 {
    5489
}
fn default_nms() -> String {
    "none".into()
}
fn default_beta() -> f64 {
    1.0
}

/// Where the boxes start.
#[derive(Debug, Clone, PartialEq)]
pub enum StartFrom {
    /// Anchors around each ground-truth box.
    Anchors {
        /// Centre disk radius, box sizes.
        radius: f64,
        /// Seed.
        seed: u32,
        /// Areas × the box's.
        scales: Vec<f64>,
        /// Aspect ratios × the box's.
        ratios: Vec<f64>,
    },
    /// The dataset's detections.
    Detections,
}

/// One planned `[[regression]]` entry.
#[derive(Debug, Clone)]
pub struct RunPlan {
    /// Dataset labels (empty: all).
    pub datasets: Vec<String>,
    /// Start.
    pub start: StartFrom,
    /// Losses.
    pub losses: Vec<BoxLossSpec>,
    /// Steps and rates.
    pub schedule: Schedule,
    /// Checkpoints, ascending, within 0..=steps.
    pub checkpoints: Vec<usize>,
    /// NMS before evaluation.
    pub nms: Nms,
}

impl RegressionSection {
    /// Checks entry `index` of `[[regression]]`; problems name the key.
    ///
    /// # Errors
    /// An input error listing every problem.
    pub fn plan(&self, index: usize, cfg: &ConfigContext<'_>) -> Result<RunPlan> {
        let mut problems = Vec::new();
        let at = format!("regression[{index}]");
        let mut bad = |key: &str, problem: String, fix: &str| {
            problems.push(cfg.problem(format!("{at} {key}"), problem, fix));
        };
        let mut losses = Vec::new();
        for s in &self.losses {
            match BoxLossSpec::parse(s, None) {
                Ok(spec) => losses.push(spec),
                Err(e) => bad("losses", e, "see `detloss losses`"),
            }
        }
        if self.losses.is_empty() {
            bad(
                "losses",
                "no losses".into(),
                "list at least one, e.g. [\"iou\", \"ciou\"]",
            );
        }
        let start = match self.start.as_str() {
            "anchors" => StartFrom::Anchors {
                radius: self.radius,
                seed: self.seed,
                scales: self.scales.clone(),
                ratios: self.ratios.clone(),
            },
            "detections" => StartFrom::Detections,
            other => {
                bad(
                    "start",
                    format!("unknown start `{other}`"),
                    "use \"anchors\" (around each ground-truth box) or \"detections\" (the results file)",
                );
                StartFrom::Detections
            }
        };
        if !(self.radius.is_finite() && self.radius >= 0.0) {
            bad(
                "radius",
                format!("radius {} is not ≥ 0", self.radius),
                "use e.g. 0.5 (box sizes)",
            );
        }
        super::sampling::check_positive_lists(
            &[("scales", &self.scales), ("ratios", &self.ratios)],
            &mut bad,
        );
        let schedule = Schedule::checked(self.steps, &self.lr, &self.lr_until, &mut bad);
        let mut checkpoints = self.checkpoints.clone();
        // The last step is always scored: a run never does steps it does not
        // report.
        checkpoints.push(self.steps);
        checkpoints.sort_unstable();
        checkpoints.dedup();
        if checkpoints.is_empty() || checkpoints.iter().any(|&c| c > self.steps) {
            bad(
                "checkpoints",
                format!(
                    "checkpoints {:?} must be a non-empty list within 0..={}",
                    self.checkpoints, self.steps
                ),
                "e.g. [0, 10, 25, 50, 100, 200] with steps = 200",
            );
        }
        if !(self.diou_beta.is_finite() && self.diou_beta > 0.0) {
            bad(
                "diou_beta",
                format!("β {} is not positive", self.diou_beta),
                "use e.g. 1.0 (the paper's) or 0.6",
            );
        }
        let nms = Nms::parse(&self.nms, self.diou_beta).unwrap_or_else(|e| {
            bad("nms", e, "use \"none\", \"iou@0.45\" or \"diou@0.45\"");
            Nms::None
        });
        if self.diou_beta != default_beta() && !matches!(nms, Nms::Diou { .. }) {
            bad(
                "diou_beta",
                format!("diou_beta = {} but nms is `{}`", self.diou_beta, self.nms),
                "diou_beta applies to nms = \"diou@T\": set that, or remove diou_beta",
            );
        }
        if nms != Nms::None && start != StartFrom::Detections {
            bad(
                "nms",
                "NMS needs `start = \"detections\"`: anchors are one box per ground truth".into(),
                "remove `nms`, or start from detections",
            );
        }
        for p in cfg.unknown_labels(&format!("{at} datasets"), &self.datasets) {
            problems.push(p);
        }
        if cfg.datasets.is_empty() {
            problems.push(cfg.problem(
                at.clone(),
                "the regression needs a dataset, and the config names none".into(),
                "add a [[datasets]] entry (e.g. name = \"voc2007-test\")",
            ));
        }
        super::problems_to_result(problems)?;
        Ok(RunPlan {
            datasets: self.datasets.clone(),
            start,
            losses,
            schedule,
            checkpoints,
            nms,
        })
    }
}

/// Every planned `[[regression]]` entry.
#[derive(Debug, Clone)]
pub struct RegressionPlan {
    /// The entries, in config order.
    pub runs: Vec<RunPlan>,
}

impl Experiment for RegressionPlan {
    const KEY: &'static str = "regression";
    type Section = Vec<RegressionSection>;
    type Output = Regressions;

    fn plan(
        section: Option<Vec<RegressionSection>>,
        cfg: &ConfigContext<'_>,
    ) -> Result<Option<Self>> {
        let entries = section.unwrap_or_default();
        if entries.is_empty() {
            return Ok(None);
        }
        let mut runs = Vec::new();
        let mut problems = Vec::new();
        for (i, e) in entries.iter().enumerate() {
            match e.plan(i, cfg) {
                Ok(r) => runs.push(r),
                Err(Error::Input(ps)) => problems.extend(ps),
                Err(other) => return Err(other),
            }
        }
        super::problems_to_result(problems)?;
        Ok(Some(RegressionPlan { runs }))
    }

    fn compute(&self, datasets: &[Dataset], ctx: &RunContext<'_>) -> Result<Regressions> {
        let mut out = Vec::new();
        for (i, run) in self.runs.iter().enumerate() {
            let chosen: Vec<&Dataset> = if run.datasets.is_empty() {
                datasets.iter().collect()
            } else {
                run.datasets
                    .iter()
                    .filter_map(|l| datasets.iter().find(|d| d.label == *l))
                    .collect()
            };
            for ds in chosen {
                if run.start == StartFrom::Detections && ds.dets.is_none() {
                    return Err(Error::input(Problem::at(
                        ctx.config,
                        format!("regression[{i}] start"),
                        format!("dataset `{}` has no detections to start from", ds.label),
                        "give it a results file (`dets`), list only datasets with detections, or use start = \"anchors\"",
                    )));
                }
                out.push(regress_dataset(ds, run, ctx.quiet)?);
            }
        }
        Ok(Regressions(out))
    }
}

/// A number over the sets of a run (anchor configurations), or of the one
/// set (detections: spread 0).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Spread {
    /// Mean.
    pub mean: f64,
    /// Population standard deviation.
    pub std: f64,
    /// Smallest.
    pub min: f64,
    /// Largest.
    pub max: f64,
}

impl Spread {
    fn of(v: &[f64]) -> Spread {
        let n = v.len().max(1) as f64;
        let mean = v.iter().sum::<f64>() / n;
        let var = v.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n;
        Spread {
            mean,
            std: var.sqrt(),
            min: v.iter().copied().fold(f64::INFINITY, f64::min),
            max: v.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        }
    }
}

/// The boxes of one loss at one checkpoint.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Checkpoint {
    /// Steps taken.
    pub step: usize,
    /// AP (0.50:0.95), IoU as the overlap.
    pub ap: Spread,
    /// AP50, IoU.
    pub ap50: Spread,
    /// AP75, IoU.
    pub ap75: Spread,
    /// AP, GIoU as the overlap.
    pub giou_ap: Spread,
    /// AP50, GIoU.
    pub giou_ap50: Spread,
    /// AP75, GIoU.
    pub giou_ap75: Spread,
    /// Mean IoU of the boxes with a target.
    pub mean_iou: f64,
    /// Σ error of the boxes with a target, in units of their target's size.
    pub error_sum: f64,
}

/// One loss's run on one dataset.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LossRegression {
    /// Canonical spec.
    pub spec: String,
    /// At each checkpoint.
    pub checkpoints: Vec<Checkpoint>,
    /// Boxes whose coordinates stopped being finite (scored as misses).
    pub diverged: usize,
    /// Wall time (report.md only: results.json stays byte-identical between
    /// runs).
    #[serde(skip)]
    pub seconds: f64,
}

/// The regression of one dataset.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DatasetRegression {
    /// `dataset, start` (and `, nms RULE` with NMS): unique in a run.
    pub label: String,
    /// Dataset label.
    pub dataset: String,
    /// `anchors` or `detections`.
    pub start: String,
    /// Sets evaluated separately (anchor configurations; 1 for detections).
    pub sets: usize,
    /// Boxes in all sets.
    pub boxes: usize,
    /// Boxes with a target.
    pub with_target: usize,
    /// NMS rule before evaluation.
    pub nms: String,
    /// One entry per loss.
    pub losses: Vec<LossRegression>,
    /// Figure files, relative to the report.
    pub figures: Vec<String>,
}

/// Every regression of a run (`regression` in `results.json`).
#[derive(Debug, Clone, PartialEq)]
pub struct Regressions(pub Vec<DatasetRegression>);

impl Outcome for Regressions {
    fn results_key(&self) -> Option<&'static str> {
        Some("regression")
    }

    fn to_json(&self) -> Result<serde_json::Value> {
        super::json_of(&self.0)
    }

    fn draw(&mut self, _datasets: &[Dataset], _quiet: bool) -> Result<Vec<ReportFile>> {
        let mut files = Vec::new();
        for d in &mut self.0 {
            let f = report::convergence_figure(d)?;
            d.figures = f
                .iter()
                .map(|(p, _)| p.to_string_lossy().replace('\\', "/"))
                .filter(|p| p.ends_with(".png"))
                .collect();
            files.extend(f);
        }
        Ok(files)
    }

    fn markdown(&self) -> Vec<Section> {
        vec![Section {
            title: "Regression of real boxes".into(),
            body: report::markdown(&self.0),
        }]
    }
}

/// COCO `[x, y, w, h]` (corner) of a centre-form box; a box that is no longer
/// finite becomes an empty box at the origin, which matches nothing.
fn coco_box(b: Xywh) -> [f64; 4] {
    if b.iter().all(|v| v.is_finite()) {
        [b[0] - b[2] / 2.0, b[1] - b[3] / 2.0, b[2], b[3]]
    } else {
        [0.0, 0.0, 0.0, 0.0]
    }
}

/// Regresses and evaluates one dataset for every loss.
fn regress_dataset(ds: &Dataset, plan: &RunPlan, quiet: bool) -> Result<DatasetRegression> {
    let start = match &plan.start {
        StartFrom::Anchors {
            radius,
            seed,
            scales,
            ratios,
        } => starts::anchors(ds, *radius, *seed, scales, ratios),
        StartFrom::Detections => starts::detections(ds)?,
    };
    let scorer = Scorer::new(ds, &start, plan.nms)?;
    let rates = plan.schedule.rates();
    // Only boxes with a target move; the others keep their start.
    let moving: Vec<usize> = (0..start.boxes.len())
        .filter(|&i| start.target_of[i].is_some())
        .collect();
    let targets: Vec<Xywh> = moving
        .iter()
        .map(|&i| start.targets[start.target_of[i].expect("moving")])
        .collect();
    let images: Vec<[f64; 2]> = moving
        .iter()
        .map(|&i| start.target_image[start.target_of[i].expect("moving")])
        .collect();
    let unit: Vec<f64> = targets
        .iter()
        .map(|g| (g[2] * g[3]).abs().sqrt().max(f64::MIN_POSITIVE))
        .collect();
    let mut losses = Vec::new();
    for spec in &plan.losses {
        let pb = crate::progress::spinner(
            format!("regression of {}: {}", ds.label, spec.canonical),
            quiet,
        );
        let t0 = Instant::now();
        let mut all = start.boxes.clone();
        let mut state: Vec<Xywh> = moving.iter().map(|&i| start.boxes[i]).collect();
        let mut checkpoints = Vec::new();
        let mut done = 0;
        let mut running_mean = 1.0;
        for &cp in &plan.checkpoints {
            descent::descend_loss(
                spec,
                &mut state,
                &targets,
                Some(&unit),
                Some(&images),
                &rates[done..cp],
                Some(&mut running_mean),
            );
            done = cp;
            for (k, &i) in moving.iter().enumerate() {
                all[i] = state[k];
            }
            let at_start = cp == 0;
            checkpoints.push(scorer.checkpoint(cp, &all, at_start, &state, &targets, &unit)?);
        }
        pb.finish_and_clear();
        losses.push(LossRegression {
            spec: spec.canonical.clone(),
            checkpoints,
            diverged: descent::count_diverged(&state),
            seconds: t0.elapsed().as_secs_f64(),
        });
    }
    let start_name = match plan.start {
        StartFrom::Anchors { .. } => "anchors",
        StartFrom::Detections => "detections",
    };
    Ok(DatasetRegression {
        label: match plan.nms {
            Nms::None => format!("{}, {start_name}", ds.label),
            n => format!("{}, {start_name}, nms {}", ds.label, n.name()),
        },
        dataset: ds.label.clone(),
        start: start_name.into(),
        sets: start.sets.len(),
        boxes: start.boxes.len(),
        with_target: moving.len(),
        nms: plan.nms.name(),
        losses,
        figures: Vec::new(),
    })
}

/// Evaluates box sets against a dataset's ground truth: one prepared
/// evaluator per set (the detections and their scores are fixed; only the
/// boxes move), or one per evaluation when NMS changes which boxes remain.
struct Scorer<'a> {
    ds: &'a Dataset,
    start: &'a Start,
    nms: Nms,
    evaluators: Vec<OverlapEvaluator>,
    /// The start's boxes as loaded (detections), for step 0.
    loaded: Option<Vec<[f64; 4]>>,
}

impl<'a> Scorer<'a> {
    fn new(ds: &'a Dataset, start: &'a Start, nms: Nms) -> Result<Self> {
        let evaluators = if nms == Nms::None {
            start
                .sets
                .iter()
                .map(|r| OverlapEvaluator::new(&ds.coco_gt, &scored(&start.dets[r.clone()])))
                .collect::<Result<Vec<_>>>()?
        } else {
            Vec::new()
        };
        let loaded = match start.set_names.as_slice() {
            [only] if only == "detections" => {
                Some(crate::evaluate::overlap::dataset_boxes_xywh(ds)?)
            }
            _ => None,
        };
        Ok(Scorer {
            ds,
            start,
            nms,
            evaluators,
            loaded,
        })
    }

    /// The numbers of one checkpoint: every set evaluated under both
    /// overlaps, and the error and IoU of the moving boxes.
    fn checkpoint(
        &self,
        step: usize,
        all: &[Xywh],
        at_start: bool,
        state: &[Xywh],
        targets: &[Xywh],
        unit: &[f64],
    ) -> Result<Checkpoint> {
        let mut stats: [Vec<f64>; 6] = Default::default();
        for (k, range) in self.start.sets.iter().enumerate() {
            let boxes: Vec<[f64; 4]> = match (&self.loaded, at_start) {
                (Some(loaded), true) => loaded[range.clone()].to_vec(),
                _ => all[range.clone()].iter().map(|b| coco_box(*b)).collect(),
            };
            // With NMS, the surviving boxes and their evaluator, once per set.
            let suppressed;
            let (evaluator, boxes) = if self.nms == Nms::None {
                (&self.evaluators[k], boxes)
            } else {
                let dets = &self.start.dets[range.clone()];
                let keys: Vec<(u64, u64)> =
                    dets.iter().map(|d| (d.image_id, d.category_id)).collect();
                let scores: Vec<f64> = dets.iter().map(|d| d.score).collect();
                let xyxy: Vec<[f64; 4]> = boxes
                    .iter()
                    .map(|b| [b[0], b[1], b[0] + b[2], b[1] + b[3]])
                    .collect();
                let keep = self.nms.keep(&keys, &scores, &xyxy);
                let kept: Vec<usize> = (0..dets.len()).filter(|&i| keep[i]).collect();
                suppressed = OverlapEvaluator::new(
                    &self.ds.coco_gt,
                    &scored(&kept.iter().map(|&i| dets[i]).collect::<Vec<_>>()),
                )?;
                (&suppressed, kept.iter().map(|&i| boxes[i]).collect())
            };
            for (o, overlap) in Overlap::ALL.into_iter().enumerate() {
                let e = evaluator.evaluate_xywh(&boxes, overlap)?;
                stats[3 * o].push(e.ap());
                stats[3 * o + 1].push(e.ap50());
                stats[3 * o + 2].push(e.ap75());
            }
        }
        let n = state.len().max(1) as f64;
        let mean_iou = state
            .iter()
            .zip(targets)
            .map(|(b, g)| iou_family::iou(descent::xyxy(*b), descent::xyxy(*g)))
            .filter(|v| v.is_finite())
            .sum::<f64>()
            / n;
        let error_sum = state
            .iter()
            .zip(targets)
            .zip(unit)
            .map(|((b, g), u)| descent::error(*b, *g, *u))
            .filter(|v| v.is_finite())
            .sum();
        Ok(Checkpoint {
            step,
            ap: Spread::of(&stats[0]),
            ap50: Spread::of(&stats[1]),
            ap75: Spread::of(&stats[2]),
            giou_ap: Spread::of(&stats[3]),
            giou_ap50: Spread::of(&stats[4]),
            giou_ap75: Spread::of(&stats[5]),
            mean_iou,
            error_sum,
        })
    }
}

fn scored(dets: &[starts::Det]) -> Vec<ScoredDetection> {
    dets.iter()
        .map(|d| ScoredDetection {
            image_id: d.image_id,
            category_id: d.category_id,
            score: d.score,
        })
        .collect()
}
