//! The loss table: how each loss sees a detector's results, next to the COCO
//! metrics they are judged by.
//!
//! For one dataset with detections: COCO evaluation (hotcoco), then the
//! detections are paired with ground truth by an [`Assignment`], and
//!
//! * every **box loss** is computed on the pairs: mean, median and p90; the
//!   mean by ground-truth size bucket and for the most frequent categories;
//!   the share of pairs whose gradient is exactly zero; Spearman's rank
//!   correlation with 1 − IoU; and the scale check — the mean on the pairs
//!   scaled by 0.5 and by 2 (boxes and image alike) over the mean on the
//!   originals (1 for a scale-invariant loss, k for L1 on pixels, k² for L2);
//! * every **classification loss** is computed on the detection scores,
//!   matched detections as positives (target 1, or their IoU for quality
//!   losses) and unmatched ones as negatives: the loss total split into
//!   positives and negatives, and the share of the negatives' loss carried by
//!   their hardest 20 % (the cumulative-loss analysis of Lin et al. 2017,
//!   Fig. 4); and, over positives, the correlation of score and IoU (the
//!   premise of QFL and VFL).
//!
//! Scores are turned into logits as ln(s / (1 − s)), with s clamped to
//! [1e-6, 1 − 1e-6].
//!
//! Where the dataset has images, the pairs on which two losses disagree most
//! are drawn as overlay crops. The section's keys are documented on
//! [`LossTableSection`] and in README.md ("Config reference").

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::{ConfigContext, Experiment, Outcome, ReportFile, RunContext, Section};
use crate::data::{Dataset, SizeBucket};
use crate::error::{Error, Problem, Result};
use crate::evaluate::{self, Evaluation};
use crate::losses::cls::{ClsKind, ClsLossSpec};
use crate::losses::{BoxLoss, BoxLossSpec};
use crate::matching::{self, Assigned, Assignment, Pair};
use crate::report::markdown::{Table, num};
use crate::stats::{mean, quantiles, spearman};

/// `[loss_table]` in a config.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LossTableSection {
    /// Dataset labels; default: every dataset of the config with detections.
    #[serde(default)]
    pub datasets: Vec<String>,
    /// `coco@T`, `coco` or `best_iou`.
    #[serde(default = "default_assignment")]
    pub assignment: String,
    /// Box-loss specs.
    #[serde(default = "default_box_losses")]
    pub box_losses: Vec<String>,
    /// Classification-loss specs (per-logit losses).
    #[serde(default = "default_cls_losses")]
    pub cls_losses: Vec<String>,
    /// How many of the most frequent categories get their own column.
    #[serde(default = "default_top")]
    pub top_categories: usize,
    /// Overlay crops to draw where the dataset has images (0: none).
    #[serde(default = "default_overlays")]
    pub overlays: usize,
    /// The two box losses whose disagreement picks the overlay pairs.
    #[serde(default = "default_disagreement")]
    pub disagreement: [String; 2],
}

impl Default for LossTableSection {
    /// Every key at its default: all datasets with detections, `coco@0.5`,
    /// the default losses.
    fn default() -> Self {
        LossTableSection {
            datasets: Vec::new(),
            assignment: default_assignment(),
            box_losses: default_box_losses(),
            cls_losses: default_cls_losses(),
            top_categories: default_top(),
            overlays: default_overlays(),
            disagreement: default_disagreement(),
        }
    }
}

fn default_assignment() -> String {
    "coco@0.5".into()
}

/// The default box losses: the IoU family (with the newer losses of
/// `losses::iou_recent`) and the element-wise losses on Faster R-CNN deltas
/// and on raw pixels.
pub fn default_box_losses() -> Vec<String> {
    let family = [
        "iou",
        "giou",
        "diou",
        "ciou",
        "eiou",
        "siou",
        "wiou(version=1)",
    ];
    let element = [
        "l1(encoding=deltas)",
        "smooth_l1(encoding=deltas)",
        "mse(encoding=deltas)",
        "l1",
        "smooth_l1",
        "mse",
    ];
    family
        .iter()
        .chain(&crate::losses::iou_recent::DEFAULT_SPECS)
        .chain(&element)
        .map(|s| s.to_string())
        .collect()
}

/// The default classification losses: BCE, focal for γ ∈ {0, 0.5, 1, 2, 5}
/// (α = 0.25), QFL and VFL.
pub fn default_cls_losses() -> Vec<String> {
    [
        "bce",
        "focal(gamma=0)",
        "focal(gamma=0.5)",
        "focal(gamma=1)",
        "focal(gamma=2)",
        "focal(gamma=5)",
        "qfl",
        "vfl",
    ]
    .map(String::from)
    .to_vec()
}

fn default_top() -> usize {
    10
}

fn default_overlays() -> usize {
    6
}

fn default_disagreement() -> [String; 2] {
    ["iou".into(), "ciou".into()]
}

/// The parsed, checked section.
#[derive(Debug, Clone)]
pub struct LossTablePlan {
    /// Dataset labels.
    pub datasets: Vec<String>,
    /// Assignment rule.
    pub assignment: Assignment,
    /// Box losses.
    pub box_losses: Vec<BoxLossSpec>,
    /// Classification losses.
    pub cls_losses: Vec<ClsLossSpec>,
    /// Top categories.
    pub top_categories: usize,
    /// Overlay count.
    pub overlays: usize,
    /// The two losses compared for overlays.
    pub disagreement: [BoxLossSpec; 2],
}

impl LossTableSection {
    /// Checks specs and rules; errors name the config file and the key.
    pub fn plan(&self, config: &std::path::Path) -> Result<LossTablePlan> {
        let at = |key: &str, e: String| {
            Error::input(Problem::at(
                config,
                format!("[loss_table] {key}"),
                e,
                "see `detloss losses` and README.md, \"Config reference\"",
            ))
        };
        let box_losses = self
            .box_losses
            .iter()
            .map(|s| BoxLossSpec::parse(s, None).map_err(|e| at("box_losses", e)))
            .collect::<Result<Vec<_>>>()?;
        let cls_losses = self
            .cls_losses
            .iter()
            .map(|s| {
                let spec = ClsLossSpec::parse(s).map_err(|e| at("cls_losses", e))?;
                match spec.kind {
                    ClsKind::Logit(_) => Ok(spec),
                    ClsKind::Row(_) => Err(at("cls_losses", format!("`{s}` is a row loss; detections have one score each, so use per-logit losses"))),
                }
            })
            .collect::<Result<Vec<_>>>()?;
        let disagreement = [
            BoxLossSpec::parse(&self.disagreement[0], None).map_err(|e| at("disagreement", e))?,
            BoxLossSpec::parse(&self.disagreement[1], None).map_err(|e| at("disagreement", e))?,
        ];
        let assignment = Assignment::parse(&self.assignment).map_err(|e| match e {
            Error::Input(mut ps) => {
                for p in &mut ps {
                    p.file = Some(config.to_path_buf());
                    p.record = Some("[loss_table] assignment".into());
                }
                Error::Input(ps)
            }
            other => other,
        })?;
        Ok(LossTablePlan {
            datasets: self.datasets.clone(),
            assignment,
            box_losses,
            cls_losses,
            top_categories: self.top_categories,
            overlays: self.overlays,
            disagreement,
        })
    }
}

/// Mean of one loss over a group of pairs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GroupMean {
    /// Group name (size bucket or category).
    pub group: String,
    /// Pairs in the group.
    pub n: usize,
    /// Mean loss (NaN → null when the group is empty).
    pub mean: f64,
}

/// One box loss over the pairs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BoxLossRow {
    /// Canonical spec.
    pub spec: String,
    /// Mean.
    pub mean: f64,
    /// Median.
    pub median: f64,
    /// 90th percentile.
    pub p90: f64,
    /// Mean by ground-truth size bucket.
    pub by_size: Vec<GroupMean>,
    /// Mean for the most frequent categories.
    pub by_category: Vec<GroupMean>,
    /// Share of pairs whose gradient is exactly zero.
    pub zero_gradient_share: f64,
    /// Spearman's ρ with 1 − IoU.
    pub spearman_vs_1_minus_iou: f64,
    /// Mean on pairs scaled ×0.5 over the mean on the originals.
    pub scale_ratio_half: f64,
    /// Mean on pairs scaled ×2 over the mean on the originals.
    pub scale_ratio_double: f64,
    /// Wise-IoU v2/v3 with `mean=running`: the mean of `L_IoU` over the
    /// pairs, which its focusing factor divides by.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wise_mean: Option<f64>,
}

/// One classification loss over the detections.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClsLossRow {
    /// Canonical spec.
    pub spec: String,
    /// Σ over positives.
    pub positive_total: f64,
    /// Σ over negatives.
    pub negative_total: f64,
    /// Share of the total carried by negatives.
    pub negative_share: f64,
    /// Share of the negatives' loss carried by the hardest 20 % of negatives.
    pub hardest_20pct_negative_share: f64,
}

/// Everything the loss table reports for one dataset.
#[derive(Debug, Clone, Serialize)]
pub struct LossTable {
    /// Dataset label.
    pub dataset: String,
    /// Assignment rule.
    pub assignment: String,
    /// COCO evaluation.
    pub evaluation: Evaluation,
    /// Detections.
    pub detections: usize,
    /// Pairs (positives).
    pub pairs: usize,
    /// Unmatched detections (negatives).
    pub negatives: usize,
    /// Detections the assignment ignores (COCO: matched to crowd or ignored
    /// ground truth, or beyond 100 per image and category): neither pairs
    /// nor negatives.
    pub ignored: usize,
    /// Mean IoU over pairs.
    pub mean_iou: f64,
    /// Box losses.
    pub box_losses: Vec<BoxLossRow>,
    /// Classification losses.
    pub cls_losses: Vec<ClsLossRow>,
    /// Pearson correlation of score and IoU over positives.
    pub score_iou_pearson: f64,
    /// Spearman correlation of score and IoU over positives.
    pub score_iou_spearman: f64,
    /// The two losses compared for the disagreements (canonical specs).
    pub disagreement_losses: [String; 2],
    /// The pairs on which the two `disagreement` losses differ most.
    pub disagreements: Vec<Disagreement>,
    /// Whether the dataset names an image folder (for overlays).
    pub has_images: bool,
}

/// A pair singled out for an overlay.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Disagreement {
    /// Image id.
    pub image_id: u64,
    /// Image file name.
    pub file_name: String,
    /// Category name.
    pub category: String,
    /// IoU.
    pub iou: f64,
    /// The two losses' values.
    pub losses: [f64; 2],
    /// Predicted box.
    pub pred: [f64; 4],
    /// Ground-truth box.
    pub target: [f64; 4],
    /// The overlay file, relative to the report, when one was drawn.
    pub overlay: Option<String>,
}

fn scaled(p: &Pair, k: f64) -> ([f64; 4], [f64; 4], [f64; 2]) {
    (
        p.pred.map(|v| v * k),
        p.target.map(|v| v * k),
        p.image_size.map(|v| v * k),
    )
}

fn loss_values(spec: &BoxLossSpec, pairs: &[Pair], k: f64) -> (Vec<f64>, Vec<bool>) {
    pairs
        .iter()
        .map(|p| {
            let (a, b, size) = scaled(p, k);
            let (v, g) = spec.pair_sized(a, b, size);
            (v, g.iter().all(|x| *x == 0.0))
        })
        .unzip()
}

fn box_row(spec: &BoxLossSpec, pairs: &[Pair], top: &[(u64, String)]) -> BoxLossRow {
    // No training steps here: a running mean is the mean over the pairs
    // (scale-invariant, so the scaled copies share it).
    let resolved = spec.with_set_mean(pairs.iter().map(|p| (p.pred, p.target)));
    let wise_mean = match (spec.running_mean(), resolved.kind) {
        (Some(_), crate::losses::BoxLossKind::Iou(crate::losses::IouLoss::Wiou { mean, .. })) => {
            mean
        }
        _ => None,
    };
    let spec = &resolved;
    let (values, zero) = loss_values(spec, pairs, 1.0);
    let (half, _) = loss_values(spec, pairs, 0.5);
    let (double, _) = loss_values(spec, pairs, 2.0);
    let q = quantiles(&values, &[0.5, 0.9]);
    let base = mean(&values);
    let group = |name: String, keep: &dyn Fn(&Pair) -> bool| {
        let v: Vec<f64> = pairs
            .iter()
            .zip(&values)
            .filter(|(p, _)| keep(p))
            .map(|(_, v)| *v)
            .collect();
        GroupMean {
            group: name,
            n: v.len(),
            mean: mean(&v),
        }
    };
    let one_minus_iou: Vec<f64> = pairs.iter().map(|p| 1.0 - p.iou).collect();
    BoxLossRow {
        spec: spec.canonical.clone(),
        mean: base,
        median: q[0].value,
        p90: q[1].value,
        by_size: SizeBucket::ALL
            .iter()
            .map(|b| group(b.name().into(), &|p: &Pair| p.bucket == *b))
            .collect(),
        by_category: top
            .iter()
            .map(|(id, name)| group(name.clone(), &|p: &Pair| p.category_id == *id))
            .collect(),
        zero_gradient_share: if pairs.is_empty() {
            f64::NAN
        } else {
            zero.iter().filter(|z| **z).count() as f64 / pairs.len() as f64
        },
        spearman_vs_1_minus_iou: spearman(&values, &one_minus_iou),
        scale_ratio_half: mean(&half) / base,
        scale_ratio_double: mean(&double) / base,
        wise_mean,
    }
}

fn logit(score: f64) -> f64 {
    let s = score.clamp(1e-6, 1.0 - 1e-6);
    (s / (1.0 - s)).ln()
}

fn cls_row(spec: &ClsLossSpec, ds: &Dataset, assigned: &Assigned) -> ClsLossRow {
    let ClsKind::Logit(loss) = &spec.kind else {
        unreachable!("checked by plan()")
    };
    let dets = ds.dets.as_ref().expect("assigned datasets have detections");
    let quality = matches!(
        loss,
        crate::losses::cls::LogitLoss::Qfl { .. } | crate::losses::cls::LogitLoss::Vfl { .. }
    );
    let iou_of: BTreeMap<usize, f64> = assigned.pairs.iter().map(|p| (p.det, p.iou)).collect();
    let (mut pos, mut neg) = (0.0, Vec::new());
    for d in 0..dets.len() {
        if assigned.ignored[d] {
            continue;
        }
        let target = match assigned.matched[d] {
            Some(_) if quality => iou_of[&d],
            Some(_) => 1.0,
            None => 0.0,
        };
        let (v, _) = loss.eval(logit(dets.score[d]), target);
        if assigned.matched[d].is_some() {
            pos += v;
        } else {
            neg.push(v);
        }
    }
    let neg_total: f64 = neg.iter().sum();
    neg.sort_by(|a, b| b.total_cmp(a));
    let k = ((neg.len() as f64) * 0.2).ceil() as usize;
    let hardest: f64 = neg[..k.min(neg.len())].iter().sum();
    ClsLossRow {
        spec: spec.canonical.clone(),
        positive_total: pos,
        negative_total: neg_total,
        negative_share: neg_total / (pos + neg_total),
        hardest_20pct_negative_share: if neg_total > 0.0 {
            hardest / neg_total
        } else {
            f64::NAN
        },
    }
}

/// What a reader needs to know about the newer losses of the table: the
/// inputs they take beyond the two boxes, and the mean Wise-IoU used.
fn box_loss_notes(rows: &[BoxLossRow]) -> String {
    let names: Vec<String> = rows
        .iter()
        .map(|r| crate::losses::short_spec(&r.spec))
        .collect();
    let mut notes = crate::experiments::loss_caveats(names.iter().map(String::as_str));
    for r in rows {
        if let Some(m) = r.wise_mean {
            notes.push(format!(
                "With no training steps here, `{}` takes the mean over these pairs, {}.",
                crate::losses::short_spec(&r.spec),
                num(m)
            ));
        }
    }
    crate::report::markdown::bullets(&notes)
}

/// Computes the loss table of one dataset.
pub fn compute(ds: &Dataset, plan: &LossTablePlan) -> Result<LossTable> {
    let evaluate::Evaluated {
        evaluation,
        matches,
    } = evaluate::evaluate(ds, plan.assignment.coco_threshold())?;
    let assigned = matching::assign(ds, plan.assignment, matches.as_ref())?;
    let pairs = &assigned.pairs;
    let mut counts: BTreeMap<u64, usize> = BTreeMap::new();
    for p in pairs {
        *counts.entry(p.category_id).or_default() += 1;
    }
    let mut by_count: Vec<(u64, usize)> = counts.into_iter().collect();
    by_count.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let top: Vec<(u64, String)> = by_count
        .iter()
        .take(plan.top_categories)
        .map(|(id, _)| (*id, ds.category_name(*id)))
        .collect();
    let box_losses = plan
        .box_losses
        .iter()
        .map(|s| box_row(s, pairs, &top))
        .collect();
    let cls_losses = plan
        .cls_losses
        .iter()
        .map(|s| cls_row(s, ds, &assigned))
        .collect();
    let ious: Vec<f64> = pairs.iter().map(|p| p.iou).collect();
    let scores: Vec<f64> = pairs.iter().map(|p| p.score).collect();
    let detections = ds.dets.as_ref().map_or(0, |d| d.len());
    let ignored = assigned.ignored.iter().filter(|i| **i).count();
    Ok(LossTable {
        dataset: ds.label.clone(),
        assignment: plan.assignment.name(),
        evaluation,
        detections,
        pairs: pairs.len(),
        negatives: detections - pairs.len() - ignored,
        ignored,
        mean_iou: mean(&ious),
        box_losses,
        cls_losses,
        score_iou_pearson: crate::stats::pearson(&scores, &ious),
        score_iou_spearman: spearman(&scores, &ious),
        disagreement_losses: [
            plan.disagreement[0].canonical.clone(),
            plan.disagreement[1].canonical.clone(),
        ],
        disagreements: disagreements(ds, pairs, &plan.disagreement, plan.overlays),
        has_images: ds.images_dir.is_some(),
    })
}

/// The pairs where the second loss exceeds the first by most, relative to
/// the first: with `[iou, ciou]`, the pairs whose IoU is similar but whose
/// centre distance and aspect ratio CIoU penalises hardest.
fn disagreements(
    ds: &Dataset,
    pairs: &[Pair],
    losses: &[BoxLossSpec; 2],
    n: usize,
) -> Vec<Disagreement> {
    let mut scored: Vec<(f64, usize, [f64; 2])> = pairs
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let a = losses[0].pair_sized(p.pred, p.target, p.image_size).0;
            let b = losses[1].pair_sized(p.pred, p.target, p.image_size).0;
            ((b - a) / a.abs().max(1e-9), i, [a, b])
        })
        .collect();
    scored.sort_by(|x, y| y.0.total_cmp(&x.0).then(x.1.cmp(&y.1)));
    scored
        .into_iter()
        .take(n)
        .map(|(_, i, v)| {
            let p = &pairs[i];
            Disagreement {
                image_id: p.image_id,
                file_name: ds
                    .image(p.image_id)
                    .map(|im| im.file_name.clone())
                    .unwrap_or_default(),
                category: ds.category_name(p.category_id),
                iou: p.iou,
                losses: v,
                pred: p.pred,
                target: p.target,
                overlay: None,
            }
        })
        .collect()
}

impl Experiment for LossTablePlan {
    const KEY: &'static str = "loss_table";
    type Section = LossTableSection;
    type Output = LossTables;

    fn plan(section: Option<LossTableSection>, cfg: &ConfigContext<'_>) -> Result<Option<Self>> {
        let Some(section) = section else {
            return Ok(None);
        };
        let mut problems = Vec::new();
        // Specs and the assignment rule, before any dataset is loaded.
        let plan = match section.plan(cfg.path) {
            Ok(p) => Some(p),
            Err(Error::Input(ps)) => {
                problems.extend(ps);
                None
            }
            Err(other) => return Err(other),
        };
        let with_dets = cfg.datasets.iter().any(|d| {
            d.files.dets.is_some()
                || d.name
                    .as_deref()
                    .is_some_and(|n| crate::data::root::has_detections(n, d.format))
        });
        if !with_dets {
            problems.push(cfg.problem(
                "[loss_table]",
                "no dataset of this config has detections, so there is no loss table to compute"
                    .into(),
                "give a dataset a results file (`dets`), or remove [loss_table]",
            ));
        }
        problems.extend(cfg.unknown_labels("[loss_table] datasets", &section.datasets));
        super::problems_to_result(problems)?;
        Ok(plan)
    }

    fn compute(&self, datasets: &[Dataset], ctx: &RunContext<'_>) -> Result<LossTables> {
        let chosen: Vec<&Dataset> = if self.datasets.is_empty() {
            datasets.iter().filter(|d| d.dets.is_some()).collect()
        } else {
            self.datasets
                .iter()
                .filter_map(|l| datasets.iter().find(|d| d.label == *l))
                .collect()
        };
        let mut tables = Vec::new();
        for ds in chosen {
            if ds.dets.is_none() {
                return Err(Error::input(Problem::at(
                    ctx.config,
                    "[loss_table] datasets",
                    format!("dataset `{}` has no detections", ds.label),
                    "list datasets with a results file (`dets`), or leave `datasets` out to take every such dataset",
                )));
            }
            let pb = crate::progress::spinner(format!("loss table of {}", ds.label), ctx.quiet);
            let table = compute(ds, self);
            pb.finish_and_clear();
            tables.push(table?);
        }
        Ok(LossTables(tables))
    }
}

/// The loss tables of a run, one per dataset (`loss_tables` in
/// `results.json`).
#[derive(Debug, Clone)]
pub struct LossTables(pub Vec<LossTable>);

impl Outcome for LossTables {
    fn results_key(&self) -> Option<&'static str> {
        Some("loss_tables")
    }

    fn to_json(&self) -> Result<serde_json::Value> {
        super::json_of(&self.0)
    }

    /// Draws the overlay crops of every table whose dataset has images and
    /// records their file names in the table. An image that cannot be read
    /// costs its overlay only (with a warning), not the run.
    fn draw(&mut self, datasets: &[Dataset], quiet: bool) -> Result<Vec<ReportFile>> {
        let mut files = Vec::new();
        for (t, table) in self.0.iter_mut().enumerate() {
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
        Ok(files)
    }

    fn markdown(&self) -> Vec<Section> {
        if self.0.is_empty() {
            return Vec::new();
        }
        vec![Section {
            title: "Loss tables".into(),
            body: markdown(&self.0),
        }]
    }
}

/// An AP-like number with four decimals; pycocotools' −1 ("no data") as –.
fn ap(x: f64) -> String {
    if x.is_nan() || x == -1.0 {
        "–".into()
    } else {
        format!("{x:.4}")
    }
}

fn opt(x: Option<f64>) -> String {
    x.map_or("–".into(), ap)
}

fn pct(x: f64) -> String {
    if x.is_nan() {
        "–".into()
    } else {
        format!("{:.1} %", 100.0 * x)
    }
}

/// The loss-table section's markdown, one subsection per dataset.
pub fn markdown(tables: &[LossTable]) -> String {
    let mut out = String::new();
    out.push_str(
        "How to read this: the detections are evaluated with hotcoco's COCOeval (bbox; pycocotools-exact), then \
         paired with ground truth by the assignment rule named under each heading. Box losses are computed on \
         the pairs with the variant written in each spec (`variant=torchvision` is torchvision 0.29's convention) \
         and, for element-wise losses, the encoding (`raw` pixels or Faster R-CNN `deltas` relative to the \
         ground truth). *zero ∇* is the share of pairs whose gradient is exactly zero; *ρ* is Spearman's rank \
         correlation with 1 − IoU; *×0.5* and *×2* are the mean loss on pairs scaled by that factor over the \
         mean on the originals (1 for a scale-invariant loss, k for L1 on pixels, k² for L2). Classification \
         losses see the detection scores as logits ln(s/(1 − s)); matched detections are positives (target 1, \
         or their IoU for QFL and VFL), unmatched ones negatives; *hardest 20 %* is the share of the \
         negatives' loss carried by their hardest fifth (Lin et al. 2017, Fig. 4).\n\n",
    );
    for t in tables {
        let e = &t.evaluation;
        out.push_str(&format!(
            "### {} ({})\n\nAssignment `{}`; hotcoco {}. {} detections: {} pairs (mean IoU {}), {} negatives, {} ignored.\n\n",
            t.dataset, t.assignment, t.assignment, e.hotcoco_version, t.detections, t.pairs, num(t.mean_iou), t.negatives, t.ignored
        ));
        let mut s = Table::new(&e.stat_names);
        s.row(e.stats.iter().map(|&v| ap(v)).collect());
        out.push_str(&s.render());
        out.push('\n');
        let mut sz = Table::new(&["size", "AP", "AP50", "AP75"]);
        for z in &e.per_size {
            sz.row(vec![
                z.area.to_string(),
                opt(z.ap),
                opt(z.ap50),
                opt(z.ap75),
            ]);
        }
        out.push_str(&sz.render());
        out.push_str("\n**TIDE** (hotcoco; ΔAP50 each error type costs):\n\n");
        let mut td = Table::new(&["error", "ΔAP", "count"]);
        for err in &e.tide.errors {
            td.row(vec![
                err.name.to_string(),
                num(err.delta_ap),
                err.count.to_string(),
            ]);
        }
        out.push_str(&td.render());
        out.push_str("\n<details><summary>AP per category</summary>\n\n");
        let mut pc = Table::new(&["category", "id", "GT", "detections", "AP", "AP50", "AP75"]);
        for c in &e.per_category {
            pc.row(vec![
                c.name.clone(),
                c.category_id.to_string(),
                c.gt_count.to_string(),
                c.det_count.to_string(),
                opt(c.ap),
                opt(c.ap50),
                opt(c.ap75),
            ]);
        }
        out.push_str(&pc.render());
        out.push_str("\n</details>\n\n**Box losses** on the pairs:\n\n");
        let mut bt = Table::new(&[
            "loss",
            "mean",
            "median",
            "p90",
            "small",
            "medium",
            "large",
            "zero ∇",
            "ρ vs 1 − IoU",
            "×0.5",
            "×2",
        ]);
        for r in &t.box_losses {
            let mut row = vec![
                format!("`{}`", r.spec),
                num(r.mean),
                num(r.median),
                num(r.p90),
            ];
            row.extend(
                r.by_size
                    .iter()
                    .map(|g| if g.n == 0 { "–".into() } else { num(g.mean) }),
            );
            row.extend([
                pct(r.zero_gradient_share),
                num(r.spearman_vs_1_minus_iou),
                format!("{:.4}", r.scale_ratio_half),
                format!("{:.4}", r.scale_ratio_double),
            ]);
            bt.row(row);
        }
        out.push_str(&bt.render());
        out.push_str(&box_loss_notes(&t.box_losses));
        if let Some(first) = t.box_losses.first().filter(|r| !r.by_category.is_empty()) {
            out.push_str(
                "\nMean box loss for the most frequent categories (pairs in brackets):\n\n",
            );
            let mut header = vec!["loss".to_string()];
            header.extend(
                first
                    .by_category
                    .iter()
                    .map(|g| format!("{} ({})", g.group, g.n)),
            );
            let mut ct = Table::new(&header);
            for r in &t.box_losses {
                let mut row = vec![format!("`{}`", r.spec)];
                row.extend(r.by_category.iter().map(|g| num(g.mean)));
                ct.row(row);
            }
            out.push_str(&ct.render());
        }
        out.push_str("\n**Classification losses** on the detection scores:\n\n");
        let mut cl = Table::new(&[
            "loss",
            "Σ positives",
            "Σ negatives",
            "negatives' share",
            "hardest 20 % of negatives",
        ]);
        for r in &t.cls_losses {
            cl.row(vec![
                format!("`{}`", r.spec),
                num(r.positive_total),
                num(r.negative_total),
                pct(r.negative_share),
                pct(r.hardest_20pct_negative_share),
            ]);
        }
        out.push_str(&cl.render());
        out.push_str(&format!(
            "\nScore against IoU over the positives: Pearson {}, Spearman {}.\n",
            num(t.score_iou_pearson),
            num(t.score_iou_spearman)
        ));
        let drawn: Vec<_> = t
            .disagreements
            .iter()
            .filter(|d| d.overlay.is_some())
            .collect();
        if !t.disagreements.is_empty() {
            out.push_str(&format!(
                "\n**Where two losses disagree most**: the pairs on which `{}` exceeds `{}` by the largest \
                 factor (ground truth blue, prediction orange).\n\n",
                t.disagreement_losses[1], t.disagreement_losses[0]
            ));
            let header = format!(
                "{} / {}",
                t.disagreement_losses[0], t.disagreement_losses[1]
            );
            let mut dt = Table::new(&["image", "category", "IoU", header.as_str(), "overlay"]);
            for d in &t.disagreements {
                dt.row(vec![
                    d.file_name.clone(),
                    d.category.clone(),
                    num(d.iou),
                    format!("{} / {}", num(d.losses[0]), num(d.losses[1])),
                    d.overlay
                        .as_ref()
                        .map_or("–".into(), |o| format!("![overlay]({o})")),
                ]);
            }
            out.push_str(&dt.render());
            if drawn.is_empty() && !t.has_images {
                out.push_str("\n(The dataset names no image folder, so no overlays are drawn.)\n");
            } else if drawn.len() < t.disagreements.len() && t.has_images {
                out.push_str(
                    "\n(Some images could not be read; the run printed a warning for each.)\n",
                );
            }
        }
        out.push('\n');
    }
    out
}
