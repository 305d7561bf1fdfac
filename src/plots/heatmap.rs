//! A value map over scattered points: each point a dot coloured by its value
//! on the viridis scale (perceptually uniform, readable in greyscale and by
//! colour-blind readers), with a colour bar. Used for the simulation's
//! final-error map over anchor centres (Zheng et al. 2020, Fig. 3).

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::colors::colormaps::ViridisRGB;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::render::{FAMILY, HEIGHT, WIDTH, draw_header, encode_png, register_font};
use crate::error::Error;

/// A map of `values` at `points`.
pub(crate) struct Heatmap<'a> {
    /// Title line.
    pub title: String,
    /// One line under the title.
    pub subtitle: String,
    /// Point coordinates (x, y).
    pub points: &'a [[f64; 2]],
    /// One value per point; coloured by log10 when `log` is set.
    pub values: &'a [f64],
    /// Colour by log10(value) (values ≤ 0 take the bottom colour).
    pub log: bool,
    /// The value range the colours span (shared across maps to compare
    /// them); in log10 units when `log`.
    pub range: (f64, f64),
    /// Label of the colour bar.
    pub value_label: String,
}

fn scaled(h: &Heatmap<'_>, v: f64) -> f64 {
    if h.log {
        if v > 0.0 { v.log10() } else { h.range.0 }
    } else {
        v
    }
}

fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    h: &Heatmap<'_>,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    root.fill(&WHITE)?;
    let body = draw_header(root, &h.title, &h.subtitle)?;
    // A square plotting area (so a disk draws round): the chart's height
    // less its margins and axis area, plus the same on the left, centred.
    let side = (HEIGHT - 76) - (12 + 6 + 50) + (14 + 14 + 60);
    let (_, rest) = body.split_horizontally((WIDTH - side - 150) / 2);
    let (plot, rest) = rest.split_horizontally(side);
    let (bar, _) = rest.split_horizontally(150);
    let fold =
        |f: fn(f64, f64) -> f64, k: usize, init: f64| h.points.iter().map(|p| p[k]).fold(init, f);
    let (x0, x1) = (
        fold(f64::min, 0, f64::INFINITY),
        fold(f64::max, 0, f64::NEG_INFINITY),
    );
    let (y0, y1) = (
        fold(f64::min, 1, f64::INFINITY),
        fold(f64::max, 1, f64::NEG_INFINITY),
    );
    // A square data window, so a disk looks round.
    let half = ((x1 - x0).max(y1 - y0) / 2.0 * 1.04).max(1e-9);
    let (cx, cy) = ((x0 + x1) / 2.0, (y0 + y1) / 2.0);
    let mut chart = ChartBuilder::on(&plot)
        .margin_left(14)
        .margin_right(14)
        .margin_bottom(12)
        .margin_top(6)
        .x_label_area_size(50)
        .y_label_area_size(60)
        .build_cartesian_2d(cx - half..cx + half, cy - half..cy + half)?;
    chart
        .configure_mesh()
        .x_desc("anchor centre x")
        .y_desc("anchor centre y")
        .axis_desc_style((FAMILY, 18))
        .label_style((FAMILY, 16))
        .x_labels(7)
        .y_labels(7)
        .x_label_formatter(&|v| format!("{v:.0}"))
        .y_label_formatter(&|v| format!("{v:.0}"))
        .bold_line_style(BLACK.mix(0.08))
        .max_light_lines(0)
        .draw()?;
    let (lo, hi) = h.range;
    let span = if hi > lo { hi - lo } else { 1.0 };
    let colour = |v: f64| {
        let t = ((scaled(h, v) - lo) / span).clamp(0.0, 1.0);
        ViridisRGB.get_color(t as f32)
    };
    chart.draw_series(
        h.points
            .iter()
            .zip(h.values)
            .map(|(p, v)| Circle::new((p[0], p[1]), 3, colour(*v).filled())),
    )?;
    // Colour bar.
    let (bx, by0, by1) = (30, 40, (HEIGHT as i32) - 76 - 80);
    let steps = 200;
    for i in 0..steps {
        let t = i as f64 / steps as f64;
        let y = by1 - ((by1 - by0) as f64 * t) as i32;
        let y_next = by1 - ((by1 - by0) as f64 * (t + 1.0 / steps as f64)) as i32;
        bar.draw(&Rectangle::new(
            [(bx, y_next), (bx + 24, y)],
            ViridisRGB.get_color(t as f32).filled(),
        ))?;
    }
    let font = (FAMILY, 14).into_font().color(&BLACK);
    let label = |v: f64| {
        if h.log {
            format!("1e{v:.1}").replace('-', "\u{2212}")
        } else {
            format!("{v:.3}")
        }
    };
    for (t, v) in [(0.0, lo), (0.5, (lo + hi) / 2.0), (1.0, hi)] {
        let y = by1 - ((by1 - by0) as f64 * t) as i32;
        bar.draw(&Text::new(
            label(v),
            (bx + 30, y),
            font.pos(Pos::new(HPos::Left, VPos::Center)),
        ))?;
    }
    bar.draw(&Text::new(
        h.value_label.as_str(),
        (bx, by1 + 20),
        font.pos(Pos::new(HPos::Left, VPos::Top)),
    ))?;
    Ok(())
}

/// The map as PNG bytes.
pub(crate) fn png(h: &Heatmap<'_>) -> Result<Vec<u8>, Error> {
    register_font().map_err(Error::runtime)?;
    let mut rgb = vec![0u8; (WIDTH * HEIGHT * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, (WIDTH, HEIGHT)).into_drawing_area();
        draw(&root, h).map_err(|e| Error::runtime(format!("cannot draw {}: {e}", h.title)))?;
        root.present()
            .map_err(|e| Error::runtime(format!("cannot draw {}: {e}", h.title)))?;
    }
    encode_png(&rgb).map_err(Error::runtime)
}
