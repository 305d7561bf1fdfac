//! Non-maximum suppression after regression: greedy, per image and
//! category, in descending score (ties by box order), as detectors apply it.
//!
//! * `iou@T`: a box is suppressed when its IoU with a kept box exceeds T
//!   (the classic rule);
//! * `diou@T`: when IoU − (ρ²/c²)^β exceeds T, ρ²/c² the DIoU distance term
//!   (Zheng et al. 2020, §5 "DIoU-NMS", Eq. 10; β = 1 in the paper, β
//!   configurable): boxes with distant centres survive even when they
//!   overlap, which keeps occluded neighbours.

use crate::losses::iou_family::{diou_penalty, iou};

/// The suppression rule.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Nms {
    /// No suppression.
    None,
    /// IoU above the threshold.
    Iou(f64),
    /// IoU − (ρ²/c²)^β above the threshold.
    Diou {
        /// Threshold.
        threshold: f64,
        /// Exponent of the distance term.
        beta: f64,
    },
}

impl Nms {
    /// Parses `none`, `iou@T` or `diou@T` (T in (0, 1]) with `beta` for
    /// DIoU-NMS.
    ///
    /// # Errors
    /// A message naming the valid forms.
    pub fn parse(s: &str, beta: f64) -> Result<Nms, String> {
        let bad = || {
            format!("unknown nms `{s}`: use none, iou@T or diou@T with 0 < T ≤ 1, e.g. diou@0.45")
        };
        if s == "none" {
            return Ok(Nms::None);
        }
        let (kind, t) = s.split_once('@').ok_or_else(bad)?;
        let t: f64 = t.parse().map_err(|_| bad())?;
        if !(t > 0.0 && t <= 1.0) {
            return Err(bad());
        }
        match kind {
            "iou" => Ok(Nms::Iou(t)),
            "diou" => Ok(Nms::Diou { threshold: t, beta }),
            _ => Err(bad()),
        }
    }

    /// The rule as written in configs and reports.
    pub fn name(&self) -> String {
        match self {
            Nms::None => "none".into(),
            Nms::Iou(t) => format!("iou@{t}"),
            Nms::Diou { threshold, beta } => format!("diou@{threshold} (β = {beta})"),
        }
    }

    /// Which boxes survive: `keys[i]` is box i's (image, category), `scores`
    /// its score, `boxes` its xyxy box.
    pub fn keep(&self, keys: &[(u64, u64)], scores: &[f64], boxes: &[[f64; 4]]) -> Vec<bool> {
        let n = boxes.len();
        if *self == Nms::None {
            return vec![true; n];
        }
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_by(|&a, &b| {
            keys[a]
                .cmp(&keys[b])
                .then(scores[b].total_cmp(&scores[a]))
                .then(a.cmp(&b))
        });
        let mut keep = vec![false; n];
        let mut start = 0;
        while start < n {
            let key = keys[order[start]];
            let end = start
                + order[start..]
                    .iter()
                    .take_while(|&&i| keys[i] == key)
                    .count();
            let mut kept: Vec<usize> = Vec::new();
            for &i in &order[start..end] {
                let suppressed = kept.iter().any(|&k| self.suppresses(boxes[k], boxes[i]));
                if !suppressed {
                    kept.push(i);
                    keep[i] = true;
                }
            }
            start = end;
        }
        keep
    }

    fn suppresses(&self, kept: [f64; 4], other: [f64; 4]) -> bool {
        match *self {
            Nms::None => false,
            Nms::Iou(t) => iou(kept, other) > t,
            Nms::Diou { threshold, beta } => {
                iou(kept, other) - diou_penalty(kept, other).powf(beta) > threshold
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distance_aware_nms_keeps_a_neighbour_that_plain_nms_drops() {
        // Two same-class boxes of IoU 0.5 whose centres are far apart for
        // their enclosing box: IoU-NMS at 0.45 drops the second, DIoU-NMS
        // keeps it (0.5 − ρ²/c² = 0.5 − 1/17 ≈ 0.44 < 0.45).
        let b: [[f64; 4]; 2] = [[0.0, 0.0, 3.0, 1.0], [1.0, 0.0, 4.0, 1.0]];
        let keys = [(1, 1), (1, 1)];
        let scores = [0.9, 0.8];
        assert!((iou(b[0], b[1]) - 0.5).abs() < 1e-12);
        assert!((diou_penalty(b[0], b[1]) - 1.0 / 17.0).abs() < 1e-12);
        assert_eq!(Nms::Iou(0.45).keep(&keys, &scores, &b), [true, false]);
        assert_eq!(
            Nms::Diou {
                threshold: 0.45,
                beta: 1.0
            }
            .keep(&keys, &scores, &b),
            [true, true]
        );
        // Other classes or images never suppress each other.
        assert_eq!(
            Nms::Iou(0.1).keep(&[(1, 1), (1, 2)], &scores, &b),
            [true, true]
        );
        assert!(Nms::parse("diou@2", 1.0).is_err() && Nms::parse("soft", 1.0).is_err());
    }
}
