//! Loss-curve figures: six plots of the losses detloss benchmarks, each
//! written as PNG and SVG.
//!
//! | file stem | what it shows |
//! |---|---|
//! | `focal_vs_ce` | focal loss for γ ∈ {0, 0.5, 1, 2, 5} over p_t, α off; γ = 0 is cross-entropy (Lin et al. 2017, Fig. 1) |
//! | `qfl` | quality focal loss (β = 2) over σ for quality targets y ∈ {0, 0.25, 0.5, 0.75, 1} |
//! | `margin_losses` | hinge, exponential, logistic (natural log) and 0-1 loss over the margin y·f(x) ∈ [−2, 2] |
//! | `regression_losses` | L1, L2, Smooth-L1 (β = 1) and Huber (δ = 1) over the residual ∈ [−3, 3] px |
//! | `box_losses_sliding` | IoU, GIoU, DIoU and CIoU loss (torchvision variant) of a 16 × 6 px box sliding horizontally past a 10 × 10 px target; the no-overlap region is shaded |
//! | `box_gradients_sliding` | the Euclidean norm of those losses' gradient with respect to the predicted box along the same path |
//!
//! Every curve is computed with detloss's own losses
//! ([`crate::losses::cls::LogitLoss`], [`crate::losses::ElementLoss`],
//! [`crate::losses::BoxLossSpec`]). Text is drawn with DejaVu Sans, embedded
//! in the binary, so rendering needs no system fonts; the output is the same
//! bytes on every run.

mod figures;
mod heatmap;
mod render;
mod style;

pub(crate) use heatmap::{Heatmap, png as heatmap_png};
pub(crate) use style::{Figure, LegendAt, Series, style as series_style};

/// One figure as `<name>.png` and `<name>.svg` (file name, bytes), for
/// experiments that draw their own.
pub(crate) fn render_figure(fig: &Figure) -> Result<Vec<(String, Vec<u8>)>, Error> {
    render::register_font().map_err(Error::runtime)?;
    let err = |e: String| Error::runtime(format!("cannot render figure {}: {e}", fig.name));
    Ok(vec![
        (format!("{}.png", fig.name), render::png(fig).map_err(err)?),
        (
            format!("{}.svg", fig.name),
            render::svg(fig).map_err(err)?.into_bytes(),
        ),
    ])
}

use std::path::{Path, PathBuf};

use crate::error::Error;

/// The file stems of the figures, in the order [`render_all`] writes them.
pub const FIGURE_NAMES: [&str; 6] = [
    "focal_vs_ce",
    "qfl",
    "margin_losses",
    "regression_losses",
    "box_losses_sliding",
    "box_gradients_sliding",
];

/// Size of every figure in pixels (width, height); the SVGs have the same
/// view size.
pub const FIGURE_SIZE: (u32, u32) = (render::WIDTH, render::HEIGHT);

/// Renders every figure in memory: `(file name, bytes)`, `<name>.png` then
/// `<name>.svg` for each name of [`FIGURE_NAMES`] in order.
pub fn render_files() -> Result<Vec<(String, Vec<u8>)>, Error> {
    render::register_font().map_err(Error::runtime)?;
    let mut files = Vec::with_capacity(2 * FIGURE_NAMES.len());
    for fig in figures::all() {
        let png = render::png(&fig)
            .map_err(|e| Error::runtime(format!("cannot render figure {}: {e}", fig.name)))?;
        files.push((format!("{}.png", fig.name), png));
        let svg = render::svg(&fig)
            .map_err(|e| Error::runtime(format!("cannot render figure {}: {e}", fig.name)))?;
        files.push((format!("{}.svg", fig.name), svg.into_bytes()));
    }
    Ok(files)
}

/// Renders every figure into `out_dir` (created if missing) as
/// `<name>.png` and `<name>.svg`, and returns the written paths, PNG then
/// SVG for each name of [`FIGURE_NAMES`] in order.
///
/// Errors (a directory or file that cannot be written, a figure that fails
/// to render) are runtime errors naming the path.
pub fn render_all(out_dir: &Path) -> Result<Vec<PathBuf>, Error> {
    let files = render_files()?;
    std::fs::create_dir_all(out_dir).map_err(|e| {
        Error::runtime(format!(
            "cannot create the figure directory {}: {e}",
            out_dir.display()
        ))
    })?;
    let mut written = Vec::with_capacity(files.len());
    for (name, bytes) in files {
        let path = out_dir.join(name);
        write(&path, &bytes)?;
        written.push(path);
    }
    Ok(written)
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    std::fs::write(path, bytes)
        .map_err(|e| Error::runtime(format!("cannot write figure {}: {e}", path.display())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figure_list_matches_names() {
        let names: Vec<String> = figures::all().into_iter().map(|f| f.name).collect();
        assert_eq!(names, FIGURE_NAMES);
    }

    #[test]
    fn renders_all_figures_deterministically() {
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        let paths = render_all(a.path()).unwrap();
        assert_eq!(paths.len(), 12);
        for (i, name) in FIGURE_NAMES.iter().enumerate() {
            assert_eq!(paths[2 * i], a.path().join(format!("{name}.png")));
            assert_eq!(paths[2 * i + 1], a.path().join(format!("{name}.svg")));
        }
        for p in &paths {
            let bytes = std::fs::read(p).unwrap();
            if p.extension().unwrap() == "png" {
                let img = image::load_from_memory_with_format(&bytes, image::ImageFormat::Png)
                    .unwrap_or_else(|e| panic!("{}: {e}", p.display()));
                assert_eq!((img.width(), img.height()), FIGURE_SIZE, "{}", p.display());
            } else {
                let text = String::from_utf8(bytes).unwrap();
                assert!(text.starts_with("<svg"), "{}", p.display());
                assert!(text.contains("<text"), "{}", p.display());
            }
        }
        let again = render_all(b.path()).unwrap();
        for (p, q) in paths.iter().zip(&again) {
            assert!(
                std::fs::read(p).unwrap() == std::fs::read(q).unwrap(),
                "{} differs between runs",
                p.file_name().unwrap().to_string_lossy()
            );
        }
    }

    #[test]
    fn unwritable_directory_is_a_runtime_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("not_a_dir");
        std::fs::write(&file, b"x").unwrap();
        let out = file.join("figures");
        let err = render_all(&out).unwrap_err();
        assert_eq!(err.exit_code(), crate::error::EXIT_RUNTIME);
        assert!(
            err.to_string().contains(&out.display().to_string()),
            "{err}"
        );
    }

    #[test]
    fn sliding_path_shows_the_no_overlap_plateau() {
        let edge = figures::no_overlap_from();
        assert_eq!(edge, 13.0);
        for dx in [-25.0, -13.0, 13.0, 20.0] {
            let (v, g) = figures::sliding("iou", dx);
            assert_eq!((v, g), (1.0, 0.0), "dx = {dx}");
            // The other losses keep a gradient without overlap.
            for name in ["giou", "diou", "ciou"] {
                assert!(figures::sliding(name, dx).1 > 0.0, "{name} at dx = {dx}");
            }
        }
        let (v, g) = figures::sliding("iou", 5.0);
        assert!(v < 1.0 && g > 0.0);
        // CIoU's aspect term makes it differ from DIoU.
        assert!(figures::sliding("ciou", 0.0).0 > figures::sliding("diou", 0.0).0 + 1e-3);
    }

    #[test]
    fn clipping_cuts_at_the_bounds() {
        let pts = [(0.0, 0.0), (1.0, 2.0), (2.0, 0.0), (3.0, 0.5)];
        let pieces = render::clip_y(&pts, 0.0, 1.0);
        assert_eq!(
            pieces,
            vec![
                vec![(0.0, 0.0), (0.5, 1.0)],
                vec![(1.5, 1.0), (2.0, 0.0), (3.0, 0.5)]
            ]
        );
    }
}
