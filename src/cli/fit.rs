//! What every `train` subcommand shares around the engine: Ctrl-C, the progress bar, the epoch
//! lines, and what an interrupted or diverged run prints.
//!
//! SIGINT or SIGTERM sets a flag the engine reads before each batch: the batch finishes, the
//! checkpoint is written, `resume with: ...` is printed and the process exits with 130; a second
//! signal exits at once, touching nothing (every file is written by rename, so none is ever
//! half-written). `RECUR_STOP_AFTER_BATCHES=K` sets the same flag after K batches of this
//! process, so tests can interrupt at a known batch.

use crate::cli::flags::{check_positive, TensorboardFlags};
use indicatif::{ProgressBar, ProgressState, ProgressStyle};
use recur::io::run_dir::RunDir;
use recur::io::train_state::CHECKPOINT;
use recur::tensor::Real;
use recur::train::engine::diverged_error;
use recur::train::{EpochStats, Observer, Outcome, Settings, Task, TensorboardLog, TrainState, Trainer};
use recur::Result;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Instant;

/// Set by the first SIGINT/SIGTERM; read by the engine before every batch.
static STOP: AtomicBool = AtomicBool::new(false);
static SIGNALS: AtomicUsize = AtomicUsize::new(0);

/// For tests: stop this process after K batches exactly as Ctrl-C would.
const STOP_AFTER_ENV: &str = "RECUR_STOP_AFTER_BATCHES";

/// The exit code of an interrupted run (128 + SIGINT, what shells report for Ctrl-C).
pub const INTERRUPTED: i32 = 130;

fn install_interrupt_handler() {
    let handler = || {
        if SIGNALS.fetch_add(1, Ordering::SeqCst) == 0 {
            STOP.store(true, Ordering::SeqCst);
            eprintln!("\ninterrupt: finishing this batch and writing a checkpoint (interrupt again to quit at once)");
        } else {
            // Files are only ever replaced by rename, so quitting now leaves each one whole.
            std::process::exit(INTERRUPTED);
        }
    };
    // Only fails if a handler is already set (a second run in one process): keep that one.
    let _ = ctrlc::set_handler(handler);
}

/// How a subcommand's run is described to the user, on the terminal and in TensorBoard.
pub struct Describe<'a> {
    /// The command that resumes it, without `--resume DIR` (`recur classify train`).
    pub command: &'a str,
    /// One epoch's line (`| epoch 3 | train loss ... |`).
    pub epoch_line: &'a dyn Fn(&EpochStats) -> String,
    /// `--tensorboard DIR` and `--tensorboard-every N`.
    pub tensorboard: &'a TensorboardFlags,
}

/// Trains `task` through the engine with the progress bar and Ctrl-C. An interrupted run
/// prints where it stopped and how to resume, and exits with 130; a diverged one is an error
/// naming the epoch, the batch and the last good checkpoint. Returns the finished outcome.
pub fn fit<F: Real>(
    settings: &Settings,
    run: &RunDir,
    task: &mut dyn Task<F>,
    state: &mut TrainState<F>,
    describe: &Describe,
) -> Result<Outcome> {
    install_interrupt_handler();
    let tb = describe.tensorboard;
    let mut log = match &tb.tensorboard {
        Some(dir) => match TensorboardLog::create(dir, tb.tensorboard_every) {
            Ok(log) => Some(log),
            Err(e) => {
                if !run.path(CHECKPOINT).exists() {
                    run.remove_unfinished()?;
                }
                return Err(e);
            }
        },
        None => None,
    };
    let mut bar = Bar::new(describe.epoch_line);
    let mut observers = (&mut bar, &mut log);
    let mut trainer = Trainer { settings, run: Some(run), stop: Some(&STOP), observer: &mut observers };
    let outcome = trainer.fit(task, state)?;
    if let Some(e) = log.as_mut().and_then(TensorboardLog::take_error) {
        // The run itself is saved; only its TensorBoard log stopped.
        eprintln!("warning: the TensorBoard log stopped: {e}");
    }
    match &outcome {
        Outcome::Finished { .. } => {
            bar.bar.finish_and_clear();
            Ok(outcome)
        }
        Outcome::Interrupted { epoch, batch, batches_per_epoch } => {
            bar.bar.abandon();
            println!(
                "interrupted in epoch {epoch} after batch {batch}/{batches_per_epoch}; checkpoint written to {}",
                run.path(CHECKPOINT).display()
            );
            // The log is the process's, not the run's: a resumed run logs where it is told to.
            let log = tb
                .tensorboard
                .as_ref()
                .map_or(String::new(), |dir| format!(" --tensorboard {}", dir.display()));
            println!("resume with: {} --resume {}{log}", describe.command, run.root.display());
            std::process::exit(INTERRUPTED);
        }
        Outcome::Diverged { checkpoint, .. } => {
            bar.bar.abandon();
            let err = diverged_error(&outcome, run, describe.command, state.progress.lr);
            if !checkpoint {
                // Nothing usable was written: leave no run directory behind.
                run.remove_unfinished()?;
            }
            Err(err)
        }
    }
}

/// The progress bar (batches, batches per second, time left) and the epoch lines. Without a
/// terminal the bar is hidden and a line is printed every tenth of a long epoch instead.
struct Bar<'a> {
    bar: ProgressBar,
    epoch_line: &'a dyn Fn(&EpochStats) -> String,
    stop_after: Option<usize>,
    batches_here: usize,
    epochs: usize,
    iters: usize,
    epoch_start: Instant,
    first_batch: Option<usize>,
}

impl<'a> Bar<'a> {
    fn new(epoch_line: &'a dyn Fn(&EpochStats) -> String) -> Self {
        Bar {
            bar: ProgressBar::hidden(),
            epoch_line,
            stop_after: std::env::var(STOP_AFTER_ENV).ok().and_then(|v| v.parse().ok()),
            batches_here: 0,
            epochs: 0,
            iters: 0,
            epoch_start: Instant::now(),
            first_batch: None,
        }
    }

    fn print(&self, line: String) {
        // Without a terminal the bar is hidden and so would be its println.
        if self.bar.is_hidden() {
            println!("{line}");
        } else {
            self.bar.println(line);
        }
    }
}

impl Observer for Bar<'_> {
    fn started(&mut self, epochs: usize, batches_per_epoch: usize, done: usize) {
        (self.epochs, self.iters) = (epochs, batches_per_epoch);
        self.bar = ProgressBar::new((epochs * batches_per_epoch) as u64);
        self.bar.set_style(
            ProgressStyle::with_template(
                "{bar:30} {pos}/{len} batches  epoch {msg}  {rate}  elapsed {elapsed}  left {eta}",
            )
            .expect("the progress template is valid")
            .with_key("rate", |state: &ProgressState, out: &mut dyn std::fmt::Write| {
                let _ = write!(out, "{:.1} batches/s", state.per_sec());
            }),
        );
        self.bar.set_message(format!("{}/{epochs}", (done / batches_per_epoch.max(1) + 1).min(epochs)));
        self.bar.set_position(done as u64);
        self.bar.reset_eta();
    }

    fn epoch_started(&mut self, epoch: usize) {
        self.bar.set_message(format!("{epoch}/{}", self.epochs));
        self.epoch_start = Instant::now();
        self.first_batch = None;
    }

    fn batch_done(&mut self, epoch: usize, index: usize, loss: f64, _grad_norm: Option<f64>) {
        self.bar.inc(1);
        self.batches_here += 1;
        if self.stop_after == Some(self.batches_here) {
            STOP.store(true, Ordering::SeqCst);
        }
        let iters = self.iters;
        if !loss.is_finite() {
            self.print(format!("epoch {epoch}, batch {}/{iters}: loss {loss}", index + 1));
        }
        let first = *self.first_batch.get_or_insert(index);
        let tenth = iters / 10;
        if self.bar.is_hidden() && iters >= 100 && (index + 1).is_multiple_of(tenth) && index + 1 < iters {
            let elapsed = self.epoch_start.elapsed().as_secs_f64();
            let rate = (index + 1 - first) as f64 / elapsed;
            println!(
                "  epoch {epoch}: batch {}/{iters}, batch loss {loss:.4}, epoch ends in {:.0} s",
                index + 1,
                (iters - index - 1) as f64 / rate
            );
        }
    }

    fn epoch_done(&mut self, stats: &EpochStats) {
        self.print((self.epoch_line)(stats));
    }
}

/// The training state of the run in `run`, from its checkpoint, for `task` (built from the
/// run's config): refuses a run with no checkpoint, one whose epochs are all done or that
/// early stopping ended, and says where it resumes. `lr` (from `--lr`) replaces the rate from
/// now on.
pub fn resume_state<F: Real>(
    run: &RunDir,
    task: &mut dyn Task<F>,
    optimizer: recur::optim::Optimizer<F>,
    settings: &Settings,
    lr: Option<f64>,
) -> Result<TrainState<F>> {
    if let Some(lr) = lr {
        check_positive("--lr", lr)?;
    }
    let state = recur::io::train_state::resume(run, task, optimizer, settings, lr)?;
    let (checkpoint, iters) = (run.path(CHECKPOINT), task.batches_per_epoch());
    let p = &state.progress;
    println!(
        "resuming {} after epoch {}{} of {} (checkpoint {})",
        run.root.display(),
        p.epochs_done,
        if p.batch > 0 { format!(", batch {}/{iters} of the next", p.batch) } else { String::new() },
        settings.epochs,
        checkpoint.display()
    );
    Ok(state)
}
