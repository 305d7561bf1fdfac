//! Loss curves: the figures of [`crate::plots`] (focal vs cross-entropy,
//! QFL, margin and regression losses, the IoU family along a sliding box),
//! rendered into the report's `figures/` folder with a caption each.
//!
//! ```toml
//! [plots]
//! loss_curves = true   # default false: no figures
//! ```

use std::path::PathBuf;

use serde::Deserialize;

use super::{ConfigContext, Experiment, Outcome, ReportFile, RunContext, Section};
use crate::data::Dataset;
use crate::error::Result;

/// `[plots]` in a config.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PlotsSection {
    /// Render the figures into `reports/<run>/figures/` and show them in the report.
    #[serde(default)]
    pub loss_curves: bool,
}

/// The planned figures (the experiment runs only with `loss_curves = true`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LossCurvesPlan;

impl Experiment for LossCurvesPlan {
    const KEY: &'static str = "plots";
    type Section = PlotsSection;
    type Output = LossCurves;

    fn plan(section: Option<PlotsSection>, _cfg: &ConfigContext<'_>) -> Result<Option<Self>> {
        Ok(section.filter(|s| s.loss_curves).map(|_| LossCurvesPlan))
    }

    fn compute(&self, _datasets: &[Dataset], _ctx: &RunContext<'_>) -> Result<LossCurves> {
        Ok(LossCurves)
    }
}

/// The figures: drawn when the report is written; no numbers of their own.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LossCurves;

impl Outcome for LossCurves {
    fn results_key(&self) -> Option<&'static str> {
        None
    }

    fn to_json(&self) -> Result<serde_json::Value> {
        Ok(serde_json::Value::Null)
    }

    fn draw(&mut self, _datasets: &[Dataset], quiet: bool) -> Result<Vec<ReportFile>> {
        let pb = crate::progress::spinner("rendering loss-curve figures", quiet);
        let figures = crate::plots::render_files();
        pb.finish_and_clear();
        Ok(figures?
            .into_iter()
            .map(|(name, bytes)| (PathBuf::from("figures").join(name), bytes))
            .collect())
    }

    fn markdown(&self) -> Vec<Section> {
        vec![Section {
            title: "Loss curves".into(),
            body: markdown(),
        }]
    }
}

/// The section's markdown: each figure (the PNGs under `figures/`; SVGs
/// beside them) with its caption.
fn markdown() -> String {
    let captions = [
        (
            "focal_vs_ce",
            "Focal loss against cross-entropy over p_t for γ ∈ {0, 0.5, 1, 2, 5} (α off; γ = 0 is CE), as in Lin et al. (2017), Fig. 1: the modulating factor (1 − p_t)^γ shrinks the loss of well-classified examples.",
        ),
        (
            "qfl",
            "Quality focal loss (β = 2) over the predicted score σ for IoU targets y ∈ {0, 0.25, 0.5, 0.75, 1}: each curve is 0 where σ = y.",
        ),
        (
            "margin_losses",
            "Hinge, exponential and logistic loss over the margin y·f(x), with the 0-1 loss they bound.",
        ),
        (
            "regression_losses",
            "L1, L2, Smooth-L1 (β = 1) and Huber (δ = 1) over the residual; Smooth-L1 and Huber coincide at β = δ = 1.",
        ),
        (
            "box_losses_sliding",
            "IoU, GIoU, DIoU and CIoU loss (torchvision conventions) for a 16 × 6 box sliding horizontally past a 10 × 10 target: IoU loss is flat at 1 once the boxes stop overlapping (shaded).",
        ),
        (
            "box_gradients_sliding",
            "The gradient magnitude ‖∂loss/∂box‖ of each along the same path: IoU loss gives no gradient without overlap; GIoU, DIoU and CIoU keep pulling the box back.",
        ),
    ];
    let mut out = String::from(
        "How to read this: each figure is computed with detloss's own loss \
         implementations (the same code the tables use); SVG versions sit beside the PNGs in `figures/`.\n\n",
    );
    for (name, caption) in captions {
        out.push_str(&format!("![{name}](figures/{name}.png)\n\n*{caption}*\n\n"));
    }
    out
}
