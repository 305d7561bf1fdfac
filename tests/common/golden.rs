//! Reading the golden files of `tests/golden/` (written by
//! `scripts/make_golden.sh`) and comparing box losses with them.

use detloss::losses::{BoxLoss, BoxLossSpec};
use serde_json::Value;

/// A file of `tests/golden/`, parsed.
pub fn load(name: &str) -> Value {
    let path = format!("{}/tests/golden/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_slice(&std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))).unwrap()
}

/// An array of `N`-number rows.
pub fn rows<const N: usize>(v: &Value) -> Vec<[f64; N]> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|b| std::array::from_fn(|k| b[k].as_f64().unwrap()))
        .collect()
}

/// `a` and `b` agree to `rel`, relative to the larger magnitude (at least 1).
pub fn close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * a.abs().max(b.abs()).max(1.0)
}

/// The inputs of every box-loss golden file: `box_pairs.json`.
pub struct BoxPairs {
    /// Predictions, xyxy.
    pub pred: Vec<[f64; 4]>,
    /// Targets, xyxy.
    pub target: Vec<[f64; 4]>,
    /// Random rows (the edge cases follow them).
    pub n_random: usize,
    /// Rows with inverted boxes: detloss sorts corners where the libraries
    /// let negative areas flow, so these are not compared.
    pub skip: Vec<usize>,
}

impl BoxPairs {
    /// Reads `box_pairs.json`.
    pub fn load() -> Self {
        let pairs = load("box_pairs.json");
        let n_random = pairs["n_random"].as_u64().unwrap() as usize;
        assert!(n_random >= 10_000);
        BoxPairs {
            pred: rows(&pairs["pred"]),
            target: rows(&pairs["target"]),
            n_random,
            skip: pairs["edge_cases"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|e| e["what"].as_str().unwrap().contains("inverted"))
                .map(|e| e["index"].as_u64().unwrap() as usize)
                .collect(),
        }
    }

    /// Compares each `(spec, case)`'s `loss` and `grad` rows with detloss on
    /// these pairs (on `image[i]` when given, else 1 × 1): values to 1e-12
    /// relative, gradients to 1e-9; detloss must be finite everywhere, also
    /// where the reference is null (non-finite).
    pub fn check<'a>(
        &self,
        cases: impl IntoIterator<Item = (String, &'a Value)>,
        image: Option<&[[f64; 2]]>,
    ) {
        let mut failures = Vec::new();
        for (spec_text, case) in cases {
            let spec =
                BoxLossSpec::parse(&spec_text, None).unwrap_or_else(|e| panic!("{spec_text}: {e}"));
            let (mut compared, mut bad) = (0, 0);
            for i in 0..self.pred.len() {
                if self.skip.contains(&i) {
                    continue;
                }
                let size = image.map_or([1.0, 1.0], |im| im[i]);
                let (p, t) = (self.pred[i], self.target[i]);
                let (v, g) = spec.pair_sized(p, t, size);
                let want_v = case["loss"][i].as_f64();
                let want_g = case["grad"][i]
                    .as_array()
                    .map(|a| -> Vec<f64> { a.iter().map(|x| x.as_f64().unwrap()).collect() });
                assert!(
                    v.is_finite() && g.iter().all(|x| x.is_finite()),
                    "{spec_text} row {i} {p:?} vs {t:?}: not finite ({v}, {g:?})"
                );
                let mut ok = want_v.is_none_or(|w| close(v, w, 1e-12));
                if let Some(wg) = &want_g {
                    ok &= (0..4).all(|k| close(g[k], wg[k], 1e-9));
                }
                compared += 1;
                if !ok {
                    bad += 1;
                    if failures.len() < 12 {
                        failures.push(format!(
                            "{spec_text} row {i} {p:?} vs {t:?} image {size:?}: loss {v} want \
                             {want_v:?}; grad {g:?} want {want_g:?}"
                        ));
                    }
                }
            }
            assert!(
                compared >= self.n_random,
                "{spec_text}: only {compared} rows"
            );
            if bad > 0 {
                failures.push(format!("{spec_text}: {bad} of {compared} rows differ"));
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }
}
