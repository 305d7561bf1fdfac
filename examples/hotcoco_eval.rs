//! hotcoco on its own: the reference point for detloss's evaluation cost.
//!
//! Loads a COCO instances json and a COCO results json with hotcoco alone
//! (`COCO::new`, `load_res`), then runs a default bbox `COCOeval`:
//! `evaluate` → `accumulate` → `summarize`. Nothing of detloss runs — no
//! validation, no `BoxTable`s, no loss table — so its wall time and peak RSS
//! are the floor a detloss loss table on the same files is compared with.
//! With `--tide` it also runs hotcoco's TIDE at tidecv's thresholds (0.5,
//! 0.1), as detloss's evaluation does: the floor for detloss's whole
//! evaluation step. Prints the 12 summary stats and each phase's wall time
//! to stdout.
//!
//! ```text
//! cargo build --release --example hotcoco_eval
//! target/release/detloss synth --images 20000 --dets-per-image 100 --out /tmp/synth2m
//! /usr/bin/time -v target/release/examples/hotcoco_eval \
//!     /tmp/synth2m/instances.json /tmp/synth2m/results.json [--tide]
//! ```
//!
//! Peak RSS is `/usr/bin/time -v`'s "Maximum resident set size".

use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use hotcoco::params::IouType;
use hotcoco::{COCO, COCOeval};

fn main() -> ExitCode {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let tide = args.iter().any(|a| a == "--tide");
    args.retain(|a| a != "--tide");
    let [gt, dt] = args.as_slice() else {
        eprintln!("usage: hotcoco_eval INSTANCES.json RESULTS.json [--tide]");
        return ExitCode::from(2);
    };
    match run(Path::new(gt), Path::new(dt), tide) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("hotcoco_eval: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(gt: &Path, dt: &Path, tide: bool) -> hotcoco::error::Result<()> {
    let start = Instant::now();
    let mut lap = {
        let mut last = Instant::now();
        move |what: &str| {
            println!("{what:<12} {:>8.3} s", last.elapsed().as_secs_f64());
            last = Instant::now();
        }
    };
    let coco_gt = COCO::new(gt)?;
    lap("load gt");
    let coco_dt = coco_gt.load_res(dt)?;
    lap("load dets");
    let mut ev = COCOeval::new(coco_gt, coco_dt, IouType::Bbox);
    ev.evaluate()?;
    lap("evaluate");
    ev.accumulate();
    lap("accumulate");
    let lines = ev.summarize_lines();
    lap("summarize");
    if tide {
        let errors = ev.tide_errors(0.5, 0.1)?;
        lap("tide");
        println!("TIDE dAP: {:?}", errors.delta_ap);
    }
    for line in lines {
        println!("{line}");
    }
    println!("{:<12} {:>8.3} s", "total", start.elapsed().as_secs_f64());
    Ok(())
}
