//! The loss-table experiment end to end (COCO evaluation, matching, every
//! default box and classification loss): on coco-val2014-100, and on a
//! seeded synthetic set of 5,000 images × 50 detections (`detloss synth`),
//! written once under `target/`. `cargo bench --bench loss_table`.

use std::path::{Path, PathBuf};

use criterion::{Criterion, criterion_group, criterion_main};
use detloss::data::{self, DatasetFiles, DatasetSpec, LoadContext};
use detloss::experiments::loss_table::{LossTableSection, compute};
use detloss::synth::{SynthSpec, write};

fn bench(c: &mut Criterion) {
    let ctx = LoadContext {
        data_root: None,
        base_dir: PathBuf::from("."),
        strict: false,
    };
    let plan = toml::from_str::<LossTableSection>("overlays = 0")
        .unwrap()
        .plan(Path::new("bench.toml"))
        .unwrap();
    let coco = data::load(
        &DatasetSpec {
            name: Some("coco-val2014-100".into()),
            ..Default::default()
        },
        &ctx,
    )
    .unwrap();

    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/synth-5000x50");
    if !dir.join("results.json").is_file() {
        write(
            &dir,
            SynthSpec {
                images: 5000,
                dets_per_image: 50,
                seed: 0,
            },
        )
        .unwrap();
    }
    let spec = DatasetSpec {
        label: Some("synth".into()),
        files: DatasetFiles {
            gt: Some(dir.join("instances.json")),
            dets: Some(dir.join("results.json")),
            ..Default::default()
        },
        ..Default::default()
    };
    let mut g = c.benchmark_group("loss_table");
    g.sample_size(10);
    g.bench_function("coco-val2014-100", |b| {
        b.iter(|| compute(&coco, &plan).unwrap())
    });
    g.bench_function("synth-5000x50/load", |b| {
        b.iter(|| data::load(&spec, &ctx).unwrap())
    });
    let synth = data::load(&spec, &ctx).unwrap();
    g.bench_function("synth-5000x50/compute", |b| {
        b.iter(|| compute(&synth, &plan).unwrap())
    });
    g.finish();
}

criterion_group!(loss_table, bench);
criterion_main!(loss_table);
