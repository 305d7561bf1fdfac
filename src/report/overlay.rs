//! Overlay crops: a ground-truth box and a prediction drawn on the image
//! they belong to (Okabe–Ito colours: ground truth blue, prediction orange),
//! cropped around both and scaled to a fixed height.

use std::io::Cursor;
use std::path::Path;

use image::{ImageFormat, Rgb, RgbImage, imageops};

/// Ground truth: blue.
pub const GT_COLOUR: [u8; 3] = [0, 114, 178];
/// Prediction: orange.
pub const PRED_COLOUR: [u8; 3] = [230, 159, 0];
/// Height of every crop, pixels.
pub const CROP_HEIGHT: u32 = 192;

fn rect(img: &mut RgbImage, b: [f64; 4], colour: [u8; 3], thickness: i64) {
    let (w, h) = (img.width() as i64, img.height() as i64);
    let (x1, y1, x2, y2) = (
        b[0].round() as i64,
        b[1].round() as i64,
        b[2].round() as i64,
        b[3].round() as i64,
    );
    let mut put = |x: i64, y: i64| {
        if x >= 0 && y >= 0 && x < w && y < h {
            img.put_pixel(x as u32, y as u32, Rgb(colour));
        }
    };
    for t in 0..thickness {
        for x in x1..=x2 {
            put(x, y1 + t);
            put(x, y2 - t);
        }
        for y in y1..=y2 {
            put(x1 + t, y);
            put(x2 - t, y);
        }
    }
}

/// Draws both boxes on the image at `path` and returns a PNG of the crop
/// around them (20 % margin, at least 8 px), scaled to [`CROP_HEIGHT`].
pub fn draw(path: &Path, pred: [f64; 4], target: [f64; 4]) -> Result<Vec<u8>, String> {
    let mut img = image::open(path)
        .map_err(|e| format!("cannot read image {}: {e}", path.display()))?
        .to_rgb8();
    let thickness = (img.width().max(img.height()) / 250).max(2) as i64;
    rect(&mut img, target, GT_COLOUR, thickness);
    rect(&mut img, pred, PRED_COLOUR, thickness);
    let (ux1, uy1) = (pred[0].min(target[0]), pred[1].min(target[1]));
    let (ux2, uy2) = (pred[2].max(target[2]), pred[3].max(target[3]));
    let mx = ((ux2 - ux1) * 0.2).max(8.0);
    let my = ((uy2 - uy1) * 0.2).max(8.0);
    let clamp = |v: f64, hi: u32| v.max(0.0).min(f64::from(hi)) as u32;
    let (cx1, cy1) = (clamp(ux1 - mx, img.width()), clamp(uy1 - my, img.height()));
    let (cx2, cy2) = (clamp(ux2 + mx, img.width()), clamp(uy2 + my, img.height()));
    let (cw, ch) = ((cx2 - cx1).max(1), (cy2 - cy1).max(1));
    let crop = imageops::crop_imm(&img, cx1, cy1, cw, ch).to_image();
    let width = ((f64::from(cw) * f64::from(CROP_HEIGHT) / f64::from(ch)).round() as u32)
        .clamp(16, 3 * CROP_HEIGHT);
    let scaled = imageops::resize(&crop, width, CROP_HEIGHT, imageops::FilterType::Triangle);
    let mut out = Cursor::new(Vec::new());
    scaled
        .write_to(&mut out, ImageFormat::Png)
        .map_err(|e| format!("cannot encode overlay: {e}"))?;
    Ok(out.into_inner())
}
