//! Reports: the last stage of the pipeline.
//!
//! A run writes `reports/<run>/` with `report.md` (for people), `results.json`
//! (every number, for scripts and CI) and a copy of the config. The folder is
//! written beside the old one and swapped in with renames, so a failed or
//! interrupted run never leaves a half-written report over a good one.

pub mod markdown;
pub mod overlay;
pub mod results;

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use markdown::Table;
use results::{Header, SCHEMA_VERSION};

/// A `##` section of `report.md`.
#[derive(Debug, Clone, PartialEq)]
pub struct Section {
    /// The heading (also the table-of-contents entry).
    pub title: String,
    /// The markdown under the heading.
    pub body: String,
}

/// A file-name-safe form of a name (a loss spec, a dataset label):
/// `ciou(variant=torchvision)` → `ciou_variant_torchvision`.
pub fn slug(spec: &str) -> String {
    let mut s: String = spec
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    while s.contains("__") {
        s = s.replace("__", "_");
    }
    s.trim_matches('_').to_string()
}

/// GitHub's anchor for a heading: lower case, spaces to `-`, punctuation
/// other than `-` and `_` dropped.
fn anchor(title: &str) -> String {
    title
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

/// Renders `report.md`: the header table (versions, config, threads, wall
/// time), a table of contents, the datasets with the sha256 of each file,
/// then `sections` in order.
pub fn render_markdown(
    header: &Header,
    description: Option<&str>,
    sections: &[Section],
    wall_seconds: f64,
) -> String {
    let h = header;
    let mut md = format!("# detloss report: {}\n\n", h.run);
    if let Some(d) = description {
        md.push_str(&format!("{d}\n\n"));
    }
    let mut t = Table::new(&["", ""]);
    t.row(vec!["detloss".into(), h.detloss_version.clone()]);
    t.row(vec!["hotcoco".into(), h.hotcoco_version.clone()]);
    t.row(vec![
        "config".into(),
        format!("`{}` (sha256 `{}`)", h.config, &h.config_sha256[..16]),
    ]);
    t.row(vec![
        "git commit".into(),
        h.git_commit.clone().unwrap_or_else(|| "–".into()),
    ]);
    t.row(vec!["threads".into(), h.threads.to_string()]);
    t.row(vec!["wall time".into(), format!("{wall_seconds:.2} s")]);
    t.row(vec![
        "results".into(),
        format!("[results.json](results.json) (schema version {SCHEMA_VERSION})"),
    ]);
    md.push_str(&t.render());
    md.push_str("\n## Contents\n\n- [Datasets](#datasets)\n");
    for s in sections {
        md.push_str(&format!("- [{}](#{})\n", s.title, anchor(&s.title)));
    }
    md.push_str("\n## Datasets\n\n");
    if h.datasets.is_empty() {
        md.push_str("None: this run's experiments read no dataset.\n");
    }
    let mut t = Table::new(&["dataset", "format", "file", "sha256"]);
    for d in &h.datasets {
        for s in &d.sources {
            t.row(vec![
                d.label.clone(),
                d.format.clone(),
                format!("`{}`", s.path),
                format!("`{}`", s.sha256),
            ]);
        }
    }
    if !h.datasets.is_empty() {
        md.push_str(&t.render());
    }
    for s in sections {
        md.push_str(&format!("\n## {}\n\n{}", s.title, s.body));
    }
    md
}

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
    fn slugs_are_file_names() {
        assert_eq!(
            slug("ciou(variant=torchvision)"),
            "ciou_variant_torchvision"
        );
        assert_eq!(slug("giou (authors)"), "giou_authors");
    }

    #[test]
    fn anchors_follow_github() {
        assert_eq!(anchor("Box shapes"), "box-shapes");
        assert_eq!(anchor("AP tables (IoU/GIoU)"), "ap-tables-iougiou");
    }

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
