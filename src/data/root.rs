//! Known datasets, the data root, and checksums.
//!
//! Datasets are never committed. A config names a dataset (`coco-val2014-100`)
//! or gives paths. A name is looked up in `datasets/manifest.toml` (compiled
//! into the binary) and resolved to the first of these folders that holds a
//! directory of that name:
//!
//! 1. `--data-root DIR`
//! 2. `$DETLOSS_DATA`
//! 3. `./datasets`
//! 4. `../shared/datasets`
//!
//! Every file a known dataset's format reads is checked against the manifest's
//! sha256 before it is parsed. A directory's checksum is the sha256 of the text
//! `sha256sum` prints for its files (recursively), sorted by their path
//! relative to the directory — reproducible with
//! `cd DIR && find . -type f | sed 's|^\./||' | LC_ALL=C sort | tr '\n' '\0' | xargs -0 sha256sum | sha256sum`.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::model::Format;
use super::spec::DatasetFiles;
use crate::error::{Error, Problem, Result};

const MANIFEST: &str = include_str!("../../datasets/manifest.toml");

/// The manifest of known datasets.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Datasets by name.
    pub datasets: BTreeMap<String, KnownDataset>,
}

/// One known dataset.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KnownDataset {
    /// One-line description.
    pub title: String,
    /// Where the files come from.
    pub source: String,
    /// Their licences.
    pub licence: String,
    /// How to obtain the folder.
    pub get: String,
    /// Format used when a config names none.
    pub default_format: Format,
    /// Files per format (`gt` required), relative to the dataset folder.
    pub formats: BTreeMap<String, DatasetFiles>,
    /// sha256 per file or directory, relative to the dataset folder.
    pub sha256: BTreeMap<String, String>,
    /// Independently produced reference numbers.
    #[serde(default)]
    pub reference: BTreeMap<String, toml::Value>,
}

/// The manifest compiled into this binary.
pub fn manifest() -> Manifest {
    // The manifest is part of the source tree and covered by a unit test, so a
    // parse failure here is a build defect, not an input error.
    toml::from_str(MANIFEST).expect("datasets/manifest.toml is valid (tested)")
}

/// Whether a known dataset's format (or its default one) has a results file.
pub fn has_detections(name: &str, format: Option<Format>) -> bool {
    let m = manifest();
    m.datasets.get(name).is_some_and(|d| {
        let f = format.unwrap_or(d.default_format);
        d.formats
            .get(f.name())
            .is_some_and(|files| files.dets.is_some())
    })
}

/// The data roots to search, in order, with where each came from.
pub fn data_roots(cli_root: Option<&Path>) -> Vec<(PathBuf, &'static str)> {
    let mut roots = Vec::new();
    if let Some(r) = cli_root {
        roots.push((r.to_path_buf(), "--data-root"));
    }
    if let Some(r) = std::env::var_os("DETLOSS_DATA").filter(|v| !v.is_empty()) {
        roots.push((PathBuf::from(r), "$DETLOSS_DATA"));
    }
    roots.push((PathBuf::from("datasets"), "./datasets"));
    roots.push((PathBuf::from("../shared/datasets"), "../shared/datasets"));
    roots
}

/// A known dataset resolved to files on disk.
#[derive(Debug, Clone)]
pub struct Resolved {
    /// The dataset folder found.
    pub dir: PathBuf,
    /// The chosen format.
    pub format: Format,
    /// Absolute-or-relative paths of the files that format reads.
    pub files: DatasetFiles,
    /// `(path, sha256)` of every file read, verified.
    pub checksums: Vec<(PathBuf, String)>,
}

/// Resolves a known dataset name and format to verified files.
pub fn resolve(name: &str, format: Option<Format>, cli_root: Option<&Path>) -> Result<Resolved> {
    let manifest = manifest();
    let Some(known) = manifest.datasets.get(name) else {
        let names: Vec<&str> = manifest.datasets.keys().map(String::as_str).collect();
        return Err(Error::input(Problem::general(
            format!("unknown dataset name `{name}`"),
            format!(
                "use one of {} (see datasets/README.md), or give the files by path (`gt = \"…\"`)",
                names.join(", ")
            ),
        )));
    };
    let format = format.unwrap_or(known.default_format);
    let Some(rel) = known.formats.get(format.name()) else {
        return Err(Error::input(Problem::general(
            format!("dataset `{name}` has no `{}` format", format.name()),
            format!(
                "use one of its formats: {}",
                known.formats.keys().cloned().collect::<Vec<_>>().join(", ")
            ),
        )));
    };
    let roots = data_roots(cli_root);
    let Some(dir) = roots.iter().map(|(r, _)| r.join(name)).find(|d| d.is_dir()) else {
        let searched: Vec<String> = roots
            .iter()
            .map(|(r, why)| format!("{} ({why})", r.join(name).display()))
            .collect();
        return Err(Error::input(Problem::general(
            format!(
                "dataset `{name}` not found; searched: {}",
                searched.join(", ")
            ),
            format!(
                "{}; or point --data-root / DETLOSS_DATA at a folder that contains `{name}/`",
                known.get
            ),
        )));
    };
    let mut checksums = Vec::new();
    for path in rel.paths() {
        let full = dir.join(path);
        let key = path.to_string_lossy().replace('\\', "/");
        let Some(expected) = known.sha256.get(&key) else {
            // A manifest defect: every file a format reads must be listed.
            return Err(Error::runtime(format!(
                "datasets/manifest.toml: `{name}` reads `{key}` but lists no sha256 for it"
            )));
        };
        let actual = sha256_path(&full)?;
        if &actual != expected {
            return Err(Error::input(Problem::in_file(
                &full,
                format!("sha256 mismatch: expected {expected}, found {actual}"),
                format!(
                    "the copy of `{name}` under {} differs from the one detloss knows; restore it ({})",
                    dir.display(),
                    known.get
                ),
            )));
        }
        checksums.push((full, actual));
    }
    Ok(Resolved {
        files: rel.joined(&dir),
        dir,
        format,
        checksums,
    })
}

/// sha256 of a file, or the directory digest described in the module docs.
pub fn sha256_path(path: &Path) -> Result<String> {
    let missing = |e: std::io::Error| {
        Error::input(Problem::in_file(
            path,
            format!("cannot read: {e}"),
            "check that the dataset folder is complete",
        ))
    };
    let meta = std::fs::metadata(path).map_err(missing)?;
    if !meta.is_dir() {
        return sha256_file(path).map_err(missing);
    }
    let mut files = Vec::new();
    collect_files(path, path, &mut files).map_err(missing)?;
    files.sort();
    let mut listing = Sha256::new();
    for rel in files {
        let digest = sha256_file(&path.join(&rel)).map_err(missing)?;
        listing.update(format!("{digest}  {rel}\n").as_bytes());
    }
    Ok(hex(&listing.finalize()))
}

fn collect_files(base: &Path, dir: &Path, out: &mut Vec<String>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        if entry.file_type()?.is_dir() {
            collect_files(base, &path, out)?;
        } else {
            let rel = path.strip_prefix(base).unwrap_or(&path);
            out.push(rel.to_string_lossy().replace('\\', "/"));
        }
    }
    Ok(())
}

fn sha256_file(path: &Path) -> std::io::Result<String> {
    let mut f = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex(&hasher.finalize()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// sha256 of bytes in memory, as lowercase hex (the form the manifest uses).
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_parses_and_every_format_file_has_a_checksum() {
        let m = manifest();
        assert!(m.datasets.contains_key("coco-val2014-100"));
        for (name, d) in &m.datasets {
            assert!(d.formats.contains_key(d.default_format.name()), "{name}");
            for (format, files) in &d.formats {
                assert!(Format::parse(format).is_some(), "{name}: format `{format}`");
                assert!(
                    files.gt.is_some(),
                    "{name} ({format}): every format needs `gt`"
                );
                for p in files.paths() {
                    assert!(d.sha256.contains_key(p.to_str().unwrap()), "{name}: {p:?}");
                }
            }
        }
    }

    #[test]
    fn the_readme_lists_every_known_dataset_and_checksum() {
        let readme = include_str!("../../datasets/README.md");
        for (name, d) in &manifest().datasets {
            assert!(readme.contains(&format!("## {name}")), "{name}");
            for sha in d.sha256.values() {
                assert!(readme.contains(sha.as_str()), "{name}: {sha}");
            }
        }
    }

    #[test]
    fn sha256_of_known_text() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("abc.txt");
        std::fs::write(&f, "abc").unwrap();
        // FIPS 180-2 test vector for "abc".
        assert_eq!(
            sha256_path(&f).unwrap(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
