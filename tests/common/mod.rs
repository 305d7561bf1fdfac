//! Helpers shared by the integration tests: running the `detloss` binary, and
//! finding the shared datasets that the tests on real data read.

// Each test binary includes this module and uses only some of its helpers.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

pub mod golden;

/// Runs `detloss` with `args` in `cwd` (without `DETLOSS_DATA`); returns the
/// exit code, stdout and stderr.
pub fn detloss(args: &[&str], cwd: &Path) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_detloss"))
        .args(args)
        .current_dir(cwd)
        .env_remove("DETLOSS_DATA")
        .output()
        .expect("run detloss");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The shared datasets: `../shared/datasets` beside the repository, the data
/// root that every test on real data reads (in-process loads get it as
/// `data_root`; the binary finds it from the crate folder).
///
/// Every such test calls this first, so that a checkout without the datasets
/// fails each of them with this one reason instead of an error from deep
/// inside loading.
pub fn shared_data() -> PathBuf {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = repo.parent().unwrap_or(repo).join("shared/datasets");
    assert!(
        dir.is_dir(),
        "the shared datasets are missing: expected {} (../shared/datasets beside the repository; \
         see datasets/README.md for the datasets and where to get them)",
        dir.display()
    );
    dir
}

/// Loads a known shared dataset by name (with `dets`, a results file of
/// one's own on its ground truth); panics with the dataset's error.
pub fn load_shared(name: &str, dets: Option<&Path>) -> detloss::data::Dataset {
    let mut spec = detloss::data::DatasetSpec {
        name: Some(name.into()),
        ..Default::default()
    };
    spec.files.dets = dets.map(Path::to_path_buf);
    let ctx = detloss::data::LoadContext {
        data_root: Some(shared_data()),
        base_dir: ".".into(),
        strict: false,
    };
    detloss::data::load(&spec, &ctx).unwrap_or_else(|e| panic!("{name}: {e}"))
}
