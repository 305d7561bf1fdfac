//! The results document: the content of `results.json`.
//!
//! ```json
//! {
//!   "schema_version": 1,
//!   "header": { "detloss_version": …, "datasets": [ … ], … },
//!   "<results key>": …,   // one entry per experiment that ran, in the
//!   …                      // order of `experiments::ALL`, each holding
//!                          // that experiment's own serialised result
//! }
//! ```
//!
//! The header holds provenance (versions, config hash, threads, datasets with
//! the sha256 of every file); everything after it is numbers, in a stable key
//! order and with nothing time-dependent, so two runs of one config give
//! byte-identical files. `--check` compares everything but the header.

use serde::Serialize;
use serde::ser::SerializeMap;

use crate::data::{Dataset, SourceFile};

/// Version of the `results.json` layout; bumped on any incompatible change.
pub const SCHEMA_VERSION: u32 = 1;

/// Provenance of one dataset in `results.json`.
#[derive(Debug, Clone, Serialize)]
pub struct DatasetHeader {
    /// Label.
    pub label: String,
    /// Known name or label.
    pub name: String,
    /// Format read.
    pub format: String,
    /// Files with sha256.
    pub sources: Vec<SourceFile>,
}

/// The header block of `results.json`: what produced the numbers.
#[derive(Debug, Clone, Serialize)]
pub struct Header {
    /// detloss version.
    pub detloss_version: String,
    /// hotcoco version (the loader and evaluator).
    pub hotcoco_version: String,
    /// Run name.
    pub run: String,
    /// Config path as given.
    pub config: String,
    /// sha256 of the config text.
    pub config_sha256: String,
    /// Worker threads.
    pub threads: usize,
    /// The git commit of the working directory, when it is a checkout.
    pub git_commit: Option<String>,
    /// Datasets and their files.
    pub datasets: Vec<DatasetHeader>,
}

impl Header {
    /// The header of a run of the config at `config` (whose text is
    /// `config_text`) named `run`, on `datasets`, with `threads` workers.
    pub fn new(
        run: &str,
        config: &std::path::Path,
        config_text: &str,
        threads: usize,
        datasets: &[Dataset],
    ) -> Header {
        Header {
            detloss_version: env!("CARGO_PKG_VERSION").into(),
            hotcoco_version: env!("DETLOSS_HOTCOCO_VERSION").into(),
            run: run.into(),
            config: config.display().to_string(),
            config_sha256: crate::data::root::sha256_hex(config_text.as_bytes()),
            threads,
            git_commit: git_commit(),
            datasets: datasets
                .iter()
                .map(|d| DatasetHeader {
                    label: d.label.clone(),
                    name: d.name.clone(),
                    format: d.format.name().into(),
                    sources: d.sources.clone(),
                })
                .collect(),
        }
    }
}

/// `git rev-parse HEAD` (with `-dirty` when the tree has changes), if git
/// and a checkout are there.
fn git_commit() -> Option<String> {
    let run = |args: &[&str]| {
        std::process::Command::new("git")
            .args(args)
            .stderr(std::process::Stdio::null())
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
    };
    let head = run(&["rev-parse", "HEAD"])?;
    let dirty =
        run(&["status", "--porcelain", "--untracked-files=no"]).is_some_and(|s| !s.is_empty());
    Some(if dirty { format!("{head}-dirty") } else { head })
}

/// Everything a run computed: the content of `results.json`.
///
/// Experiments are kept as `(results key, JSON value)` in the order they
/// ran, so this document names none of them; each experiment module owns
/// the typed form of its own value.
#[derive(Debug, Clone)]
pub struct Results {
    /// See [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// Provenance.
    pub header: Header,
    /// One entry per experiment that produced numbers: its key in
    /// `results.json` and its value.
    pub experiments: Vec<(String, serde_json::Value)>,
}

impl Results {
    /// The value an experiment stored under `key`, if it ran.
    pub fn get(&self, key: &str) -> Option<&serde_json::Value> {
        self.experiments
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v)
    }

    /// `results.json`: pretty-printed, with a final newline.
    ///
    /// # Errors
    /// A runtime error when serialisation fails (it does not for these types).
    pub fn to_json(&self) -> crate::error::Result<Vec<u8>> {
        let mut bytes = serde_json::to_vec_pretty(self)
            .map_err(|e| crate::error::Error::runtime(format!("cannot serialise results: {e}")))?;
        bytes.push(b'\n');
        Ok(bytes)
    }
}

impl Serialize for Results {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(2 + self.experiments.len()))?;
        m.serialize_entry("schema_version", &self.schema_version)?;
        m.serialize_entry("header", &self.header)?;
        for (k, v) in &self.experiments {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}
