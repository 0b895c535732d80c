//! A training session: the epoch loop of `recur train`, its checkpoints, Ctrl-C, NaN, and
//! `--resume`.
//!
//! Every epoch ends with `checkpoint.safetensors` (`recur::io::train_state`): weights, optimizer
//! state, learning rate, best validation and its weights, batcher cursor, carried state, dropout
//! generator, metrics. SIGINT or SIGTERM sets a flag the loop reads after each batch: the batch
//! finishes, the checkpoint is written mid-epoch, and the process exits with 130; a second
//! signal exits at once, touching nothing (every file is written by rename, so none is ever
//! half-written). `--resume DIR` rebuilds the model from `config.json`, loads the checkpoint and
//! goes on from the batch after the last one done: on one thread its numbers are the
//! uninterrupted run's, digit for digit (`tests/resume.rs`).

use super::{load_data, write_plot, DataSource};
use indicatif::{ProgressBar, ProgressStyle};
use recur::data::Corpus;
use recur::io::run_dir::{RunDir, RunResult, TrainSettings};
use recur::io::train_state::{self, Progress, CHECKPOINT};
use recur::models::Lm;
use recur::optim::Optimizer;
use recur::tensor::Rng;
use recur::train::{
    eval_perplexity, resident_mib, train_epoch_from, BpttBatcher, EpochCursor, EpochEnd, EpochOptions,
    EpochStats,
};
use recur::{Error, Result};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Set by the first SIGINT/SIGTERM; read by the epoch loop after every batch.
static STOP: AtomicBool = AtomicBool::new(false);
static SIGNALS: AtomicUsize = AtomicUsize::new(0);

/// For tests: `RECUR_STOP_AFTER_BATCHES=K` stops this process after K batches exactly as
/// Ctrl-C would, so an interruption can be placed at a known batch.
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
    // Only fails if a handler is already set (a second session in one process): keep that one.
    let _ = ctrlc::set_handler(handler);
}

/// Everything a run needs, fresh or resumed.
pub struct Session {
    pub run: RunDir,
    pub settings: TrainSettings,
    pub corpus: Corpus,
    pub valid_test: Option<(Vec<u32>, Vec<u32>)>,
    pub model: Lm<f32>,
    pub optimizer: Optimizer<f32>,
    pub batcher: BpttBatcher,
    pub progress: Progress,
    /// The best epoch's weights in store order (validated runs).
    pub best_weights: Option<Vec<ndarray::ArrayD<f32>>>,
}

/// The flags `--resume` accepts beside it.
pub struct ResumeOverrides<'a> {
    pub data_dir: Option<&'a Path>,
    pub lr: Option<f64>,
    pub epochs: Option<usize>,
    pub on_nan: Option<recur::train::OnNan>,
}

impl Session {
    /// Rebuilds a run from its directory: config, data, model, then the checkpoint's state.
    pub fn resume(dir: &Path, overrides: ResumeOverrides) -> Result<Session> {
        let run = RunDir::open(dir)?;
        let checkpoint = run.path(CHECKPOINT);
        if !checkpoint.exists() {
            return Err(Error::file(
                &checkpoint,
                "not found: this run has no checkpoint to resume from (runs made before checkpoints existed, or by other tools, cannot be resumed)",
            ));
        }
        let mut config = run.read_config()?;
        let mut settings = config.train.clone().ok_or_else(|| {
            Error::file(&run.path("config.json"), "no `train` settings; expected a run made by `recur train`")
        })?;
        if let Some(lr) = overrides.lr {
            if !(lr.is_finite() && lr > 0.0) {
                return Err(Error::msg(format!("--lr must be a positive number (got {lr})")));
            }
            settings.lr = lr;
        }
        if let Some(epochs) = overrides.epochs {
            settings.epochs = epochs;
        }
        if let Some(on_nan) = overrides.on_nan {
            settings.on_nan = on_nan;
        }
        let source = DataSource::recorded(&settings, overrides.data_dir)?;
        let data = load_data(&source)?;
        let vocab = run.read_vocab()?;
        if vocab.len() != data.train.vocab.len()
            || (0..vocab.len() as u32).any(|id| vocab.word(id) != data.train.vocab.word(id))
        {
            return Err(Error::file(
                &run.path("vocab.txt"),
                format!(
                    "differs from the vocabulary of {}: the data changed since the run started",
                    settings.corpus
                ),
            ));
        }
        if data.train.ids.len() != settings.corpus_size {
            return Err(Error::msg(format!(
                "{} now has {} tokens; the run trained on {}",
                settings.corpus,
                data.train.ids.len(),
                settings.corpus_size
            )));
        }
        let mut batcher = BpttBatcher::new(data.train.ids.len(), settings.batch_size, settings.time_size)?;
        let mut model: Lm<f32> = Lm::new(config.model.clone(), &mut Rng::new(settings.seed));
        let mut optimizer = Optimizer::new(settings.optimizer, settings.lr, settings.momentum);
        let (mut progress, best_weights) =
            train_state::restore(&checkpoint, &mut model, &mut optimizer, &mut batcher)?;
        let iters = batcher.iters_per_epoch(data.train.ids.len());
        if progress.batch >= iters {
            return Err(Error::file(
                &checkpoint,
                format!("batch {} of an epoch of {iters} batches; expected fewer", progress.batch),
            ));
        }
        if progress.epochs_done >= settings.epochs {
            return Err(Error::msg(format!(
                "{} finished its {} epochs; pass --epochs N (more than {}) to train it further",
                dir.display(),
                progress.epochs_done,
                progress.epochs_done
            )));
        }
        if let Some(lr) = overrides.lr {
            progress.lr = lr;
        }
        if config.train.as_ref() != Some(&settings) {
            config.train = Some(settings.clone());
            run.write_config(&config)?;
        }
        println!(
            "resuming {} after epoch {}{} of {} (checkpoint {})",
            dir.display(),
            progress.epochs_done,
            if progress.batch > 0 {
                format!(", batch {}/{iters} of the next", progress.batch)
            } else {
                String::new()
            },
            settings.epochs,
            checkpoint.display()
        );
        Ok(Session {
            run,
            settings,
            corpus: data.train,
            valid_test: data.valid_test,
            model,
            optimizer,
            batcher,
            progress,
            best_weights,
        })
    }

    /// Trains the remaining epochs, then tests on the best weights (validated runs).
    pub fn train(mut self) -> Result<()> {
        install_interrupt_handler();
        let stop_after: Option<usize> = std::env::var(STOP_AFTER_ENV).ok().and_then(|v| v.parse().ok());
        let mut batches_here = 0usize;
        let settings = self.settings.clone();
        let iters = self.batcher.iters_per_epoch(self.corpus.ids.len());
        let tokens_per_batch = (settings.batch_size * settings.time_size) as f64;
        let done = (self.progress.epochs_done * iters + self.progress.batch) as u64;
        let bar = ProgressBar::new((iters * settings.epochs) as u64);
        bar.set_style(
            ProgressStyle::with_template(
                "{bar:30} {pos}/{len} batches  epoch {msg}  {per_sec}  elapsed {elapsed}  left {eta}",
            )
            .expect("the progress template is valid"),
        );
        bar.set_position(done);
        bar.reset_eta();
        let mut last_save = Instant::now();
        for epoch in self.progress.epochs_done + 1..=settings.epochs {
            if self.progress.batch == 0 {
                self.progress.lr =
                    settings.lr_rule.rate(epoch, settings.lr, self.progress.lr, self.progress.improved);
            }
            let lr = self.progress.lr;
            self.optimizer.set_lr(lr);
            bar.set_message(format!("{epoch}/{}", settings.epochs));
            let start = Instant::now();
            let earlier_seconds = self.progress.seconds;
            let first_batch = self.progress.batch;
            self.model.set_training(true);
            let cursor = EpochCursor {
                batch: self.progress.batch,
                loss_sum: self.progress.loss_sum,
                skipped: self.progress.skipped,
            };
            let options = EpochOptions { clip: settings.clip, on_nan: settings.on_nan, stop: Some(&STOP) };
            let end = train_epoch_from(
                &mut self.model,
                &self.corpus.ids,
                &mut self.batcher,
                &mut self.optimizer,
                &options,
                cursor,
                &mut |i, loss| {
                    bar.inc(1);
                    batches_here += 1;
                    if stop_after == Some(batches_here) {
                        STOP.store(true, Ordering::SeqCst);
                    }
                    if !loss.is_finite() {
                        bar.println(format!(
                            "epoch {epoch}, batch {}/{iters}: loss {loss}; batch skipped",
                            i + 1
                        ));
                    }
                    // Logs (no terminal, so no bar) get a line every tenth of a long epoch instead.
                    let tenth = iters / 10;
                    if bar.is_hidden() && iters >= 100 && (i + 1) % tenth == 0 && i + 1 < iters {
                        let elapsed = start.elapsed().as_secs_f64();
                        let batches = (i + 1 - first_batch) as f64;
                        let rate = batches / elapsed;
                        println!(
                            "  epoch {epoch}: batch {}/{iters}, batch perplexity {:.2}, {:.0} tokens/s, epoch ends in {:.0} s",
                            i + 1,
                            loss.exp(),
                            rate * tokens_per_batch,
                            (iters - i - 1) as f64 / rate
                        );
                    }
                },
            );
            let seconds = earlier_seconds + start.elapsed().as_secs_f64();
            let (mean_loss, skipped) = match end {
                EpochEnd::Finished { mean_loss, skipped } => (mean_loss, skipped),
                EpochEnd::Stopped(cursor) => {
                    bar.abandon();
                    self.progress.batch = cursor.batch;
                    self.progress.loss_sum = cursor.loss_sum;
                    self.progress.skipped = cursor.skipped;
                    self.progress.seconds = seconds;
                    return self.interrupted(epoch, iters);
                }
                EpochEnd::Diverged { batch, what } => {
                    bar.abandon();
                    self.run.write_metrics(&self.progress.history)?;
                    let what = format!(
                        "{what}; training stopped before applying this batch (--on-nan skip would skip such batches)"
                    );
                    return Err(self.diverged(&format!("epoch {epoch}, batch {}/{iters}", batch + 1), &what));
                }
            };
            let train_ppl = mean_loss.exp();
            if !train_ppl.is_finite() {
                bar.abandon();
                self.run.write_metrics(&self.progress.history)?;
                let what = if skipped == iters {
                    "every batch was skipped (--on-nan skip): no batch gives a finite loss and gradient any more"
                        .to_string()
                } else {
                    format!("the mean training loss is {}", short(mean_loss))
                };
                return Err(self.diverged(&format!("epoch {epoch}"), &what));
            }
            let valid_ppl = match &self.valid_test {
                Some((valid, _)) => Some(eval_perplexity(
                    &mut self.model,
                    valid,
                    settings.eval_batch_size,
                    settings.eval_time_size,
                )?),
                None => None,
            };
            let stats = EpochStats {
                epoch,
                train_ppl,
                valid_ppl,
                seconds,
                tokens_per_s: iters as f64 * tokens_per_batch / seconds,
                lr,
                skipped,
                rss_mib: resident_mib(),
            };
            let line = format!(
                "| epoch {epoch:3} | lr {lr:7.4} | train perplexity {train_ppl:9.2} |{} {seconds:.1} s | {:.0} tokens/s{}{}",
                valid_ppl.map(|v| format!(" valid perplexity {v:8.2} |")).unwrap_or_default(),
                stats.tokens_per_s,
                stats.rss_mib.map(|m| format!(" | RSS {m:.0} MiB")).unwrap_or_default(),
                if skipped > 0 { format!(" | {skipped} batches skipped") } else { String::new() },
            );
            // Without a terminal the bar is hidden and so would be its println.
            if bar.is_hidden() {
                println!("{line}");
            } else {
                bar.println(line);
            }
            self.progress.history.push(stats);
            self.progress.epochs_done = epoch;
            (self.progress.batch, self.progress.loss_sum, self.progress.skipped, self.progress.seconds) =
                (0, 0.0, 0, 0.0);
            match valid_ppl {
                Some(v) => {
                    let improved = self.progress.best.is_none_or(|(_, b)| v < b);
                    self.progress.improved = improved;
                    if improved {
                        let params = &self.model.params;
                        self.best_weights =
                            Some(params.ids().map(|id| params.value(id).to_owned()).collect());
                        self.progress.best = Some((epoch, v));
                        self.run.save_tensors(&self.model.state_dict())?;
                    }
                }
                // Long unvalidated runs save the model as they go; short ones only at the end.
                None if last_save.elapsed() > Duration::from_secs(30) => {
                    self.run.save_tensors(&self.model.state_dict())?;
                    last_save = Instant::now();
                }
                None => {}
            }
            self.save_checkpoint()?;
            self.run.write_metrics(&self.progress.history)?;
            if STOP.load(Ordering::SeqCst) && epoch < settings.epochs {
                bar.abandon();
                return self.interrupted(epoch + 1, iters);
            }
        }
        bar.finish_and_clear();
        self.finish()
    }

    fn save_checkpoint(&mut self) -> Result<()> {
        train_state::save(
            &self.run.path(CHECKPOINT),
            &self.progress,
            &mut self.model,
            &self.optimizer,
            &self.batcher,
            self.best_weights.as_deref(),
        )
    }

    /// Writes the checkpoint (and, for unvalidated runs, the current weights) and exits 130.
    fn interrupted(mut self, epoch: usize, iters: usize) -> Result<()> {
        self.save_checkpoint()?;
        self.run.write_metrics(&self.progress.history)?;
        if self.valid_test.is_none() {
            self.run.save_tensors(&self.model.state_dict())?;
        }
        println!(
            "interrupted in epoch {epoch} after batch {}/{iters}; checkpoint written to {}",
            self.progress.batch,
            self.run.path(CHECKPOINT).display()
        );
        println!("resume with: recur train --resume {}", self.run.root.display());
        std::process::exit(INTERRUPTED);
    }

    /// The error of a run stopped by a non-finite loss or gradient: where, what, and what is left.
    fn diverged(&self, place: &str, what: &str) -> Error {
        let checkpoint = self.run.path(CHECKPOINT);
        let last_good = if checkpoint.exists() {
            format!(
                "the last good checkpoint is {} (end of epoch {}); resume from it with a lower rate: \
                 recur train --resume {} --lr {}",
                checkpoint.display(),
                self.progress.epochs_done,
                self.run.root.display(),
                short(self.progress.lr / 10.0)
            )
        } else {
            "there is no checkpoint yet (it diverged in the first epoch): start again with a lower --lr or with --clip"
                .to_string()
        };
        Error::msg(format!("{place}: {what}; {last_good}"))
    }

    /// The end of the run: plot, and for validated runs the test perplexity on the best weights.
    fn finish(mut self) -> Result<()> {
        let history = &self.progress.history;
        let (png, svg) = write_plot(&self.run, history)?;
        let last = history.last().expect("at least one epoch");
        let settings = &self.settings;
        match (&self.valid_test, self.progress.best, self.best_weights.take()) {
            (Some((_, test)), Some((best_epoch, best_valid_ppl)), Some(weights)) => {
                let ids: Vec<_> = self.model.params.ids().collect();
                for (id, w) in ids.into_iter().zip(weights) {
                    self.model.params.value_mut(id).assign(&w);
                }
                self.model.reset_state();
                let test_ppl = eval_perplexity(
                    &mut self.model,
                    test,
                    settings.eval_batch_size,
                    settings.eval_time_size,
                )?;
                self.run.write_result(&RunResult { best_epoch, best_valid_ppl, test_ppl })?;
                println!(
                    "best validation perplexity {best_valid_ppl:.2} (epoch {best_epoch}); on its weights:"
                );
                println!("test perplexity {test_ppl:.2}");
            }
            _ => {
                self.run.save_tensors(&self.model.state_dict())?;
                println!("final perplexity {:.2} after {} epochs", last.train_ppl, last.epoch);
            }
        }
        println!(
            "wrote {} (model, config, vocab, metrics, checkpoint) and {}, {}",
            self.run.root.display(),
            png.display(),
            svg.display()
        );
        Ok(())
    }
}

/// A number for a message: plain when moderate, in exponent form when huge or tiny.
fn short(x: f64) -> String {
    if x != 0.0 && x.is_finite() && !(1e-4..1e6).contains(&x.abs()) {
        format!("{x:.3e}")
    } else {
        format!("{x}")
    }
}
