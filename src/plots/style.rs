//! What a figure is made of, and the series styles: colours from the
//! Okabe–Ito palette (safe for colour-blind readers), each paired with its
//! own dash pattern and marker so the curves also read in greyscale.

use plotters::style::RGBColor;

/// A figure: what to draw, independent of the backend.
pub(crate) struct Figure {
    /// File stem (`focal_vs_ce` → `focal_vs_ce.png`, `focal_vs_ce.svg`).
    pub name: String,
    /// Title line.
    pub title: String,
    /// One line under the title: the setting, formula and source.
    pub subtitle: String,
    /// x-axis label, with unit.
    pub x_label: String,
    /// y-axis label, with unit.
    pub y_label: String,
    /// Shown x range.
    pub x_range: (f64, f64),
    /// Shown y range; curves are clipped to it.
    pub y_range: (f64, f64),
    /// Decimals of the x tick labels.
    pub x_decimals: usize,
    /// Decimals of the y tick labels.
    pub y_decimals: usize,
    /// The y values are log10 of the quantity: tick labels read `1e3`, …
    pub y_log10: bool,
    /// At most this many x ticks (plotters picks round values).
    pub x_ticks: usize,
    /// At most this many y ticks.
    pub y_ticks: usize,
    /// The curves, in legend order.
    pub series: Vec<Series>,
    /// Shaded x intervals, each labelled at its top.
    pub bands: Vec<Band>,
    /// Dashed vertical lines at these x.
    pub vlines: Vec<f64>,
    /// Free text at data coordinates (top-left anchored).
    pub notes: Vec<Note>,
    /// Where the legend goes (inside the plot).
    pub legend: LegendAt,
}

/// One curve.
pub(crate) struct Series {
    /// Legend text.
    pub label: String,
    /// Line and marker style.
    pub style: Style,
    /// Polylines (more than one where the curve has a jump).
    pub points: Vec<Vec<(f64, f64)>>,
    /// Where the markers go, on the curve.
    pub markers: Vec<(f64, f64)>,
}

/// A shaded x interval.
pub(crate) struct Band {
    /// Left edge.
    pub from: f64,
    /// Right edge.
    pub to: f64,
    /// Label, centred at the top of the band.
    pub label: String,
}

/// Text at a data coordinate.
pub(crate) struct Note {
    /// Top-left corner, data coordinates.
    pub at: (f64, f64),
    /// The text.
    pub text: String,
}

/// Legend position inside the plotting area.
#[derive(Clone, Copy)]
pub(crate) enum LegendAt {
    /// Top right corner.
    UpperRight,
    /// Top, centred.
    UpperMiddle,
    /// Bottom, centred.
    LowerMiddle,
    /// Top, centred on this fraction of the plot width.
    UpperAt(f64),
    /// To the right of the plot, which narrows to make room (for many
    /// series, which would hide the curves).
    Outside,
}

/// Marker shapes.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Marker {
    /// No marker.
    None,
    /// Filled circle.
    Circle,
    /// Open square.
    Square,
    /// Filled triangle.
    Triangle,
    /// Open diamond.
    Diamond,
}

/// How one series is drawn.
#[derive(Clone, Copy)]
pub(crate) struct Style {
    /// Line and marker colour.
    pub color: RGBColor,
    /// Line width (px).
    pub width: u32,
    /// `(dash, gap)` lengths in px; `None` is a solid line.
    pub dash: Option<(u32, u32)>,
    /// Marker shape.
    pub marker: Marker,
}

/// Okabe–Ito: black, blue, vermillion, bluish green, reddish purple, then
/// orange and sky blue for figures with more than five series.
const PALETTE: [RGBColor; 7] = [
    RGBColor(0, 0, 0),
    RGBColor(0, 114, 178),
    RGBColor(213, 94, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(230, 159, 0),
    RGBColor(86, 180, 233),
];

/// The style of the `k`-th series of a figure: each of the first seven has
/// its own colour, dash pattern and marker; the next seven take the colours
/// again with other dashes and markers, so fourteen series stay apart.
pub(crate) fn style(k: usize) -> Style {
    let first = k % (2 * PALETTE.len()) < PALETTE.len();
    let (dash, marker) = match (first, k % PALETTE.len()) {
        (true, 0) => (None, Marker::None),
        (true, 1) => (Some((14, 6)), Marker::Circle),
        (true, 2) => (Some((6, 5)), Marker::Square),
        (true, 3) => (Some((2, 4)), Marker::Triangle),
        (true, 4) => (None, Marker::Diamond),
        (true, 5) => (Some((10, 3)), Marker::Triangle),
        (true, _) => (Some((3, 3)), Marker::Square),
        (false, 0) => (Some((8, 4)), Marker::Circle),
        (false, 1) => (None, Marker::Square),
        (false, 2) => (Some((2, 4)), Marker::Diamond),
        (false, 3) => (None, Marker::Circle),
        (false, 4) => (Some((10, 3)), Marker::Square),
        (false, 5) => (Some((3, 3)), Marker::Diamond),
        (false, _) => (None, Marker::Triangle),
    };
    Style {
        color: PALETTE[k % PALETTE.len()],
        width: 3,
        dash,
        marker,
    }
}
