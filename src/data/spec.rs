//! What names a dataset: a config's `[[datasets]]` entry ([`DatasetSpec`]) and
//! the files a dataset is read from ([`DatasetFiles`]).
//!
//! `DatasetFiles` is the one definition of the four paths `gt`, `dets`,
//! `images` and `names`: the config keys of a `[[datasets]]` entry, the files
//! of a format in `datasets/manifest.toml`, and the flags of `detloss
//! validate` (`#[command(flatten)]`).
//!
//! Both types deserialize by hand because serde's `#[serde(flatten)]` cannot
//! be combined with `deny_unknown_fields`: an unknown key would then be
//! reported without the list of valid keys and without its line. Here an
//! unknown key is rejected while the key itself is read, as serde's derive
//! does, so the error names the key's position and every valid key.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, Visitor};

use super::boxes::VocCorners;
use super::model::Format;

/// The files a dataset is read from.
///
/// In a config these are `[[datasets]]` keys (paths relative to the config
/// file); in `datasets/manifest.toml` the files of one format of a known
/// dataset (relative to its folder); on the command line the flags of
/// `detloss validate`.
#[derive(Debug, Clone, Default, PartialEq, clap::Args)]
pub struct DatasetFiles {
    /// Ground truth: COCO instances json, VOC XML folder or YOLO label folder.
    #[arg(long, value_name = "PATH")]
    pub gt: Option<PathBuf>,
    /// COCO results json with detections.
    #[arg(long, value_name = "FILE")]
    pub dets: Option<PathBuf>,
    /// Image folder (required for YOLO: sizes are read from image headers).
    #[arg(long, value_name = "DIR")]
    pub images: Option<PathBuf>,
    /// YOLO class-names file, one name per line.
    #[arg(long, value_name = "FILE")]
    pub names: Option<PathBuf>,
}

impl DatasetFiles {
    /// The keys of the four paths, in declaration order.
    pub const KEYS: [&'static str; 4] = ["gt", "dets", "images", "names"];

    /// The path under `key`, for writing; `None` for a key that is not one of [`Self::KEYS`].
    fn slot(&mut self, key: &str) -> Option<&mut Option<PathBuf>> {
        match key {
            "gt" => Some(&mut self.gt),
            "dets" => Some(&mut self.dets),
            "images" => Some(&mut self.images),
            "names" => Some(&mut self.names),
            _ => None,
        }
    }

    /// Every path that is set, with its key, in a fixed order: `gt`, `dets`,
    /// `names`, `images` (the order checksums are listed in).
    pub fn entries(&self) -> impl Iterator<Item = (&'static str, &Path)> {
        [
            ("gt", &self.gt),
            ("dets", &self.dets),
            ("names", &self.names),
            ("images", &self.images),
        ]
        .into_iter()
        .filter_map(|(key, p)| p.as_deref().map(|p| (key, p)))
    }

    /// Every path that is set, in the order of [`Self::entries`].
    pub fn paths(&self) -> Vec<&Path> {
        self.entries().map(|(_, p)| p).collect()
    }

    /// The same files with each path joined onto `dir` (absolute paths stay
    /// as they are; an empty `dir` changes nothing).
    pub fn joined(&self, dir: &Path) -> DatasetFiles {
        let join = |p: &Option<PathBuf>| p.as_ref().map(|p| dir.join(p));
        DatasetFiles {
            gt: join(&self.gt),
            dets: join(&self.dets),
            images: join(&self.images),
            names: join(&self.names),
        }
    }

    /// Reads the value of `key` if it is one of the paths; `false` otherwise.
    fn read_value<'de, A: MapAccess<'de>>(
        &mut self,
        key: &str,
        map: &mut A,
    ) -> Result<bool, A::Error> {
        match self.slot(key) {
            Some(slot) => {
                *slot = map.next_value()?;
                Ok(true)
            }
            None => Ok(false),
        }
    }
}

impl<'de> Deserialize<'de> for DatasetFiles {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct FilesVisitor;
        impl<'de> Visitor<'de> for FilesVisitor {
            type Value = DatasetFiles;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a table of dataset files")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<DatasetFiles, A::Error> {
                let mut files = DatasetFiles::default();
                while let Some(key) = map.next_key_seed(Key(&DatasetFiles::KEYS))? {
                    if !files.read_value(key, &mut map)? {
                        return Err(de::Error::unknown_field(key, &DatasetFiles::KEYS));
                    }
                }
                Ok(files)
            }
        }
        d.deserialize_struct("DatasetFiles", &DatasetFiles::KEYS, FilesVisitor)
    }
}

/// One dataset as a config names it: a known name, or files by path.
///
/// ```toml
/// [[datasets]]
/// name = "voc2012-100"      # a known dataset (datasets/manifest.toml) …
/// format = "voc"            # … in one of its formats (default: its default_format)
///
/// [[datasets]]
/// label = "mine"            # … or your own files (paths relative to the config file)
/// format = "coco"
/// gt = "data/instances_val.json"
/// dets = "runs/val/predictions.json"
/// ```
///
/// With `name`, `dets` is also allowed (your own detections on a known ground
/// truth); `images` and `names` are not (they come from the manifest).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DatasetSpec {
    /// A known dataset name (see `detloss datasets`).
    pub name: Option<String>,
    /// How reports refer to it; unique within a config. Default: the name,
    /// with the format when one is given (`voc2012-100 (voc)`), or the stem of `gt`.
    pub label: Option<String>,
    /// `coco`, `voc` or `yolo`.
    pub format: Option<Format>,
    /// The files, keys `gt`, `dets`, `images` and `names` of the entry.
    pub files: DatasetFiles,
    /// How VOC corners map to pixels: `one_based` (default) or `as_is`.
    pub voc_corners: VocCorners,
}

impl DatasetSpec {
    /// Every key of a `[[datasets]]` entry, as an unknown-key error lists them.
    pub const KEYS: [&'static str; 8] = {
        let f = DatasetFiles::KEYS;
        [
            "name",
            "label",
            "format",
            f[0],
            f[1],
            f[2],
            f[3],
            "voc_corners",
        ]
    };

    /// The label reports use for this dataset.
    pub fn label(&self) -> String {
        if let Some(l) = &self.label {
            return l.clone();
        }
        match (&self.name, self.format, &self.files.gt) {
            (Some(n), Some(f), _) => format!("{n} ({})", f.name()),
            (Some(n), None, _) => n.clone(),
            (None, _, Some(gt)) => gt
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| gt.display().to_string()),
            (None, _, None) => "unnamed".into(),
        }
    }
}

impl<'de> Deserialize<'de> for DatasetSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct SpecVisitor;
        impl<'de> Visitor<'de> for SpecVisitor {
            type Value = DatasetSpec;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a [[datasets]] table")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<DatasetSpec, A::Error> {
                let mut spec = DatasetSpec::default();
                while let Some(key) = map.next_key_seed(Key(&DatasetSpec::KEYS))? {
                    match key {
                        "name" => spec.name = map.next_value()?,
                        "label" => spec.label = map.next_value()?,
                        "format" => spec.format = map.next_value()?,
                        "voc_corners" => spec.voc_corners = map.next_value()?,
                        _ => {
                            if !spec.files.read_value(key, &mut map)? {
                                return Err(de::Error::unknown_field(key, &DatasetSpec::KEYS));
                            }
                        }
                    }
                }
                Ok(spec)
            }
        }
        d.deserialize_struct("DatasetSpec", &DatasetSpec::KEYS, SpecVisitor)
    }
}

/// Reads a table key that must be one of `.0`; any other is an unknown-field
/// error listing them. Rejecting it here, while the key is read, is what
/// lets the TOML error point at the key's line.
struct Key(&'static [&'static str]);

impl<'de> DeserializeSeed<'de> for Key {
    type Value = &'static str;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<&'static str, D::Error> {
        d.deserialize_identifier(self)
    }
}

impl<'de> Visitor<'de> for Key {
    type Value = &'static str;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a key")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<&'static str, E> {
        self.0
            .iter()
            .copied()
            .find(|k| *k == v)
            .ok_or_else(|| E::unknown_field(v, self.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_parses_into_its_field() {
        let text = "name = \"n\"\nlabel = \"l\"\nformat = \"yolo\"\ngt = \"g\"\n\
                    dets = \"d\"\nimages = \"i\"\nnames = \"o\"\nvoc_corners = \"as_is\"\n";
        let spec: DatasetSpec = toml::from_str(text).unwrap();
        let p = |s: &str| Some(PathBuf::from(s));
        assert_eq!(
            spec,
            DatasetSpec {
                name: Some("n".into()),
                label: Some("l".into()),
                format: Some(Format::Yolo),
                files: DatasetFiles {
                    gt: p("g"),
                    dets: p("d"),
                    images: p("i"),
                    names: p("o"),
                },
                voc_corners: VocCorners::AsIs,
            }
        );
        for key in DatasetSpec::KEYS {
            assert!(text.contains(&format!("{key} = ")), "{key} untested");
        }
        assert_eq!(
            toml::from_str::<DatasetSpec>("").unwrap(),
            DatasetSpec::default()
        );
        let files: DatasetFiles = toml::from_str("gt = \"g\"\nnames = \"o\"\n").unwrap();
        assert_eq!(files.paths(), [Path::new("g"), Path::new("o")]);
    }

    #[test]
    fn unknown_keys_list_the_valid_ones_at_their_line() {
        let e = toml::from_str::<DatasetSpec>("name = \"n\"\nfromat = \"coco\"\n").unwrap_err();
        assert!(
            e.message().contains(
                "unknown field `fromat`, expected one of `name`, `label`, `format`, `gt`, \
                 `dets`, `images`, `names`, `voc_corners`"
            ),
            "{e}"
        );
        assert_eq!(e.span(), Some(11..17), "{e}");
        let e = toml::from_str::<DatasetFiles>("gt = \"g\"\nlabel = \"l\"\n").unwrap_err();
        assert!(
            e.message()
                .contains("unknown field `label`, expected one of `gt`, `dets`, `images`, `names`"),
            "{e}"
        );
        let e = toml::from_str::<DatasetSpec>("format = \"cooc\"\n").unwrap_err();
        assert!(
            e.message()
                .contains("unknown variant `cooc`, expected one of `coco`, `voc`, `yolo`"),
            "{e}"
        );
    }

    #[test]
    fn entries_keep_the_checksum_order_and_joined_keeps_absolute_paths() {
        let files = DatasetFiles {
            gt: Some("g".into()),
            dets: Some("/abs/d".into()),
            images: Some("i".into()),
            names: Some("o".into()),
        };
        let keys: Vec<&str> = files.entries().map(|(k, _)| k).collect();
        assert_eq!(keys, ["gt", "dets", "names", "images"]);
        let mut sorted = keys.clone();
        sorted.sort();
        let mut all = DatasetFiles::KEYS.to_vec();
        all.sort();
        assert_eq!(sorted, all, "entries() covers every key");
        let j = files.joined(Path::new("base"));
        assert_eq!(j.gt, Some(PathBuf::from("base/g")));
        assert_eq!(j.dets, Some(PathBuf::from("/abs/d")));
        assert_eq!(files.joined(Path::new("")), files);
    }
}
