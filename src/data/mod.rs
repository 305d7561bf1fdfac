//! Data: the first two stages of the pipeline, **load → validate**.
//!
//! A [`DatasetSpec`] (one `[[datasets]]` entry of a config) names a known
//! dataset or gives files; [`load`] resolves it ([`root`]), reads it with the
//! format's reader ([`coco`], [`voc`], [`yolo`] — all producing hotcoco's
//! COCO schema), validates it ([`validate`]) and converts it into detloss's
//! own [`model`].

pub mod boxes;
pub mod coco;
pub mod model;
pub mod root;
pub mod validate;
pub mod voc;
pub mod yolo;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Deserialize;

pub use boxes::{SizeBucket, VocCorners};
pub use model::{BoxRecord, BoxTable, Category, Dataset, Format, ImageInfo, SourceFile};

use crate::error::{Error, Problem, Result};
use root::FormatFiles;

/// One dataset as a config names it: a known name, or files by path.
///
/// ```toml
/// [[datasets]]
/// name = "voc2012-100"      # a known dataset (datasets/manifest.toml) …
/// format = "voc"            # … in one of its formats (default: its default_format)
///
/// [[datasets]]
/// label = "mine"            # … or your own files (paths relative to the config file)
/// format = "coco"
/// gt = "data/instances_val.json"
/// dets = "runs/val/predictions.json"
/// ```
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct DatasetSpec {
    /// A known dataset name (see `detloss datasets`).
    #[serde(default)]
    pub name: Option<String>,
    /// How reports refer to it; unique within a config. Default: the name,
    /// with the format when one is given (`voc2012-100 (voc)`), or the stem of `gt`.
    #[serde(default)]
    pub label: Option<String>,
    /// `coco`, `voc` or `yolo`.
    #[serde(default)]
    pub format: Option<Format>,
    /// Ground truth: COCO instances json, VOC XML folder or YOLO label folder.
    #[serde(default)]
    pub gt: Option<PathBuf>,
    /// COCO results json with detections (also allowed with `name`, to
    /// evaluate your own detections on a known ground truth).
    #[serde(default)]
    pub dets: Option<PathBuf>,
    /// Image folder (required for YOLO: sizes are read from image headers).
    #[serde(default)]
    pub images: Option<PathBuf>,
    /// YOLO class-names file, one name per line.
    #[serde(default)]
    pub names: Option<PathBuf>,
    /// How VOC corners map to pixels: `one_based` (default) or `as_is`.
    #[serde(default)]
    pub voc_corners: VocCorners,
}

impl DatasetSpec {
    /// The label reports use for this dataset.
    pub fn label(&self) -> String {
        if let Some(l) = &self.label {
            return l.clone();
        }
        match (&self.name, self.format, &self.gt) {
            (Some(n), Some(f), _) => format!("{n} ({})", f.name()),
            (Some(n), None, _) => n.clone(),
            (None, _, Some(gt)) => gt
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| gt.display().to_string()),
            (None, _, None) => "unnamed".into(),
        }
    }
}

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
    let gt_path = files.gt.clone();
    let raw = match format {
        Format::Coco => coco::read_instances(&gt_path)?,
        Format::Voc => voc::read_voc(&gt_path, spec.voc_corners)?,
        Format::Yolo => {
            let names = required(
                &files.names,
                "names",
                &label,
                "the YOLO class-names file (obj.names)",
            )?;
            let images = required(&files.images, "images", &label, "the image folder")?;
            yolo::read_yolo(&gt_path, names, images)?
        }
    };
    let mut findings = validate::Findings::default();
    validate::check_ground_truth(&gt_path, &raw, &mut findings);
    let results = match &files.dets {
        Some(p) => {
            let res = coco::read_results(p)?;
            if !findings.has_errors() {
                validate::check_results(p, &raw, &res, &mut findings);
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

fn required<'a>(p: &'a Option<PathBuf>, key: &str, label: &str, what: &str) -> Result<&'a Path> {
    p.as_deref().ok_or_else(|| {
        Error::input(Problem::general(
            format!("dataset `{label}`: format yolo needs `{key}`"),
            format!("set `{key}` to {what}"),
        ))
    })
}

type Located = (String, Format, FormatFiles, Vec<(PathBuf, String)>);

/// Resolves a spec to its format, files and checksums.
fn locate(spec: &DatasetSpec, ctx: &LoadContext) -> Result<Located> {
    let label = spec.label();
    let rel = |p: &PathBuf| {
        if p.is_absolute() {
            p.clone()
        } else {
            ctx.base_dir.join(p)
        }
    };
    match (&spec.name, &spec.gt) {
        (Some(_), Some(_)) => Err(Error::input(Problem::general(
            format!("dataset `{label}` has both `name` and `gt`"),
            "use `name` for a known dataset or `gt` (with `format`) for your own files, not both",
        ))),
        (None, None) => Err(Error::input(Problem::general(
            format!("dataset `{label}` has neither `name` nor `gt`"),
            "set `name` to a known dataset (see `detloss datasets`) or `gt` to a ground-truth file or folder",
        ))),
        (Some(name), None) => {
            if spec.images.is_some() || spec.names.is_some() {
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
            if let Some(d) = &spec.dets {
                let d = rel(d);
                checksums.retain(|(p, _)| Some(p) != files.dets.as_ref());
                checksums.push((d.clone(), root::sha256_path(&d)?));
                files.dets = Some(d);
            }
            Ok((name.clone(), r.format, files, checksums))
        }
        (None, Some(gt)) => {
            let gt = rel(gt);
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
            if spec.dets.is_some() && format != Format::Coco {
                return Err(Error::input(Problem::general(
                    format!("dataset `{label}`: detections are read only with format coco"),
                    "convert the ground truth to COCO json, or drop `dets`",
                )));
            }
            let files = FormatFiles {
                gt,
                dets: spec.dets.as_ref().map(rel),
                images: spec.images.as_ref().map(rel),
                names: spec.names.as_ref().map(rel),
            };
            let mut checksums = Vec::new();
            let keyed = [
                ("gt", Some(&files.gt)),
                ("dets", files.dets.as_ref()),
                ("names", files.names.as_ref()),
                ("images", files.images.as_ref()),
            ];
            for (key, p) in keyed {
                let Some(p) = p else { continue };
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
