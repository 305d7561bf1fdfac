//! Errors and their exit codes.
//!
//! Every failure detloss reports falls in one of two classes:
//!
//! * **Input errors** (exit code 2): something the user gave us is wrong — a
//!   config key, a dataset file, a missing dataset, a checksum. The message
//!   names the file, the record where there is one, the problem, and how to
//!   fix it.
//! * **Runtime errors** (exit code 1): the input was fine but the run could not
//!   finish, e.g. the report directory is not writable.
//!
//! Nothing in detloss panics on bad input; a panic is a bug.

use std::fmt;
use std::path::{Path, PathBuf};

/// Exit code for bad input (config, dataset, checksum, missing files).
pub const EXIT_INPUT: i32 = 2;
/// Exit code for a run that failed for any other reason.
pub const EXIT_RUNTIME: i32 = 1;

/// One problem with one piece of input: which file, which record, what is
/// wrong and how to fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The file (or directory) the problem is in, if it is in a file.
    pub file: Option<PathBuf>,
    /// The record inside the file, e.g. `annotations[12] (id 45)` or `line 7`.
    pub record: Option<String>,
    /// What is wrong.
    pub problem: String,
    /// How to fix it.
    pub fix: String,
}

impl Problem {
    /// A problem in `file`, not tied to a record.
    pub fn in_file(file: &Path, problem: impl Into<String>, fix: impl Into<String>) -> Self {
        Problem {
            file: Some(file.to_path_buf()),
            record: None,
            problem: problem.into(),
            fix: fix.into(),
        }
    }

    /// A problem in one record of `file`.
    pub fn at(
        file: &Path,
        record: impl Into<String>,
        problem: impl Into<String>,
        fix: impl Into<String>,
    ) -> Self {
        Problem {
            file: Some(file.to_path_buf()),
            record: Some(record.into()),
            problem: problem.into(),
            fix: fix.into(),
        }
    }

    /// A problem that is not in any file (e.g. a dataset that cannot be found).
    pub fn general(problem: impl Into<String>, fix: impl Into<String>) -> Self {
        Problem {
            file: None,
            record: None,
            problem: problem.into(),
            fix: fix.into(),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.file, &self.record) {
            (Some(file), Some(rec)) => write!(f, "{}: {rec}: ", file.display())?,
            (Some(file), None) => write!(f, "{}: ", file.display())?,
            (None, Some(rec)) => write!(f, "{rec}: ")?,
            (None, None) => {}
        }
        write!(f, "{}", self.problem)?;
        if !self.fix.is_empty() {
            write!(f, "\n  fix: {}", self.fix)?;
        }
        Ok(())
    }
}

/// The error type of every fallible detloss operation.
#[derive(Debug)]
pub enum Error {
    /// Bad input: one or more problems, all reported together.
    Input(Vec<Problem>),
    /// The run failed for a reason that is not the input's fault.
    Runtime(String),
}

impl Error {
    /// An input error with a single problem.
    pub fn input(problem: Problem) -> Self {
        Error::Input(vec![problem])
    }

    /// A runtime error with context, e.g. an I/O failure while writing.
    pub fn runtime(msg: impl Into<String>) -> Self {
        Error::Runtime(msg.into())
    }

    /// The process exit code this error maps to.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Input(_) => EXIT_INPUT,
            Error::Runtime(_) => EXIT_RUNTIME,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Input(problems) => {
                for (i, p) in problems.iter().enumerate() {
                    if i > 0 {
                        writeln!(f)?;
                    }
                    write!(f, "error: {p}")?;
                }
                Ok(())
            }
            Error::Runtime(msg) => write!(f, "error: {msg}"),
        }
    }
}

impl std::error::Error for Error {}

/// Shorthand for results with [`Error`].
pub type Result<T> = std::result::Result<T, Error>;

/// Reads a whole input file, mapping I/O failures to an input error that
/// names the file.
pub fn read_input(path: &Path, what: &str) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| {
        Error::input(Problem::in_file(
            path,
            format!("cannot read {what}: {e}"),
            "check the path in the config or on the command line",
        ))
    })
}

/// A TOML error in the file at `path` (text `text`) as an input error that
/// names the line and column, the problem, and where the keys are documented.
pub fn toml_error(path: &Path, text: &str, e: &toml::de::Error) -> Error {
    let record = e.span().map(|s| {
        let (line, col) = line_col(text, s.start);
        format!("line {line}, column {col}")
    });
    let fix = if e.message().contains("unknown field") {
        "use one of the keys listed (README.md, \"Config reference\", documents each)"
    } else {
        "fix the TOML at that position (README.md, \"Config reference\", documents every key)"
    };
    Error::input(Problem {
        file: Some(path.to_path_buf()),
        record,
        problem: e.message().trim().to_string(),
        fix: fix.into(),
    })
}

/// One-based line and column (in characters) of byte `offset` in `text`.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}
