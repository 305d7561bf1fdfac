//! Box-loss throughput: value + gradient per pair, f32 and f64, one thread
//! and all threads, on 1M random aligned pairs.
//!
//! `cargo bench --bench box_losses`; criterion reports time per batch and
//! elements/s (pairs/s).

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use detloss::losses::{BoxLoss, BoxLossSpec, BoxesRef, ImageSizesRef};
use num_traits::Float;

const N: usize = 1 << 20;

struct Pairs<T> {
    p: [Vec<T>; 4],
    t: [Vec<T>; 4],
}

fn pairs<T: Float>() -> Pairs<T> {
    let mut s = 0x2545_F491_4F6C_DD1Du64;
    let mut next = move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        (s >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut p: [Vec<T>; 4] = Default::default();
    let mut t: [Vec<T>; 4] = Default::default();
    for _ in 0..N {
        let (x, y, w, h) = (
            next() * 500.0,
            next() * 500.0,
            4.0 + next() * 200.0,
            4.0 + next() * 200.0,
        );
        let (dx, dy) = ((next() - 0.5) * w, (next() - 0.5) * h);
        let (sw, sh) = (0.6 + next() * 0.8, 0.6 + next() * 0.8);
        let c = |v: f64| T::from(v).unwrap();
        for (k, v) in [x, y, x + w, y + h].into_iter().enumerate() {
            t[k].push(c(v));
        }
        let (px, py) = (x + dx, y + dy);
        for (k, v) in [px, py, px + w * sw, py + h * sh].into_iter().enumerate() {
            p[k].push(c(v));
        }
    }
    Pairs { p, t }
}

fn run<T: Float + Send + Sync>(c: &mut Criterion, dtype: &str, specs: &[&str]) {
    let data = pairs::<T>();
    let pred = BoxesRef {
        x1: &data.p[0],
        y1: &data.p[1],
        x2: &data.p[2],
        y2: &data.p[3],
    };
    let target = BoxesRef {
        x1: &data.t[0],
        y1: &data.t[1],
        x2: &data.t[2],
        y2: &data.t[3],
    };
    // 640 × 480 images, for the losses that read the image size (MPDIoU).
    let (w, h) = (
        vec![T::from(640.0).unwrap(); N],
        vec![T::from(480.0).unwrap(); N],
    );
    let sizes = ImageSizesRef { w: &w, h: &h };
    let mut loss = vec![T::zero(); N];
    let mut g: [Vec<T>; 4] = std::array::from_fn(|_| vec![T::zero(); N]);
    let one = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    let all = rayon::ThreadPoolBuilder::new().build().unwrap();
    let mut group = c.benchmark_group(format!("box_losses_{dtype}"));
    group.throughput(Throughput::Elements(N as u64));
    group.sample_size(10);
    for spec in specs {
        let s = BoxLossSpec::parse(spec, None).unwrap();
        let image = s.uses_image_size().then_some(sizes);
        for (threads, pool) in [("1thread", &one), ("all_threads", &all)] {
            group.bench_function(BenchmarkId::new(*spec, threads), |b| {
                b.iter(|| {
                    pool.install(|| {
                        let [a, bb, cc, d] = &mut g;
                        s.batch(pred, target, image, &mut loss, [a, bb, cc, d]);
                    })
                })
            });
        }
    }
    group.finish();
}

fn benches(c: &mut Criterion) {
    let specs = [
        "iou",
        "giou",
        "diou",
        "ciou",
        "eiou",
        "siou",
        "wiou(version=1)",
        "wiou(version=3, mean=0.5)",
        "mpdiou",
        "inner_iou(base=ciou)",
        "shape_iou",
        "focaler_iou(base=ciou)",
        "nwd",
        "l1",
        "smooth_l1",
    ];
    run::<f32>(c, "f32", &specs);
    run::<f64>(c, "f64", &["giou", "ciou"]);
}

criterion_group!(box_bench, benches);
criterion_main!(box_bench);
