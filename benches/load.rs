//! Loading benchmarks: detloss's full load (checksum, parse, validate,
//! struct-of-arrays conversion) against hotcoco's own `COCO::new` on the same
//! file in the same run, so the ratio shows what validation costs.
//!
//! `cargo bench --bench load` (needs ../shared/datasets beside the repo, or
//! DETLOSS_DATA).

use std::path::PathBuf;

use criterion::{Criterion, criterion_group, criterion_main};
use detloss::data::{self, DatasetSpec, LoadContext};

fn spec(name: &str) -> DatasetSpec {
    DatasetSpec {
        name: Some(name.into()),
        ..Default::default()
    }
}

fn bench_load(c: &mut Criterion) {
    let ctx = LoadContext {
        data_root: None,
        base_dir: PathBuf::from("."),
        strict: false,
    };
    let mut g = c.benchmark_group("load");
    g.sample_size(20);
    for name in ["voc2007-test", "coco-val2014-100"] {
        let resolved = data::root::resolve(name, None, None).expect("dataset present");
        let gt = resolved
            .files
            .gt
            .clone()
            .expect("every manifest format names gt");
        g.bench_function(format!("{name}/detloss"), |b| {
            b.iter(|| data::load(&spec(name), &ctx).expect("loads"))
        });
        g.bench_function(format!("{name}/hotcoco_COCO_new_gt_only"), |b| {
            b.iter(|| hotcoco::COCO::new(&gt).expect("loads"))
        });
    }
    g.finish();
}

criterion_group!(benches, bench_load);
criterion_main!(benches);
