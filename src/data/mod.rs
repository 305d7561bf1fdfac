//! Data: the first two stages of the pipeline, **load → validate**.
//!
//! A [`DatasetSpec`] (one `[[datasets]]` entry of a config, see [`spec`]) names
//! a known dataset or gives files ([`DatasetFiles`]); [`load`] resolves it
//! ([`root`]), reads it with the format's reader ([`coco`], [`voc`], [`yolo`] —
//! all producing hotcoco's COCO schema), validates it ([`validate`]) and
//! converts it into detloss's own [`model`].

pub mod boxes;
pub mod coco;
pub mod model;
pub mod root;
pub mod spec;
pub mod validate;
pub mod voc;
pub mod yolo;

use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use boxes::{SizeBucket, VocCorners};
pub use model::{BoxRecord, BoxTable, Category, Dataset, Format, ImageInfo, SourceFile};
pub use spec::{DatasetFiles, DatasetSpec};

use crate::error::{Error, Problem, Result};

/// What loading needs besides the spec.
#[derive(Debug, Clone, Default)]
pub struct LoadContext {
    /// `--data-root`, if given.
    pub data_root: Option<PathBuf>,
    /// Folder that relative paths in the spec are relative to (the config's).
    pub base_dir: PathBuf,
    /// `--strict`: warnings are errors.
    pub strict: bool,
}

/// Loads, checks and converts one dataset.
pub fn load(spec: &DatasetSpec, ctx: &LoadContext) -> Result<Dataset> {
    let label = spec.label();
    let (name, format, files, checksums) = locate(spec, ctx)?;
    let gt_path = required(&files.gt, format, "gt", &label, "the ground truth")?;
    let raw = match format {
        Format::Coco => coco::read_instances(gt_path)?,
        Format::Voc => voc::read_voc(gt_path, spec.voc_corners)?,
        Format::Yolo => {
            let names = required(
                &files.names,
                format,
                "names",
                &label,
                "the YOLO class-names file (obj.names)",
            )?;
            let images = required(&files.images, format, "images", &label, "the image folder")?;
            yolo::read_yolo(gt_path, names, images)?
        }
    };
    let mut findings = validate::Findings::default();
    validate::validate_ground_truth(gt_path, &raw, &mut findings);
    let results = match &files.dets {
        Some(p) => {
            let res = coco::read_results(p)?;
            if !findings.has_errors() {
                validate::validate_results(p, &raw, &res, &mut findings);
            }
            Some(res)
        }
        None => None,
    };
    let warnings = findings.finish(ctx.strict)?;

    let mut images: Vec<ImageInfo> = raw
        .images
        .iter()
        .map(|im| ImageInfo {
            id: im.id,
            file_name: im.file_name.clone(),
            width: im.width,
            height: im.height,
        })
        .collect();
    images.sort_by_key(|im| im.id);
    let mut categories: Vec<Category> = raw
        .categories
        .iter()
        .map(|c| Category {
            id: c.id,
            name: c.name.clone(),
        })
        .collect();
    categories.sort_by_key(|c| c.id);
    let gt = BoxTable::from_records(raw.annotations.iter().map(|a| record(a, false)).collect());
    let mut coco_gt = hotcoco::COCO::from_dataset(raw);
    let (dets, coco_dt) = match results {
        Some(res) => {
            let dt = coco_gt.load_res_anns(res).map_err(|e| {
                Error::runtime(format!("hotcoco rejected the detections of {label}: {e}"))
            })?;
            let table = BoxTable::from_records(
                dt.dataset
                    .annotations
                    .iter()
                    .map(|a| record(a, true))
                    .collect(),
            );
            (Some(table), Some(Arc::new(dt)))
        }
        None => (None, None),
    };
    // What `COCOeval::new` would do to its own copy of a shared ground truth
    // with a missing `area`; done once here, the copy is never needed.
    coco_gt.fill_missing_areas();
    Ok(Dataset {
        label,
        name,
        format,
        images,
        categories,
        gt,
        dets,
        coco_gt: Arc::new(coco_gt),
        coco_dt,
        sources: checksums
            .into_iter()
            .map(|(p, sha256)| SourceFile {
                path: p.display().to_string(),
                sha256,
            })
            .collect(),
        images_dir: files.images.clone(),
        warnings,
    })
}

/// A file the format needs. A dataset given by path always has `gt`, and
/// every format of the manifest names one (a unit test of `root` checks).
fn required<'a>(
    p: &'a Option<PathBuf>,
    format: Format,
    key: &str,
    label: &str,
    what: &str,
) -> Result<&'a Path> {
    p.as_deref().ok_or_else(|| {
        Error::input(Problem::general(
            format!("dataset `{label}`: format {format} needs `{key}`"),
            format!("set `{key}` to {what}"),
        ))
    })
}

type Located = (String, Format, DatasetFiles, Vec<(PathBuf, String)>);

/// Resolves a spec to its format, files and checksums.
fn locate(spec: &DatasetSpec, ctx: &LoadContext) -> Result<Located> {
    let label = spec.label();
    match (&spec.name, &spec.files.gt) {
        (Some(_), Some(_)) => Err(Error::input(Problem::general(
            format!("dataset `{label}` has both `name` and `gt`"),
            "use `name` for a known dataset or `gt` (with `format`) for your own files, not both",
        ))),
        (None, None) => Err(Error::input(Problem::general(
            format!("dataset `{label}` has neither `name` nor `gt`"),
            "set `name` to a known dataset (see `detloss datasets`) or `gt` to a ground-truth file or folder",
        ))),
        (Some(name), None) => {
            if spec.files.images.is_some() || spec.files.names.is_some() {
                return Err(Error::input(Problem::general(
                    format!(
                        "dataset `{label}`: `images` and `names` come from the manifest for a known dataset"
                    ),
                    "remove them, or give every file by path with `gt` instead of `name`",
                )));
            }
            let r = root::resolve(name, spec.format, ctx.data_root.as_deref())?;
            let mut files = r.files;
            let mut checksums = r.checksums;
            if let Some(d) = &spec.files.dets {
                // Relative to the config's folder; an absolute path stays.
                let d = ctx.base_dir.join(d);
                checksums.retain(|(p, _)| Some(p) != files.dets.as_ref());
                checksums.push((d.clone(), root::sha256_path(&d)?));
                files.dets = Some(d);
            }
            Ok((name.clone(), r.format, files, checksums))
        }
        (None, Some(gt)) => {
            // Relative paths are relative to the config's folder; absolute ones stay.
            let files = spec.files.joined(&ctx.base_dir);
            let gt = ctx.base_dir.join(gt);
            let format = match spec.format {
                Some(f) => f,
                None if gt.is_dir() => {
                    return Err(Error::input(Problem::in_file(
                        &gt,
                        format!("dataset `{label}`: `gt` is a folder but no `format` is given"),
                        "set `format = \"voc\"` (XML folder) or `format = \"yolo\"` (txt label folder)",
                    )));
                }
                None => Format::Coco,
            };
            if files.dets.is_some() && format != Format::Coco {
                return Err(Error::input(Problem::general(
                    format!("dataset `{label}`: detections are read only with format coco"),
                    "convert the ground truth to COCO json, or drop `dets`",
                )));
            }
            let mut checksums = Vec::new();
            for (key, p) in files.entries() {
                if !p.exists() {
                    return Err(Error::input(Problem::in_file(
                        p,
                        format!("dataset `{label}`: `{key}` does not exist"),
                        if ctx.base_dir.as_os_str().is_empty() {
                            format!("fix the `{key}` path")
                        } else {
                            format!(
                                "fix the `{key}` path (relative paths are relative to the config's folder, {})",
                                ctx.base_dir.display()
                            )
                        },
                    )));
                }
                checksums.push((p.to_path_buf(), root::sha256_path(p)?));
            }
            Ok((label, format, files, checksums))
        }
    }
}

fn record(a: &hotcoco::types::Annotation, is_det: bool) -> BoxRecord {
    let xywh = a.bbox.unwrap_or([0.0; 4]);
    let mut r = BoxRecord::from_xywh(a.id, a.image_id, a.category_id, xywh);
    r.score = if is_det { a.score } else { None };
    r.iscrowd = a.iscrowd;
    r.difficult = a
        .extra
        .get("difficult")
        .is_some_and(|v| v.as_bool().unwrap_or(false) || v.as_f64().is_some_and(|x| x != 0.0));
    if let Some(area) = a.area {
        r.area = area;
    }
    r
}
