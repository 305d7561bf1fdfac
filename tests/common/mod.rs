//! Running the `detloss` binary from integration tests.

use std::path::Path;
use std::process::Command;

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
