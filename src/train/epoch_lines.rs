//! [`EpochLines`]: the observer that writes one line per epoch, as PyTorch's and Keras' training
//! loops print, to any [`Write`] its caller gives (the library itself never prints):
//!
//! ```text
//! epoch 3/10  train_loss 4.1234  train_ppl 61.7531  valid_loss 4.8158  valid_ppl 123.45  lr 0.001  12.3 s  5210 tokens/s
//! ```
//!
//! The line holds the epoch (of the run's epochs), the mean training loss, the task's own
//! figures of the metrics line (`train_*` first, then `valid_loss` and the other `valid_*`, then
//! any other, each under its `metrics.jsonl` key), the batches skipped for a NaN (when any), the learning rate, the
//! epoch's seconds and its throughput (`tokens_per_s` written `tokens/s`).

use super::metrics::EpochStats;
use super::observer::Observer;
use std::io::Write;

/// Writes one line per epoch (or per k-th epoch, [`EpochLines::every`]) to a writer.
///
/// ```
/// use recur::train::{EpochLines, EpochStats, Observer};
/// use std::collections::BTreeMap;
///
/// let mut lines = EpochLines::new(Vec::new());
/// lines.started(10, 100, 0);
/// lines.epoch_done(&EpochStats {
///     epoch: 3,
///     train_loss: 4.12344,
///     lr: 0.001,
///     seconds: 12.34,
///     skipped: 0,
///     rss_mib: None,
///     figures: BTreeMap::from([("valid_ppl".to_string(), 123.454)]),
/// });
/// let text = String::from_utf8(lines.into_inner()).unwrap();
/// assert_eq!(text, "epoch 3/10  train_loss 4.1234  valid_ppl 123.45  lr 0.001  12.3 s\n");
/// ```
///
/// A program's own training prints with `EpochLines::new(std::io::stdout())` as the
/// `Trainer`'s observer, alone or paired with another observer (`(&mut a, &mut b)`).
pub struct EpochLines<W: Write> {
    out: W,
    /// A line for every this many epochs (and the first and the last).
    every: usize,
    /// The run's epochs, once `started` has said.
    epochs: Option<usize>,
    /// The first write error; nothing is written after it.
    error: Option<std::io::Error>,
}

impl<W: Write> EpochLines<W> {
    /// A line for every epoch, written to `out`.
    pub fn new(out: W) -> Self {
        EpochLines { out, every: 1, epochs: None, error: None }
    }

    /// A line only for every `k`-th epoch, the first epoch and the run's last (`k` 0 counts as 1).
    pub fn every(mut self, k: usize) -> Self {
        self.every = k.max(1);
        self
    }

    /// The first write error, if writing failed: an observer cannot fail the run, so the lines
    /// stopped there and training went on.
    pub fn take_error(&mut self) -> Option<std::io::Error> {
        self.error.take()
    }

    /// The writer back (a `Vec<u8>` with the lines, ...).
    pub fn into_inner(self) -> W {
        self.out
    }

    /// Whether epoch `epoch` gets a line.
    fn shows(&self, epoch: usize) -> bool {
        epoch == 1 || epoch.is_multiple_of(self.every) || Some(epoch) == self.epochs
    }
}

/// One epoch's line, without its line break (`epochs`: the run's, when known).
pub fn epoch_line(stats: &EpochStats, epochs: Option<usize>) -> String {
    let mut line = match epochs {
        Some(epochs) => format!("epoch {}/{epochs}", stats.epoch),
        None => format!("epoch {}", stats.epoch),
    };
    let mut field = |key: &str, value: String| line.push_str(&format!("  {key} {value}"));
    field("train_loss", figure(stats.train_loss));
    let (rates, figures): (Vec<_>, Vec<_>) = stats.figures.iter().partition(|(k, _)| k.ends_with("_per_s"));
    // Keras' order: each split's loss first, then its other figures in the metrics line's
    // (alphabetical) order; the sort is stable.
    let rank = |key: &str| match key {
        "valid_loss" => 1,
        k if k.starts_with("train_") => 0,
        k if k.starts_with("valid_") => 2,
        _ => 3,
    };
    let mut figures = figures;
    figures.sort_by_key(|(k, _)| rank(k));
    for (key, &value) in figures {
        field(key, figure(value));
    }
    if stats.skipped > 0 {
        field("skipped", stats.skipped.to_string());
    }
    field("lr", rate(stats.lr));
    line.push_str(&format!("  {:.1} s", stats.seconds));
    for (key, value) in rates {
        line.push_str(&format!("  {value:.0} {}/s", key.trim_end_matches("_per_s")));
    }
    line
}

/// A figure as the training loops print them: 4 decimals, 2 from 100 up, none for a count (a
/// whole number from 2 up: 0 and 1 may as well be an accuracy).
fn figure(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() >= 2.0 && x.abs() < 1e15 {
        format!("{x:.0}")
    } else if x.abs() >= 100.0 {
        format!("{x:.2}")
    } else {
        format!("{x:.4}")
    }
}

/// A learning rate: up to 6 significant digits, no trailing zeros (0.001, 20, 0.3125), in
/// exponent form when tiny or huge.
fn rate(x: f64) -> String {
    if x != 0.0 && x.is_finite() && !(1e-4..1e6).contains(&x.abs()) {
        return format!("{x:.3e}");
    }
    let decimals = if x == 0.0 || !x.is_finite() { 0 } else { (5 - x.abs().log10().floor() as i32).max(0) };
    let text = format!("{x:.*}", decimals as usize);
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    }
}

impl<W: Write> Observer for EpochLines<W> {
    fn started(&mut self, epochs: usize, _batches_per_epoch: usize, _done: usize) {
        self.epochs = Some(epochs);
    }

    fn epoch_done(&mut self, stats: &EpochStats) {
        if self.error.is_some() || !self.shows(stats.epoch) {
            return;
        }
        // One write a line, so that lines from two writers sharing a terminal never interleave.
        let line = epoch_line(stats, self.epochs) + "\n";
        if let Err(e) = self.out.write_all(line.as_bytes()).and_then(|()| self.out.flush()) {
            self.error = Some(e);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn stats(epoch: usize, figures: &[(&str, f64)]) -> EpochStats {
        EpochStats {
            epoch,
            train_loss: 0.5 + 1.0 / epoch as f64,
            lr: 0.005,
            seconds: 1.25,
            skipped: 0,
            rss_mib: Some(100.0),
            figures: figures.iter().map(|&(k, v)| (k.to_string(), v)).collect::<BTreeMap<_, _>>(),
        }
    }

    fn written(lines: EpochLines<Vec<u8>>) -> Vec<String> {
        String::from_utf8(lines.into_inner()).unwrap().lines().map(String::from).collect()
    }

    #[test]
    fn a_line_holds_the_splits_figures_then_lr_seconds_and_rate() {
        let mut lines = EpochLines::new(Vec::new());
        lines.started(4, 10, 0);
        let figures = [
            ("valid_accuracy", 0.8125),
            ("texts_per_s", 2250.4),
            ("valid_loss", 0.43219),
            ("train_accuracy", 0.75),
            ("valid_correct", 130.0),
        ];
        lines.epoch_done(&stats(2, &figures));
        let mut skipped = stats(3, &[("valid_ppl", 1234.5678)]);
        (skipped.skipped, skipped.lr) = (2, 20.0 * 0.25);
        lines.epoch_done(&skipped);
        assert_eq!(
            written(lines),
            [
                "epoch 2/4  train_loss 1.0000  train_accuracy 0.7500  valid_loss 0.4322  valid_accuracy 0.8125  \
                 valid_correct 130  lr 0.005  1.2 s  2250 texts/s",
                "epoch 3/4  train_loss 0.8333  valid_ppl 1234.57  skipped 2  lr 5  1.2 s",
            ]
        );
    }

    #[test]
    fn every_kth_epoch_with_the_first_and_the_last() {
        let mut lines = EpochLines::new(Vec::new()).every(3);
        lines.started(8, 10, 0);
        for epoch in 1..=8 {
            lines.epoch_done(&stats(epoch, &[]));
        }
        let epochs: Vec<String> =
            written(lines).iter().map(|l| l.split("  ").next().unwrap().to_string()).collect();
        assert_eq!(epochs, ["epoch 1/8", "epoch 3/8", "epoch 6/8", "epoch 8/8"]);

        // Not told the run's epochs (no `started`): no total, and the last is not known.
        let mut lines = EpochLines::new(Vec::new()).every(2);
        for epoch in 1..=3 {
            lines.epoch_done(&stats(epoch, &[]));
        }
        let first: Vec<String> = written(lines).iter().map(|l| l[..7].to_string()).collect();
        assert_eq!(first, ["epoch 1", "epoch 2"]);
    }

    #[test]
    fn learning_rates_and_figures_read_as_printed_by_hand() {
        let rates =
            [(0.001, "0.001"), (20.0, "20"), (0.3125, "0.3125"), (1.0 / 1.15, "0.869565"), (0.0, "0")];
        for (x, text) in rates {
            assert_eq!(rate(x), text, "{x}");
        }
        assert_eq!(rate(1e-6), "1.000e-6");
        assert_eq!(figure(4.12345), "4.1235");
        assert_eq!(figure(1.0), "1.0000");
        assert_eq!(figure(123.456), "123.46");
        assert_eq!(figure(912.0), "912");
        assert_eq!(figure(2.0), "2");
        assert_eq!(figure(f64::NAN), "NaN");
    }

    /// A writer that fails from its second write on.
    struct Full(usize);
    impl Write for Full {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 += 1;
            if self.0 > 1 {
                return Err(std::io::Error::other("disk full"));
            }
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_write_error_stops_the_lines_and_is_kept() {
        let mut lines = EpochLines::new(Full(0));
        lines.epoch_done(&stats(1, &[]));
        assert!(lines.take_error().is_none());
        lines.epoch_done(&stats(2, &[]));
        lines.epoch_done(&stats(3, &[]));
        assert_eq!(lines.take_error().unwrap().to_string(), "disk full");
        assert_eq!(lines.into_inner().0, 2, "nothing written after the error");
    }
}
