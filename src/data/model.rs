//! detloss's own data model: what the loss kernels, matching and reports read.
//!
//! Every loader (COCO json through hotcoco, Pascal VOC XML, YOLO txt) ends in
//! the same [`Dataset`]: images, categories, and two [`BoxTable`]s (ground truth
//! and, when there are any, detections). A `BoxTable` is struct-of-arrays,
//! xyxy `f64`, sorted by `(image_id, category_id)` with the original record
//! order kept inside each group, and indexed by [`Group`] so that one image ×
//! category cell is a contiguous slice.

use std::fmt;
use std::ops::Range;
use std::str::FromStr;
use std::sync::Arc;

use serde::de;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::boxes::{SizeBucket, xywh_to_xyxy};

/// One image.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ImageInfo {
    /// The image id (COCO `id`; for VOC and YOLO, assigned 1.. in file-name order).
    pub id: u64,
    /// The file name as the source gives it.
    pub file_name: String,
    /// Width in pixels; 0 when the source does not say.
    pub width: u32,
    /// Height in pixels; 0 when the source does not say.
    pub height: u32,
}

/// One category.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Category {
    /// The category id.
    pub id: u64,
    /// Its name.
    pub name: String,
}

/// One row of a [`BoxTable`] before sorting; what loaders produce.
#[derive(Debug, Clone, PartialEq)]
pub struct BoxRecord {
    /// Annotation id (for detections: the 1-based position in the results file).
    pub id: u64,
    /// Image id.
    pub image_id: u64,
    /// Category id.
    pub category_id: u64,
    /// `[x1, y1, x2, y2]` in pixels.
    pub xyxy: [f64; 4],
    /// Detection score; `None` for ground truth.
    pub score: Option<f64>,
    /// COCO `iscrowd`.
    pub iscrowd: bool,
    /// VOC `difficult` (false for formats that have no such flag).
    pub difficult: bool,
    /// The area COCO evaluation uses: the annotation's `area` field for
    /// ground truth, `w · h` for detections.
    pub area: f64,
}

impl BoxRecord {
    /// A ground-truth or detection record from a COCO `[x, y, w, h]` box.
    pub fn from_xywh(id: u64, image_id: u64, category_id: u64, xywh: [f64; 4]) -> Self {
        BoxRecord {
            id,
            image_id,
            category_id,
            xyxy: xywh_to_xyxy(xywh),
            score: None,
            iscrowd: false,
            difficult: false,
            area: xywh[2] * xywh[3],
        }
    }
}

/// The rows of one `(image_id, category_id)` cell of a [`BoxTable`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    /// Image id.
    pub image_id: u64,
    /// Category id.
    pub category_id: u64,
    /// Row range in the table.
    pub rows: Range<usize>,
}

/// Boxes in struct-of-arrays form, sorted by `(image_id, category_id)`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BoxTable {
    /// Annotation ids.
    pub id: Vec<u64>,
    /// Image ids.
    pub image_id: Vec<u64>,
    /// Category ids.
    pub category_id: Vec<u64>,
    /// Left edges.
    pub x1: Vec<f64>,
    /// Top edges.
    pub y1: Vec<f64>,
    /// Right edges.
    pub x2: Vec<f64>,
    /// Bottom edges.
    pub y2: Vec<f64>,
    /// Scores (NaN for ground truth, which has none).
    pub score: Vec<f64>,
    /// COCO `iscrowd` flags.
    pub iscrowd: Vec<bool>,
    /// VOC `difficult` flags.
    pub difficult: Vec<bool>,
    /// The area used for size buckets (see [`BoxRecord::area`]).
    pub area: Vec<f64>,
    /// COCO size bucket of each box, from `area`.
    pub bucket: Vec<SizeBucket>,
    /// Contiguous `(image, category)` cells, in sorted order.
    pub groups: Vec<Group>,
}

impl BoxTable {
    /// Builds the table from records, sorting stably by `(image_id, category_id)`.
    pub fn from_records(mut records: Vec<BoxRecord>) -> Self {
        records.sort_by_key(|r| (r.image_id, r.category_id));
        let mut t = BoxTable::default();
        for r in &records {
            t.id.push(r.id);
            t.image_id.push(r.image_id);
            t.category_id.push(r.category_id);
            t.x1.push(r.xyxy[0]);
            t.y1.push(r.xyxy[1]);
            t.x2.push(r.xyxy[2]);
            t.y2.push(r.xyxy[3]);
            t.score.push(r.score.unwrap_or(f64::NAN));
            t.iscrowd.push(r.iscrowd);
            t.difficult.push(r.difficult);
            t.area.push(r.area);
            t.bucket.push(SizeBucket::from_area(r.area));
        }
        let mut start = 0;
        for i in 1..=records.len() {
            let boundary = i == records.len()
                || (records[i].image_id, records[i].category_id)
                    != (records[start].image_id, records[start].category_id);
            if boundary {
                t.groups.push(Group {
                    image_id: records[start].image_id,
                    category_id: records[start].category_id,
                    rows: start..i,
                });
                start = i;
            }
        }
        t
    }

    /// Number of boxes.
    pub fn len(&self) -> usize {
        self.id.len()
    }

    /// True when there are no boxes.
    pub fn is_empty(&self) -> bool {
        self.id.is_empty()
    }

    /// Box `i` as `[x1, y1, x2, y2]`.
    pub fn xyxy(&self, i: usize) -> [f64; 4] {
        [self.x1[i], self.y1[i], self.x2[i], self.y2[i]]
    }

    /// Width of box `i`.
    pub fn width(&self, i: usize) -> f64 {
        self.x2[i] - self.x1[i]
    }

    /// Height of box `i`.
    pub fn height(&self, i: usize) -> f64 {
        self.y2[i] - self.y1[i]
    }

    /// The rows of one `(image, category)` cell (empty when it has none).
    pub fn cell(&self, image_id: u64, category_id: u64) -> Range<usize> {
        match self
            .groups
            .binary_search_by_key(&(image_id, category_id), |g| (g.image_id, g.category_id))
        {
            Ok(i) => self.groups[i].rows.clone(),
            Err(_) => 0..0,
        }
    }
}

/// Which loader produced a dataset.
///
/// Spelled `coco`, `voc` or `yolo` everywhere (config `format = …`, the
/// manifest, `detloss validate --format`, reports); [`Format::name`] is the one
/// table of those names and [`Format::parse`] the one parser, behind serde,
/// clap ([`FromStr`]) and everything else.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// COCO instances json (+ optional COCO results json).
    Coco,
    /// A folder of Pascal VOC XML files.
    Voc,
    /// A folder of YOLO txt labels, a class-names file and the images.
    Yolo,
}

impl Format {
    /// Every format.
    pub const ALL: [Format; 3] = [Format::Coco, Format::Voc, Format::Yolo];
    /// Their names, in the order of [`Format::ALL`].
    pub const NAMES: [&'static str; 3] =
        [Format::Coco.name(), Format::Voc.name(), Format::Yolo.name()];

    /// `coco`, `voc` or `yolo`.
    pub const fn name(self) -> &'static str {
        match self {
            Format::Coco => "coco",
            Format::Voc => "voc",
            Format::Yolo => "yolo",
        }
    }

    /// The format with this name, if any.
    pub fn parse(name: &str) -> Option<Format> {
        Format::ALL.into_iter().find(|f| f.name() == name)
    }
}

impl FromStr for Format {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        Format::parse(s).ok_or_else(|| format!("expected {}", one_of(&Format::NAMES)))
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Serialize for Format {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for Format {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Format::parse(&s).ok_or_else(|| de::Error::unknown_variant(&s, &Format::NAMES))
    }
}

/// `a`, `a or b`, `a, b or c`: the names a parse error lists.
pub(crate) fn one_of(names: &[&str]) -> String {
    match names {
        [] => String::new(),
        [only] => (*only).to_string(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

/// A checksummed input file (or directory) a dataset was read from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SourceFile {
    /// Path as opened.
    pub path: String,
    /// sha256 of the file, or of the directory listing (see `data::root`).
    pub sha256: String,
}

/// A loaded, validated dataset.
#[derive(Clone)]
pub struct Dataset {
    /// The label the config gives it (unique within a run).
    pub label: String,
    /// The known dataset name, or the label for a dataset given by path.
    pub name: String,
    /// The format it was read from.
    pub format: Format,
    /// Images, sorted by id.
    pub images: Vec<ImageInfo>,
    /// Categories, sorted by id.
    pub categories: Vec<Category>,
    /// Ground-truth boxes.
    pub gt: BoxTable,
    /// Detections, when the dataset has a results file.
    pub dets: Option<BoxTable>,
    /// The ground truth as hotcoco holds it, for evaluation. Behind an `Arc`
    /// because hotcoco's `COCOeval` holds its inputs so: an evaluation shares
    /// this one (`Arc::clone`) instead of copying it. Every annotation has an
    /// `area` (the loader fills missing ones by hotcoco's own rule), so the
    /// evaluator never needs a private copy to fill them in.
    pub coco_gt: Arc<hotcoco::COCO>,
    /// The detections as hotcoco holds them, for evaluation; shared like
    /// `coco_gt` (hotcoco derives every detection's area when it loads them).
    pub coco_dt: Option<Arc<hotcoco::COCO>>,
    /// Files read, with checksums.
    pub sources: Vec<SourceFile>,
    /// The image folder, when the dataset names one.
    pub images_dir: Option<std::path::PathBuf>,
    /// Validation warnings that did not stop the run.
    pub warnings: Vec<crate::error::Problem>,
}

impl std::fmt::Debug for Dataset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dataset")
            .field("label", &self.label)
            .field("format", &self.format)
            .field("images", &self.images.len())
            .field("gt", &self.gt.len())
            .field("dets", &self.dets.as_ref().map(BoxTable::len))
            .finish()
    }
}

impl Dataset {
    /// The image with this id, if any.
    pub fn image(&self, id: u64) -> Option<&ImageInfo> {
        self.images
            .binary_search_by_key(&id, |im| im.id)
            .ok()
            .map(|i| &self.images[i])
    }

    /// The name of a category id (or its id as text when unknown).
    pub fn category_name(&self, id: u64) -> String {
        self.categories
            .binary_search_by_key(&id, |c| c.id)
            .map(|i| self.categories[i].name.clone())
            .unwrap_or_else(|_| id.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_groups_by_image_then_category_keeping_record_order() {
        let rec = |id, img, cat| BoxRecord::from_xywh(id, img, cat, [0.0, 0.0, 2.0, 3.0]);
        let t =
            BoxTable::from_records(vec![rec(1, 2, 1), rec(2, 1, 5), rec(3, 2, 1), rec(4, 1, 1)]);
        assert_eq!(t.id, vec![4, 2, 1, 3]);
        assert_eq!(t.groups.len(), 3);
        assert_eq!(t.cell(2, 1), 2..4);
        assert_eq!(t.cell(3, 1), 0..0);
        assert_eq!(t.area[0], 6.0);
        assert_eq!(t.xyxy(0), [0.0, 0.0, 2.0, 3.0]);
    }

    #[test]
    fn format_names_round_trip_through_every_parser() {
        for (f, name) in Format::ALL.into_iter().zip(Format::NAMES) {
            assert_eq!(f.name(), name);
            assert_eq!(Format::parse(name), Some(f));
            assert_eq!(name.parse::<Format>(), Ok(f));
            assert_eq!(f.to_string(), name);
            let json = serde_json::to_string(&f).unwrap();
            assert_eq!(json, format!("\"{name}\""));
            assert_eq!(serde_json::from_str::<Format>(&json).unwrap(), f);
        }
        assert_eq!(
            "cooc".parse::<Format>(),
            Err("expected coco, voc or yolo".to_string())
        );
        let e = serde_json::from_str::<Format>("\"cooc\"").unwrap_err();
        assert!(
            e.to_string()
                .contains("unknown variant `cooc`, expected one of `coco`, `voc`, `yolo`"),
            "{e}"
        );
    }
}
