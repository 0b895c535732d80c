//! Files: atomic writes, safetensors checkpoints, the run directory and TensorBoard's event files. Only `io` and `data`
//! touch the file system.

pub mod atomic;
pub mod checkpoint;
pub mod run_dir;
pub mod tensorboard;
pub mod train_state;

pub use atomic::write_atomic;

use crate::error::{Error, Result};
use std::io::Read;
use std::path::Path;

/// Reads a UTF-8 text file (at most the memory available, see [`read_bytes`]); a leading UTF-8
/// byte-order mark is dropped. Errors name the file, and for bad UTF-8 the line and the byte.
pub fn read_text(path: &Path) -> Result<String> {
    let mut bytes = read_bytes(path)?;
    if bytes.starts_with(b"\xEF\xBB\xBF") {
        bytes.drain(..3);
    }
    String::from_utf8(bytes).map_err(|e| {
        let bytes = e.as_bytes();
        let good = &bytes[..e.utf8_error().valid_up_to()];
        if bytes.starts_with(b"\xFF\xFE") || bytes.starts_with(b"\xFE\xFF") {
            return Error::file(
                path,
                "is UTF-16 text (it starts with a UTF-16 byte-order mark); expected UTF-8",
            );
        }
        let line = good.iter().filter(|&&b| b == b'\n').count() + 1;
        let line_start = good.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        Error::line(
            path,
            line,
            format!(
                "not valid UTF-8 text (byte {} of the line, 0x{:02X}); expected UTF-8",
                good.len() - line_start + 1,
                bytes[good.len()]
            ),
        )
    })
}

/// Reads a whole file, refusing one larger than the memory available (see [`memory_available`]):
/// an error naming the file, its size and the memory, instead of an abort on allocation. Reads
/// at most that many bytes, so a file that grows, or a device that never ends, is refused too.
pub fn read_bytes(path: &Path) -> Result<Vec<u8>> {
    read_bytes_within(path, memory_available())
}

/// [`read_bytes`] with the limit given: `None` reads without a limit.
pub fn read_bytes_within(path: &Path, limit: Option<u64>) -> Result<Vec<u8>> {
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, "read", e))?;
    let meta = file.metadata().map_err(|e| Error::io(path, "read", e))?;
    if meta.is_dir() {
        return Err(Error::file(path, "is a directory; expected a file"));
    }
    check_fits(path, meta.len(), limit)?;
    let mut bytes = Vec::new();
    let size = usize::try_from(meta.len()).ok();
    if size.is_none_or(|n| bytes.try_reserve_exact(n).is_err()) {
        return Err(Error::file(
            path,
            format!("is {}, more than can be held in memory", human_bytes(meta.len())),
        ));
    }
    // One byte past the limit tells a file that is too big from one that fills it exactly.
    let cap = limit.map_or(u64::MAX, |l| l.saturating_add(1));
    file.take(cap).read_to_end(&mut bytes).map_err(|e| Error::io(path, "read", e))?;
    check_fits(path, bytes.len() as u64, limit)?;
    Ok(bytes)
}

/// Errors if a file of `size` bytes does not fit in `limit` bytes of memory (`None`: no limit).
pub fn check_fits(path: &Path, size: u64, limit: Option<u64>) -> Result<()> {
    match limit {
        Some(limit) if size > limit => Err(Error::file(
            path,
            format!(
                "is {} but only {} of memory is available; expected a file that fits in memory",
                human_bytes(size),
                human_bytes(limit)
            ),
        )),
        _ => Ok(()),
    }
}

/// Errors if training `what` needs more memory than is available: `floats` 4-byte numbers
/// (weights, their gradients, the optimizer's state, activations), estimated by the caller
/// before anything is allocated, so a size far too large is one line, not an abort.
pub fn check_memory(floats: Option<u128>, what: &str) -> Result<()> {
    let needed = floats
        .and_then(|f| f.checked_mul(4))
        .map(|b| u64::try_from(b).unwrap_or(u64::MAX))
        .unwrap_or(u64::MAX);
    match memory_available() {
        Some(available) if needed > available => Err(Error::msg(format!(
            "{what} needs about {} of memory but {} is available; choose smaller sizes",
            human_bytes(needed),
            human_bytes(available)
        ))),
        _ => Ok(()),
    }
}

/// The memory available for new allocations, in bytes: `MemAvailable` of `/proc/meminfo`
/// (Linux). `None` where that cannot be read (no check then).
pub fn memory_available() -> Option<u64> {
    parse_mem_available(&std::fs::read_to_string("/proc/meminfo").ok()?)
}

/// `MemAvailable:  123 kB` of a `/proc/meminfo` text, in bytes.
pub fn parse_mem_available(meminfo: &str) -> Option<u64> {
    let line = meminfo.lines().find_map(|l| l.strip_prefix("MemAvailable:"))?;
    let mut parts = line.split_whitespace();
    let value: u64 = parts.next()?.parse().ok()?;
    let unit = match parts.next() {
        Some("kB") => 1024,
        None => 1,
        Some(_) => return None,
    };
    value.checked_mul(unit)
}

/// `1234567` -> `1234567 bytes (1.2 MiB)`.
fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut value = n as f64;
    let mut unit = "";
    for u in UNITS {
        if value < 1024.0 {
            break;
        }
        value /= 1024.0;
        unit = u;
    }
    if unit.is_empty() {
        format!("{n} bytes")
    } else {
        format!("{n} bytes ({value:.1} {unit})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mem_available_is_read_in_bytes() {
        let meminfo = "MemTotal:       16318496 kB\nMemFree:  1 kB\nMemAvailable:   12345 kB\n";
        assert_eq!(parse_mem_available(meminfo), Some(12345 * 1024));
        assert_eq!(parse_mem_available("MemTotal: 5 kB\n"), None);
        assert_eq!(parse_mem_available("MemAvailable: lots kB\n"), None);
    }

    #[test]
    fn sizes_read_as_bytes_and_binary_units() {
        assert_eq!(human_bytes(10), "10 bytes");
        assert_eq!(human_bytes(3 * 1024 * 1024 / 2), "1572864 bytes (1.5 MiB)");
    }
}
