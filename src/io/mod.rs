//! Files: atomic writes, safetensors checkpoints and the run directory. Only `io` and `data`
//! touch the file system.

pub mod atomic;
pub mod checkpoint;
pub mod run_dir;
pub mod train_state;

pub use atomic::write_atomic;

use crate::error::{Error, Result};
use std::path::Path;

/// Reads a UTF-8 text file; errors name the file, and for bad UTF-8 the line.
pub fn read_text(path: &Path) -> Result<String> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, "read", e))?;
    String::from_utf8(bytes).map_err(|e| {
        let good = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        let line = good.iter().filter(|&&b| b == b'\n').count() + 1;
        Error::line(path, line, "not valid UTF-8 text")
    })
}
