//! The DIoU authors' hand-written simulation gradients, exactly as their
//! MATLAB code computes them (Zheng et al., AAAI 2020, arXiv 1911.08287;
//! GitHub Zzh-tju/DIoU, `simulation experiment/`: `dIOU.m`, `dGIOU.m`,
//! `dDIOU.m`, `dCIOU.m` with `dIbox.m`, `dUbox.m`, `dXbox.m`, `dCbox.m`,
//! `In.m`, `cover.m`, `iou.m`, `to_tblr.m`, `to_xywh.m`).
//!
//! Boxes are (x, y, w, h), (x, y) the centre. Each function returns what the
//! MATLAB one returns: the authors' gradient of the **similarity** (IoU,
//! GIoU, DIoU, CIoU) in (x, y, w, h), which their update adds:
//! B ← B + η·(2 − IoU)·g. [`AuthorsLoss::step`] returns −g, the loss-side
//! direction the simulation's update subtracts, so both modes share one
//! update. Every branch, strict inequality and operation order follows the
//! MATLAB source.
//!
//! How these differ from the exact gradients (detloss's `gradients =
//! "exact"`), with t, b, l, r the box edges:
//!
//! | loss | x, y | w, h | boxes that do not overlap |
//! |---|---|---|---|
//! | IoU | exact | 2× exact: `to_xywh` maps (t, b, l, r) to (x, y, w, h) without the ½ | 0: they never move |
//! | GIoU | as IoU | as IoU | the gradient of (A + A_g − i_w·i_h)/A_C with the intersection sides i_w, i_h **unclamped** (negative), w and h doubled |
//! | DIoU | IoU part as above; penalty: the enclosing-box term has the opposite sign and weight c_w + c_h (the `Cw`/`Ch` vectors are the same mixed vector, GitHub Zzh-tju/DIoU#2) | IoU part 2×; penalty weight c_w + c_h, and −1 in place of +1 where the prediction spans the target in that axis | penalty only |
//! | CIoU | as DIoU | as DIoU, plus α·(8/π²)(atan(w_g/h_g) − atan(w/h))·(h, −w) **without** 1/(w² + h²), α = v/(1 − IoU + v + 1e-7) held constant | as DIoU, with IoU = 0 in α |
//!
//! No eps anywhere else, and no clamp on w or h: GIoU drives w or h below
//! zero in a few thousand of the 1,715,000 cases, and the code carries on.
//! IoU is 0 unless the boxes overlap strictly (`iou.m`). The check against
//! an independent port of the MATLAB code is `tests/golden_authors.rs`.

/// Box edges (`to_tblr.m`): top, bottom, left, right.
#[derive(Debug, Clone, Copy)]
struct Tblr {
    t: f64,
    b: f64,
    l: f64,
    r: f64,
}

/// A gradient with respect to the edges.
#[derive(Debug, Clone, Copy, Default)]
struct DTblr {
    dt: f64,
    db: f64,
    dl: f64,
    dr: f64,
}

fn to_tblr(a: [f64; 4]) -> Tblr {
    Tblr {
        t: a[1] - a[3] / 2.0,
        b: a[1] + a[3] / 2.0,
        l: a[0] - a[2] / 2.0,
        r: a[0] + a[2] / 2.0,
    }
}

/// `to_xywh.m`: (t, b, l, r) → (x, y, w, h) without the ½ on w and h.
fn to_xywh(a: DTblr) -> [f64; 4] {
    [a.dl + a.dr, a.dt + a.db, a.dr - a.dl, a.db - a.dt]
}

/// `In.m`: the intersection's edges (not clamped).
fn intersection_box(a: &Tblr, b: &Tblr) -> Tblr {
    Tblr {
        t: a.t.max(b.t),
        b: a.b.min(b.b),
        l: a.l.max(b.l),
        r: a.r.min(b.r),
    }
}

/// `cover.m`: the enclosing box's edges.
fn enclosing_box(a: &Tblr, b: &Tblr) -> Tblr {
    Tblr {
        t: a.t.min(b.t),
        b: a.b.max(b.b),
        l: a.l.min(b.l),
        r: a.r.max(b.r),
    }
}

fn area(x: &Tblr) -> f64 {
    (x.b - x.t) * (x.r - x.l)
}

fn overlapping(i: &Tblr) -> bool {
    i.t < i.b && i.l < i.r
}

/// `dXbox.m`: ∂area/∂edges.
fn d_area(x: &Tblr) -> DTblr {
    DTblr {
        dt: -(x.r - x.l),
        db: x.r - x.l,
        dl: -(x.b - x.t),
        dr: x.b - x.t,
    }
}

/// `dIbox.m`: ∂I/∂edges of the prediction (unclamped sides).
fn d_intersection(p: &Tblr, g: &Tblr) -> DTblr {
    let i = intersection_box(p, g);
    DTblr {
        dt: if p.t > g.t { -(i.r - i.l) } else { 0.0 },
        db: if p.b < g.b { i.r - i.l } else { 0.0 },
        dl: if p.l > g.l { -(i.b - i.t) } else { 0.0 },
        dr: if p.r < g.r { i.b - i.t } else { 0.0 },
    }
}

/// `dCbox.m`: ∂A_C/∂edges of the prediction.
fn d_enclosing(p: &Tblr, g: &Tblr) -> DTblr {
    let c = enclosing_box(p, g);
    DTblr {
        dt: if p.t < g.t { -(c.r - c.l) } else { 0.0 },
        db: if p.b > g.b { c.r - c.l } else { 0.0 },
        dl: if p.l < g.l { -(c.b - c.t) } else { 0.0 },
        dr: if p.r > g.r { c.b - c.t } else { 0.0 },
    }
}

/// `dUbox.m`: ∂U/∂edges = ∂A/∂edges − ∂I/∂edges.
fn d_union(p: &Tblr, g: &Tblr) -> DTblr {
    let (x, i) = (d_area(p), d_intersection(p, g));
    DTblr {
        dt: x.dt - i.dt,
        db: x.db - i.db,
        dl: x.dl - i.dl,
        dr: x.dr - i.dr,
    }
}

/// I and U with the unclamped intersection, as every `d*.m` computes them.
fn i_and_u(p: &Tblr, g: &Tblr) -> (f64, f64) {
    let i = area(&intersection_box(p, g));
    (i, area(p) + area(g) - i)
}

/// `iou.m`: I/U when the boxes overlap strictly, else 0.
fn iou_matlab(p: &Tblr, g: &Tblr) -> f64 {
    let (i, u) = i_and_u(p, g);
    if overlapping(&intersection_box(p, g)) {
        i / u
    } else {
        0.0
    }
}

/// `dIOU.m`: ∂(I/U)/∂edges where the boxes overlap, else 0. (Its corner
/// "swap" for inverted boxes is left out: it only runs where the boxes do
/// not overlap, when every component is already 0.)
fn d_iou(p: &Tblr, g: &Tblr) -> DTblr {
    let (i, u) = i_and_u(p, g);
    if !(overlapping(&intersection_box(p, g)) && u > 0.0) {
        return DTblr::default();
    }
    let (di, du) = (d_intersection(p, g), d_union(p, g));
    let u2 = u * u;
    DTblr {
        dt: (u * di.dt - i * du.dt) / u2,
        db: (u * di.db - i * du.db) / u2,
        dl: (u * di.dl - i * du.dl) / u2,
        dr: (u * di.dr - i * du.dr) / u2,
    }
}

/// `dGIOU.m`.
fn d_giou(p: &Tblr, g: &Tblr) -> DTblr {
    let (_, u) = i_and_u(p, g);
    let du = d_union(p, g);
    let dc = d_enclosing(p, g);
    let c = area(&enclosing_box(p, g));
    let c2 = c * c;
    let term = |du: f64, dc: f64| (c * du - u * dc) / c2;
    if overlapping(&intersection_box(p, g)) {
        let mut s = d_iou(p, g);
        if c > 0.0 {
            s.dt += term(du.dt, dc.dt);
            s.db += term(du.db, dc.db);
            s.dl += term(du.dl, dc.dl);
            s.dr += term(du.dr, dc.dr);
        }
        s
    } else {
        DTblr {
            dt: term(du.dt, dc.dt),
            db: term(du.db, dc.db),
            dl: term(du.dl, dc.dl),
            dr: term(du.dr, dc.dr),
        }
    }
}

/// The distance penalty's part of `dDIOU.m` / `dCIOU.m`, in (x, y, w, h).
fn d_penalty(a: [f64; 4], b: [f64; 4], p: &Tblr, g: &Tblr) -> [f64; 4] {
    let cb = enclosing_box(p, g);
    let c = (cb.b - cb.t) * (cb.b - cb.t) + (cb.r - cb.l) * (cb.r - cb.l);
    let (ccw, cch) = (cb.r - cb.l, cb.b - cb.t);
    let on = |cond: bool, v: [f64; 4]| if cond { v } else { [0.0; 4] };
    let ct = on(p.t < g.t, [0.0, 1.0, 0.0, -0.5]);
    let cbot = on(p.b > g.b, [0.0, 1.0, 0.0, 0.5]);
    let cl = on(p.l < g.l, [1.0, 0.0, -0.5, 0.0]);
    let cr = on(p.r > g.r, [1.0, 0.0, 0.5, 0.0]);
    // The MATLAB code fills Cw and Ch with the same mixed vector.
    let mixed = [
        cr[0] - cl[0],
        cbot[1] - ct[1],
        cr[2] - cl[2],
        cbot[3] - ct[3],
    ];
    let (mut cw, mut ch) = (mixed, mixed);
    if p.l < g.l && p.r > g.r {
        cw[2] = -1.0;
    }
    if p.t < g.t && p.b > g.b {
        ch[3] = -1.0;
    }
    let d = (a[0] - b[0]) * (a[0] - b[0]) + (a[1] - b[1]) * (a[1] - b[1]);
    let cc = c * c;
    [
        1.0 * (2.0 * (b[0] - a[0]) * c - (2.0 * ccw * cw[0] + 2.0 * cch * ch[0]) * d) / cc,
        1.0 * (2.0 * (b[1] - a[1]) * c - (2.0 * ccw * cw[1] + 2.0 * cch * ch[1]) * d) / cc,
        1.0 * (2.0 * ccw * cw[2] + 2.0 * cch * ch[2]) * d / cc,
        1.0 * (2.0 * ccw * cw[3] + 2.0 * cch * ch[3]) * d / cc,
    ]
}

/// `dDIOU.m` (and `dCIOU.m` with `aspect`): penalty plus the IoU part
/// mapped by `to_xywh`, added in the MATLAB order.
fn d_diou_ciou(a: [f64; 4], b: [f64; 4], aspect: bool) -> [f64; 4] {
    let (p, g) = (to_tblr(a), to_tblr(b));
    let mut s = d_penalty(a, b, &p, &g);
    if aspect {
        let io = iou_matlab(&p, &g);
        let pi2 = std::f64::consts::PI * std::f64::consts::PI;
        let at = (b[2] / b[3]).atan() - (a[2] / a[3]).atan();
        let v = 4.0 / pi2 * at * at;
        let ldw = 8.0 / pi2 * at * a[3];
        let ldh = -8.0 / pi2 * at * a[2];
        let alpha = v / (1.0 - io + v + 0.0000001);
        s[2] += alpha * ldw;
        s[3] += alpha * ldh;
    }
    let di = d_iou(&p, &g);
    let m = [di.dl + di.dr, di.dt + di.db, di.dr - di.dl, di.db - di.dt];
    [m[0] + s[0], m[1] + s[1], m[2] + s[2], m[3] + s[3]]
}

/// A loss of the authors' simulation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthorsLoss {
    /// `dIOU.m`.
    Iou,
    /// `dGIOU.m`.
    Giou,
    /// `dDIOU.m`.
    Diou,
    /// `dCIOU.m`.
    Ciou,
}

impl AuthorsLoss {
    /// Every one, in the paper's order.
    pub const ALL: [AuthorsLoss; 4] = [
        AuthorsLoss::Iou,
        AuthorsLoss::Giou,
        AuthorsLoss::Diou,
        AuthorsLoss::Ciou,
    ];

    /// `iou`, `giou`, `diou` or `ciou`.
    pub fn parse(name: &str) -> Option<AuthorsLoss> {
        Self::ALL.into_iter().find(|l| l.name() == name.trim())
    }

    /// Its spec name.
    pub fn name(self) -> &'static str {
        match self {
            AuthorsLoss::Iou => "iou",
            AuthorsLoss::Giou => "giou",
            AuthorsLoss::Diou => "diou",
            AuthorsLoss::Ciou => "ciou",
        }
    }

    /// The MATLAB function's return value: the authors' gradient of the
    /// similarity with respect to (x, y, w, h) of `pred`.
    pub fn similarity_gradient(self, pred: [f64; 4], target: [f64; 4]) -> [f64; 4] {
        let (p, g) = (to_tblr(pred), to_tblr(target));
        match self {
            AuthorsLoss::Iou => to_xywh(d_iou(&p, &g)),
            AuthorsLoss::Giou => to_xywh(d_giou(&p, &g)),
            AuthorsLoss::Diou => d_diou_ciou(pred, target, false),
            AuthorsLoss::Ciou => d_diou_ciou(pred, target, true),
        }
    }

    /// One step's input to the simulation's update B ← B − η(2 − IoU)·d:
    /// `iou.m`'s IoU and d = −(the similarity gradient).
    pub fn step(self, pred: [f64; 4], target: [f64; 4]) -> (f64, [f64; 4]) {
        let io = iou_matlab(&to_tblr(pred), &to_tblr(target));
        (io, self.similarity_gradient(pred, target).map(|v| -v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iou_of_touching_boxes_is_zero_and_ious_agree_otherwise() {
        let g = [10.0, 10.0, 1.0, 1.0];
        assert_eq!(AuthorsLoss::Iou.step([11.0, 10.0, 1.0, 1.0], g).0, 0.0);
        let (io, d) = AuthorsLoss::Iou.step([11.5, 10.0, 1.0, 1.0], g);
        assert_eq!((io, d), (0.0, [0.0; 4]));
        let (io, _) = AuthorsLoss::Iou.step([10.5, 10.0, 1.0, 1.0], g);
        assert!((io - 1.0 / 3.0).abs() < 1e-15);
    }

    #[test]
    fn w_and_h_are_twice_the_exact_iou_gradient() {
        // Exact ∂IoU/∂w by central differences, against the authors' dw.
        let (p, g) = ([10.3, 10.1, 1.4, 0.8], [10.0, 10.0, 1.0, 1.0]);
        let f = |w: f64| iou_matlab(&to_tblr([p[0], p[1], w, p[3]]), &to_tblr(g));
        let h = 1e-6;
        let exact = (f(p[2] + h) - f(p[2] - h)) / (2.0 * h);
        let authors = AuthorsLoss::Iou.similarity_gradient(p, g)[2];
        assert!(
            (authors - 2.0 * exact).abs() < 1e-8,
            "{authors} vs 2 × {exact}"
        );
    }
}
