//! The DIoU paper's simulation, reduced to 20 anchor centres (6,860 cases):
//! what the paper's §3 reports must hold in both gradient modes, and the run
//! from a config end to end. The full run is `configs/simulation.toml`.

use std::path::Path;

use detloss::experiments::simulation::{Simulation, SimulationSection, simulate};

mod common;

fn run(extra: &str) -> Simulation {
    let section: SimulationSection = toml::from_str(&format!("points = 20\n{extra}")).unwrap();
    let cfg = detloss::experiments::ConfigContext {
        path: Path::new("test.toml"),
        datasets: &[],
    };
    simulate(&section.plan(&cfg).unwrap(), true)
}

fn final_of(s: &Simulation, name: &str) -> f64 {
    s.losses
        .iter()
        .find(|l| l.spec.starts_with(name))
        .unwrap_or_else(|| panic!("{name}"))
        .final_error
}

#[test]
fn authors_gradients_order_the_losses_as_the_paper_does() {
    let s = run("gradients = \"authors\"");
    assert_eq!(s.cases, 20 * 343);
    let [iou, giou, diou, ciou] = ["iou", "giou", "diou", "ciou"].map(|n| final_of(&s, n));
    let per_case = |v: f64| v / s.cases as f64;
    assert!(
        iou > giou && giou > diou && giou > ciou,
        "{iou} {giou} {diou} {ciou}"
    );
    // DIoU and CIoU end near zero (the paper's Fig. 4: ≈ 0 at T = 200).
    assert!(
        per_case(diou) < 0.01 && per_case(ciou) < 0.01,
        "{diou} {ciou}"
    );
    // IoU loss cannot move boxes that do not overlap.
    let l = &s.losses[0];
    for r in l
        .by_region
        .iter()
        .filter(|r| r.group.ends_with("no overlap"))
    {
        assert_eq!(r.initial_mean, r.final_mean, "{}", r.group);
    }
    assert!(s.losses.iter().all(|l| l.diverged == 0));
}

#[test]
fn exact_gradients_move_every_overlapping_or_not_box_but_iou() {
    let s = run("");
    assert_eq!(s.gradients, "exact");
    let [iou, giou, diou, ciou] = ["iou", "giou", "diou", "ciou"].map(|n| final_of(&s, n));
    for (name, v) in [("giou", giou), ("diou", diou), ("ciou", ciou)] {
        assert!(v < 0.05 * iou, "{name}: {v} vs iou {iou}");
    }
    // With exact gradients the order after 200 steps is IoU > DIoU > GIoU >
    // CIoU, not the paper's IoU > GIoU > DIoU ≈ CIoU ≈ 0: the authors' DIoU
    // gradient moves boxes faster than the true one (README, "Simulation
    // and regression"); CIoU's aspect term still ends lowest.
    assert!(diou > giou && giou > ciou, "{giou} {diou} {ciou}");
    assert!(ciou / (s.cases as f64) < 0.01, "{ciou}");
    // The start is the same for every loss, and every loss lowers the sum.
    for l in &s.losses {
        assert_eq!(l.error_sum[0], s.losses[0].error_sum[0]);
        assert!(l.final_error < l.error_sum[0], "{}", l.spec);
    }
}

#[test]
fn a_simulation_only_config_runs_end_to_end_with_explicit_centres() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("sim.toml");
    std::fs::write(
        &config,
        "[simulation]\ncentres = [[10.5, 11.6], [12.5, 10.2]]\ngradients = \"authors\"\ncases_csv = true\n",
    )
    .unwrap();
    let out = dir.path().join("out");
    let (code, _, err) = common::detloss(
        &[
            "--config",
            config.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "-q",
        ],
        dir.path(),
    );
    assert_eq!(code, 0, "{err}");
    let report = std::fs::read_to_string(out.join("sim/report.md")).unwrap();
    assert!(report.contains("## Simulation") && report.contains("`ciou (authors)`"));
    let csv = std::fs::read_to_string(out.join("sim/simulation_cases_giou_authors.csv")).unwrap();
    assert_eq!(csv.lines().count(), 1 + 2 * 343);
    assert!(out.join("sim/figures/simulation_error_sum.png").exists());
}

#[test]
fn bad_simulation_sections_name_the_key() {
    let cfg = detloss::experiments::ConfigContext {
        path: Path::new("c.toml"),
        datasets: &[],
    };
    for (text, want) in [
        (
            "points = 5\ncentres = [[1.0, 2.0]]",
            "both `points` and `centres`",
        ),
        (
            "gradients = \"authors\"\nlosses = [\"eiou\"]",
            "no gradient in the authors' code",
        ),
        ("lr = [0.1]", "`lr` needs one positive rate more"),
        ("losses = [\"gioux\"]", "unknown loss `gioux`"),
        ("ratios = [0.0]", "positive numbers"),
    ] {
        let section: SimulationSection = toml::from_str(text).unwrap();
        let err = section.plan(&cfg).unwrap_err().to_string();
        assert!(
            err.contains(want) && err.contains("[simulation]"),
            "{text}: {err}"
        );
    }
}
