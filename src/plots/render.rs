//! Drawing a [`Figure`] with plotters, to PNG bytes or SVG text.
//!
//! Text is rendered with DejaVu Sans, embedded in the binary and registered
//! with plotters' `ab_glyph` font table, so no system font is read at run
//! time. The bitmap is encoded with the `image` crate (plotters' own encoder
//! would pull in a second, older `image`).
//!
//! Font sizes are even: plotters 0.3.7 places each glyph at
//! `(size / 2 + top) as i32`, which truncates towards zero, so at odd sizes
//! glyphs above and below that line land half a pixel apart in opposite
//! directions and the baseline wobbles.

use std::sync::OnceLock;

use image::ImageEncoder;
use image::codecs::png::{CompressionType, FilterType, PngEncoder};
use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::style::{Figure, LegendAt, Marker, Style};

/// A backend (pixel) coordinate.
type Px = (i32, i32);

/// Width of every figure (px).
pub(crate) const WIDTH: u32 = 960;
/// Height of every figure (px).
pub(crate) const HEIGHT: u32 = 640;

/// The font family every text element uses; registered under the generic
/// name so that SVG viewers fall back to their own sans-serif.
pub(crate) const FAMILY: &str = "sans-serif";

/// DejaVu Sans 2.37 (Debian `fonts-dejavu-core`); licence in
/// `assets/fonts/DejaVuSans-LICENSE.txt`.
static FONT: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");

/// Registers the embedded font with plotters (once per process).
pub(crate) fn register_font() -> Result<(), String> {
    static OK: OnceLock<bool> = OnceLock::new();
    let ok =
        *OK.get_or_init(|| plotters::style::register_font(FAMILY, FontStyle::Normal, FONT).is_ok());
    if ok {
        Ok(())
    } else {
        Err("the embedded font assets/fonts/DejaVuSans.ttf could not be parsed".into())
    }
}

/// The figure as PNG bytes.
pub(crate) fn png(fig: &Figure) -> Result<Vec<u8>, String> {
    let mut rgb = vec![0u8; (WIDTH * HEIGHT * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, (WIDTH, HEIGHT)).into_drawing_area();
        draw(&root, fig).map_err(|e| e.to_string())?;
        root.present().map_err(|e| e.to_string())?;
    }
    encode_png(&rgb)
}

/// A `WIDTH × HEIGHT` RGB buffer as PNG bytes.
pub(crate) fn encode_png(rgb: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    // Balanced deflate with the `Up` filter: half the size of the default
    // (fast deflate, adaptive filter) and three times faster in debug builds.
    PngEncoder::new_with_quality(&mut out, CompressionType::Default, FilterType::Up)
        .write_image(rgb, WIDTH, HEIGHT, image::ExtendedColorType::Rgb8)
        .map_err(|e| format!("PNG encoding failed: {e}"))?;
    Ok(out)
}

/// The figure as SVG text.
pub(crate) fn svg(fig: &Figure) -> Result<String, String> {
    let mut text = String::new();
    {
        let root = SVGBackend::with_string(&mut text, (WIDTH, HEIGHT)).into_drawing_area();
        draw(&root, fig).map_err(|e| e.to_string())?;
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(text)
}

/// A tick label with `decimals` decimals, a true minus sign and no `-0`.
fn tick(v: f64, decimals: usize) -> String {
    let s = format!("{v:.decimals$}");
    if s.parse::<f64>() == Ok(0.0) {
        return format!("{:.decimals$}", 0.0);
    }
    s.replace('-', "\u{2212}")
}

/// A log10 tick as the power of ten it stands for: `1e3`, `1e−2`, `1`.
fn pow10(v: f64) -> String {
    let k = v.round();
    if (v - k).abs() > 1e-9 {
        return tick(10f64.powf(v), 2);
    }
    match k as i64 {
        0 => "1".into(),
        1 => "10".into(),
        k => format!("1e{k}").replace('-', "\u{2212}"),
    }
}

/// Splits a polyline into the pieces inside `lo ≤ y ≤ hi`, cutting segments
/// exactly where they cross the bounds.
pub(crate) fn clip_y(points: &[(f64, f64)], lo: f64, hi: f64) -> Vec<Vec<(f64, f64)>> {
    let mut out = Vec::new();
    let mut cur: Vec<(f64, f64)> = Vec::new();
    let mut flush = |cur: &mut Vec<(f64, f64)>| {
        if cur.len() > 1 {
            out.push(std::mem::take(cur));
        } else {
            cur.clear();
        }
    };
    if points.len() == 1 && (lo..=hi).contains(&points[0].1) {
        return vec![points.to_vec()];
    }
    for seg in points.windows(2) {
        let (p, q) = (seg[0], seg[1]);
        let (t0, t1) = if p.1 == q.1 {
            if (lo..=hi).contains(&p.1) {
                (0.0, 1.0)
            } else {
                flush(&mut cur);
                continue;
            }
        } else {
            let (ta, tb) = ((lo - p.1) / (q.1 - p.1), (hi - p.1) / (q.1 - p.1));
            (ta.min(tb).max(0.0), ta.max(tb).min(1.0))
        };
        if t0.is_nan() || t1.is_nan() || t0 > t1 {
            flush(&mut cur);
            continue;
        }
        let at = |t: f64| {
            if t == 0.0 {
                p
            } else if t == 1.0 {
                q
            } else {
                (p.0 + (q.0 - p.0) * t, p.1 + (q.1 - p.1) * t)
            }
        };
        if t0 > 0.0 || cur.is_empty() {
            flush(&mut cur);
            cur.push(at(t0));
        }
        cur.push(at(t1));
        if t1 < 1.0 {
            flush(&mut cur);
        }
    }
    flush(&mut cur);
    out
}

/// Douglas–Peucker: the subset of `points` that stays within `tol` px of
/// the full polyline. Long segments rasterise smoothly; runs of 1-px
/// segments, each a separate thick polygon in plotters, look ragged.
pub(crate) fn simplify(points: &[(f64, f64)], tol: f64) -> Vec<(f64, f64)> {
    fn keep(points: &[(f64, f64)], tol: f64, out: &mut Vec<(f64, f64)>) {
        // Appends every kept point of `points` after the first.
        let (a, b) = (points[0], points[points.len() - 1]);
        let (dx, dy) = (b.0 - a.0, b.1 - a.1);
        let len = dx.hypot(dy);
        let dist = |p: (f64, f64)| {
            if len == 0.0 {
                (p.0 - a.0).hypot(p.1 - a.1)
            } else {
                ((p.0 - a.0) * dy - (p.1 - a.1) * dx).abs() / len
            }
        };
        let mut worst = (0.0, 0);
        for (i, &p) in points.iter().enumerate().take(points.len() - 1).skip(1) {
            let d = dist(p);
            if d > worst.0 {
                worst = (d, i);
            }
        }
        if worst.0 > tol {
            keep(&points[..=worst.1], tol, out);
            keep(&points[worst.1..], tol, out);
        } else {
            out.push(b);
        }
    }
    if points.len() < 3 {
        return points.to_vec();
    }
    let mut out = vec![points[0]];
    keep(points, tol, &mut out);
    out
}

/// Rounds pixel coordinates, dropping repeats.
fn to_px(points: &[(f64, f64)]) -> Vec<Px> {
    let mut out: Vec<Px> = Vec::with_capacity(points.len());
    for &(x, y) in points {
        let p = (x.round() as i32, y.round() as i32);
        if out.last() != Some(&p) {
            out.push(p);
        }
    }
    out
}

fn line_style(s: &Style) -> ShapeStyle {
    ShapeStyle {
        color: s.color.to_rgba(),
        filled: false,
        stroke_width: s.width,
    }
}

/// Draws a line in `s`'s style (solid or dashed) through pixel `points`.
fn draw_line<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    points: Vec<Px>,
    s: &Style,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    match s.dash {
        None => root.draw(&PathElement::new(points, line_style(s))),
        Some((dash, gap)) => root.draw(&DashedPathElement::new(points, dash, gap, line_style(s))),
    }
}

/// Draws `s`'s marker (if it has one) centred on pixel `(x, y)` of `root`.
fn draw_marker<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    (x, y): Px,
    s: &Style,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let fill = s.color.filled();
    let open = ShapeStyle {
        color: s.color.to_rgba(),
        filled: false,
        stroke_width: 2,
    };
    let paper = WHITE.filled();
    let r = 5;
    match s.marker {
        Marker::None => Ok(()),
        Marker::Circle => root.draw(&Circle::new((x, y), r + 1, fill)),
        Marker::Square => {
            let corners = [(x - r, y - r), (x + r, y + r)];
            root.draw(&Rectangle::new(corners, paper))?;
            root.draw(&Rectangle::new(corners, open))
        }
        Marker::Triangle => root.draw(&Polygon::new(
            vec![(x, y - 7), (x + 7, y + 5), (x - 7, y + 5)],
            fill,
        )),
        Marker::Diamond => {
            let d = vec![(x, y - 7), (x + 7, y), (x, y + 7), (x - 7, y)];
            let mut outline = d.clone();
            outline.push(d[0]);
            root.draw(&Polygon::new(d, paper))?;
            root.draw(&PathElement::new(outline, open))
        }
    }
}

/// The legend's box: padding, line sample, gap and row height (px).
const LEGEND: (i32, i32, i32, i32) = (10, 44, 10, 26);

/// The legend's width and height (px).
fn legend_size<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    fig: &Figure,
) -> Result<(i32, i32), DrawingAreaErrorKind<DB::ErrorType>> {
    let font = (FAMILY, 16).into_font().color(&BLACK);
    let (pad, sample, gap, row) = LEGEND;
    let mut text_w = 0;
    for s in &fig.series {
        text_w = text_w.max(root.estimate_text_size(&s.label, &font)?.0 as i32);
    }
    Ok((
        pad + sample + gap + text_w + pad,
        pad + row * fig.series.len() as i32 + pad,
    ))
}

/// Draws the legend inside the plotting area `plot` (pixel ranges), or
/// beside it (`LegendAt::Outside`: just right of `plot`).
fn draw_legend<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    plot: (std::ops::Range<i32>, std::ops::Range<i32>),
    fig: &Figure,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let font = (FAMILY, 16).into_font().color(&BLACK);
    let (pad, sample, gap, row) = LEGEND;
    let (w, h) = legend_size(root, fig)?;
    let (xs, ys) = plot;
    let (x, y) = match fig.legend {
        LegendAt::Outside => (xs.end + 16, ys.start),
        LegendAt::UpperRight => (xs.end - w - 12, ys.start + 12),
        LegendAt::UpperMiddle => ((xs.start + xs.end - w) / 2, ys.start + 12),
        LegendAt::LowerMiddle => ((xs.start + xs.end - w) / 2, ys.end - h - 12),
        LegendAt::UpperAt(f) => {
            let centre = xs.start as f64 + f * (xs.end - xs.start) as f64;
            (centre.round() as i32 - w / 2, ys.start + 12)
        }
    };
    root.draw(&Rectangle::new(
        [(x, y), (x + w, y + h)],
        WHITE.mix(0.92).filled(),
    ))?;
    root.draw(&Rectangle::new(
        [(x, y), (x + w, y + h)],
        BLACK.mix(0.35).stroke_width(1),
    ))?;
    for (i, s) in fig.series.iter().enumerate() {
        let cy = y + pad + row * i as i32 + row / 2;
        draw_line(root, vec![(x + pad, cy), (x + pad + sample, cy)], &s.style)?;
        draw_marker(root, (x + pad + sample / 2, cy), &s.style)?;
        root.draw(&Text::new(
            s.label.as_str(),
            (x + pad + sample + gap, cy),
            font.pos(Pos::new(HPos::Left, VPos::Center)),
        ))?;
    }
    Ok(())
}

/// Draws a figure's title and subtitle across the top of `root` and returns
/// the area below them.
pub(crate) fn draw_header<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    subtitle: &str,
) -> Result<DrawingArea<DB, Shift>, DrawingAreaErrorKind<DB::ErrorType>> {
    let (head, body) = root.split_vertically(76);
    let centre = (WIDTH / 2) as i32;
    head.draw(&Text::new(
        title,
        (centre, 12),
        (FAMILY, 26)
            .into_font()
            .color(&BLACK)
            .pos(Pos::new(HPos::Center, VPos::Top)),
    ))?;
    head.draw(&Text::new(
        subtitle,
        (centre, 48),
        (FAMILY, 16)
            .into_font()
            .color(&RGBColor(60, 60, 60))
            .pos(Pos::new(HPos::Center, VPos::Top)),
    ))?;
    Ok(body)
}

/// Draws `fig` on `root`.
fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    fig: &Figure,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    root.fill(&WHITE)?;
    let body = draw_header(root, &fig.title, &fig.subtitle)?;
    let body = match fig.legend {
        LegendAt::Outside => {
            let w = legend_size(root, fig)?.0 + 24;
            body.split_horizontally(WIDTH as i32 - w).0
        }
        _ => body,
    };

    let (x0, x1) = fig.x_range;
    let (y0, y1) = fig.y_range;
    let mut chart = ChartBuilder::on(&body)
        .margin_left(14)
        .margin_right(28)
        .margin_bottom(12)
        .margin_top(6)
        .x_label_area_size(58)
        .y_label_area_size(84)
        .build_cartesian_2d(x0..x1, y0..y1)?;
    let (xd, yd, log) = (fig.x_decimals, fig.y_decimals, fig.y_log10);
    let x_fmt = move |v: &f64| tick(*v, xd);
    let y_fmt = move |v: &f64| {
        if log { pow10(*v) } else { tick(*v, yd) }
    };
    chart
        .configure_mesh()
        .x_desc(fig.x_label.as_str())
        .y_desc(fig.y_label.as_str())
        .axis_desc_style((FAMILY, 18))
        .label_style((FAMILY, 16))
        .x_labels(fig.x_ticks)
        .y_labels(fig.y_ticks)
        .x_label_formatter(&x_fmt)
        .y_label_formatter(&y_fmt)
        .bold_line_style(BLACK.mix(0.12))
        .max_light_lines(0)
        .axis_style(BLACK.mix(0.8))
        .draw()?;

    let area = chart.plotting_area();
    let px = |p: (f64, f64)| chart.backend_coord(&p);
    let grey = RGBColor(90, 90, 90);
    let note_font = (FAMILY, 16).into_font().color(&grey);
    for b in &fig.bands {
        area.draw(&Rectangle::new(
            [(b.from, y0), (b.to, y1)],
            BLACK.mix(0.07).filled(),
        ))?;
        let (bx, by) = px(((b.from + b.to) / 2.0, y1));
        root.draw(&Text::new(
            b.label.as_str(),
            (bx, by + 8),
            note_font.pos(Pos::new(HPos::Center, VPos::Top)),
        ))?;
    }
    for &x in &fig.vlines {
        area.draw(&DashedPathElement::new(
            vec![(x, y0), (x, y1)],
            7,
            5,
            grey.stroke_width(2),
        ))?;
    }
    for n in &fig.notes {
        root.draw(&Text::new(n.text.as_str(), px(n.at), note_font.clone()))?;
    }

    // Data to pixels in f64, anchored on plotters' own mapping of the corners,
    // so curves are simplified before rounding.
    let (c0, c1) = (px((x0, y0)), px((x1, y1)));
    let to_f = |(x, y): (f64, f64)| {
        (
            c0.0 as f64 + (x - x0) / (x1 - x0) * (c1.0 - c0.0) as f64,
            c0.1 as f64 + (y - y0) / (y1 - y0) * (c1.1 - c0.1) as f64,
        )
    };
    for s in &fig.series {
        for poly in &s.points {
            for piece in clip_y(poly, y0, y1) {
                let f: Vec<(f64, f64)> = piece.into_iter().map(to_f).collect();
                draw_line(root, to_px(&simplify(&f, 0.4)), &s.style)?;
            }
        }
        for &(x, y) in &s.markers {
            if (y0..=y1).contains(&y) && (x0..=x1).contains(&x) {
                draw_marker(root, to_px(&[to_f((x, y))])[0], &s.style)?;
            }
        }
    }
    draw_legend(root, area.get_pixel_range(), fig)?;
    Ok(())
}
