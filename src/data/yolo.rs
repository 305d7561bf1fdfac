//! YOLO txt labels: one file per image, one object per line,
//! `class cx cy w h` with the box normalised by the image size.
//!
//! Sizes come from the image files' headers (the `image` crate reads the
//! header only, no pixels are decoded). Class indices are 0-based lines of the
//! class-names file (`obj.names`, `classes.txt`); category ids are index + 1.
//! The label files define the image set: an image with no objects needs an
//! empty `.txt`. hotcoco's `yolo_to_coco` expects an Ultralytics `data.yaml`
//! beside the labels and takes the image sizes as an argument; this reader
//! serves the darknet/CVAT layout (names file + label folder + image folder)
//! and finds the sizes itself.

use std::path::{Path, PathBuf};

use hotcoco::types::{Annotation, Category, Dataset, Image};

use super::boxes::{xyxy_to_xywh, yolo_to_xyxy};
use crate::error::{Error, Problem, Result};

/// Image extensions tried for a label file's stem, in order.
pub const IMAGE_EXTENSIONS: [&str; 4] = ["jpg", "jpeg", "png", "JPG"];

/// Reads the class names: one per non-empty line.
pub fn read_names(path: &Path) -> Result<Vec<String>> {
    let text = String::from_utf8(crate::error::read_input(path, "YOLO class-names file")?)
        .map_err(|_| {
            Error::input(Problem::in_file(
                path,
                "class-names file is not UTF-8 text",
                "write one class name per line, UTF-8",
            ))
        })?;
    let names: Vec<String> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect();
    if names.is_empty() {
        return Err(Error::input(Problem::in_file(
            path,
            "class-names file lists no classes",
            "write one class name per line, in class-index order",
        )));
    }
    Ok(names)
}

/// Reads a YOLO label folder.
pub fn read_yolo(labels: &Path, names: &Path, images: &Path) -> Result<Dataset> {
    let names = read_names(names)?;
    let mut files: Vec<PathBuf> = std::fs::read_dir(labels)
        .map_err(|e| {
            Error::input(Problem::in_file(
                labels,
                format!("cannot read YOLO label folder: {e}"),
                "point `gt` at the folder of YOLO .txt label files",
            ))
        })?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(Error::input(Problem::in_file(
            labels,
            "no .txt label files in the YOLO label folder",
            "point `gt` at the folder that holds the YOLO .txt files",
        )));
    }
    let mut ds = Dataset {
        categories: names
            .iter()
            .enumerate()
            .map(|(i, n)| Category {
                id: i as u64 + 1,
                name: n.clone(),
                ..Default::default()
            })
            .collect(),
        ..Default::default()
    };
    for (i, file) in files.iter().enumerate() {
        let image_id = i as u64 + 1;
        let stem = file
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let (image_path, (width, height)) = image_size(images, &stem, file)?;
        ds.images.push(Image {
            id: image_id,
            file_name: image_path
                .file_name()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default(),
            width,
            height,
            ..Default::default()
        });
        let text = String::from_utf8(crate::error::read_input(file, "YOLO label file")?).map_err(
            |_| {
                Error::input(Problem::in_file(
                    file,
                    "label file is not UTF-8 text",
                    "write `class cx cy w h` lines",
                ))
            },
        )?;
        for (n, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let (class, cxcywh) = parse_line(file, n + 1, line, names.len())?;
            let xywh = xyxy_to_xywh(yolo_to_xyxy(cxcywh, f64::from(width), f64::from(height)));
            ds.annotations.push(Annotation {
                id: ds.annotations.len() as u64 + 1,
                image_id,
                category_id: class as u64 + 1,
                bbox: Some(xywh),
                area: Some(xywh[2] * xywh[3]),
                ..Default::default()
            });
        }
    }
    Ok(ds)
}

fn parse_line(file: &Path, n: usize, line: &str, classes: usize) -> Result<(usize, [f64; 4])> {
    let err = |problem: String, fix: &str| {
        Error::input(Problem::at(file, format!("line {n}"), problem, fix))
    };
    let fields: Vec<&str> = line.split_whitespace().collect();
    if fields.len() != 5 {
        return Err(err(
            format!(
                "expected 5 fields `class cx cy w h`, found {}: `{line}`",
                fields.len()
            ),
            "write one object per line: class index, then centre x, centre y, width, height normalised to [0, 1]",
        ));
    }
    let class: usize = fields[0].parse().map_err(|_| {
        err(
            format!("class index `{}` is not a non-negative integer", fields[0]),
            "the first field is the 0-based line of the class in the names file",
        )
    })?;
    if class >= classes {
        return Err(err(
            format!("class index {class} is out of range: the names file lists {classes} classes"),
            "fix the class index or add the class to the names file",
        ));
    }
    let mut v = [0.0; 4];
    for (k, (slot, name)) in v.iter_mut().zip(["cx", "cy", "w", "h"]).enumerate() {
        let s = fields[k + 1];
        *slot = s
            .parse::<f64>()
            .ok()
            .filter(|x| x.is_finite())
            .ok_or_else(|| {
                err(
                    format!("{name} `{s}` is not a finite number"),
                    "write decimal numbers",
                )
            })?;
    }
    if v[2] < 0.0 || v[3] < 0.0 {
        return Err(err(
            format!("negative box size w = {}, h = {}", v[2], v[3]),
            "YOLO boxes are `cx cy w h` with w, h ≥ 0, normalised by the image size",
        ));
    }
    Ok((class, v))
}

fn image_size(images: &Path, stem: &str, label: &Path) -> Result<(PathBuf, (u32, u32))> {
    let Some(path) = IMAGE_EXTENSIONS
        .iter()
        .map(|ext| images.join(format!("{stem}.{ext}")))
        .find(|p| p.is_file())
    else {
        return Err(Error::input(Problem::in_file(
            label,
            format!(
                "no image for this label file: looked for {stem}.{{{}}} in {}",
                IMAGE_EXTENSIONS.join(","),
                images.display()
            ),
            "YOLO boxes are normalised, so detloss needs each image's size: point `images` at the image folder",
        )));
    };
    let dims = image::image_dimensions(&path).map_err(|e| {
        Error::input(Problem::in_file(
            &path,
            format!("cannot read the image header: {e}"),
            "replace the file with a readable JPEG or PNG",
        ))
    })?;
    Ok((path, dims))
}
