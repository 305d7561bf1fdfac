//! TIDE error breakdown, as hotcoco's `COCOeval::tide_errors` computes it.

use serde::Serialize;

use crate::error::{Error, Result};

/// TIDE's positive (foreground) IoU threshold used by [`super::evaluate`]:
/// tidecv's default, 0.5. hotcoco snaps it to the nearest evaluated IoU
/// threshold, which for the default grid is exactly 0.5.
pub const TIDE_POS_THR: f64 = 0.5;

/// TIDE's background IoU threshold used by [`super::evaluate`]: tidecv's
/// default, 0.1.
pub const TIDE_BG_THR: f64 = 0.1;

/// The six TIDE error types, in tidecv's report order, spelled as hotcoco keys
/// them.
pub const TIDE_ERROR_NAMES: [&str; 6] = ["Cls", "Loc", "Both", "Dupe", "Bkg", "Miss"];

/// One TIDE error type.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TideError {
    /// `Cls`, `Loc`, `Both`, `Dupe`, `Bkg` or `Miss` (see [`Tide`]).
    pub name: &'static str,
    /// ΔAP: how much AP at [`Tide::pos_thr`] would rise if every error of this
    /// type were fixed (mean over categories with ground truth). A fraction of
    /// 1, like the COCO stats — tidecv prints the same value ×100.
    pub delta_ap: f64,
    /// How many errors of this type there are (detections for the five false
    /// positive types, ground truths for `Miss`).
    pub count: u64,
}

/// hotcoco's TIDE error decomposition (Bolya et al. 2020, tidecv's rules).
///
/// Every detection that is not a true positive at `pos_thr` is classified
/// into one of five false-positive types, and unmatched ground truth that no
/// fix would recover counts as `Miss`:
///
/// | type | meaning |
/// |---|---|
/// | `Cls`  | wrong class, right place (IoU ≥ `pos_thr` with a GT of another class) |
/// | `Loc`  | right class, poor box (`bg_thr` ≤ IoU ≤ `pos_thr` with a same-class GT) |
/// | `Both` | wrong class and poor box |
/// | `Dupe` | the right GT was already claimed by a higher-scoring detection |
/// | `Bkg`  | background (IoU ≤ `bg_thr` with every GT) |
/// | `Miss` | ground truth no detection finds |
///
/// Computed on area `all`, 100 detections per image and category, with the
/// tidecv default thresholds [`TIDE_POS_THR`] and [`TIDE_BG_THR`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Tide {
    /// IoU threshold for a true positive.
    pub pos_thr: f64,
    /// IoU threshold below which a detection is on background.
    pub bg_thr: f64,
    /// The AP the ΔAPs are relative to: AP at `pos_thr`, mean over categories
    /// with ground truth (equals AP50 when `pos_thr` is 0.5).
    pub ap_base: f64,
    /// The six error types, in the order of [`TIDE_ERROR_NAMES`].
    pub errors: Vec<TideError>,
    /// tidecv's special "FP" oracle: ΔAP when every false positive is removed
    /// (perfect precision, recall unchanged). Not the sum of the five types.
    pub fp_delta_ap: f64,
    /// tidecv's special "FN" oracle: ΔAP when every missed ground truth is
    /// removed from the denominator (perfect recall, precision unchanged).
    pub fn_delta_ap: f64,
}

impl Tide {
    /// The entry for one error type, by name.
    pub fn error(&self, name: &str) -> Option<&TideError> {
        self.errors.iter().find(|e| e.name == name)
    }
}

/// Converts hotcoco's keyed maps into [`Tide`].
pub(super) fn from_hotcoco(t: &hotcoco::TideErrors) -> Result<Tide> {
    let delta = |key: &str| {
        t.delta_ap
            .get(key)
            .copied()
            .ok_or_else(|| Error::runtime(format!("hotcoco's TIDE result has no ΔAP for `{key}`")))
    };
    let errors = TIDE_ERROR_NAMES
        .iter()
        .map(|&name| {
            Ok(TideError {
                name,
                delta_ap: delta(name)?,
                count: t.counts.get(name).copied().ok_or_else(|| {
                    Error::runtime(format!("hotcoco's TIDE result has no count for `{name}`"))
                })?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Tide {
        pos_thr: t.pos_thr,
        bg_thr: t.bg_thr,
        ap_base: t.ap_base,
        errors,
        fp_delta_ap: delta("FP")?,
        fn_delta_ap: delta("FN")?,
    })
}
