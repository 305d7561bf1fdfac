//! The DIoU paper's simulation at full scale (Zheng et al., AAAI 2020,
//! arXiv 1911.08287, §3 "Analysis to IoU and GIoU Losses", Fig. 3 and 4;
//! the authors' MATLAB code: GitHub Zzh-tju/DIoU, `simulation experiment/`).
//!
//! 1,715,000 anchor boxes around seven unit-area targets ([`protocol`]) are
//! regressed for T = 200 steps by each loss's gradient
//! ([`crate::experiments::descent`]), and the
//! report shows how far each loss gets: the error-sum curve over the steps,
//! the final error per loss next to the paper's, a final-error map over the
//! anchor centres (the paper's Fig. 3), and the final error split by where
//! the anchor starts (horizontal, vertical, diagonal; overlapping or not).
//!
//! Two ways to take the gradient (`gradients`):
//!
//! * `exact` (default): the loss zoo's exact gradient of any configured loss
//!   and variant ([`crate::losses`]), mapped from (x1, y1, x2, y2) to the
//!   centre form (x, y, w, h) by the chain rule;
//! * `authors`: the authors' hand-written gradients for `iou`, `giou`,
//!   `diou` and `ciou`, exactly as their MATLAB code computes them
//!   ([`crate::losses::authors`], which lists every difference from the
//!   exact gradient), so
//!   that a run with explicit `centres` can be compared case by case with
//!   theirs.
//!
//! ```toml
//! [simulation]
//! losses = ["iou", "giou", "diou", "ciou"]   # the default; any box loss with `exact`
//! gradients = "exact"                         # or "authors"
//! points = 5000                               # anchor centres, uniform in the disk …
//! # centres = [[10.5, 9.0], [7.2, 10.0]]      # … or listed (then no `points`)
//! seed = 5489                                 # MT19937 seed; 5489 is MATLAB's `rng default`
//! radius = 3.0
//! centre = [10.0, 10.0]
//! scales = [0.5, 0.67, 0.75, 1.0, 1.33, 1.5, 2.0]   # anchor areas (× target area 1)
//! ratios = [0.25, 0.3333333333333333, 0.5, 1.0, 2.0, 3.0, 4.0]   # w/h of targets and anchors
//! steps = 200
//! lr = [0.1, 0.01, 0.001]                     # η, each until the step in `lr_until`
//! lr_until = [160, 180]
//! cases_csv = false                           # write every case's final box (large at full scale)
//! ```

pub mod protocol;

use std::time::Instant;

use serde::{Deserialize, Serialize};

use super::descent::{self, Schedule};
use super::{ConfigContext, Experiment, Outcome, ReportFile, RunContext, Section};
use crate::data::Dataset;
use crate::error::Result;
use crate::losses::authors::AuthorsLoss;
use crate::losses::{BoxLossSpec, iou_family};
use crate::report::markdown::{Table, num};
use protocol::{Cases, Region, Xywh, xyxy};

/// `[simulation]` in a config.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SimulationSection {
    /// Box-loss specs (with `authors`: iou, giou, diou, ciou).
    #[serde(default = "default_losses")]
    pub losses: Vec<String>,
    /// `exact` or `authors`.
    #[serde(default = "default_gradients")]
    pub gradients: String,
    /// Anchor centres drawn uniformly in the disk (default 5,000).
    #[serde(default)]
    pub points: Option<usize>,
    /// Anchor centres listed instead.
    #[serde(default)]
    pub centres: Option<Vec<[f64; 2]>>,
    /// MT19937 seed of the centre draw (5489: MATLAB's `rng default`).
    #[serde(default = "default_seed")]
    pub seed: u32,
    /// Radius of the disk.
    #[serde(default = "default_radius")]
    pub radius: f64,
    /// Centre of the targets and the disk.
    #[serde(default = "default_centre")]
    pub centre: [f64; 2],
    /// Anchor areas, × the target area (1).
    #[serde(default = "crate::experiments::sampling::paper_scales")]
    pub scales: Vec<f64>,
    /// Aspect ratios w/h of the targets and the anchors.
    #[serde(default = "crate::experiments::sampling::paper_ratios")]
    pub ratios: Vec<f64>,
    /// Steps T.
    #[serde(default = "crate::experiments::descent::paper_steps")]
    pub steps: usize,
    /// Learning rates.
    #[serde(default = "crate::experiments::descent::paper_lr")]
    pub lr: Vec<f64>,
    /// The last step of each rate but the last.
    #[serde(default = "crate::experiments::descent::paper_lr_until")]
    pub lr_until: Vec<usize>,
    /// Write every case's final box and error as CSV.
    #[serde(default)]
    pub cases_csv: bool,
}

fn default_losses() -> Vec<String> {
    ["iou", "giou", "diou", "ciou"].map(String::from).to_vec()
}
fn default_seed() -> u32 {
    5489
}
fn default_gradients() -> String {
    "exact".into()
}
fn default_radius() -> f64 {
    3.0
}
fn default_centre() -> [f64; 2] {
    [10.0, 10.0]
}

/// How the gradient is taken.
#[derive(Debug, Clone, PartialEq)]
pub enum Gradients {
    /// The loss zoo's exact gradients.
    Exact(Vec<BoxLossSpec>),
    /// The authors' MATLAB gradients, by loss.
    Authors(Vec<AuthorsLoss>),
}

/// The planned simulation.
#[derive(Debug, Clone)]
pub struct SimulationPlan {
    /// The losses and how their gradients are taken.
    pub gradients: Gradients,
    /// The cases.
    pub cases: Cases,
    /// The steps and learning rates.
    pub schedule: Schedule,
    /// Whether every setting but the losses, the gradients and the seed is
    /// the paper's (then its values are shown beside ours).
    pub paper_protocol: bool,
    /// Write the cases CSV.
    pub cases_csv: bool,
}

impl SimulationSection {
    /// Checks the section and builds its cases; problems name the key.
    ///
    /// # Errors
    /// An input error listing every problem.
    pub fn plan(&self, cfg: &ConfigContext<'_>) -> Result<SimulationPlan> {
        let mut problems = Vec::new();
        let mut bad = |key: &str, problem: String, fix: &str| {
            problems.push(cfg.problem(format!("[simulation] {key}"), problem, fix));
        };
        let gradients = match self.gradients.as_str() {
            "exact" => {
                let mut specs = Vec::new();
                for s in &self.losses {
                    match BoxLossSpec::parse(s, None) {
                        Ok(spec) => specs.push(spec),
                        Err(e) => bad("losses", e, "see `detloss losses`"),
                    }
                }
                Gradients::Exact(specs)
            }
            "authors" => {
                let mut losses = Vec::new();
                for s in &self.losses {
                    match AuthorsLoss::parse(s) {
                        Some(l) => losses.push(l),
                        None => bad(
                            "losses",
                            format!("`{s}` has no gradient in the authors' code"),
                            "with gradients = \"authors\", use iou, giou, diou and ciou (no parameters)",
                        ),
                    }
                }
                Gradients::Authors(losses)
            }
            other => {
                bad(
                    "gradients",
                    format!("unknown gradients `{other}`"),
                    "use \"exact\" (the loss zoo's) or \"authors\" (the DIoU authors' MATLAB code)",
                );
                Gradients::Exact(Vec::new())
            }
        };
        if self.losses.is_empty() {
            bad(
                "losses",
                "no losses".into(),
                "list at least one, e.g. [\"iou\", \"giou\"]",
            );
        }
        let centres = match (&self.centres, self.points) {
            (Some(_), Some(_)) => {
                bad(
                    "centres",
                    "both `points` and `centres` are given".into(),
                    "give `points` to draw centres, or `centres` to list them, not both",
                );
                Vec::new()
            }
            (Some(c), None) => c.clone(),
            (None, p) => {
                let n = p.unwrap_or(5000);
                if n == 0 || n > 10_000_000 {
                    bad(
                        "points",
                        format!("{n} points"),
                        "use 1 to 10,000,000 points",
                    );
                    Vec::new()
                } else {
                    protocol::disk_points(n, self.radius, self.centre, self.seed)
                }
            }
        };
        if centres.is_empty() && self.centres.is_some() {
            bad("centres", "no centres".into(), "list at least one [x, y]");
        }
        if centres
            .iter()
            .flatten()
            .chain(&self.centre)
            .any(|v| !v.is_finite())
        {
            bad(
                "centres",
                "a centre is not finite".into(),
                "use finite coordinates",
            );
        }
        if !(self.radius.is_finite() && self.radius > 0.0) {
            bad(
                "radius",
                format!("radius {} is not positive", self.radius),
                "use e.g. 3.0",
            );
        }
        super::sampling::check_positive_lists(
            &[("scales", &self.scales), ("ratios", &self.ratios)],
            &mut bad,
        );
        let schedule = Schedule::checked(self.steps, &self.lr, &self.lr_until, &mut bad);
        super::problems_to_result(problems)?;
        Ok(SimulationPlan {
            gradients,
            cases: Cases::new(centres, self.centre, &self.scales, &self.ratios),
            schedule,
            paper_protocol: self.centres.is_none()
                && self.points.unwrap_or(5000) == 5000
                && self.radius == default_radius()
                && self.centre == default_centre()
                && self.scales == super::sampling::paper_scales()
                && self.ratios == super::sampling::paper_ratios()
                && self.steps == descent::paper_steps()
                && self.lr == descent::paper_lr()
                && self.lr_until == descent::paper_lr_until(),
            cases_csv: self.cases_csv,
        })
    }
}

impl Experiment for SimulationPlan {
    const KEY: &'static str = "simulation";
    type Section = SimulationSection;
    type Output = Simulation;

    fn plan(section: Option<SimulationSection>, cfg: &ConfigContext<'_>) -> Result<Option<Self>> {
        section.map(|s| s.plan(cfg)).transpose()
    }

    fn compute(&self, _datasets: &[Dataset], ctx: &RunContext<'_>) -> Result<Simulation> {
        Ok(simulate(self, ctx.quiet))
    }
}

/// The final error of the cases that start in one region.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RegionError {
    /// Region and start overlap, e.g. `horizontal, no overlap`.
    pub group: String,
    /// Cases.
    pub cases: usize,
    /// Mean error at the start.
    pub initial_mean: f64,
    /// Mean error after the last step.
    pub final_mean: f64,
}

/// One loss's run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LossRun {
    /// Canonical spec (with `authors`, `iou (authors)` etc.).
    pub spec: String,
    /// Σ error before step 1 and after each step.
    pub error_sum: Vec<f64>,
    /// Σ error after the last step.
    pub final_error: f64,
    /// Cases whose box became non-finite (left out of the sums).
    pub diverged: usize,
    /// The final error by start region.
    pub by_region: Vec<RegionError>,
    /// The paper's final error sum for this loss, read from its figure
    /// (full-scale default protocol only).
    pub paper_final_error: Option<f64>,
    /// Wall time (report.md only: results.json stays byte-identical between
    /// runs) of this loss's run.
    #[serde(skip)]
    pub seconds: f64,
    /// Σ final error per anchor centre (for the map; not in results.json).
    #[serde(skip)]
    pub per_centre: Vec<f64>,
    /// Every case's final box, with `cases_csv`.
    #[serde(skip)]
    pub final_boxes: Option<Vec<Xywh>>,
}

/// The simulation's result (`simulation` in `results.json`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Simulation {
    /// `exact` or `authors`.
    pub gradients: String,
    /// Cases (anchors × targets).
    pub cases: usize,
    /// Anchor centres.
    pub centres: usize,
    /// Anchor shapes per centre (scales × ratios).
    pub anchor_shapes: usize,
    /// Targets.
    pub targets: usize,
    /// Steps.
    pub steps: usize,
    /// One run per loss.
    pub losses: Vec<LossRun>,
    /// Anchor centre coordinates (for the map; not in results.json).
    #[serde(skip)]
    pub centre_xy: Vec<[f64; 2]>,
    /// The cases, for the CSV (not in results.json).
    #[serde(skip)]
    pub case_list: Option<Cases>,
    /// Figure files written, relative to the report.
    pub figures: Vec<String>,
}

/// Final error sums read from the paper's Fig. 4 / the authors' README
/// figure `regression_error_sum_curves.png` at T = 200 (approximate).
fn paper_final(name: &str) -> Option<f64> {
    match name {
        "iou" => Some(5.9e6),
        "giou" => Some(1.5e6),
        "diou" | "ciou" => Some(0.0),
        _ => None,
    }
}

/// Runs one step per rate of loss `k` of `gradients` on every case (the
/// simulation's inner loop; `benches/simulation.rs` times one step of it),
/// returning the error sum after each step.
pub fn run_loss(
    gradients: &Gradients,
    k: usize,
    boxes: &mut [Xywh],
    targets: &[Xywh],
    rates: &[f64],
) -> Vec<f64> {
    match gradients {
        Gradients::Exact(specs) => {
            let spec = &specs[k];
            // MPDIoU's image: the canvas with the targets' centre in its
            // middle (20 × 20 in the paper's setting).
            let canvas = spec.uses_image_size().then(|| {
                let c = targets.first().map_or([1.0, 1.0], |g| [g[0], g[1]]);
                vec![c.map(|v| (2.0 * v).abs().max(1.0)); boxes.len()]
            });
            descent::descend_loss(spec, boxes, targets, None, canvas.as_deref(), rates, None)
        }
        Gradients::Authors(ls) => {
            let l = ls[k];
            descent::descend(boxes, targets, None, rates, |_, b, g| l.step(b, g))
        }
    }
}

/// Runs every loss of the plan.
pub fn simulate(plan: &SimulationPlan, quiet: bool) -> Simulation {
    let cases = &plan.cases;
    let full_scale = plan.paper_protocol;
    let runs: Vec<(String, &str)> = match &plan.gradients {
        Gradients::Exact(specs) => specs
            .iter()
            .map(|s| (s.canonical.clone(), s.name()))
            .collect(),
        Gradients::Authors(losses) => losses
            .iter()
            .map(|l| (format!("{} (authors)", l.name()), l.name()))
            .collect(),
    };
    let mut losses = Vec::new();
    for (k, (spec, name)) in runs.into_iter().enumerate() {
        let pb = crate::progress::spinner(
            format!("simulation: {spec} on {} cases", cases.len()),
            quiet,
        );
        let start = Instant::now();
        let (mut boxes, targets) = cases.materialise();
        let rates = plan.schedule.rates();
        let mut error_sum = vec![
            boxes
                .iter()
                .zip(&targets)
                .map(|(b, g)| descent::error(*b, *g, 1.0))
                .sum(),
        ];
        error_sum.extend(run_loss(&plan.gradients, k, &mut boxes, &targets, &rates));
        let seconds = start.elapsed().as_secs_f64();
        pb.finish_and_clear();
        losses.push(summarise(
            spec,
            error_sum,
            &boxes,
            &targets,
            cases,
            seconds,
            if full_scale { paper_final(name) } else { None },
        ));
        if plan.cases_csv
            && let Some(l) = losses.last_mut()
        {
            l.final_boxes = Some(boxes);
        }
    }
    Simulation {
        gradients: match plan.gradients {
            Gradients::Exact(_) => "exact".into(),
            Gradients::Authors(_) => "authors".into(),
        },
        cases: cases.len(),
        centres: cases.centres.len(),
        anchor_shapes: cases.shapes.len(),
        targets: cases.targets.len(),
        steps: plan.schedule.steps,
        losses,
        centre_xy: cases.centres.clone(),
        case_list: plan.cases_csv.then(|| cases.clone()),
        figures: Vec::new(),
    }
}

fn summarise(
    spec: String,
    error_sum: Vec<f64>,
    boxes: &[Xywh],
    targets: &[Xywh],
    cases: &Cases,
    seconds: f64,
    paper: Option<f64>,
) -> LossRun {
    let final_error: Vec<f64> = boxes
        .iter()
        .zip(targets)
        .map(|(b, g)| descent::error(*b, *g, 1.0))
        .collect();
    let per = cases.per_centre();
    let per_centre: Vec<f64> = final_error
        .chunks(per)
        .map(|c| c.iter().filter(|e| e.is_finite()).sum())
        .collect();
    // Group (region, overlapping at the start) → (cases, Σ initial, Σ final).
    let mut groups: std::collections::BTreeMap<(Region, bool), (usize, f64, f64)> =
        std::collections::BTreeMap::new();
    for (i, fe) in final_error.iter().enumerate() {
        let (a, g) = cases.case(i);
        let region = Region::of(a[0] - g[0], a[1] - g[1]);
        let overlap = iou_family::iou(xyxy(a), xyxy(g)) > 0.0;
        let e = groups.entry((region, overlap)).or_default();
        e.0 += 1;
        e.1 +=
            (a[0] - g[0]).abs() + (a[1] - g[1]).abs() + (a[2] - g[2]).abs() + (a[3] - g[3]).abs();
        if fe.is_finite() {
            e.2 += fe;
        }
    }
    let by_region = groups
        .into_iter()
        .map(|((r, o), (n, i, f))| RegionError {
            group: format!(
                "{}, {}",
                r.name(),
                if o { "overlapping" } else { "no overlap" }
            ),
            cases: n,
            initial_mean: i / n as f64,
            final_mean: f / n as f64,
        })
        .collect();
    LossRun {
        spec,
        final_error: *error_sum.last().unwrap_or(&f64::NAN),
        error_sum,
        diverged: descent::count_diverged(boxes),
        by_region,
        paper_final_error: paper,
        seconds,
        per_centre,
        final_boxes: None,
    }
}

impl Outcome for Simulation {
    fn results_key(&self) -> Option<&'static str> {
        Some("simulation")
    }

    fn to_json(&self) -> Result<serde_json::Value> {
        super::json_of(self)
    }

    fn draw(&mut self, _datasets: &[Dataset], _quiet: bool) -> Result<Vec<ReportFile>> {
        let mut files = figures::draw(self)?;
        if let Some(cases) = &self.case_list {
            for l in &self.losses {
                files.push(figures::cases_csv(cases, l));
            }
        }
        self.figures = files
            .iter()
            .map(|(p, _)| p.to_string_lossy().replace('\\', "/"))
            .filter(|p| p.ends_with(".png"))
            .collect();
        Ok(files)
    }

    fn markdown(&self) -> Vec<Section> {
        vec![Section {
            title: "Simulation".into(),
            body: markdown(self),
        }]
    }
}

mod figures;

/// The section's markdown.
fn markdown(s: &Simulation) -> String {
    let mut out = format!(
        "How to read this: the DIoU paper's simulation (Zheng et al. 2020, §3): {} cases ({} anchor centres × {} \
         anchor shapes × {} unit-area targets, every anchor regressed onto every target) for {} steps of \
         B ← B − η·(2 − IoU)·∂L/∂B in (x, y, w, h), with gradients `{}`{}. The error of a case is \
         |x − x_g| + |y − y_g| + |w − w_g| + |h − h_g|; the sums are over all cases. The paper's values are \
         read by eye from its error-sum figure (full-scale protocol only).\n\n",
        s.cases,
        s.centres,
        s.anchor_shapes,
        s.targets,
        s.steps,
        s.gradients,
        if s.gradients == "authors" {
            " (the authors' hand-written MATLAB gradients; see the rustdoc of `losses::authors` for how they differ from the exact ones)"
        } else {
            " (the loss zoo's exact gradients)"
        },
    );
    let mut t = Table::new(&[
        "loss",
        "error sum at start",
        "after 10 steps",
        "after 50",
        "final",
        "paper, final (Fig. 4)",
        "diverged cases",
        "time (s)",
    ]);
    for l in &s.losses {
        let at = |k: usize| l.error_sum.get(k).map_or("–".into(), |v| sci(*v));
        t.row(vec![
            format!("`{}`", l.spec),
            at(0),
            at(10),
            at(50),
            sci(l.final_error),
            l.paper_final_error.map_or("–".into(), sci),
            l.diverged.to_string(),
            format!("{:.2}", l.seconds),
        ]);
    }
    out.push_str(&t.render());
    let total: f64 = s.losses.iter().map(|l| l.seconds).sum();
    if total > 0.0 && s.centres > 0 {
        let per_centre = total / s.centres as f64;
        out.push_str(&format!(
            "\n{:.1} s for all {} losses: {:.2} ms per anchor centre ({} cases × {} steps × {} losses). The \
             authors' MATLAB code, run in GNU Octave, needs about 255 s per anchor centre for its four losses \
             (the figure measured when this experiment was specified), {:.0}× longer.\n",
            total,
            s.losses.len(),
            1e3 * per_centre,
            s.anchor_shapes * s.targets,
            s.steps,
            s.losses.len(),
            255.0 / per_centre
        ));
    }
    out.push_str("\n**By start position.** Mean error per case at the start and after the last step, by where the anchor's centre lies relative to the target's (horizontal or vertical: within 22.5° of an axis) and whether the boxes overlap at the start.\n\n");
    let groups: Vec<&str> = s
        .losses
        .first()
        .map(|l| l.by_region.iter().map(|r| r.group.as_str()).collect())
        .unwrap_or_default();
    let mut header = vec!["start".to_string(), "cases".into(), "at start".into()];
    header.extend(s.losses.iter().map(|l| format!("`{}`", l.spec)));
    let mut t = Table::new(&header);
    for (k, g) in groups.iter().enumerate() {
        let first = &s.losses[0].by_region[k];
        let mut row = vec![
            g.to_string(),
            first.cases.to_string(),
            num(first.initial_mean),
        ];
        row.extend(s.losses.iter().map(|l| num(l.by_region[k].final_mean)));
        t.row(row);
    }
    out.push_str(&t.render());
    out.push('\n');
    for f in &s.figures {
        out.push_str(&format!("![{f}]({f})\n\n"));
    }
    out
}

/// A number in scientific notation with three significant digits.
fn sci(x: f64) -> String {
    if x.is_nan() {
        "–".into()
    } else if x == 0.0 {
        "0".into()
    } else {
        format!("{x:.2e}")
    }
}
