//! The bad-input corpus: every file under `tests/data/bad/` must be rejected
//! with exit code 2 and a message that names the file and the problem.
//!
//! One test per bad file (or per bad folder for VOC and YOLO). Results files
//! are checked against the small valid ground truth in `tests/data/good/`.

use std::path::Path;

mod common;

const BAD: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/bad");
const GOOD: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/good");

/// Runs the binary; returns its exit code and stderr.
fn run(args: &[&str]) -> (i32, String) {
    let (code, _, err) = common::detloss(args, Path::new(env!("CARGO_MANIFEST_DIR")));
    (code, err)
}

fn bad(rel: &str) -> String {
    format!("{BAD}/{rel}")
}

fn good(rel: &str) -> String {
    format!("{GOOD}/{rel}")
}

/// Asserts an input error (exit 2) whose stderr names every one of `names`
/// (the file, and its folder where the file name alone is ambiguous) and
/// contains every phrase of `problem`.
fn assert_input_error(args: &[&str], names: &[&str], problem: &[&str]) {
    let (code, err) = run(args);
    assert_eq!(
        code,
        2,
        "exit code of `detloss {}`; stderr:\n{err}",
        args.join(" ")
    );
    for n in names {
        assert!(err.contains(n), "stderr does not name `{n}`:\n{err}");
    }
    for p in problem {
        assert!(err.contains(p), "stderr lacks `{p}`:\n{err}");
    }
}

/// A COCO ground-truth file, validated on its own.
fn gt(file: &str, problem: &[&str]) {
    assert_input_error(&["validate", "--gt", &bad(file)], &[file], problem);
}

/// A COCO ground-truth file under `--strict`.
fn gt_strict(file: &str, problem: &[&str]) {
    let problem = [problem, &["an error under --strict"]].concat();
    assert_input_error(
        &["--strict", "validate", "--gt", &bad(file)],
        &[file],
        &problem,
    );
}

/// A COCO results file, validated against `good/tiny_gt.json`.
fn dets(file: &str, problem: &[&str]) {
    let args = [
        "validate",
        "--gt",
        &good("tiny_gt.json"),
        "--dets",
        &bad(file),
    ];
    assert_input_error(&args, &[file], problem);
}

/// A VOC XML folder; `xml` is the bad file in it.
fn voc(dir: &str, xml: &str, problem: &[&str]) {
    let args = ["validate", "--format", "voc", "--gt", &bad(dir)];
    assert_input_error(&args, &[dir, xml], problem);
}

/// A YOLO case folder (`labels/`, `images/`, `obj.names`); `label` is the
/// bad label file in `labels/`.
fn yolo(dir: &str, label: &str, problem: &[&str]) {
    let args = [
        "validate",
        "--format",
        "yolo",
        "--gt",
        &bad(&format!("{dir}/labels")),
        "--images",
        &bad(&format!("{dir}/images")),
        "--names",
        &bad(&format!("{dir}/obj.names")),
    ];
    assert_input_error(&args, &[dir, label], problem);
}

/// A config run into a temporary report folder, which must stay empty.
///
/// Every bad config is rejected before any dataset is read, so these tests
/// need no data.
fn config(file: &str, problem: &[&str]) {
    let out = tempfile::tempdir().expect("temp dir");
    let out_dir = out.path().to_str().expect("UTF-8 temp path");
    let args = ["--config", &bad(file), "--out", out_dir];
    assert_input_error(&args, &[file], problem);
    let written = std::fs::read_dir(out.path()).expect("temp dir").count();
    assert_eq!(written, 0, "a failed run wrote into --out");
}

// ---- the good pair ----

#[test]
fn good_tiny_gt_and_dets_validate() {
    assert!(Path::new(&good("tiny_gt.json")).is_file());
    let (code, err) = run(&[
        "--strict",
        "validate",
        "--gt",
        &good("tiny_gt.json"),
        "--dets",
        &good("tiny_dets.json"),
    ]);
    assert_eq!(code, 0, "stderr:\n{err}");
}

// ---- COCO ground truth: parsing ----

#[test]
fn gt_syntax_error_names_line_and_column() {
    gt(
        "gt_syntax_error.json",
        &["line 9, column 47", "invalid JSON", "key must be a string"],
    );
}

#[test]
fn gt_truncated() {
    gt("gt_truncated.json", &["invalid JSON", "EOF while parsing"]);
}

#[test]
fn gt_is_results_list() {
    gt(
        "gt_is_results_list.json",
        &["not a COCO instances file", "must be a JSON object"],
    );
}

#[test]
fn gt_ann_missing_image_id() {
    gt(
        "gt_ann_missing_image_id.json",
        &["annotations[1] (id 2)", "missing field `image_id`"],
    );
}

#[test]
fn gt_ann_missing_category_id() {
    gt(
        "gt_ann_missing_category_id.json",
        &["annotations[1] (id 2)", "missing field `category_id`"],
    );
}

#[test]
fn gt_image_missing_id() {
    gt(
        "gt_image_missing_id.json",
        &["images[1]", "missing field `id`"],
    );
}

#[test]
fn gt_image_id_string() {
    gt(
        "gt_image_id_string.json",
        &["images[1]", "invalid type: string \"2\""],
    );
}

#[test]
fn gt_bbox_string() {
    gt(
        "gt_bbox_string.json",
        &[
            "annotations[1] (id 2)",
            "invalid type: string",
            "array of length 4",
        ],
    );
}

#[test]
fn gt_area_nan() {
    gt(
        "gt_area_nan.json",
        &[
            "annotations[1] (id 2), field `area`",
            "non-finite number `NaN`",
        ],
    );
}

// ---- COCO ground truth: validation ----

#[test]
fn gt_negative_width() {
    gt(
        "gt_negative_width.json",
        &["annotations[1] (id 2)", "negative width or height"],
    );
}

#[test]
fn gt_duplicate_annotation_id() {
    gt(
        "gt_duplicate_annotation_id.json",
        &["annotations[1] (id 1)", "duplicate annotation id 1"],
    );
}

#[test]
fn gt_duplicate_image_id() {
    gt(
        "gt_duplicate_image_id.json",
        &["images[1] (id 1)", "duplicate image id 1"],
    );
}

#[test]
fn gt_annotation_id_zero() {
    gt(
        "gt_annotation_id_zero.json",
        &["annotations[0] (id 0)", "annotation id 0"],
    );
}

#[test]
fn gt_ann_unknown_image() {
    gt(
        "gt_ann_unknown_image.json",
        &["annotations[1] (id 2)", "image_id 7 is not in `images`"],
    );
}

#[test]
fn gt_ann_unknown_category() {
    gt(
        "gt_ann_unknown_category.json",
        &[
            "annotations[1] (id 2)",
            "category_id 9 is not in `categories`",
        ],
    );
}

#[test]
fn gt_negative_area() {
    gt(
        "gt_negative_area.json",
        &[
            "annotations[1] (id 2)",
            "area -5 is not a finite non-negative number",
        ],
    );
}

#[test]
fn gt_zero_size_box_strict() {
    gt_strict(
        "gt_zero_size_box.json",
        &["annotations[1] (id 2)", "zero-size box"],
    );
}

#[test]
fn gt_box_outside_image_strict() {
    gt_strict(
        "gt_box_outside_image.json",
        &["annotations[1] (id 2)", "box outside image", "100×80 image"],
    );
}

#[test]
fn gt_zero_size_box_is_a_warning_without_strict() {
    let (code, err) = run(&["validate", "--gt", &bad("gt_zero_size_box.json")]);
    assert_eq!(code, 0, "stderr:\n{err}");
    assert!(err.contains("warning: zero-size box"), "stderr:\n{err}");
}

#[test]
fn gt_box_outside_image_is_a_warning_without_strict() {
    let (code, err) = run(&["validate", "--gt", &bad("gt_box_outside_image.json")]);
    assert_eq!(code, 0, "stderr:\n{err}");
    assert!(err.contains("warning: box outside image"), "stderr:\n{err}");
}

// ---- COCO results (against good/tiny_gt.json) ----

#[test]
fn dets_is_object() {
    dets("dets_is_object.json", &["missing field `annotations`"]);
}

#[test]
fn dets_missing_image_id() {
    dets(
        "dets_missing_image_id.json",
        &["results[1]", "missing field `image_id`"],
    );
}

#[test]
fn dets_missing_bbox() {
    dets(
        "dets_missing_bbox.json",
        &[
            "results[1] (image_id 1, category_id 1)",
            "missing field `bbox`",
        ],
    );
}

#[test]
fn dets_missing_score() {
    dets(
        "dets_missing_score.json",
        &[
            "results[1] (image_id 1, category_id 1)",
            "missing field `score`",
        ],
    );
}

#[test]
fn dets_bbox_three_numbers() {
    dets(
        "dets_bbox_three_numbers.json",
        &["results[1]", "invalid length 3", "array of length 4"],
    );
}

#[test]
fn dets_bbox_nan() {
    dets(
        "dets_bbox_nan.json",
        &[
            "results[1] (image_id 2), field `bbox`",
            "non-finite number `NaN`",
        ],
    );
}

#[test]
fn dets_score_infinity() {
    dets(
        "dets_score_infinity.json",
        &[
            "results[1] (image_id 2), field `score`",
            "non-finite number `Infinity`",
        ],
    );
}

#[test]
fn dets_negative_height() {
    dets(
        "dets_negative_height.json",
        &[
            "results[1] (image_id 2, category_id 1)",
            "negative width or height",
        ],
    );
}

#[test]
fn dets_unknown_image_id() {
    dets(
        "dets_unknown_image_id.json",
        &["results[1]", "image_id 42 is not in the ground truth"],
    );
}

#[test]
fn dets_unknown_category_id() {
    dets(
        "dets_unknown_category_id.json",
        &["results[1]", "category_id 17 is not in the ground truth"],
    );
}

// ---- VOC XML folders ----

#[test]
fn voc_malformed_xml() {
    voc(
        "voc_malformed",
        "000002.xml",
        &["XML error", "expected `</name>`"],
    );
}

#[test]
fn voc_inverted_box() {
    voc(
        "voc_inverted_box",
        "000002.xml",
        &["inverted <bndbox>", "xmin 60, xmax 20"],
    );
}

#[test]
fn voc_missing_bndbox() {
    voc(
        "voc_missing_bndbox",
        "000002.xml",
        &["<object> `dog` has no <bndbox>"],
    );
}

// ---- YOLO label folders ----

#[test]
fn yolo_wrong_field_count() {
    yolo(
        "yolo_wrong_field_count",
        "img1.txt",
        &["line 2", "expected 5 fields", "found 4"],
    );
}

#[test]
fn yolo_class_out_of_range() {
    yolo(
        "yolo_class_out_of_range",
        "img1.txt",
        &["line 2", "class index 2 is out of range", "lists 2 classes"],
    );
}

#[test]
fn yolo_non_numeric_field() {
    yolo(
        "yolo_non_numeric",
        "img1.txt",
        &["line 2", "cy `abc` is not a finite number"],
    );
}

#[test]
fn yolo_negative_size() {
    yolo(
        "yolo_negative_size",
        "img1.txt",
        &["line 2", "negative box size w = -0.25"],
    );
}

#[test]
fn yolo_label_without_image() {
    yolo(
        "yolo_no_image",
        "img2.txt",
        &["no image for this label file", "img2.{jpg,jpeg,png,JPG}"],
    );
}

// ---- configs ----

#[test]
fn config_unknown_key_names_line_and_valid_keys() {
    config(
        "config_unknown_key.toml",
        &[
            "line 3, column 1",
            "unknown field `fromat`",
            "expected one of",
            "`format`",
            "`voc_corners`",
        ],
    );
}

#[test]
fn config_unknown_dataset_name() {
    config(
        "config_unknown_dataset.toml",
        &[
            "unknown dataset name `coco-val2099-100`",
            "coco-val2014-100",
        ],
    );
}

#[test]
fn config_duplicate_label() {
    config(
        "config_duplicate_label.toml",
        &["datasets[1]", "label `coco-val2014-100` is used twice"],
    );
}

#[test]
fn config_compare_formats_unknown_label() {
    config(
        "config_compare_unknown_label.toml",
        &[
            "compare_formats[0]",
            "`c` is not the label of a dataset",
            "use one of: a, b",
        ],
    );
}

#[test]
fn config_dataset_with_name_and_gt() {
    config("config_name_and_gt.toml", &["has both `name` and `gt`"]);
}

#[test]
fn gt_empty_object() {
    gt(
        "gt_empty_object.json",
        &["the ground truth lists no images"],
    );
}

/// A pairs file for `detloss loss`.
fn pairs(file: &str, problem: &[&str]) {
    let out = tempfile::tempdir().expect("temp dir");
    let out_file = out.path().join("out.json");
    let args = [
        "loss",
        "--name",
        "giou",
        "--input",
        &bad(file),
        "--output",
        out_file.to_str().expect("UTF-8 temp path"),
    ];
    assert_input_error(&args, &[file], problem);
    assert!(!out_file.exists(), "an output was written for a bad input");
}

#[test]
fn pairs_length_mismatch() {
    pairs(
        "pairs_length_mismatch.json",
        &["2 predictions but 1 targets"],
    );
}

#[test]
fn pairs_three_numbers() {
    pairs(
        "pairs_three_numbers.json",
        &["pred[0]", "a box needs 4 numbers, found 3"],
    );
}

#[test]
fn pairs_missing_target() {
    pairs("pairs_missing_target.json", &["missing field `target`"]);
}

#[test]
fn voc_truncated_inside_an_object() {
    voc(
        "voc_truncated",
        "000002.xml",
        &["2 <object> elements but 1 boxes could be read"],
    );
}

#[test]
fn dets_score_above_one_under_strict() {
    let args = [
        "--strict",
        "validate",
        "--gt",
        &good("tiny_gt.json"),
        "--dets",
        &bad("dets_score_above_one.json"),
    ];
    assert_input_error(
        &args,
        &["dets_score_above_one.json"],
        &["score outside [0, 1]: 1.5", "results[0]"],
    );
}

#[test]
fn gt_bbox_overflow() {
    gt(
        "gt_bbox_overflow.json",
        &["annotations[0] (id 1)", "overflows"],
    );
}

#[test]
fn baseline_wrong_schema() {
    let out = tempfile::tempdir().expect("temp dir");
    let args = [
        "--config",
        concat!(env!("CARGO_MANIFEST_DIR"), "/configs/ci.toml"),
        "--out",
        out.path().to_str().expect("UTF-8 temp path"),
        "--check",
        &bad("baseline_wrong_schema.json"),
    ];
    assert_input_error(
        &args,
        &["baseline_wrong_schema.json"],
        &["schema_version` is 2", "--bless"],
    );
}
