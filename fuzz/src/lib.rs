//! Helpers shared by the fuzz targets: the readers take paths, so each target writes the input to
//! a file in a temporary directory of its own process, then calls the reader on it.

use recur::error::Error;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// A directory of this process (`$TMPDIR/recur-fuzz-<pid>`), made on first use.
pub fn temp_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("recur-fuzz-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("cannot create the fuzz temp dir");
        dir
    })
}

/// Writes `bytes` to `name` in [`temp_dir`] and returns its path.
pub fn write(name: &str, bytes: &[u8]) -> PathBuf {
    let path = temp_dir().join(name);
    std::fs::write(&path, bytes).expect("cannot write the fuzz input");
    path
}

/// Errors must name the file they are about (the project's `path: message` / `path:line: message`).
pub fn check_error(err: &Error, path: &Path) {
    let shown = path.display().to_string();
    assert!(
        err.message().starts_with(&shown),
        "the error does not start with the file's name `{shown}`: {}",
        err.message()
    );
}

/// Splits `data` into `n` parts: each of the first `n - 1` is a 4-byte little-endian length then
/// that many bytes (clamped to what is left); the last part is the rest. The format of the
/// `run_dir` seeds (see `fuzz/make_seeds.py`).
pub fn split_parts(mut data: &[u8], n: usize) -> Vec<&[u8]> {
    let mut parts = Vec::with_capacity(n);
    for _ in 1..n {
        let (len, rest) = if data.len() >= 4 {
            (u32::from_le_bytes([data[0], data[1], data[2], data[3]]) as usize, &data[4..])
        } else {
            (0, &data[data.len()..])
        };
        let len = len.min(rest.len());
        parts.push(&rest[..len]);
        data = &rest[len..];
    }
    parts.push(data);
    parts
}
