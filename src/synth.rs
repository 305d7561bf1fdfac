//! A seeded synthetic COCO set, for benchmarks at a scale the real sets do
//! not reach: `detloss synth --out DIR` writes `instances.json` (ground
//! truth) and `results.json` (detections).
//!
//! Images are 640 × 480 with 1–15 objects of 80 categories, box sides
//! log-uniform in [8, 300] px and a mask-like `area` of 60–100 % of w·h.
//! Each image gets a fixed number of detections: 60 % are jittered copies of
//! a ground-truth box (centre shift ~ 10 % of the size, log-size noise 0.15,
//! the right class 90 % of the time, scores rising with the overlap), the
//! rest background boxes with low scores. The same seed gives the same
//! bytes.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::error::{Error, Result};

/// Sizes of a synthetic set.
#[derive(Debug, Clone, Copy)]
pub struct SynthSpec {
    /// Images.
    pub images: usize,
    /// Detections per image.
    pub dets_per_image: usize,
    /// Seed.
    pub seed: u64,
}

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    }
    fn normal(&mut self) -> f64 {
        let (u, v) = (self.next().max(1e-300), self.next());
        (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
    }
    fn below(&mut self, n: usize) -> usize {
        ((self.next() * n as f64) as usize).min(n - 1)
    }
}

fn round2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

fn clip_box(x: f64, y: f64, w: f64, h: f64) -> [f64; 4] {
    let x1 = x.clamp(0.0, 639.0);
    let y1 = y.clamp(0.0, 479.0);
    let x2 = (x + w).clamp(x1 + 1.0, 640.0);
    let y2 = (y + h).clamp(y1 + 1.0, 480.0);
    [round2(x1), round2(y1), round2(x2 - x1), round2(y2 - y1)]
}

/// Builds the ground truth and the detections as JSON values.
pub fn generate(spec: SynthSpec) -> (Value, Value) {
    let mut rng = Rng(spec.seed);
    let mut images = Vec::with_capacity(spec.images);
    let mut anns = Vec::new();
    let mut dets = Vec::with_capacity(spec.images * spec.dets_per_image);
    for img in 1..=spec.images as u64 {
        images.push(json!({"id": img, "file_name": format!("synth_{img:06}.jpg"), "width": 640, "height": 480}));
        let n = 1 + rng.below(15);
        let mut objects = Vec::with_capacity(n);
        for _ in 0..n {
            let (w, h) = (
                (8f64.ln() + rng.next() * (300f64 / 8.0).ln()).exp(),
                (8f64.ln() + rng.next() * (300f64 / 8.0).ln()).exp(),
            );
            let b = clip_box(
                rng.next() * (640.0 - w.min(630.0)),
                rng.next() * (480.0 - h.min(470.0)),
                w,
                h,
            );
            let cat = 1 + rng.below(80) as u64;
            let area = round2(b[2] * b[3] * (0.6 + 0.4 * rng.next()));
            anns.push(json!({"id": anns.len() as u64 + 1, "image_id": img, "category_id": cat, "bbox": b, "area": area, "iscrowd": 0}));
            objects.push((b, cat));
        }
        for _ in 0..spec.dets_per_image {
            if rng.next() < 0.6 {
                let (b, cat) = objects[rng.below(objects.len())];
                let (cx, cy) = (
                    b[0] + b[2] / 2.0 + 0.1 * b[2] * rng.normal(),
                    b[1] + b[3] / 2.0 + 0.1 * b[3] * rng.normal(),
                );
                let (w, h) = (
                    b[2] * (0.15 * rng.normal()).exp(),
                    b[3] * (0.15 * rng.normal()).exp(),
                );
                let cat = if rng.next() < 0.9 {
                    cat
                } else {
                    1 + rng.below(80) as u64
                };
                let quality = 1.0
                    / (1.0 + ((cx - b[0] - b[2] / 2.0).abs() / b[2] + (w / b[2]).ln().abs()) * 4.0);
                let score = (0.3 + 0.7 * quality * (0.7 + 0.3 * rng.next())).min(0.999);
                dets.push(json!({"image_id": img, "category_id": cat, "bbox": clip_box(cx - w / 2.0, cy - h / 2.0, w, h), "score": (score * 1000.0).round() / 1000.0}));
            } else {
                let (w, h) = (10.0 + rng.next() * 200.0, 10.0 + rng.next() * 200.0);
                let b = clip_box(rng.next() * 600.0, rng.next() * 440.0, w, h);
                dets.push(json!({"image_id": img, "category_id": 1 + rng.below(80) as u64, "bbox": b, "score": (rng.next() * 0.4 * 1000.0).round() / 1000.0}));
            }
        }
    }
    let categories: Vec<Value> = (1..=80)
        .map(|c| json!({"id": c, "name": format!("class_{c:02}")}))
        .collect();
    (
        json!({"images": images, "annotations": anns, "categories": categories}),
        Value::Array(dets),
    )
}

/// Writes `instances.json` and `results.json` into `out_dir`.
pub fn write(out_dir: &Path, spec: SynthSpec) -> Result<[PathBuf; 2]> {
    let (gt, dets) = generate(spec);
    std::fs::create_dir_all(out_dir)
        .map_err(|e| Error::runtime(format!("cannot create {}: {e}", out_dir.display())))?;
    let paths = [out_dir.join("instances.json"), out_dir.join("results.json")];
    for (p, v) in paths.iter().zip([gt, dets]) {
        let bytes =
            serde_json::to_vec(&v).map_err(|e| Error::runtime(format!("cannot serialise: {e}")))?;
        std::fs::write(p, bytes)
            .map_err(|e| Error::runtime(format!("cannot write {}: {e}", p.display())))?;
    }
    Ok(paths)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_set() {
        let s = SynthSpec {
            images: 20,
            dets_per_image: 5,
            seed: 3,
        };
        let (a, b) = generate(s);
        assert_eq!((a.clone(), b.clone()), generate(s));
        assert_eq!(b.as_array().unwrap().len(), 100);
        assert_eq!(a["images"].as_array().unwrap().len(), 20);
        assert_ne!(generate(SynthSpec { seed: 4, ..s }).1, b);
    }
}
