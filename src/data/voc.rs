//! Pascal VOC XML folders, read with hotcoco's `convert::voc_to_coco`.
//!
//! hotcoco parses the XML (and reports malformed files with their path and
//! byte position) and applies the one-based pixel rule `x = xmin − 1,
//! w = xmax − xmin + 1`. detloss then applies the configured
//! [`VocCorners`] convention and moves VOC's `difficult` flag out of
//! `iscrowd` (where hotcoco puts it) into an annotation field of its own, so
//! that difficult objects are not treated as COCO crowd regions.

use std::path::Path;

use hotcoco::types::Dataset;

use super::boxes::{VocCorners, xyxy_to_xywh};
use crate::error::{Error, Problem, Result};

/// Reads every `*.xml` in `dir` (or in `dir/Annotations`).
pub fn read_voc(dir: &Path, corners: VocCorners) -> Result<Dataset> {
    if !dir.is_dir() {
        return Err(Error::input(Problem::in_file(
            dir,
            "VOC annotation folder not found (or not a folder)",
            "point `gt` at the folder of VOC .xml files (e.g. VOCdevkit/VOC2012/Annotations)",
        )));
    }
    let mut ds = hotcoco::convert::voc_to_coco(dir).map_err(|e| {
        Error::input(Problem::in_file(
            dir,
            format!("cannot read VOC XML: {e}"),
            "fix the named file: every <object> needs a <name> and a <bndbox> with xmin ≤ xmax, ymin ≤ ymax",
        ))
    })?;
    if ds.images.is_empty() {
        return Err(Error::input(Problem::in_file(
            dir,
            "no .xml files in the VOC annotation folder",
            "point `gt` at the folder that holds the VOC .xml files",
        )));
    }
    for a in &mut ds.annotations {
        if let Some(b) = a.bbox {
            let xyxy = corners.to_xyxy(VocCorners::corners_from_hotcoco(b));
            let xywh = xyxy_to_xywh(xyxy);
            a.bbox = Some(xywh);
            a.area = Some(xywh[2] * xywh[3]);
        }
        a.extra
            .insert("difficult", serde_json::Value::Bool(a.iscrowd));
        a.iscrowd = false;
    }
    Ok(ds)
}
