//! Random draws shared by the simulation and the regression: MATLAB's
//! default random stream, and anchor centres uniform in a disk drawn the way
//! the DIoU authors' `test_1715k.m` draws them.

/// MATLAB's `rand`: MT19937 (Matsumoto & Nishimura 1998, the reference
/// `init_genrand` seeding, by the `rand_mt` crate) with 53-bit uniforms
/// `(a·2²⁶ + b)/2⁵³` from two draws, a = u₁ >> 5 and b = u₂ >> 6
/// (`genrand_res53`, also Python's `random.random`). Seed 5489 is MATLAB's
/// `rng default`, the stream the authors' unseeded script used if it ran
/// in a fresh session.
#[derive(Debug, Clone)]
pub struct MatlabRand(rand_mt::Mt);

impl MatlabRand {
    /// The stream with this seed.
    pub fn new(seed: u32) -> Self {
        MatlabRand(rand_mt::Mt::new(seed))
    }

    /// The next uniform in [0, 1).
    pub fn uniform(&mut self) -> f64 {
        let a = f64::from(self.0.next_u32() >> 5);
        let b = f64::from(self.0.next_u32() >> 6);
        (a * 67_108_864.0 + b) / 9_007_199_254_740_992.0
    }
}

/// `n` anchor centres uniform in area in the disk of `radius` around
/// `centre`, drawn as the authors' `test_1715k.m` draws them: all n radii
/// r = radius·√U first, then all n angles θ = 2π·U.
pub fn disk_points(n: usize, radius: f64, centre: [f64; 2], seed: u32) -> Vec<[f64; 2]> {
    let mut rng = MatlabRand::new(seed);
    let r: Vec<f64> = (0..n).map(|_| radius * rng.uniform().sqrt()).collect();
    let theta: Vec<f64> = (0..n)
        .map(|_| 2.0 * std::f64::consts::PI * rng.uniform())
        .collect();
    r.iter()
        .zip(&theta)
        .map(|(r, t)| [centre[0] + r * t.cos(), centre[1] + r * t.sin()])
        .collect()
}

/// The DIoU paper's anchor areas, × the target's (0.67 and 1.33 as printed,
/// as the authors' code has them).
pub fn paper_scales() -> Vec<f64> {
    vec![0.5, 0.67, 0.75, 1.0, 1.33, 1.5, 2.0]
}

/// The DIoU paper's aspect ratios w/h: 1:4, 1:3, 1:2, 1:1, 2:1, 3:1, 4:1.
pub fn paper_ratios() -> Vec<f64> {
    vec![0.25, 1.0 / 3.0, 0.5, 1.0, 2.0, 3.0, 4.0]
}

/// Reports through `bad(key, problem, fix)` each of `lists` that is empty or
/// holds a number that is not positive.
pub fn check_positive_lists(lists: &[(&str, &[f64])], bad: &mut impl FnMut(&str, String, &str)) {
    for (key, list) in lists {
        if list.is_empty() || list.iter().any(|v| !(v.is_finite() && *v > 0.0)) {
            bad(
                key,
                format!("{key} must be a non-empty list of positive numbers"),
                "see README.md, \"Config reference\"",
            );
        }
    }
}
