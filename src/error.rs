//! The one error type of the library: a message for a person, naming the file, the line and what
//! was expected. Library code returns it; only `main` prints it (one line) and exits with code 2.

use std::fmt;
use std::path::Path;

/// An error a user can act on: `file:line: what was wrong, what was expected`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    message: String,
}

/// The result type of every fallible function of the library.
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// An error not tied to a file (a bad flag value, a size the data cannot fill).
    pub fn msg(message: impl Into<String>) -> Self {
        Error { message: message.into() }
    }

    /// An error about a whole file: `path: message`.
    pub fn file(path: &Path, message: impl fmt::Display) -> Self {
        Error { message: format!("{}: {message}", path.display()) }
    }

    /// An error at one line of a file (lines count from 1): `path:line: message`.
    pub fn line(path: &Path, line: usize, message: impl fmt::Display) -> Self {
        Error { message: format!("{}:{line}: {message}", path.display()) }
    }

    /// An I/O failure on `path`, with what was being done.
    pub fn io(path: &Path, doing: &str, err: std::io::Error) -> Self {
        Error { message: format!("{}: cannot {doing}: {err}", path.display()) }
    }

    /// The message, as `main` prints it.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}
