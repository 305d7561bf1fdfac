//! Box conventions and the conversions between them: the one home of every
//! coordinate rule detloss applies while loading.
//!
//! detloss works in **continuous pixel coordinates, xyxy**: `(x1, y1)` is the
//! top-left corner and `(x2, y2)` the bottom-right, so `w = x2 − x1` and the
//! area is `w · h` with no `+1` (the COCO and pycocotools convention).
//!
//! | source | stored as | to xyxy |
//! |---|---|---|
//! | COCO `bbox` | `[x, y, w, h]`, top-left + size | `(x, y, x + w, y + h)` |
//! | YOLO txt | `cx cy w h`, normalised by image size `W × H` | `((cx − w/2)·W, (cy − h/2)·H, (cx + w/2)·W, (cy + h/2)·H)` |
//! | VOC XML | integer pixel indices `xmin ymin xmax ymax`, 1-based, inclusive | see [`VocCorners`] |

use std::fmt;
use std::str::FromStr;

use serde::de;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::model::one_of;

/// `[x, y, w, h]` → `[x1, y1, x2, y2]`.
pub fn xywh_to_xyxy(b: [f64; 4]) -> [f64; 4] {
    [b[0], b[1], b[0] + b[2], b[1] + b[3]]
}

/// `[x1, y1, x2, y2]` → `[x, y, w, h]`.
pub fn xyxy_to_xywh(b: [f64; 4]) -> [f64; 4] {
    [b[0], b[1], b[2] - b[0], b[3] - b[1]]
}

/// YOLO's normalised `(cx, cy, w, h)` on an image of `width × height` pixels → xyxy pixels.
pub fn yolo_to_xyxy(cxcywh: [f64; 4], width: f64, height: f64) -> [f64; 4] {
    let [cx, cy, w, h] = cxcywh;
    [
        (cx - w / 2.0) * width,
        (cy - h / 2.0) * height,
        (cx + w / 2.0) * width,
        (cy + h / 2.0) * height,
    ]
}

/// xyxy pixels → YOLO's normalised `(cx, cy, w, h)` on a `width × height` image.
pub fn xyxy_to_yolo(b: [f64; 4], width: f64, height: f64) -> [f64; 4] {
    [
        (b[0] + b[2]) / 2.0 / width,
        (b[1] + b[3]) / 2.0 / height,
        (b[2] - b[0]) / width,
        (b[3] - b[1]) / height,
    ]
}

/// How the integer corners of a Pascal VOC `<bndbox>` map to continuous
/// coordinates.
///
/// VOC annotates pixel *indices*, 1-based and inclusive: a box with
/// `xmin = 1, xmax = 10` covers ten pixels. Tools disagree on the conversion:
///
/// * [`VocCorners::OneBased`] (detloss's default) — the pixel-exact reading,
///   as in the VOC devkit (`w = xmax − xmin + 1`), Detectron2's
///   `pascal_voc.py` and hotcoco's `voc_to_coco`: `x1 = xmin − 1, x2 = xmax`.
/// * [`VocCorners::AsIs`] — corners taken as they are, `x1 = xmin, x2 = xmax`
///   (`w = xmax − xmin`), as CVAT's and many repositories' COCO/YOLO exports
///   do — including the COCO json and YOLO labels of `voc2012-100`.
///
/// The two differ by one pixel in `x1` and `y1`; `detloss` reports that shift
/// when a config compares formats of one dataset.
///
/// Spelled `one_based` or `as_is` (config `voc_corners = …`,
/// `detloss validate --voc-corners`); [`VocCorners::name`] and
/// [`VocCorners::parse`] are the one table and parser, behind serde and clap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum VocCorners {
    /// `x1 = xmin − 1, y1 = ymin − 1, x2 = xmax, y2 = ymax`.
    #[default]
    OneBased,
    /// `x1 = xmin, y1 = ymin, x2 = xmax, y2 = ymax`.
    AsIs,
}

impl VocCorners {
    /// VOC `(xmin, ymin, xmax, ymax)` → xyxy under this convention.
    pub fn to_xyxy(self, corners: [f64; 4]) -> [f64; 4] {
        let [xmin, ymin, xmax, ymax] = corners;
        match self {
            VocCorners::OneBased => [xmin - 1.0, ymin - 1.0, xmax, ymax],
            VocCorners::AsIs => [xmin, ymin, xmax, ymax],
        }
    }

    /// Recovers the VOC corners from the `[x, y, w, h]` that hotcoco's
    /// `voc_to_coco` produces (it applies the one-based rule: `x = xmin − 1`,
    /// `w = xmax − xmin + 1`).
    pub fn corners_from_hotcoco(xywh: [f64; 4]) -> [f64; 4] {
        let [x, y, w, h] = xywh;
        [x + 1.0, y + 1.0, x + w, y + h]
    }

    /// Both conventions.
    pub const ALL: [VocCorners; 2] = [VocCorners::OneBased, VocCorners::AsIs];
    /// Their names, in the order of [`VocCorners::ALL`].
    pub const NAMES: [&'static str; 2] = [VocCorners::OneBased.name(), VocCorners::AsIs.name()];

    /// The name used in configs and reports: `one_based` or `as_is`.
    pub const fn name(self) -> &'static str {
        match self {
            VocCorners::OneBased => "one_based",
            VocCorners::AsIs => "as_is",
        }
    }

    /// The convention with this name, if any.
    pub fn parse(name: &str) -> Option<VocCorners> {
        VocCorners::ALL.into_iter().find(|c| c.name() == name)
    }
}

impl FromStr for VocCorners {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        VocCorners::parse(s).ok_or_else(|| format!("expected {}", one_of(&VocCorners::NAMES)))
    }
}

impl fmt::Display for VocCorners {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Serialize for VocCorners {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for VocCorners {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        VocCorners::parse(&s).ok_or_else(|| de::Error::unknown_variant(&s, &VocCorners::NAMES))
    }
}

/// COCO's object size buckets, decided by the annotation's `area`.
///
/// `small`: area < 32², `medium`: 32² ≤ area < 96², `large`: area ≥ 96².
/// pycocotools' ranges are inclusive at both ends, so an area of exactly 32²
/// (or 96²) counts in both neighbouring buckets during evaluation; for the
/// per-box label here each box gets exactly one bucket, the upper one.
/// For ground truth the area is the annotation's `area` field (the *mask*
/// area in COCO), for detections `w · h` — as pycocotools uses them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SizeBucket {
    /// area < 32².
    Small,
    /// 32² ≤ area < 96².
    Medium,
    /// area ≥ 96².
    Large,
}

impl SizeBucket {
    /// All buckets, smallest first.
    pub const ALL: [SizeBucket; 3] = [SizeBucket::Small, SizeBucket::Medium, SizeBucket::Large];

    /// The bucket of an object of this area.
    pub fn from_area(area: f64) -> Self {
        if area < 32.0 * 32.0 {
            SizeBucket::Small
        } else if area < 96.0 * 96.0 {
            SizeBucket::Medium
        } else {
            SizeBucket::Large
        }
    }

    /// `small`, `medium` or `large`.
    pub fn name(self) -> &'static str {
        match self {
            SizeBucket::Small => "small",
            SizeBucket::Medium => "medium",
            SizeBucket::Large => "large",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xywh_xyxy_round_trip_by_hand() {
        assert_eq!(
            xywh_to_xyxy([174.0, 101.0, 175.0, 250.0]),
            [174.0, 101.0, 349.0, 351.0]
        );
        assert_eq!(
            xyxy_to_xywh([174.0, 101.0, 349.0, 351.0]),
            [174.0, 101.0, 175.0, 250.0]
        );
    }

    #[test]
    fn yolo_label_of_voc2012_image_27() {
        // 2007_000027.jpg is 486 × 500; its YOLO label is
        // `0 0.538066 0.452000 0.360082 0.500000`, its XML box 174 101 349 351.
        let b = yolo_to_xyxy([0.538066, 0.452, 0.360082, 0.5], 486.0, 500.0);
        let want = [174.0, 101.0, 349.0, 351.0];
        for (got, want) in b.iter().zip(want) {
            // Six decimals of a normalised coordinate on a 486 px image: ±0.0005 px.
            assert!((got - want).abs() < 5e-4, "{b:?}");
        }
        let back = xyxy_to_yolo(want, 486.0, 500.0);
        assert!((back[0] - 0.538066).abs() < 1e-6 && (back[3] - 0.5).abs() < 1e-12);
    }

    #[test]
    fn voc_corner_conventions() {
        let c = [1.0, 1.0, 10.0, 20.0];
        assert_eq!(VocCorners::OneBased.to_xyxy(c), [0.0, 0.0, 10.0, 20.0]);
        assert_eq!(VocCorners::AsIs.to_xyxy(c), [1.0, 1.0, 10.0, 20.0]);
        // hotcoco's voc_to_coco gives [xmin − 1, ymin − 1, xmax − xmin + 1, ymax − ymin + 1].
        assert_eq!(VocCorners::corners_from_hotcoco([0.0, 0.0, 10.0, 20.0]), c);
    }

    #[test]
    fn voc_corner_names_round_trip_through_every_parser() {
        for (c, name) in VocCorners::ALL.into_iter().zip(VocCorners::NAMES) {
            assert_eq!(c.name(), name);
            assert_eq!(name.parse::<VocCorners>(), Ok(c));
            assert_eq!(c.to_string(), name);
            let json = serde_json::to_string(&c).unwrap();
            assert_eq!(serde_json::from_str::<VocCorners>(&json).unwrap(), c);
        }
        assert_eq!(VocCorners::default().name(), "one_based");
        assert_eq!(
            "one-based".parse::<VocCorners>(),
            Err("expected one_based or as_is".to_string())
        );
    }

    #[test]
    fn size_buckets_at_the_edges() {
        assert_eq!(SizeBucket::from_area(1023.9), SizeBucket::Small);
        assert_eq!(SizeBucket::from_area(1024.0), SizeBucket::Medium);
        assert_eq!(SizeBucket::from_area(9215.0), SizeBucket::Medium);
        assert_eq!(SizeBucket::from_area(9216.0), SizeBucket::Large);
    }
}
