//! TensorFlow's `Event` message, the part of it scalars need, encoded and decoded by hand
//! (protocol buffers' wire format; `tensorflow/core/util/event.proto`, `summary.proto`):
//!
//! ```text
//! Event   { double wall_time = 1; int64 step = 2; string file_version = 3; Summary summary = 5; }
//! Summary { repeated Value value = 1; }
//! Value   { string tag = 1; float simple_value = 2; }
//! ```
//!
//! Fields the decoder does not know (graphs, histograms, ...) are skipped, as protocol buffers do.

use crate::error::{Error, Result};

/// One event: its time, its step and either the file's version (the first event of a file) or
/// scalars.
#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    /// Seconds since the Unix epoch.
    pub wall_time: f64,
    /// The x of TensorBoard's charts: batches done since the run began.
    pub step: i64,
    /// `brain.Event:2` in a file's first event, which names the format; None in the others.
    pub file_version: Option<String>,
    /// `(tag, simple_value)` pairs of the event's summary.
    pub scalars: Vec<(String, f32)>,
}

// Wire types.
const VARINT: u8 = 0;
const FIXED64: u8 = 1;
const LENGTH_DELIMITED: u8 = 2;
const FIXED32: u8 = 5;

impl Event {
    /// The protocol-buffer bytes of the event.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(32 + 24 * self.scalars.len());
        key(&mut out, 1, FIXED64);
        out.extend_from_slice(&self.wall_time.to_le_bytes());
        key(&mut out, 2, VARINT);
        varint(&mut out, self.step as u64);
        if let Some(version) = &self.file_version {
            bytes_field(&mut out, 3, version.as_bytes());
        }
        if !self.scalars.is_empty() {
            let mut summary = Vec::new();
            for (tag, value) in &self.scalars {
                let mut v = Vec::with_capacity(tag.len() + 8);
                bytes_field(&mut v, 1, tag.as_bytes());
                key(&mut v, 2, FIXED32);
                v.extend_from_slice(&value.to_le_bytes());
                bytes_field(&mut summary, 1, &v);
            }
            bytes_field(&mut out, 5, &summary);
        }
        out
    }

    /// The event in `bytes`; an error says what is malformed.
    pub fn decode(bytes: &[u8]) -> Result<Event> {
        let mut event = Event { wall_time: 0.0, step: 0, file_version: None, scalars: Vec::new() };
        for field in Fields(bytes) {
            match field? {
                (1, Value::Fixed64(bits)) => event.wall_time = f64::from_bits(bits),
                (2, Value::Varint(step)) => event.step = step as i64,
                (3, Value::Bytes(version)) => event.file_version = Some(text(version)?),
                (5, Value::Bytes(summary)) => {
                    for field in Fields(summary) {
                        if let (1, Value::Bytes(value)) = field? {
                            event.scalars.push(decode_value(value)?);
                        }
                    }
                }
                _ => {}
            }
        }
        Ok(event)
    }
}

/// A summary value's tag and simple value (0 when it has none, as protocol buffers default).
fn decode_value(bytes: &[u8]) -> Result<(String, f32)> {
    let (mut tag, mut value) = (String::new(), 0.0);
    for field in Fields(bytes) {
        match field? {
            (1, Value::Bytes(t)) => tag = text(t)?,
            (2, Value::Fixed32(bits)) => value = f32::from_bits(bits),
            _ => {}
        }
    }
    Ok((tag, value))
}

fn text(bytes: &[u8]) -> Result<String> {
    String::from_utf8(bytes.to_vec()).map_err(|_| Error::msg("an event's string is not UTF-8"))
}

fn key(out: &mut Vec<u8>, field: u32, wire: u8) {
    varint(out, u64::from(field << 3 | u32::from(wire)));
}

fn varint(out: &mut Vec<u8>, mut x: u64) {
    while x >= 0x80 {
        out.push((x as u8) | 0x80);
        x >>= 7;
    }
    out.push(x as u8);
}

fn bytes_field(out: &mut Vec<u8>, field: u32, bytes: &[u8]) {
    key(out, field, LENGTH_DELIMITED);
    varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

/// One field's value, by wire type.
enum Value<'a> {
    Varint(u64),
    Fixed64(u64),
    Bytes(&'a [u8]),
    Fixed32(u32),
}

/// The fields of a message, in order: `(field number, value)`.
struct Fields<'a>(&'a [u8]);

impl<'a> Iterator for Fields<'a> {
    type Item = Result<(u32, Value<'a>)>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.0.is_empty() {
            return None;
        }
        let field = self.field();
        if field.is_err() {
            self.0 = &[]; // Stop after the first error.
        }
        Some(field)
    }
}

impl<'a> Fields<'a> {
    fn field(&mut self) -> Result<(u32, Value<'a>)> {
        let key = self.varint()?;
        let number =
            u32::try_from(key >> 3).map_err(|_| Error::msg("an event's field number is too large"))?;
        let value = match (key & 7) as u8 {
            VARINT => Value::Varint(self.varint()?),
            FIXED64 => Value::Fixed64(u64::from_le_bytes(self.take(8)?.try_into().expect("8 bytes"))),
            LENGTH_DELIMITED => {
                let len = usize::try_from(self.varint()?).unwrap_or(usize::MAX);
                Value::Bytes(self.take(len)?)
            }
            FIXED32 => Value::Fixed32(u32::from_le_bytes(self.take(4)?.try_into().expect("4 bytes"))),
            wire => {
                return Err(Error::msg(format!(
                    "an event's field {number} has wire type {wire}; expected 0, 1, 2 or 5"
                )))
            }
        };
        Ok((number, value))
    }

    fn varint(&mut self) -> Result<u64> {
        let mut x = 0u64;
        for (i, &b) in self.0.iter().enumerate().take(10) {
            x |= u64::from(b & 0x7F) << (7 * i);
            if b < 0x80 {
                self.0 = &self.0[i + 1..];
                return Ok(x);
            }
        }
        Err(Error::msg("an event ends inside a number (a varint)"))
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        if n > self.0.len() {
            return Err(Error::msg(format!(
                "an event's field is {n} bytes long but only {} remain",
                self.0.len()
            )));
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_what_protobuf_does() {
        // The bytes Python's protobuf gives for Event(wall_time=1.5, step=300,
        // summary=Summary(value=[Summary.Value(tag="a", simple_value=2.0)])).
        let event = Event { wall_time: 1.5, step: 300, file_version: None, scalars: vec![("a".into(), 2.0)] };
        let expected = [
            0x09, 0, 0, 0, 0, 0, 0, 0xF8, 0x3F, // wall_time: 1.5
            0x10, 0xAC, 0x02, // step: 300
            0x2A, 0x0A, 0x0A, 0x08, 0x0A, 0x01, b'a', 0x15, 0, 0, 0, 0x40, // summary
        ];
        assert_eq!(event.encode(), expected);
    }

    #[test]
    fn decodes_what_it_encodes_and_skips_unknown_fields() {
        let event = Event {
            wall_time: 1_700_000_000.25,
            step: 1 << 40,
            file_version: Some("brain.Event:2".into()),
            scalars: vec![("train/loss".into(), 4.5), ("lr".into(), 0.001)],
        };
        let mut bytes = event.encode();
        // An unknown varint field 9 and an unknown bytes field 7.
        bytes.extend_from_slice(&[0x48, 0x05, 0x3A, 0x02, 0xAA, 0xBB]);
        assert_eq!(Event::decode(&bytes).unwrap(), event);
    }

    #[test]
    fn truncated_bytes_are_an_error() {
        let bytes =
            Event { wall_time: 1.0, step: 2, file_version: None, scalars: vec![("x".into(), 1.0)] }.encode();
        // Inside the wall time, inside the step's number, inside the summary.
        for cut in [5, 10, 16] {
            assert!(Event::decode(&bytes[..cut]).is_err(), "cut at {cut}");
        }
    }
}
