//! One step of the DIoU-paper simulation per loss: value + gradient, the
//! (2 − IoU) factor and the update of every case, on 34,300 cases (100
//! anchor centres × 343), in both gradient modes.
//!
//! `cargo bench --bench simulation`; criterion reports time per step and
//! cases/s. The full run (1,715,000 cases × 200 steps per loss) is
//! `configs/simulation.toml`.

use std::path::Path;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use detloss::experiments::ConfigContext;
use detloss::experiments::simulation::{SimulationSection, run_loss};

fn bench(c: &mut Criterion) {
    let cfg = ConfigContext {
        path: Path::new("bench.toml"),
        datasets: &[],
    };
    let mut g = c.benchmark_group("simulation_step");
    for mode in ["exact", "authors"] {
        let section: SimulationSection =
            toml::from_str(&format!("points = 100\ngradients = \"{mode}\"")).unwrap();
        let plan = section.plan(&cfg).unwrap();
        let (start, targets) = plan.cases.materialise();
        g.throughput(Throughput::Elements(start.len() as u64));
        for (k, name) in ["iou", "giou", "diou", "ciou"].into_iter().enumerate() {
            let mut boxes = start.clone();
            g.bench_with_input(BenchmarkId::new(mode, name), &k, |b, &k| {
                b.iter(|| run_loss(&plan.gradients, k, &mut boxes, &targets, &[0.001]))
            });
        }
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
