//! The simulation's figures: the error-sum curve of every loss over the
//! steps (log scale, the paper's Fig. 4 left), a final-error map over the
//! anchor centres per loss (the paper's Fig. 3), and, with `cases_csv`, one
//! CSV of every case's final box per loss.

use std::path::PathBuf;

use super::protocol::Cases;
use super::{LossRun, Simulation};
use crate::error::Result;
use crate::experiments::ReportFile;
use crate::plots::{Figure, Heatmap, LegendAt, Series, heatmap_png, render_figure, series_style};
use crate::report::slug;

/// Every PNG/SVG figure of the simulation.
pub fn draw(s: &Simulation) -> Result<Vec<ReportFile>> {
    let mut files = Vec::new();
    let positive: Vec<f64> = s
        .losses
        .iter()
        .flat_map(|l| l.error_sum.iter().copied())
        .filter(|v| *v > 0.0 && v.is_finite())
        .collect();
    let lo = positive.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = positive.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if lo.is_finite() && hi.is_finite() {
        let (y0, y1) = (
            (lo.log10()).floor(),
            (hi.log10()).ceil().max(lo.log10().floor() + 1.0),
        );
        let series = s
            .losses
            .iter()
            .enumerate()
            .map(|(k, l)| {
                let pts: Vec<(f64, f64)> = l
                    .error_sum
                    .iter()
                    .enumerate()
                    .map(|(t, v)| (t as f64, if *v > 0.0 { v.log10() } else { y0 }))
                    .collect();
                let every = (pts.len() / 8).max(1);
                Series {
                    label: crate::losses::short_spec(&l.spec),
                    style: series_style(k),
                    markers: pts
                        .iter()
                        .skip(every * k / s.losses.len().max(1))
                        .step_by(every)
                        .copied()
                        .collect(),
                    points: vec![pts],
                }
            })
            .collect();
        let fig = Figure {
            name: "simulation_error_sum".into(),
            title: "Regression error sum over the steps".into(),
            subtitle: format!(
                "{} cases, gradients {}; Σ |x − x_g| + |y − y_g| + |w − w_g| + |h − h_g| (Zheng et al. 2020, Fig. 4)",
                s.cases, s.gradients
            ),
            x_label: "step t".into(),
            y_label: "error sum (log scale)".into(),
            x_range: (0.0, s.steps as f64),
            y_range: (y0, y1),
            x_decimals: 0,
            y_decimals: 0,
            y_log10: true,
            x_ticks: 11,
            y_ticks: ((y1 - y0) as usize + 1).min(12),
            series,
            bands: Vec::new(),
            vlines: Vec::new(),
            notes: Vec::new(),
            legend: LegendAt::Outside,
        };
        for (name, bytes) in render_figure(&fig)? {
            files.push((PathBuf::from("figures").join(name), bytes));
        }
    }
    // One colour range for every map, so they compare.
    let per: Vec<f64> = s
        .losses
        .iter()
        .flat_map(|l| l.per_centre.iter().copied())
        .filter(|v| *v > 0.0 && v.is_finite())
        .collect();
    let top = per.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let range = if top.is_finite() {
        (top.log10() - 6.0, top.log10())
    } else {
        (-6.0, 0.0)
    };
    for l in &s.losses {
        let png = heatmap_png(&Heatmap {
            title: format!("Final error by anchor centre: {}", l.spec),
            subtitle: format!(
                "Σ error over the {} anchors × targets at each centre after {} steps (Zheng et al. 2020, Fig. 3)",
                s.anchor_shapes * s.targets,
                s.steps
            ),
            points: &s.centre_xy,
            values: &l.per_centre,
            log: true,
            range,
            value_label: "Σ final error".into(),
        })?;
        files.push((
            PathBuf::from(format!("figures/simulation_map_{}.png", slug(&l.spec))),
            png,
        ));
    }
    Ok(files)
}

/// `simulation_cases_<loss>.csv`: every case's anchor, target and final box
/// and error, for a case-by-case comparison with another implementation.
pub fn cases_csv(cases: &Cases, l: &LossRun) -> ReportFile {
    let mut out =
        String::from("case,centre_x,centre_y,target_w,target_h,anchor_w,anchor_h,x,y,w,h,error\n");
    if let Some(boxes) = &l.final_boxes {
        for (i, b) in boxes.iter().enumerate() {
            let (a, g) = cases.case(i);
            let e = (b[0] - g[0]).abs()
                + (b[1] - g[1]).abs()
                + (b[2] - g[2]).abs()
                + (b[3] - g[3]).abs();
            out.push_str(&format!(
                "{i},{},{},{},{},{},{},{},{},{},{},{e}\n",
                a[0], a[1], g[2], g[3], a[2], a[3], b[0], b[1], b[2], b[3]
            ));
        }
    }
    (
        PathBuf::from(format!("simulation_cases_{}.csv", slug(&l.spec))),
        out.into_bytes(),
    )
}
