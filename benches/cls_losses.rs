//! Classification-loss throughput: value + gradient per logit on 1M logits
//! (f32 and f64), one thread and all threads. `cargo bench --bench cls_losses`.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use detloss::losses::cls::{ClsLoss, ClsLossSpec};
use num_traits::Float;

const N: usize = 1 << 20;

fn inputs<T: Float>() -> (Vec<T>, Vec<T>) {
    let mut s = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        (s >> 11) as f64 / (1u64 << 53) as f64
    };
    let c = |v: f64| T::from(v).unwrap();
    // Logits around 0 with a detector's spread; 1 % positives, as on dense anchors.
    let x = (0..N).map(|_| c((next() - 0.5) * 12.0)).collect();
    let y = (0..N)
        .map(|_| c(if next() < 0.01 { 1.0 } else { 0.0 }))
        .collect();
    (x, y)
}

fn run<T: Float + Send + Sync>(c: &mut Criterion, dtype: &str, specs: &[&str]) {
    let (x, y) = inputs::<T>();
    let (mut loss, mut grad) = (vec![T::zero(); N], vec![T::zero(); N]);
    let one = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    let all = rayon::ThreadPoolBuilder::new().build().unwrap();
    let mut group = c.benchmark_group(format!("cls_losses_{dtype}"));
    group.throughput(Throughput::Elements(N as u64));
    group.sample_size(10);
    for spec in specs {
        let s = ClsLossSpec::parse(spec).unwrap();
        for (threads, pool) in [("1thread", &one), ("all_threads", &all)] {
            group.bench_function(BenchmarkId::new(*spec, threads), |b| {
                b.iter(|| pool.install(|| s.batch_logits(&x, &y, &mut loss, &mut grad).unwrap()))
            });
        }
    }
    group.finish();
}

fn benches(c: &mut Criterion) {
    run::<f32>(c, "f32", &["focal", "bce", "qfl", "vfl"]);
    run::<f64>(c, "f64", &["focal"]);
}

criterion_group!(cls_bench, benches);
criterion_main!(cls_bench);
