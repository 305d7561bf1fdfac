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
    validate_objects(dir, &ds)?;
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

/// hotcoco's reader skips what it cannot parse inside an `<object>`, and a
/// truncated file can end in the middle of one: every `<object>` in a file
/// must have become a box, or the file is reported.
fn validate_objects(dir: &Path, ds: &Dataset) -> Result<()> {
    let ann_dir = if dir.join("Annotations").is_dir() {
        dir.join("Annotations")
    } else {
        dir.to_path_buf()
    };
    let mut files: Vec<std::path::PathBuf> = std::fs::read_dir(&ann_dir)
        .map_err(|e| {
            Error::input(Problem::in_file(
                &ann_dir,
                format!("cannot read: {e}"),
                "check the folder",
            ))
        })?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "xml"))
        .collect();
    files.sort();
    // hotcoco numbers images 1.. in sorted file order.
    for (i, file) in files.iter().enumerate() {
        let text = std::fs::read_to_string(file).map_err(|e| {
            Error::input(Problem::in_file(
                file,
                format!("cannot read: {e}"),
                "check the file",
            ))
        })?;
        let objects = text.matches("<object>").count() + text.matches("<object ").count();
        let image_id = i as u64 + 1;
        let boxes = ds
            .annotations
            .iter()
            .filter(|a| a.image_id == image_id)
            .count();
        if objects != boxes {
            return Err(Error::input(Problem::in_file(
                file,
                format!(
                    "{objects} <object> elements but {boxes} boxes could be read (a truncated or malformed file?)"
                ),
                "every <object> needs a <name> and a complete <bndbox>; restore the file",
            )));
        }
        if !text.contains("</annotation>") {
            return Err(Error::input(Problem::in_file(
                file,
                "the XML ends before </annotation> (a truncated file?)",
                "restore the file",
            )));
        }
    }
    Ok(())
}
