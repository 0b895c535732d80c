//! TensorBoard's event files: what `--tensorboard DIR` writes, and a reader for them.
//!
//! A file is a sequence of TFRecords, each
//!
//! ```text
//! u64 length (little-endian) | u32 masked CRC-32C of those 8 bytes | data | u32 masked CRC-32C of data
//! ```
//!
//! whose data is one protocol-buffer [`Event`]: the first names the format (`brain.Event:2`),
//! the others hold scalars (`tag`, `simple_value`) at a step. The file is named
//! `events.out.tfevents.<unix seconds>.<host>.<process id>`; TensorBoard reads every file of a
//! directory whose name holds `tfevents`, in name order, so a resumed run's new file follows the
//! old one. Records are appended and flushed as they are written, so a live TensorBoard shows
//! them; a process killed mid-record leaves a truncated last record, which TensorBoard ignores.

mod crc32c;
mod event;

pub use crc32c::{crc32c, masked_crc32c};
pub use event::Event;

use crate::error::{Error, Result};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

/// The `file_version` of the first event; TensorBoard reads version 2.
pub const FILE_VERSION: &str = "brain.Event:2";

/// Appends events to a new file in a directory.
pub struct EventWriter {
    path: PathBuf,
    file: BufWriter<File>,
}

impl EventWriter {
    /// Creates `dir` (and its parents) if needed and a new event file in it, whose first event
    /// names the format.
    pub fn create(dir: &Path) -> Result<EventWriter> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, "create", e))?;
        let now = unix_seconds();
        let name = format!("events.out.tfevents.{}.{}.{}", now as u64, hostname(), std::process::id());
        let path = dir.join(name);
        let file = File::options()
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(|e| Error::io(&path, "create", e))?;
        let mut writer = EventWriter { path, file: BufWriter::new(file) };
        writer.write(&Event {
            wall_time: now,
            step: 0,
            file_version: Some(FILE_VERSION.into()),
            scalars: Vec::new(),
        })?;
        Ok(writer)
    }

    /// The file being written.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes `scalars` at `step` as one event stamped now, and flushes the file.
    pub fn scalars(&mut self, step: i64, scalars: &[(String, f64)]) -> Result<()> {
        let scalars = scalars.iter().map(|(tag, x)| (tag.clone(), *x as f32)).collect();
        self.write(&Event { wall_time: unix_seconds(), step, file_version: None, scalars })
    }

    /// Appends one event and flushes.
    pub fn write(&mut self, event: &Event) -> Result<()> {
        let record = frame(&event.encode());
        let written = self.file.write_all(&record).and_then(|()| self.file.flush());
        written.map_err(|e| Error::io(&self.path, "write", e))
    }
}

/// `data` as one TFRecord: its length, the length's masked CRC, the data, the data's masked CRC.
pub fn frame(data: &[u8]) -> Vec<u8> {
    let length = (data.len() as u64).to_le_bytes();
    let mut record = Vec::with_capacity(data.len() + 16);
    record.extend_from_slice(&length);
    record.extend_from_slice(&masked_crc32c(&length).to_le_bytes());
    record.extend_from_slice(data);
    record.extend_from_slice(&masked_crc32c(data).to_le_bytes());
    record
}

/// The events of one file, every record's two checksums checked. Errors name the file and the
/// byte offset of the bad record.
pub fn read_events(path: &Path) -> Result<Vec<Event>> {
    let bytes = crate::io::read_bytes(path)?;
    let mut events = Vec::new();
    let mut at = 0usize;
    while at < bytes.len() {
        let bad = |what: String| Error::file(path, format!("record at byte {at}: {what}"));
        let rest = &bytes[at..];
        if rest.len() < 12 {
            return Err(bad(format!("{} bytes left; expected a 12-byte record header", rest.len())));
        }
        let (length, length_crc) = (&rest[..8], u32::from_le_bytes(rest[8..12].try_into().expect("4 bytes")));
        if masked_crc32c(length) != length_crc {
            return Err(bad("the length's checksum does not match; expected a TFRecord".into()));
        }
        let len = u64::from_le_bytes(length.try_into().expect("8 bytes"));
        let end = usize::try_from(len).ok().and_then(|n| n.checked_add(16)).filter(|&end| end <= rest.len());
        let Some(end) = end else {
            return Err(bad(format!(
                "the record holds {len} bytes but the file has {} left",
                rest.len() - 12
            )));
        };
        let data = &rest[12..end - 4];
        if masked_crc32c(data) != u32::from_le_bytes(rest[end - 4..end].try_into().expect("4 bytes")) {
            return Err(bad("the data's checksum does not match".into()));
        }
        events.push(Event::decode(data).map_err(|e| bad(e.to_string()))?);
        at += end;
    }
    Ok(events)
}

/// The event files of `dir` (names holding `tfevents`), in the order TensorBoard reads them.
pub fn event_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let entries = std::fs::read_dir(dir).map_err(|e| Error::io(dir, "read", e))?;
    let mut files = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(dir, "read", e))?;
        if entry.file_name().to_string_lossy().contains("tfevents") {
            files.push(entry.path());
        }
    }
    files.sort();
    Ok(files)
}

fn unix_seconds() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64())
}

/// This machine's name, as much of it as is safe in a file name (`localhost` if unknown).
fn hostname() -> String {
    let name = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_default();
    let safe: String =
        name.trim().chars().filter(|c| c.is_ascii_alphanumeric() || "-_.".contains(*c)).collect();
    if safe.is_empty() {
        "localhost".into()
    } else {
        safe
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_frames_its_data() {
        let record = frame(b"abc");
        assert_eq!(record.len(), 3 + 16);
        assert_eq!(&record[..8], &3u64.to_le_bytes());
        assert_eq!(&record[8..12], &masked_crc32c(&3u64.to_le_bytes()).to_le_bytes());
        assert_eq!(&record[12..15], b"abc");
        assert_eq!(&record[15..], &masked_crc32c(b"abc").to_le_bytes());
    }
}
