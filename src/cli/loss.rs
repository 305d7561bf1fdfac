//! `detloss losses` and `detloss loss`: the loss zoo from the command line,
//! for scripting and conformance checks.
//!
//! `detloss loss --name SPEC --input pairs.json --output out.json` reads
//! `{"pred": [[x1, y1, x2, y2], …], "target": [[…], …]}` (and, for the
//! `normalized` encoding and MPDIoU, `"image_size": [W, H]` or one `[W, H]`
//! per pair) and writes `{"loss": [per pair], "grad": [[∂loss/∂x1, ∂y1, ∂x2,
//! ∂y2], …]}` in f64, no reduction. Wise-IoU v2/v3 with `mean=running` take
//! the mean of `L_IoU` over the input's pairs.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Problem, Result};
use crate::losses::cls::{CLS_REGISTRY, ClsKind, ClsLoss, ClsLossSpec, RowLoss, Target};
use crate::losses::{
    BoxLoss, BoxLossSpec, BoxesRef, Encoding, ImageSizesRef, LossInfo, REGISTRY, Variant,
};

/// One line of the listing: the signature with defaults, and the summary.
fn row<K>(info: &LossInfo<K>) -> String {
    let mut params: Vec<String> = info
        .params
        .iter()
        .map(|(k, d)| format!("{k}={d}"))
        .collect();
    if !info.variants.is_empty() {
        let names: Vec<&str> = info.variants.iter().map(|v| v.name()).collect();
        params.push(format!("variant={}", names.join("|")));
    }
    let sig = if params.is_empty() {
        info.name.to_string()
    } else {
        format!("{}({})", info.name, params.join(", "))
    };
    format!("  {sig:<62} {}\n", info.about)
}

/// The text `detloss losses` prints.
pub fn listing() -> String {
    let mut out = String::from("Box losses (spec: name or name(param=value, …)):\n\n");
    for info in REGISTRY {
        out.push_str(&row(info));
    }
    out.push_str("\nClassification losses (per logit: {\"logits\": [...], \"target\": [...]}; per row: {\"logits\": [[...]], ...}):\n\n");
    for info in CLS_REGISTRY {
        out.push_str(&row(info));
    }
    out.push_str(&format!(
        "\nVariants (IoU family): {}\n",
        Variant::NAMED
            .iter()
            .map(|v| v.name())
            .collect::<Vec<_>>()
            .join(", ")
    ));
    out.push_str("  torchvision  additive eps 1e-7 (torchvision 0.29); the default\n");
    out.push_str("  mmdet        eps floors 1e-6, CIoU α gated at IoU > 0.5 and clamped, h + eps (mmdet 3.3)\n");
    out.push_str(
        "  ultralytics  h + eps in areas and aspect, U + eps (ultralytics 8.4 bbox_iou, xyxy)\n",
    );
    out.push_str(
        "  paper        the published formulas, no eps; CIoU with the authors' gradient step\n",
    );
    out.push_str(
        "  authors      the code the authors of a newer loss published (wiou, inner_iou, shape_iou,\n               focaler_iou, nwd); see `src/losses/iou_recent.rs` for each one's eps\n",
    );
    out.push_str(&format!(
        "\nEncodings (element-wise losses): {}\n",
        Encoding::ALL
            .iter()
            .map(|e| e.name())
            .collect::<Vec<_>>()
            .join(", ")
    ));
    out.push_str("  raw          pixel xyxy (the default)\n");
    out.push_str("  normalized   xyxy divided by the image size (needs image_size)\n");
    out.push_str(
        "  deltas       Faster R-CNN deltas relative to the target, stds (0.1, 0.1, 0.2, 0.2)\n",
    );
    out
}

/// Other keys are ignored, so annotated files (such as tests/golden/box_pairs.json) work.
#[derive(Deserialize)]
struct PairsFile {
    pred: Vec<Vec<f64>>,
    target: Vec<Vec<f64>>,
    #[serde(default)]
    image_size: Option<serde_json::Value>,
}

#[derive(Serialize)]
struct LossOut {
    spec: String,
    loss: Vec<f64>,
    grad: Vec<[f64; 4]>,
}

fn bad(path: &Path, record: impl Into<String>, problem: impl Into<String>) -> Error {
    Error::input(Problem::at(
        path,
        record,
        problem,
        "write {\"pred\": [[x1, y1, x2, y2], …], \"target\": [[…], …]} with one finite 4-number box per pair",
    ))
}

fn boxes(path: &Path, key: &str, rows: &[Vec<f64>]) -> Result<Vec<[f64; 4]>> {
    rows.iter()
        .enumerate()
        .map(|(i, r)| {
            if r.len() != 4 {
                return Err(bad(
                    path,
                    format!("{key}[{i}]"),
                    format!("a box needs 4 numbers, found {}", r.len()),
                ));
            }
            if !r.iter().all(|v| v.is_finite()) {
                return Err(bad(path, format!("{key}[{i}]"), "non-finite coordinate"));
            }
            Ok([r[0], r[1], r[2], r[3]])
        })
        .collect()
}

fn sizes(
    path: &Path,
    v: &Option<serde_json::Value>,
    n: usize,
    needed: bool,
    loss: &str,
) -> Result<Vec<[f64; 2]>> {
    let one = |x: &serde_json::Value| -> Option<[f64; 2]> {
        let a = x.as_array()?;
        let (w, h) = (a.first()?.as_f64()?, a.get(1)?.as_f64()?);
        (a.len() == 2 && w > 0.0 && h > 0.0 && w.is_finite() && h.is_finite()).then_some([w, h])
    };
    let fix = "give \"image_size\": [W, H] (positive) for all pairs, or one [W, H] per pair";
    match v {
        None if needed => Err(Error::input(Problem::in_file(
            path,
            if loss == "mpdiou" {
                "mpdiou divides by the image's W² + H², so it needs \"image_size\"".to_string()
            } else {
                "the normalized encoding needs \"image_size\"".to_string()
            },
            fix,
        ))),
        None => Ok(vec![[1.0, 1.0]; n]),
        Some(x) => {
            if let Some(s) = one(x) {
                return Ok(vec![s; n]);
            }
            let per: Option<Vec<[f64; 2]>> = x
                .as_array()
                .map(|a| a.iter().map(one).collect())
                .unwrap_or(None);
            match per {
                Some(p) if p.len() == n => Ok(p),
                _ => Err(Error::input(Problem::at(
                    path,
                    "image_size",
                    "not [W, H] nor one [W, H] per pair",
                    fix,
                ))),
            }
        }
    }
}

/// Runs `detloss loss`.
pub fn run(args: &super::LossArgs, threads: usize) -> Result<()> {
    let (name, input, output) = (
        args.name.as_str(),
        args.input.as_path(),
        args.output.as_path(),
    );
    let (variant, encoding) = (args.variant.as_deref(), args.encoding.as_deref());
    let usage = |p: String| {
        Error::input(Problem::general(
            p,
            "see `detloss losses` for every loss, parameter, variant and encoding",
        ))
    };
    let variant = match variant {
        None => None,
        Some(v) => Some(Variant::parse(v).ok_or_else(|| usage(format!("unknown variant `{v}`")))?),
    };
    let encoding = match encoding {
        None => None,
        Some(e) => {
            Some(Encoding::parse(e).ok_or_else(|| usage(format!("unknown encoding `{e}`")))?)
        }
    };
    if args.repeat == Some(0) {
        return Err(usage("--repeat 0".into()));
    }
    let base = crate::losses::spec::parse_call(name).map_err(usage)?.0;
    if CLS_REGISTRY.iter().any(|i| i.name == base) {
        if variant.is_some() || encoding.is_some() {
            return Err(usage(format!(
                "`{base}` is a classification loss: --variant and --encoding apply to box losses"
            )));
        }
        let spec = ClsLossSpec::parse(name).map_err(usage)?;
        return run_cls(&spec, args, threads);
    }
    if !REGISTRY.iter().any(|i| i.name == base) {
        let names: Vec<&str> = REGISTRY
            .iter()
            .map(|i| i.name)
            .chain(CLS_REGISTRY.iter().map(|i| i.name))
            .collect();
        return Err(usage(format!(
            "unknown loss `{base}`; valid losses: {}",
            names.join(", ")
        )));
    }
    let spec = BoxLossSpec::parse_with(name, variant, encoding).map_err(usage)?;
    let bytes = crate::error::read_input(input, "pairs file")?;
    let file: PairsFile = serde_json::from_slice(&bytes).map_err(|e| {
        bad(
            input,
            format!("line {}, column {}", e.line(), e.column()),
            format!("not a pairs file: {e}"),
        )
    })?;
    let pred = boxes(input, "pred", &file.pred)?;
    let target = boxes(input, "target", &file.target)?;
    if pred.len() != target.len() {
        return Err(bad(
            input,
            "pred/target",
            format!("{} predictions but {} targets", pred.len(), target.len()),
        ));
    }
    let sized = spec.uses_image_size();
    let image = sizes(input, &file.image_size, pred.len(), sized, spec.name())?;
    // Wise-IoU's running mean: over these pairs, as in the loss table.
    let spec = spec.with_set_mean(pred.iter().copied().zip(target.iter().copied()));
    let col = |v: &[[f64; 4]], k: usize| -> Vec<f64> { v.iter().map(|b| b[k]).collect() };
    let (p, t): (Vec<Vec<f64>>, Vec<Vec<f64>>) = (
        (0..4).map(|k| col(&pred, k)).collect(),
        (0..4).map(|k| col(&target, k)).collect(),
    );
    let (w, h): (Vec<f64>, Vec<f64>) = image.iter().map(|s| (s[0], s[1])).unzip();
    let n = pred.len();
    let mut loss = vec![0.0; n];
    let mut g: [Vec<f64>; 4] = std::array::from_fn(|_| vec![0.0; n]);
    let repeats = args.repeat.unwrap_or(1).max(1);
    let pred_soa = BoxesRef {
        x1: &p[0],
        y1: &p[1],
        x2: &p[2],
        y2: &p[3],
    };
    let target_soa = BoxesRef {
        x1: &t[0],
        y1: &t[1],
        x2: &t[2],
        y2: &t[3],
    };
    let image_soa = sized.then_some(ImageSizesRef { w: &w, h: &h });
    let start = std::time::Instant::now();
    for _ in 0..repeats {
        let [a, b, c, d] = &mut g;
        spec.batch(pred_soa, target_soa, image_soa, &mut loss, [a, b, c, d]);
    }
    report_timing(args, &spec.canonical, n, threads, start);
    let out = LossOut {
        spec: spec.canonical.clone(),
        loss,
        grad: (0..n)
            .map(|i| [g[0][i], g[1][i], g[2][i], g[3][i]])
            .collect(),
    };
    let json =
        serde_json::to_vec(&out).map_err(|e| Error::runtime(format!("cannot serialise: {e}")))?;
    crate::report::write_file_atomically(output, &json)
}

#[derive(Serialize)]
struct ClsOut<G> {
    spec: String,
    loss: Vec<f64>,
    grad: Vec<G>,
}

fn cls_bad(path: &Path, record: impl Into<String>, problem: impl Into<String>) -> Error {
    Error::input(Problem::at(
        path,
        record,
        problem,
        "write {\"logits\": [...], \"target\": [...]} (per-logit losses), {\"logits\": [[...], ...], \"target\": [class ids]} (ce, hinge), \
         {\"logits\": [[...]], \"teacher_logits\": [[...]]} (kd) or {\"logits\": [[...]], \"target\": [positions]} (dfl), finite numbers",
    ))
}

fn finite_list(path: &Path, key: &str, v: &serde_json::Value) -> Result<Vec<f64>> {
    let arr = v
        .as_array()
        .ok_or_else(|| cls_bad(path, key, "must be a list of numbers"))?;
    arr.iter()
        .enumerate()
        .map(|(i, x)| {
            x.as_f64().filter(|f| f.is_finite()).ok_or_else(|| {
                cls_bad(
                    path,
                    format!("{key}[{i}]"),
                    format!("`{x}` is not a finite number"),
                )
            })
        })
        .collect()
}

fn matrix(path: &Path, key: &str, v: &serde_json::Value) -> Result<Vec<Vec<f64>>> {
    let arr = v
        .as_array()
        .ok_or_else(|| cls_bad(path, key, "must be a list of rows"))?;
    arr.iter()
        .enumerate()
        .map(|(i, r)| finite_list(path, &format!("{key}[{i}]"), r))
        .collect()
}

/// `detloss loss` for a classification loss.
fn run_cls(spec: &ClsLossSpec, args: &super::LossArgs, threads: usize) -> Result<()> {
    let (input, output) = (args.input.as_path(), args.output.as_path());
    let bytes = crate::error::read_input(input, "logits file")?;
    let v: serde_json::Value = serde_json::from_slice(&bytes).map_err(|e| {
        cls_bad(
            input,
            format!("line {}, column {}", e.line(), e.column()),
            format!("invalid JSON: {e}"),
        )
    })?;
    let logits = v
        .get("logits")
        .ok_or_else(|| cls_bad(input, "logits", "missing field `logits`"))?;
    let rows = logits
        .as_array()
        .is_some_and(|a| a.first().is_some_and(|r| r.is_array()));
    let json = if !rows {
        let ClsKind::Logit(_) = spec.kind else {
            return Err(cls_bad(
                input,
                "logits",
                format!("`{}` needs rows of logits", spec.canonical),
            ));
        };
        let x = finite_list(input, "logits", logits)?;
        let y = finite_list(
            input,
            "target",
            v.get("target").unwrap_or(&serde_json::Value::Null),
        )?;
        if x.len() != y.len() {
            return Err(cls_bad(
                input,
                "logits/target",
                format!("{} logits but {} targets", x.len(), y.len()),
            ));
        }
        if let Some(i) = y.iter().position(|t| !(0.0..=1.0).contains(t)) {
            return Err(cls_bad(
                input,
                format!("target[{i}]"),
                format!("target {} is outside [0, 1]", y[i]),
            ));
        }
        let (mut loss, mut grad) = (vec![0.0; x.len()], vec![0.0; x.len()]);
        let repeats = args.repeat.unwrap_or(1).max(1);
        let start = std::time::Instant::now();
        for _ in 0..repeats {
            spec.batch_logits(&x, &y, &mut loss, &mut grad)
                .map_err(|e| cls_bad(input, "logits", e))?;
        }
        report_timing(args, &spec.canonical, x.len(), threads, start);
        serde_json::to_vec(&ClsOut {
            spec: spec.canonical.clone(),
            loss,
            grad,
        })
    } else {
        let spec = spec.for_rows();
        let mut spec_rows = spec.clone();
        let x = matrix(input, "logits", logits)?;
        if let (ClsKind::Row(RowLoss::Ce { weight, .. }), Some(w)) =
            (&mut spec_rows.kind, v.get("weight"))
        {
            *weight = finite_list(input, "weight", w)?;
        }
        let n = x.len();
        let teacher = match &spec_rows.kind {
            ClsKind::Row(RowLoss::Kd { .. }) => Some(matrix(
                input,
                "teacher_logits",
                v.get("teacher_logits")
                    .ok_or_else(|| cls_bad(input, "teacher_logits", "kd needs `teacher_logits`"))?,
            )?),
            _ => None,
        };
        let targets = match &teacher {
            Some(_) => vec![0.0; n],
            None => finite_list(
                input,
                "target",
                v.get("target").unwrap_or(&serde_json::Value::Null),
            )?,
        };
        if targets.len() != n || teacher.as_ref().is_some_and(|t| t.len() != n) {
            return Err(cls_bad(
                input,
                "logits/target",
                format!("{n} rows of logits but {} targets", targets.len()),
            ));
        }
        let mut loss = Vec::with_capacity(n);
        let mut grads = Vec::with_capacity(n);
        for r in 0..n {
            let target = match (&spec_rows.kind, &teacher) {
                (_, Some(t)) => Target::Teacher(&t[r]),
                (ClsKind::Row(RowLoss::Dfl { .. }), None) => Target::Position(targets[r]),
                _ => {
                    if targets[r].fract() != 0.0 {
                        return Err(cls_bad(
                            input,
                            format!("target[{r}]"),
                            "class ids must be integers",
                        ));
                    }
                    Target::Class(targets[r] as i64)
                }
            };
            let mut g = vec![0.0; x[r].len()];
            let value = spec_rows
                .sample(&x[r], target, &mut g)
                .map_err(|e| cls_bad(input, format!("row {r}"), e))?;
            loss.push(value);
            grads.push(g);
        }
        serde_json::to_vec(&ClsOut {
            spec: spec_rows.canonical.clone(),
            loss,
            grad: grads,
        })
    }
    .map_err(|e| Error::runtime(format!("cannot serialise: {e}")))?;
    crate::report::write_file_atomically(output, &json)
}

/// With `--repeat`, prints the compute time of the repeated batch to stderr.
fn report_timing(
    args: &super::LossArgs,
    spec: &str,
    n: usize,
    threads: usize,
    start: std::time::Instant,
) {
    if let Some(repeats) = args.repeat {
        let repeats = repeats.max(1);
        let secs = start.elapsed().as_secs_f64();
        eprintln!(
            "timing: spec={spec} items={n} repeats={repeats} threads={threads} seconds={secs:.6} items_per_second={:.0}",
            (n as f64) * f64::from(repeats) / secs
        );
    }
}
