//! The cases of the DIoU paper's simulation (Zheng et al., AAAI 2020,
//! arXiv 1911.08287, §3 and Fig. 3; the authors' `simulation experiment/`
//! code in GitHub Zzh-tju/DIoU): which boxes regress to which.
//!
//! * **Targets**: one box of area 1 per aspect ratio w/h in `ratios`, all
//!   centred at `centre` (default (10, 10) and 1:4, 1:3, 1:2, 1:1, 2:1, 3:1,
//!   4:1): w = √r, h = 1/√r.
//! * **Anchor centres**: `points` draws in a disk of radius `radius` around
//!   `centre`, uniform in area — r = radius·√U, θ = 2π·U, all radii drawn
//!   first — from MATLAB's generator ([`MatlabRand`], seed 5489 by default:
//!   the authors' points), or the explicit `centres` of the config.
//! * **Anchors**: at every centre, one box per area `scale` (× the target's
//!   area, 1) and aspect ratio r in `ratios`: w = √(s·r), h = √(s/r).
//! * **Cases**: every anchor with every target, indexed
//!   `((point · T + target) · S + scale) · R + ratio`: 5,000 × 7 × 7 × 7 =
//!   1,715,000 with the defaults.
//!
//! Boxes are (x, y, w, h) with (x, y) the centre, as in the authors' code.

pub use crate::experiments::descent::{Xywh, xyxy};
pub use crate::experiments::sampling::{MatlabRand, disk_points};

/// Every case of the simulation.
#[derive(Debug, Clone, PartialEq)]
pub struct Cases {
    /// Anchor centres, in case order.
    pub centres: Vec<[f64; 2]>,
    /// The targets.
    pub targets: Vec<Xywh>,
    /// Anchor (w, h) per scale and ratio, scale-major.
    pub shapes: Vec<[f64; 2]>,
}

impl Cases {
    /// The cases for these centres, target centre, areas and ratios.
    pub fn new(centres: Vec<[f64; 2]>, centre: [f64; 2], scales: &[f64], ratios: &[f64]) -> Self {
        let targets = ratios
            .iter()
            .map(|r| [centre[0], centre[1], r.sqrt(), 1.0 / r.sqrt()])
            .collect();
        let shapes = scales
            .iter()
            .flat_map(|s| ratios.iter().map(move |r| [(s * r).sqrt(), (s / r).sqrt()]))
            .collect();
        Cases {
            centres,
            targets,
            shapes,
        }
    }

    /// Cases per anchor centre (targets × shapes: 343 with the defaults).
    pub fn per_centre(&self) -> usize {
        self.targets.len() * self.shapes.len()
    }

    /// Number of cases.
    pub fn len(&self) -> usize {
        self.centres.len() * self.per_centre()
    }

    /// True when there is no case.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Case `i`: (anchor, target), both (x, y, w, h).
    pub fn case(&self, i: usize) -> (Xywh, Xywh) {
        let per = self.per_centre();
        let (p, rest) = (i / per, i % per);
        let (t, s) = (rest / self.shapes.len(), rest % self.shapes.len());
        let c = self.centres[p];
        let [w, h] = self.shapes[s];
        ([c[0], c[1], w, h], self.targets[t])
    }

    /// Every case's anchor and target, in case order.
    pub fn materialise(&self) -> (Vec<Xywh>, Vec<Xywh>) {
        (0..self.len()).map(|i| self.case(i)).unzip()
    }

    /// The anchor centre of case `i`.
    pub fn centre_of(&self, i: usize) -> usize {
        i / self.per_centre()
    }
}

/// Where an anchor starts relative to its target, for the error split.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Region {
    /// The centre offset is within 22.5° of the x axis.
    Horizontal,
    /// Within 22.5° of the y axis.
    Vertical,
    /// Between the two.
    Diagonal,
    /// The same centre.
    Centred,
}

impl Region {
    /// Every region, in report order.
    pub const ALL: [Region; 4] = [
        Region::Horizontal,
        Region::Vertical,
        Region::Diagonal,
        Region::Centred,
    ];

    /// The region of an anchor centred at offset (dx, dy) from its target.
    pub fn of(dx: f64, dy: f64) -> Region {
        // tan(22.5°) = √2 − 1.
        let t = std::f64::consts::SQRT_2 - 1.0;
        let (ax, ay) = (dx.abs(), dy.abs());
        if ax == 0.0 && ay == 0.0 {
            Region::Centred
        } else if ay <= t * ax {
            Region::Horizontal
        } else if ax <= t * ay {
            Region::Vertical
        } else {
            Region::Diagonal
        }
    }

    /// Its name in reports.
    pub fn name(self) -> &'static str {
        match self {
            Region::Horizontal => "horizontal",
            Region::Vertical => "vertical",
            Region::Diagonal => "diagonal",
            Region::Centred => "centred",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_protocol_has_1715k_cases_of_unit_area_targets() {
        let ratios = [0.25, 1.0 / 3.0, 0.5, 1.0, 2.0, 3.0, 4.0];
        let scales = [0.5, 0.67, 0.75, 1.0, 1.33, 1.5, 2.0];
        let c = Cases::new(
            disk_points(5000, 3.0, [10.0, 10.0], 5489),
            [10.0, 10.0],
            &scales,
            &ratios,
        );
        assert_eq!(c.len(), 1_715_000);
        for t in &c.targets {
            assert!((t[2] * t[3] - 1.0).abs() < 1e-15);
        }
        // Case order: point, target, scale, ratio.
        let (a, t) = c.case(343 + 7 * 49 - 1);
        assert_eq!(t, c.targets[6]);
        assert!((a[2] * a[3] - 2.0).abs() < 1e-12 && (a[2] / a[3] - 4.0).abs() < 1e-12);
        assert_eq!(c.centre_of(343 + 7 * 49 - 1), 1);
    }

    #[test]
    fn disk_points_are_inside_and_spread() {
        let p = disk_points(2000, 3.0, [10.0, 10.0], 7);
        assert!(
            p.iter()
                .all(|q| (q[0] - 10.0).hypot(q[1] - 10.0) <= 3.0 + 1e-12)
        );
        // Uniform in area: about a quarter within half the radius.
        let inner = p
            .iter()
            .filter(|q| (q[0] - 10.0).hypot(q[1] - 10.0) < 1.5)
            .count();
        assert!((400..600).contains(&inner), "{inner}");
        assert_eq!(p, disk_points(2000, 3.0, [10.0, 10.0], 7));
    }

    #[test]
    fn regions_split_at_22_5_degrees() {
        assert_eq!(Region::of(1.0, 0.4), Region::Horizontal);
        assert_eq!(Region::of(-1.0, 0.42), Region::Diagonal);
        assert_eq!(Region::of(0.4, -1.0), Region::Vertical);
        assert_eq!(Region::of(0.0, 0.0), Region::Centred);
    }
}
