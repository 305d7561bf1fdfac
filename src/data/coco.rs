//! COCO instances and results files, parsed into hotcoco's schema types.
//!
//! The schema is hotcoco's (`hotcoco::types::{Dataset, Annotation}`), so what
//! loads here loads exactly as hotcoco and pycocotools read it. When a file
//! does not parse, this module finds out where and why: the line and column of
//! a syntax error, the record (section, index, id) and field of a missing or
//! mistyped value, and the place of a non-finite number (`NaN`, `Infinity`,
//! which JSON does not allow).

use std::path::Path;

use hotcoco::types::{Annotation, Category, Dataset, Image};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::{Problem, Result};

/// Parses a COCO instances (ground-truth) file.
pub fn parse_instances(path: &Path, bytes: &[u8]) -> std::result::Result<Dataset, Problem> {
    if first_byte(bytes) != Some(b'{') {
        return Err(Problem::in_file(
            path,
            "not a COCO instances file: the top level must be a JSON object with `images`, `annotations` and `categories`",
            "pass the ground-truth instances json here (a results list goes in `dets`)",
        ));
    }
    serde_json::from_slice::<Dataset>(bytes)
        .map_err(|e| diagnose(path, bytes, &e, Layout::Instances))
}

/// Parses a COCO results file: a JSON list of detections, or an object with
/// an `annotations` list.
pub fn parse_results(path: &Path, bytes: &[u8]) -> std::result::Result<Vec<Annotation>, Problem> {
    match first_byte(bytes) {
        Some(b'[') => serde_json::from_slice::<Vec<Annotation>>(bytes)
            .map_err(|e| diagnose(path, bytes, &e, Layout::ResultsList)),
        Some(b'{') => {
            #[derive(serde::Deserialize)]
            struct Wrapped {
                annotations: Vec<Annotation>,
            }
            serde_json::from_slice::<Wrapped>(bytes)
                .map(|w| w.annotations)
                .map_err(|e| diagnose(path, bytes, &e, Layout::ResultsObject))
        }
        _ => Err(Problem::in_file(
            path,
            "not a COCO results file: the top level must be a JSON list of {image_id, category_id, bbox, score}",
            "write the detections as a JSON list (the format pycocotools' loadRes reads)",
        )),
    }
}

/// Reads and parses an instances file; `Err` carries the problem.
pub fn read_instances(path: &Path) -> Result<Dataset> {
    let bytes = crate::error::read_input(path, "COCO instances file")?;
    parse_instances(path, &bytes).map_err(crate::error::Error::input)
}

/// Reads and parses a results file.
pub fn read_results(path: &Path) -> Result<Vec<Annotation>> {
    let bytes = crate::error::read_input(path, "COCO results file")?;
    parse_results(path, &bytes).map_err(crate::error::Error::input)
}

fn first_byte(bytes: &[u8]) -> Option<u8> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    bytes.iter().copied().find(|b| !b.is_ascii_whitespace())
}

#[derive(Clone, Copy)]
enum Layout {
    Instances,
    ResultsList,
    ResultsObject,
}

/// Turns a serde error on the whole file into a precise problem.
fn diagnose(path: &Path, bytes: &[u8], e: &serde_json::Error, layout: Layout) -> Problem {
    let at = format!("line {}, column {}", e.line(), e.column());
    if e.is_syntax() || e.is_eof() {
        let (cleaned, found) = mark_non_finite(bytes);
        if let Some(token) = found {
            if let Ok(v) = serde_json::from_slice::<Value>(&cleaned)
                && let Some((record, field)) = find_marker(&v, layout)
            {
                return Problem::at(
                    path,
                    format!("{record}, field `{field}`"),
                    format!("non-finite number `{token}` (JSON allows only finite numbers)"),
                    "write finite numbers; drop or repair the record that produced it",
                );
            }
            return Problem::at(
                path,
                at,
                format!("non-finite number `{token}` (JSON allows only finite numbers)"),
                "write finite numbers; drop or repair the record that produced it",
            );
        }
        return Problem::at(
            path,
            at,
            format!("invalid JSON: {}", strip_position(&e.to_string())),
            "fix the JSON syntax at that position (a validator such as `python -m json.tool FILE` shows it too)",
        );
    }
    // The syntax is fine, so the document parses as a plain value: walk the
    // records one by one to name the first that does not fit the schema.
    if let Ok(v) = serde_json::from_slice::<Value>(bytes)
        && let Some(p) = first_bad_record(path, &v, layout)
    {
        return p;
    }
    Problem::at(
        path,
        at,
        strip_position(&e.to_string()),
        "check the file against the COCO format (https://cocodataset.org/#format-data)",
    )
}

fn strip_position(msg: &str) -> String {
    match msg.rfind(" at line ") {
        Some(i) => msg[..i].to_string(),
        None => msg.to_string(),
    }
}

fn section_hint(section: &str) -> &'static str {
    match section {
        "images" => "each image needs an integer `id` (and `width`/`height` for box checks)",
        "categories" => "each category needs an integer `id` and a `name`",
        "results" => {
            "each detection needs integer `image_id` and `category_id`, `bbox` = [x, y, width, height] (numbers) and a numeric `score`"
        }
        _ => {
            "each annotation needs integer `id`, `image_id`, `category_id` and `bbox` = [x, y, width, height] (numbers)"
        }
    }
}

fn record_name(section: &str, i: usize, rec: &Value) -> String {
    let id_key = if section == "results" {
        "image_id"
    } else {
        "id"
    };
    match rec.get(id_key) {
        Some(id) => format!("{section}[{i}] ({id_key} {id})"),
        None => format!("{section}[{i}]"),
    }
}

fn first_unparsable_record<T: DeserializeOwned>(
    path: &Path,
    section: &str,
    items: &Value,
) -> Option<Problem> {
    let Some(arr) = items.as_array() else {
        return Some(Problem::at(
            path,
            format!("`{section}`"),
            format!("`{section}` must be a list, found {}", kind_of(items)),
            section_hint(section),
        ));
    };
    arr.iter().enumerate().find_map(|(i, rec)| {
        serde_json::from_value::<T>(rec.clone()).err().map(|e| {
            Problem::at(
                path,
                record_name(section, i, rec),
                e.to_string(),
                section_hint(section),
            )
        })
    })
}

fn first_bad_record(path: &Path, v: &Value, layout: Layout) -> Option<Problem> {
    match layout {
        Layout::ResultsList => first_unparsable_record::<Annotation>(path, "results", v),
        Layout::ResultsObject => match v.get("annotations") {
            Some(a) => first_unparsable_record::<Annotation>(path, "results", a),
            None => Some(Problem::in_file(
                path,
                "missing field `annotations`",
                "a results file is a JSON list of detections, or an object with an `annotations` list",
            )),
        },
        Layout::Instances => {
            let obj = v.as_object()?;
            for (section, check) in [
                (
                    "images",
                    first_unparsable_record::<Image> as fn(&Path, &str, &Value) -> Option<Problem>,
                ),
                ("annotations", first_unparsable_record::<Annotation>),
                ("categories", first_unparsable_record::<Category>),
            ] {
                if let Some(items) = obj.get(section)
                    && let Some(p) = check(path, section, items)
                {
                    return Some(p);
                }
            }
            None
        }
    }
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

const MARKER: &str = "__detloss_non_finite_number__";

/// Replaces the first bare `NaN`, `Infinity` or `-Infinity` token (outside
/// strings) by a marker string, returning the new text and the token.
fn mark_non_finite(bytes: &[u8]) -> (Vec<u8>, Option<&'static str>) {
    let mut in_string = false;
    let mut escaped = false;
    for i in 0..bytes.len() {
        let b = bytes[i];
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        if b == b'"' {
            in_string = true;
            continue;
        }
        for token in ["NaN", "-Infinity", "Infinity", "-NaN"] {
            if bytes[i..].starts_with(token.as_bytes()) {
                let mut out = bytes[..i].to_vec();
                out.extend_from_slice(format!("\"{MARKER}\"").as_bytes());
                out.extend_from_slice(&bytes[i + token.len()..]);
                return (out, Some(token));
            }
        }
    }
    (bytes.to_vec(), None)
}

/// Finds the record and field holding the marker string.
fn find_marker(v: &Value, layout: Layout) -> Option<(String, String)> {
    let scan = |section: &str, items: &Value| -> Option<(String, String)> {
        items.as_array()?.iter().enumerate().find_map(|(i, rec)| {
            let field = rec
                .as_object()?
                .iter()
                .find(|(_, val)| contains_marker(val))?
                .0
                .clone();
            Some((record_name(section, i, rec), field))
        })
    };
    match layout {
        Layout::ResultsList => scan("results", v),
        Layout::ResultsObject => scan("results", v.get("annotations")?),
        Layout::Instances => ["images", "annotations", "categories"]
            .into_iter()
            .find_map(|s| scan(s, v.get(s)?)),
    }
}

fn contains_marker(v: &Value) -> bool {
    match v {
        Value::String(s) => s == MARKER,
        Value::Array(a) => a.iter().any(contains_marker),
        Value::Object(o) => o.values().any(contains_marker),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p() -> &'static Path {
        Path::new("x.json")
    }

    #[test]
    fn names_the_record_of_a_missing_field() {
        let text = br#"{"images":[{"id":1}],"annotations":[{"id":7,"image_id":1,"bbox":[0,0,1,1]}],"categories":[{"id":1,"name":"a"}]}"#;
        let e = parse_instances(p(), text).unwrap_err();
        assert_eq!(e.record.as_deref(), Some("annotations[0] (id 7)"));
        assert!(e.problem.contains("category_id"), "{e}");
    }

    #[test]
    fn finds_nan_inside_a_bbox() {
        let text = br#"[{"image_id":1,"category_id":1,"bbox":[0,NaN,1,1],"score":0.5}]"#;
        let e = parse_results(p(), text).unwrap_err();
        assert_eq!(
            e.record.as_deref(),
            Some("results[0] (image_id 1), field `bbox`")
        );
        assert!(e.problem.contains("NaN"));
    }

    #[test]
    fn nan_inside_a_string_is_not_a_number() {
        let (_, found) = mark_non_finite(br#"{"name":"NaN"}"#);
        assert_eq!(found, None);
    }

    #[test]
    fn syntax_errors_carry_line_and_column() {
        let e = parse_results(p(), b"[\n{\"image_id\": 1,,}\n]").unwrap_err();
        assert_eq!(e.record.as_deref(), Some("line 2, column 16"));
    }
}
