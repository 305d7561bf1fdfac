//! Validation: detloss's own pass over a loaded dataset, after parsing and
//! before anything is computed.
//!
//! Errors stop the run (exit code 2); warnings are counted, summarised and
//! kept in the report, and `--strict` turns them into errors.
//!
//! | rule | ground truth | detections |
//! |---|---|---|
//! | no images at all | error | — |
//! | duplicate image / category / annotation id | error | — (ids are assigned 1..N, as pycocotools does) |
//! | annotation id 0 (pycocotools reads a match with id 0 as "unmatched") | error | — |
//! | missing `bbox` (or `score` for detections) | error | error |
//! | non-finite coordinate, area or score | error | error |
//! | negative width or height | error | error |
//! | zero width or height | warning | warning |
//! | score outside [0, 1] | — | warning |
//! | image or category id not in the ground truth | error | error |
//! | missing `area` (w·h is used for the size bucket) | warning | — |
//! | image without width or height | warning | — |
//! | box more than 10 % of the image size (and ≥ 2 px) outside the image | warning | warning |

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;

use hotcoco::types::{Annotation, Dataset};

use crate::error::{Error, Problem, Result};

/// How far a box may extend beyond the image, as a fraction of its size,
/// before it is reported.
pub const OUTSIDE_FRACTION: f64 = 0.1;
/// … and at least this many pixels.
pub const OUTSIDE_MIN_PIXELS: f64 = 2.0;
/// Problems of one kind listed before the rest are only counted.
const LIST_PER_KIND: usize = 5;

/// Collected problems of one validation pass.
#[derive(Debug, Default)]
pub struct Findings {
    errors: BTreeMap<&'static str, Vec<Problem>>,
    warnings: BTreeMap<&'static str, Vec<Problem>>,
}

impl Findings {
    /// Records an error of a kind (a short phrase used in the summary).
    pub fn error(&mut self, kind: &'static str, p: Problem) {
        self.errors.entry(kind).or_default().push(p);
    }

    /// Records a warning of a kind.
    pub fn warn(&mut self, kind: &'static str, p: Problem) {
        self.warnings.entry(kind).or_default().push(p);
    }

    /// True when an error was recorded.
    pub fn has_errors(&self) -> bool {
        !self.errors.is_empty()
    }

    /// Ends the pass: an input error listing the errors (and, with `strict`,
    /// the warnings), or the warnings to keep.
    pub fn finish(mut self, strict: bool) -> Result<Vec<Problem>> {
        if strict {
            for (kind, ps) in std::mem::take(&mut self.warnings) {
                let ps = ps
                    .into_iter()
                    .map(|mut p| {
                        p.problem = format!("{} (a warning, an error under --strict)", p.problem);
                        p
                    })
                    .collect::<Vec<_>>();
                self.errors.entry(kind).or_default().extend(ps);
            }
        }
        if self.errors.is_empty() {
            return Ok(self.warnings.into_values().flatten().collect());
        }
        let mut listed = Vec::new();
        for (kind, ps) in self.errors {
            let n = ps.len();
            listed.extend(ps.into_iter().take(LIST_PER_KIND));
            if n > LIST_PER_KIND {
                listed.push(Problem::general(
                    format!("… and {} more of the same kind ({kind})", n - LIST_PER_KIND),
                    "",
                ));
            }
        }
        Err(Error::Input(listed))
    }
}

/// Counts warnings by the kind phrase that starts their text, for summaries.
pub fn summarise(warnings: &[Problem]) -> Vec<(String, usize)> {
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for w in warnings {
        let kind = w
            .problem
            .split(':')
            .next()
            .unwrap_or(&w.problem)
            .to_string();
        *counts.entry(kind).or_default() += 1;
    }
    counts.into_iter().collect()
}

fn ann_record(i: usize, a: &Annotation) -> String {
    format!("annotations[{i}] (id {})", a.id)
}

fn res_record(i: usize, a: &Annotation) -> String {
    format!(
        "results[{i}] (image_id {}, category_id {})",
        a.image_id, a.category_id
    )
}

/// Checks a ground-truth dataset in place of hotcoco's silent acceptance.
pub fn validate_ground_truth(file: &Path, ds: &Dataset, f: &mut Findings) {
    if ds.images.is_empty() {
        f.error(
            "no images",
            Problem::in_file(
                file,
                "the ground truth lists no images",
                "a COCO instances file needs `images`, `annotations` and `categories`; check that this is the right file",
            ),
        );
    }
    let mut images = HashMap::new();
    for (i, im) in ds.images.iter().enumerate() {
        if im.width == 0 || im.height == 0 {
            f.warn(
                "image without size",
                Problem::at(
                    file,
                    format!("images[{i}] (id {})", im.id),
                    "image without size: width or height is missing or 0, so its boxes are not checked against it",
                    "give every image its `width` and `height` (VOC: the <size> element)",
                ),
            );
        }
        if images.insert(im.id, (im.width, im.height)).is_some() {
            f.error(
                "duplicate image id",
                Problem::at(
                    file,
                    format!("images[{i}] (id {})", im.id),
                    format!("duplicate image id {}", im.id),
                    "give every image a unique id",
                ),
            );
        }
    }
    let mut cats = HashSet::new();
    for (i, c) in ds.categories.iter().enumerate() {
        if !cats.insert(c.id) {
            f.error(
                "duplicate category id",
                Problem::at(
                    file,
                    format!("categories[{i}] (id {})", c.id),
                    format!("duplicate category id {}", c.id),
                    "give every category a unique id",
                ),
            );
        }
    }
    let mut ann_ids = HashSet::new();
    for (i, a) in ds.annotations.iter().enumerate() {
        let rec = ann_record(i, a);
        if a.id == 0 {
            f.error(
                "annotation id 0",
                Problem::at(
                    file,
                    &rec,
                    "annotation id 0: pycocotools-style matching stores matched ids and reads 0 as \"unmatched\", so this box would silently count as missed",
                    "number annotation ids from 1",
                ),
            );
        } else if !ann_ids.insert(a.id) {
            f.error(
                "duplicate annotation id",
                Problem::at(
                    file,
                    &rec,
                    format!("duplicate annotation id {}", a.id),
                    "give every annotation a unique id (pycocotools indexes annotations by id and keeps only the last)",
                ),
            );
        }
        let size = images.get(&a.image_id).copied();
        if size.is_none() {
            f.error(
                "unknown image id",
                Problem::at(
                    file,
                    &rec,
                    format!("image_id {} is not in `images`", a.image_id),
                    "add the image to `images` or remove the annotation",
                ),
            );
        }
        if !cats.contains(&a.category_id) {
            f.error(
                "unknown category id",
                Problem::at(
                    file,
                    &rec,
                    format!("category_id {} is not in `categories`", a.category_id),
                    "add the category to `categories` or fix the annotation's category_id",
                ),
            );
        }
        match a.area {
            None => f.warn(
                "missing area",
                Problem::at(
                    file,
                    &rec,
                    "missing area: w·h is used for its size bucket (COCO's own `area` is the mask area)",
                    "add `area` to the annotation to match COCO's size buckets",
                ),
            ),
            Some(v) if !v.is_finite() || v < 0.0 => f.error(
                "bad area",
                Problem::at(
                    file,
                    &rec,
                    format!("area {v} is not a finite non-negative number"),
                    "set `area` to the object's pixel area (or w·h)",
                ),
            ),
            Some(_) => {}
        }
        validate_box(file, &rec, a.bbox, size, f);
    }
}

/// Checks detections against the ground truth they will be evaluated on.
pub fn validate_results(file: &Path, gt: &Dataset, res: &[Annotation], f: &mut Findings) {
    let images: HashMap<u64, (u32, u32)> = gt
        .images
        .iter()
        .map(|im| (im.id, (im.width, im.height)))
        .collect();
    let cats: HashSet<u64> = gt.categories.iter().map(|c| c.id).collect();
    for (i, a) in res.iter().enumerate() {
        let rec = res_record(i, a);
        let size = images.get(&a.image_id).copied();
        if size.is_none() {
            f.error(
                "unknown image id",
                Problem::at(
                    file,
                    &rec,
                    format!("image_id {} is not in the ground truth", a.image_id),
                    "check that the results file belongs to this ground-truth split, or remap its image ids",
                ),
            );
        }
        if !cats.contains(&a.category_id) {
            f.error(
                "unknown category id",
                Problem::at(
                    file,
                    &rec,
                    format!("category_id {} is not in the ground truth", a.category_id),
                    "remap the detector's class indices to the ground truth's category ids",
                ),
            );
        }
        match a.score {
            None => f.error(
                "missing score",
                Problem::at(
                    file,
                    &rec,
                    "missing field `score`",
                    "every detection needs a `score` (the detector's confidence)",
                ),
            ),
            Some(s) if !s.is_finite() => f.error(
                "non-finite score",
                Problem::at(
                    file,
                    &rec,
                    format!("score {s} is not finite"),
                    "write finite scores",
                ),
            ),
            Some(s) if !(0.0..=1.0).contains(&s) => f.warn(
                "score outside [0, 1]",
                Problem::at(
                    file,
                    &rec,
                    format!("score outside [0, 1]: {s} (loss tables read scores as probabilities and clamp them)"),
                    "write confidences in [0, 1] (apply the sigmoid or softmax to raw logits)",
                ),
            ),
            Some(_) => {}
        }
        validate_box(file, &rec, a.bbox, size, f);
    }
}

fn validate_box(
    file: &Path,
    rec: &str,
    bbox: Option<[f64; 4]>,
    size: Option<(u32, u32)>,
    f: &mut Findings,
) {
    let Some([x, y, w, h]) = bbox else {
        f.error(
            "missing bbox",
            Problem::at(
                file,
                rec,
                "missing field `bbox`",
                "give every record a `bbox` of [x, y, width, height] in pixels",
            ),
        );
        return;
    };
    if ![x, y, w, h].iter().all(|v| v.is_finite()) {
        f.error(
            "non-finite bbox",
            Problem::at(
                file,
                rec,
                format!("bbox [{x}, {y}, {w}, {h}] has a non-finite number"),
                "write finite coordinates",
            ),
        );
        return;
    }
    if !(x + w).is_finite() || !(y + h).is_finite() {
        f.error(
            "non-finite bbox",
            Problem::at(
                file,
                rec,
                format!("bbox [{x:e}, {y:e}, {w:e}, {h:e}]: x + w or y + h overflows"),
                "write coordinates in pixels",
            ),
        );
        return;
    }
    if w < 0.0 || h < 0.0 {
        f.error(
            "negative box size",
            Problem::at(
                file,
                rec,
                format!("bbox [{x}, {y}, {w}, {h}] has a negative width or height"),
                "COCO boxes are [x, y, width, height]; if yours are [x1, y1, x2, y2], convert them (w = x2 − x1)",
            ),
        );
        return;
    }
    if w == 0.0 || h == 0.0 {
        f.warn(
            "zero-size box",
            Problem::at(
                file,
                rec,
                format!("zero-size box: bbox [{x}, {y}, {w}, {h}] has zero width or height"),
                "drop degenerate boxes or give them a size; their IoU with anything is 0",
            ),
        );
    }
    if let Some((iw, ih)) = size.filter(|&(iw, ih)| iw > 0 && ih > 0) {
        let (iw, ih) = (f64::from(iw), f64::from(ih));
        let tx = (OUTSIDE_FRACTION * iw).max(OUTSIDE_MIN_PIXELS);
        let ty = (OUTSIDE_FRACTION * ih).max(OUTSIDE_MIN_PIXELS);
        if x < -tx || y < -ty || x + w > iw + tx || y + h > ih + ty {
            f.warn(
                "box outside image",
                Problem::at(
                    file,
                    rec,
                    format!(
                        "box outside image: bbox [{x}, {y}, {w}, {h}] reaches well beyond the {iw}×{ih} image"
                    ),
                    "check the box format ([x, y, width, height] in pixels) and the image size",
                ),
            );
        }
    }
}
