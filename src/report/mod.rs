//! Reports: the last stage of the pipeline.
//!
//! A run writes `reports/<run>/` with `report.md` (for people), `results.json`
//! (every number, for scripts and CI) and a copy of the config. The folder is
//! written beside the old one and swapped in with renames, so a failed or
//! interrupted run never leaves a half-written report over a good one.

pub mod markdown;
pub mod overlay;
pub mod sections;

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Writes `files` (relative path → bytes) as the folder `out_root/run_name`,
/// replacing any previous one only once everything is written.
pub fn write_atomically(
    out_root: &Path,
    run_name: &str,
    files: &[(PathBuf, Vec<u8>)],
) -> Result<PathBuf> {
    let io = |what: &str, p: &Path, e: std::io::Error| {
        Error::runtime(format!("{what} {}: {e}", p.display()))
    };
    std::fs::create_dir_all(out_root).map_err(|e| io("cannot create", out_root, e))?;
    let pid = std::process::id();
    let target = out_root.join(run_name);
    let tmp = out_root.join(format!(".{run_name}.tmp-{pid}"));
    let old = out_root.join(format!(".{run_name}.old-{pid}"));
    // Leftovers of interrupted runs (Ctrl-C exits at once) are removed first.
    if let Ok(entries) = std::fs::read_dir(out_root) {
        let prefix = format!(".{run_name}.tmp-");
        for e in entries.flatten() {
            if e.file_name().to_string_lossy().starts_with(&prefix) {
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
    }
    let result = (|| {
        for (rel, bytes) in files {
            let p = tmp.join(rel);
            if let Some(parent) = p.parent() {
                std::fs::create_dir_all(parent).map_err(|e| io("cannot create", parent, e))?;
            }
            std::fs::write(&p, bytes).map_err(|e| io("cannot write", &p, e))?;
        }
        let had_old = target.exists();
        if had_old {
            std::fs::rename(&target, &old).map_err(|e| io("cannot move aside", &target, e))?;
        }
        if let Err(e) = std::fs::rename(&tmp, &target) {
            if had_old {
                let _ = std::fs::rename(&old, &target);
            }
            return Err(io("cannot move into place", &target, e));
        }
        if had_old {
            let _ = std::fs::remove_dir_all(&old);
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_dir_all(&tmp);
    }
    result.map(|()| target)
}

/// Writes one file through a temporary sibling and a rename, creating the
/// parent folder.
pub fn write_file_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .map_err(|e| Error::runtime(format!("cannot create {}: {e}", parent.display())))?;
    }
    let tmp = path.with_extension(format!("tmp-{}", std::process::id()));
    std::fs::write(&tmp, bytes)
        .and_then(|()| std::fs::rename(&tmp, path))
        .map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            Error::runtime(format!("cannot write {}: {e}", path.display()))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_the_folder_whole() {
        let dir = tempfile::tempdir().unwrap();
        let files = vec![(PathBuf::from("a.txt"), b"1".to_vec())];
        let t = write_atomically(dir.path(), "r", &files).unwrap();
        std::fs::write(t.join("stale.txt"), "x").unwrap();
        let files = vec![(PathBuf::from("a.txt"), b"2".to_vec())];
        write_atomically(dir.path(), "r", &files).unwrap();
        assert_eq!(std::fs::read(t.join("a.txt")).unwrap(), b"2");
        assert!(!t.join("stale.txt").exists());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
