//! What every example shares: where the data is, the quick switch CI uses, and how a missing
//! file or a bad input ends the program (one line, exit code 2).
#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// The data folder: `$RECUR_DATA`, else `../shared/data` next to the crate (where CI puts it).
pub fn data_dir() -> PathBuf {
    match std::env::var_os("RECUR_DATA") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data"),
    }
}

/// `$RECUR_DATA/<relative>` if that file exists, else None after saying what is missing.
pub fn data_file(relative: &str, fallback: &str) -> Option<PathBuf> {
    let path = data_dir().join(relative);
    if path.is_file() {
        return Some(path);
    }
    eprintln!("{} not found (set RECUR_DATA to the data folder): {fallback}", path.display());
    None
}

/// The tiny setting CI runs: `--quick` on the command line or `RECUR_EXAMPLE_QUICK=1`.
pub fn quick() -> bool {
    std::env::args().skip(1).any(|a| a == "--quick")
        || std::env::var("RECUR_EXAMPLE_QUICK").is_ok_and(|v| !v.is_empty() && v != "0")
}

/// The value of `result`, or the error on one line and exit code 2.
pub fn or_exit<T>(result: recur::Result<T>) -> T {
    result.unwrap_or_else(|e| exit_with(&e.to_string()))
}

/// Prints `message` as the one line of a failed run and exits with code 2.
pub fn exit_with(message: &str) -> ! {
    eprintln!("error: {message}");
    std::process::exit(2)
}
