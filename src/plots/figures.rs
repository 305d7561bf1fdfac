//! The data of the six figures: every curve is computed with detloss's own
//! losses, so the figures show exactly what the benchmarks use.

use crate::losses::cls::LogitLoss;
use crate::losses::{BoxLoss, BoxLossSpec, ElementLoss};

use super::style::{Band, Figure, LegendAt, Note, Series, style};

/// Samples `n + 1` evenly spaced points of `[a, b]`, both ends included.
fn grid(a: f64, b: f64, n: usize) -> impl Iterator<Item = f64> {
    (0..=n).map(move |i| a + (b - a) * (i as f64) / (n as f64))
}

/// `count` marker positions inside `(a, b)`, shifted by series index `k` of
/// `of` so that the markers of different series do not sit on top of each
/// other.
fn marker_xs(a: f64, b: f64, count: usize, k: usize, of: usize) -> Vec<f64> {
    let step = (b - a) / count as f64;
    let shift = (k as f64 + 0.5) / of as f64;
    (0..count).map(|i| a + step * (i as f64 + shift)).collect()
}

/// A series of `f` over `[a, b]` with markers at staggered positions.
fn curve(
    label: String,
    k: usize,
    of: usize,
    (a, b): (f64, f64),
    (marker_a, marker_b, markers): (f64, f64, usize),
    f: impl Fn(f64) -> f64,
) -> Series {
    let points = vec![grid(a, b, 800).map(|x| (x, f(x))).collect()];
    let marks = marker_xs(marker_a, marker_b, markers, k, of)
        .into_iter()
        .map(|x| (x, f(x)))
        .collect();
    Series {
        label,
        style: style(k),
        points,
        markers: marks,
    }
}

/// The logit whose sigmoid is `p` (p in (0, 1)); `p = 1` maps to a logit
/// large enough that σ rounds to 1.
fn logit(p: f64) -> f64 {
    if p >= 1.0 { 40.0 } else { (p / (1.0 - p)).ln() }
}

/// Figure 1: focal loss against cross-entropy over p_t (Lin et al. 2017,
/// Fig. 1).
pub(crate) fn focal_vs_ce() -> Figure {
    let gammas = [0.0, 0.5, 1.0, 2.0, 5.0];
    let series = gammas
        .iter()
        .enumerate()
        .map(|(k, &gamma)| {
            let loss = LogitLoss::Focal { alpha: -1.0, gamma };
            let label = if gamma == 0.0 {
                "γ = 0 (cross-entropy)".to_string()
            } else {
                format!("γ = {gamma}")
            };
            // Positive sample (y = 1), so p_t = σ(x).
            curve(label, k, gammas.len(), (0.001, 1.0), (0.1, 1.0, 6), |p| {
                loss.eval::<f64>(logit(p), 1.0).0
            })
        })
        .collect();
    Figure {
        name: "focal_vs_ce".into(),
        title: "Focal loss vs cross-entropy".into(),
        subtitle:
            "FL(pₜ) = −(1 − pₜ)^γ · ln pₜ, α off (Lin et al. 2017, Fig. 1); γ = 0 is cross-entropy"
                .into(),
        x_label: "probability of the ground-truth class pₜ".into(),
        y_label: "loss (nats)".into(),
        x_range: (0.0, 1.0),
        y_range: (0.0, 5.0),
        x_decimals: 1,
        y_decimals: 0,
        y_log10: false,
        x_ticks: 11,
        y_ticks: 6,
        series,
        bands: vec![Band {
            from: 0.6,
            to: 1.0,
            label: "well-classified examples".into(),
        }],
        vlines: vec![],
        notes: vec![],
        legend: LegendAt::UpperAt(0.45),
    }
}

/// Figure 2: quality focal loss (β = 2) over σ for several quality targets.
pub(crate) fn qfl() -> Figure {
    let targets = [0.0, 0.25, 0.5, 0.75, 1.0];
    let loss = LogitLoss::Qfl { beta: 2.0 };
    let series = targets
        .iter()
        .enumerate()
        .map(|(k, &y)| {
            curve(
                format!("y = {y}"),
                k,
                targets.len(),
                (0.0005, 0.9995),
                (0.05, 0.95, 6),
                |s| loss.eval::<f64>(logit(s), y).0,
            )
        })
        .collect();
    Figure {
        name: "qfl".into(),
        title: "Quality focal loss, β = 2".into(),
        subtitle: "QFL(σ) = −|y − σ|^β · ((1 − y) ln(1 − σ) + y ln σ) for quality targets y (Li et al. 2020, GFL)"
            .into(),
        x_label: "predicted quality σ = sigmoid(logit)".into(),
        y_label: "loss (nats)".into(),
        x_range: (0.0, 1.0),
        y_range: (0.0, 2.0),
        x_decimals: 1,
        y_decimals: 1,
        y_log10: false,
        x_ticks: 11,
        y_ticks: 11,
        series,
        bands: vec![],
        vlines: vec![],
        notes: vec![],
        legend: LegendAt::UpperMiddle,
    }
}

/// Figure 3: margin losses over y·f(x).
pub(crate) fn margin_losses() -> Figure {
    let range = (-2.0, 2.0);
    let losses: [(&str, LogitLoss); 3] = [
        ("hinge: max(0, 1 − m)", LogitLoss::Hinge),
        ("exponential: e^(−m)", LogitLoss::Exponential),
        ("logistic: ln(1 + e^(−m)), natural log", LogitLoss::Logistic),
    ];
    let of = losses.len() + 1;
    let mut series: Vec<Series> = losses
        .iter()
        .enumerate()
        .map(|(k, (label, loss))| {
            // Label y = 1 (s = +1), so the logit is the margin.
            curve(label.to_string(), k + 1, of, range, (-1.9, 2.0, 5), |m| {
                loss.eval::<f64>(m, 1.0).0
            })
        })
        .collect();
    series.insert(
        0,
        Series {
            label: "0-1: 1 if m ≤ 0, else 0".into(),
            style: style(0),
            points: vec![vec![(-2.0, 1.0), (0.0, 1.0), (0.0, 0.0), (2.0, 0.0)]],
            markers: vec![],
        },
    );
    Figure {
        name: "margin_losses".into(),
        title: "Margin-based classification losses".into(),
        subtitle: "loss of a ±1 label against the margin m = y·f(x); m > 0 is a correct decision"
            .into(),
        x_label: "margin m = y·f(x) (logit units)".into(),
        y_label: "loss".into(),
        x_range: range,
        y_range: (-0.1, 4.0),
        x_decimals: 1,
        y_decimals: 0,
        y_log10: false,
        x_ticks: 9,
        y_ticks: 5,
        series,
        bands: vec![],
        vlines: vec![],
        notes: vec![],
        legend: LegendAt::UpperRight,
    }
}

/// Figure 4: element-wise regression losses over the residual.
pub(crate) fn regression_losses() -> Figure {
    let range = (-3.0, 3.0);
    let losses: [(&str, ElementLoss); 4] = [
        ("L1: |r|", ElementLoss::L1),
        ("L2: r²", ElementLoss::Mse),
        (
            "Huber, δ = 1 (equal to Smooth-L1 at β = δ = 1)",
            ElementLoss::Huber { delta: 1.0 },
        ),
        ("Smooth-L1, β = 1", ElementLoss::SmoothL1 { beta: 1.0 }),
    ];
    let series = losses
        .iter()
        .enumerate()
        .map(|(k, (label, loss))| {
            curve(
                label.to_string(),
                k,
                losses.len(),
                range,
                (-3.0, 3.0, 6),
                |r| loss.coord::<f64>(r, 0.0).0,
            )
        })
        .collect();
    Figure {
        name: "regression_losses".into(),
        title: "Element-wise regression losses".into(),
        subtitle: "per box coordinate, against the residual r = prediction − target".into(),
        x_label: "residual r (px)".into(),
        y_label: "loss per coordinate (px; L2 in px²)".into(),
        x_range: range,
        y_range: (-0.1, 4.0),
        x_decimals: 0,
        y_decimals: 0,
        y_log10: false,
        x_ticks: 7,
        y_ticks: 5,
        series,
        bands: vec![],
        vlines: vec![],
        notes: vec![],
        legend: LegendAt::UpperMiddle,
    }
}

/// The target box of the sliding figures (xyxy, px).
pub(crate) const TARGET: [f64; 4] = [0.0, 0.0, 10.0, 10.0];
/// Width and height of the sliding prediction (px): another aspect ratio than
/// the target's, so CIoU's aspect term is not zero and CIoU ≠ DIoU.
pub(crate) const PRED_SIZE: [f64; 2] = [16.0, 6.0];
/// The horizontal offsets of the prediction's centre (px).
pub(crate) const OFFSETS: (f64, f64) = (-25.0, 25.0);
/// The IoU-family losses of the sliding figures, as spec names.
pub(crate) const BOX_LOSSES: [&str; 4] = ["iou", "giou", "diou", "ciou"];

/// The prediction whose centre is `dx` px right of the target's centre, at
/// the same height.
pub(crate) fn sliding_pred(dx: f64) -> [f64; 4] {
    let cx = (TARGET[0] + TARGET[2]) / 2.0 + dx;
    let cy = (TARGET[1] + TARGET[3]) / 2.0;
    let [w, h] = PRED_SIZE;
    [cx - w / 2.0, cy - h / 2.0, cx + w / 2.0, cy + h / 2.0]
}

/// |dx| from which on the boxes do not overlap.
pub(crate) fn no_overlap_from() -> f64 {
    ((TARGET[2] - TARGET[0]) + PRED_SIZE[0]) / 2.0
}

/// Value and gradient norm of the spec `name` along the sliding path.
pub(crate) fn sliding(name: &str, dx: f64) -> (f64, f64) {
    let spec = BoxLossSpec::parse(name, None).expect("registered loss");
    let (v, g) = spec.pair::<f64>(sliding_pred(dx), TARGET);
    (v, g.iter().map(|d| d * d).sum::<f64>().sqrt())
}

fn sliding_figure(gradient: bool) -> Figure {
    let edge = no_overlap_from();
    let labels = ["IoU: 1 − IoU", "GIoU", "DIoU", "CIoU"];
    let series = BOX_LOSSES
        .iter()
        .zip(labels)
        .enumerate()
        .map(|(k, (name, label))| {
            curve(
                label.to_string(),
                k,
                BOX_LOSSES.len(),
                OFFSETS,
                (OFFSETS.0, OFFSETS.1, 8),
                |dx| {
                    let (v, g) = sliding(name, dx);
                    if gradient { g } else { v }
                },
            )
        })
        .collect();
    let [w, h] = PRED_SIZE;
    let subtitle = format!(
        "target (0, 0, 10, 10); prediction {w} × {h} px at the same height, its centre sliding \
         horizontally; torchvision variant"
    );
    let bands = vec![
        Band {
            from: OFFSETS.0,
            to: -edge,
            label: "no overlap".into(),
        },
        Band {
            from: edge,
            to: OFFSETS.1,
            label: "no overlap".into(),
        },
    ];
    if gradient {
        Figure {
            name: "box_gradients_sliding".into(),
            title: "Gradient magnitude of IoU-family losses, sliding box".into(),
            subtitle,
            x_label: "horizontal offset of the predicted centre from the target centre (px)".into(),
            y_label: "‖∂loss/∂(x1, y1, x2, y2)‖₂ (1/px)".into(),
            x_range: OFFSETS,
            y_range: (-0.003, 0.16),
            x_decimals: 0,
            y_decimals: 2,
            y_log10: false,
            x_ticks: 11,
            y_ticks: 9,
            series,
            bands,
            vlines: vec![-edge, edge],
            notes: vec![Note {
                at: (edge + 0.6, 0.012),
                text: "IoU gradient = 0".into(),
            }],
            legend: LegendAt::LowerMiddle,
        }
    } else {
        Figure {
            name: "box_losses_sliding".into(),
            title: "IoU-family losses, sliding box".into(),
            subtitle,
            x_label: "horizontal offset of the predicted centre from the target centre (px)".into(),
            y_label: "loss".into(),
            x_range: OFFSETS,
            y_range: (0.0, 1.8),
            x_decimals: 0,
            y_decimals: 1,
            y_log10: false,
            x_ticks: 11,
            y_ticks: 10,
            series,
            bands,
            vlines: vec![-edge, edge],
            notes: vec![Note {
                at: (edge + 0.6, 1.06),
                text: "IoU loss flat at 1".into(),
            }],
            legend: LegendAt::UpperMiddle,
        }
    }
}

/// Figure 5: IoU, GIoU, DIoU and CIoU loss of a box sliding past its target.
pub(crate) fn box_losses_sliding() -> Figure {
    sliding_figure(false)
}

/// Figure 6: the gradient norms of figure 5's losses along the same path.
pub(crate) fn box_gradients_sliding() -> Figure {
    sliding_figure(true)
}

/// Every figure, in output order.
pub(crate) fn all() -> Vec<Figure> {
    vec![
        focal_vs_ce(),
        qfl(),
        margin_losses(),
        regression_losses(),
        box_losses_sliding(),
        box_gradients_sliding(),
    ]
}
