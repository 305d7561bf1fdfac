//! Integration tests on the real shared datasets (`../shared/datasets`, see
//! `common::shared_data`).
//!
//! Expected counts are the reference numbers of `datasets/README.md` (also in
//! `datasets/manifest.toml`), which were produced independently of detloss
//! (pycocotools and the original annotation files).

use std::path::{Path, PathBuf};

mod common;
use common::{detloss, shared_data};

use detloss::data::{self, DatasetSpec, Format, LoadContext, VocCorners};
use detloss::experiments::{formats, summary};

fn ctx() -> LoadContext {
    LoadContext {
        data_root: Some(shared_data()),
        base_dir: PathBuf::from("."),
        strict: true,
    }
}

fn known(name: &str, format: Option<Format>) -> data::Dataset {
    let spec = DatasetSpec {
        name: Some(name.into()),
        format,
        ..Default::default()
    };
    data::load(&spec, &ctx()).unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[test]
fn coco_val2014_100_counts() {
    let ds = known("coco-val2014-100", None);
    let s = summary::summarise(&ds, &[0.5]);
    assert_eq!(s.images, 100);
    assert_eq!(s.annotations, 839);
    assert_eq!(s.categories, 80);
    assert_eq!(s.categories_used, 70);
    assert_eq!(s.crowd, 9);
    assert_eq!(s.detections.as_ref().unwrap().count, 734);
    // "734 real detections on 99 images"
    assert_eq!(s.detections.as_ref().unwrap().images_with_detections, 99);
    assert!(ds.warnings.is_empty());
}

#[test]
fn coco_ground_truth_buckets_use_the_area_field_not_the_box() {
    let ds = known("coco-val2014-100", None);
    // COCO's `area` is the mask area, smaller than w·h for most objects.
    let smaller = (0..ds.gt.len())
        .filter(|&i| ds.gt.area[i] < ds.gt.width(i) * ds.gt.height(i))
        .count();
    assert!(smaller > ds.gt.len() / 2, "{smaller}");
    let dets = ds.dets.as_ref().unwrap();
    for i in 0..dets.len() {
        // w·h from the file's [x, y, w, h]; x2 − x1 may differ from w in the last bit.
        let wh = dets.width(i) * dets.height(i);
        assert!(
            (dets.area[i] - wh).abs() <= 1e-9 * wh,
            "{} vs {wh}",
            dets.area[i]
        );
        // load_res numbers detections 1..N in file order.
        assert!(dets.id[i] >= 1 && dets.id[i] <= 734);
    }
}

#[test]
fn voc2012_100_in_all_three_formats() {
    for format in [Format::Coco, Format::Voc, Format::Yolo] {
        let ds = known("voc2012-100", Some(format));
        let s = summary::summarise(&ds, &[0.5]);
        assert_eq!(
            (s.images, s.annotations, s.categories),
            (100, 273, 20),
            "{format:?}"
        );
        // 38 boxes are marked difficult in the XML; the json and txt lose the flag.
        let want_difficult = if format == Format::Voc { 38 } else { 0 };
        assert_eq!(s.difficult, want_difficult, "{format:?}");
        assert_eq!(s.crowd, 0, "{format:?}: difficult must not become crowd");
    }
    assert_eq!(known("voc2012-100", None).dets.unwrap().len(), 452);
}

#[test]
fn voc_formats_agree_once_the_corner_convention_is_chosen() {
    let coco = known("voc2012-100", Some(Format::Coco));
    let yolo = known("voc2012-100", Some(Format::Yolo));
    let voc = known("voc2012-100", Some(Format::Voc));
    let spec = DatasetSpec {
        name: Some("voc2012-100".into()),
        format: Some(Format::Voc),
        voc_corners: VocCorners::AsIs,
        ..Default::default()
    };
    let voc_as_is = data::load(&spec, &ctx()).unwrap();

    // YOLO labels keep six decimals of a normalised coordinate: < 0.5 px on a
    // 500 px image.
    let c = formats::compare(&coco, &yolo, 0.5);
    assert_eq!(c.verdict, "agree");
    assert!(c.max_abs_delta.iter().all(|&d| d < 1e-3), "{c:?}");

    let c = formats::compare(&coco, &voc_as_is, 0.0);
    assert_eq!((c.verdict.as_str(), c.matched), ("agree", 273));

    // The one-based reading moves x1 and y1 by exactly one pixel.
    let c = formats::compare(&coco, &voc, 0.5);
    assert_eq!(c.verdict, "shifted");
    assert_eq!(c.mean_delta, [-1.0, -1.0, 0.0, 0.0]);
    assert_eq!(c.difficult_mismatch, 38);
}

#[test]
fn voc2007_test_ground_truth() {
    let ds = known("voc2007-test", None);
    assert_eq!(
        (ds.images.len(), ds.gt.len(), ds.categories.len()),
        (4952, 14976, 20)
    );
    assert!(ds.dets.is_none());
}

#[test]
fn quickstart_writes_a_report_with_the_reference_counts() {
    shared_data();
    let out = tempfile::tempdir().unwrap();
    let root = env!("CARGO_MANIFEST_DIR");
    let (code, _, err) = detloss(
        &[
            "--config",
            "configs/quickstart.toml",
            "--out",
            out.path().to_str().unwrap(),
            "--quiet",
        ],
        Path::new(root),
    );
    assert_eq!(code, 0, "{err}");
    assert!(err.is_empty(), "--quiet printed: {err}");
    let md = std::fs::read_to_string(out.path().join("quickstart/report.md")).unwrap();
    assert!(
        md.contains("| coco-val2014-100 | coco | 100 | 839 | 80 (70) | 9 |"),
        "{md}"
    );
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.path().join("quickstart/results.json")).unwrap())
            .unwrap();
    assert_eq!(json["schema_version"], 1);
    let voc: Vec<&serde_json::Value> = json["datasets"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["name"] == "voc2012-100")
        .collect();
    assert_eq!(voc.len(), 4);
    for d in voc {
        assert_eq!(
            (d["images"].as_u64(), d["annotations"].as_u64()),
            (Some(100), Some(273))
        );
    }
    assert!(out.path().join("quickstart/config.toml").is_file());
    // [plots] loss_curves = true: six figures, PNG and SVG, shown in the report.
    for name in detloss::plots::FIGURE_NAMES {
        for ext in ["png", "svg"] {
            assert!(
                out.path()
                    .join(format!("quickstart/figures/{name}.{ext}"))
                    .is_file(),
                "{name}.{ext}"
            );
        }
        assert!(
            md.contains(&format!("](figures/{name}.png)")),
            "{name} not in report.md"
        );
    }
}

#[test]
fn results_do_not_depend_on_the_thread_count() {
    shared_data();
    let root = env!("CARGO_MANIFEST_DIR");
    let mut bodies = Vec::new();
    for threads in ["1", "2"] {
        let out = tempfile::tempdir().unwrap();
        let (code, _, err) = detloss(
            &[
                "--config",
                "configs/quickstart.toml",
                "--out",
                out.path().to_str().unwrap(),
                "-q",
                "-j",
                threads,
            ],
            Path::new(root),
        );
        assert_eq!(code, 0, "{err}");
        let mut json: serde_json::Value = serde_json::from_slice(
            &std::fs::read(out.path().join("quickstart/results.json")).unwrap(),
        )
        .unwrap();
        json.as_object_mut().unwrap().remove("header");
        bodies.push(serde_json::to_string(&json).unwrap());
    }
    assert_eq!(bodies[0], bodies[1]);
}

#[test]
fn a_missing_dataset_names_every_path_searched() {
    // Two levels down in a fresh folder, so neither ./datasets nor
    // ../shared/datasets exists whatever the system temp folder holds.
    let root = tempfile::tempdir().unwrap();
    let cwd = root.path().join("a/b");
    std::fs::create_dir_all(&cwd).unwrap();
    let (code, _, err) = detloss(&["validate", "voc2007-test"], &cwd);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("dataset `voc2007-test` not found"), "{err}");
    assert!(err.contains("datasets/voc2007-test (./datasets)"), "{err}");
    assert!(
        err.contains("../shared/datasets/voc2007-test (../shared/datasets)"),
        "{err}"
    );
    assert!(err.contains("fix: copy the folder voc2007-test/"), "{err}");
}

#[test]
fn data_root_comes_first_and_a_changed_file_fails_its_checksum() {
    let shared = shared_data();
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("coco-val2014-100");
    std::fs::create_dir(&dir).unwrap();
    for f in [
        "instances_val2014_100.json",
        "instances_val2014_fakebbox100_results.json",
    ] {
        std::fs::copy(shared.join("coco-val2014-100").join(f), dir.join(f)).unwrap();
    }
    let (code, _, err) = detloss(
        &[
            "validate",
            "coco-val2014-100",
            "--data-root",
            root.path().to_str().unwrap(),
        ],
        Path::new(env!("CARGO_MANIFEST_DIR")),
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("loaded coco-val2014-100: 100 images, 839 boxes"),
        "{err}"
    );

    let f = dir.join("instances_val2014_fakebbox100_results.json");
    let mut text = std::fs::read(&f).unwrap();
    text.push(b'\n');
    std::fs::write(&f, text).unwrap();
    let (code, _, err) = detloss(
        &[
            "validate",
            "coco-val2014-100",
            "--data-root",
            root.path().to_str().unwrap(),
        ],
        Path::new(env!("CARGO_MANIFEST_DIR")),
    );
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("instances_val2014_fakebbox100_results.json: sha256 mismatch"),
        "{err}"
    );
}

#[test]
fn directory_checksums_match_sha256sum_listings() {
    // The manifest's directory digests were computed with coreutils
    // (`find | sort | xargs sha256sum | sha256sum`); loading verifies them.
    let ds = known("voc2012-100", Some(Format::Yolo));
    let images = ds
        .sources
        .iter()
        .find(|s| s.path.ends_with("images"))
        .unwrap();
    assert_eq!(
        images.sha256,
        "04131c4f2170c2ff57e00c34b1c968ba4b46d7d6f27a7ed2bd7df97bc36950f0"
    );
}
