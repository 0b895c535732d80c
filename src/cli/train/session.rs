//! A language-model training session on the engine: a new run or `--resume`, the epoch lines,
//! and the end (the test perplexity on the best weights).
//!
//! The epoch loop, checkpoints, Ctrl-C and NaN handling are the engine's (`recur::train`) and
//! `cli::fit`'s, the same for every task. `--resume DIR` rebuilds the model from `config.json`,
//! loads the checkpoint and goes on from the batch after the last one done: on one thread its
//! numbers are the uninterrupted run's, digit for digit (`tests/resume.rs`).

use crate::cli::fit::{fit, resume_state, Describe};
use crate::cli::flags::TensorboardFlags;
use recur::data::lm_data::LmData;
use recur::io::run_dir::{RunDir, RunResult, TrainSettings};
use recur::models::Lm;
use recur::optim::Optimizer;
use recur::tasks::lm::run::{resumable, Resumable};
use recur::tasks::{eval_perplexity, LmTask};
use recur::train::{BpttBatcher, EpochStats, Outcome, Overrides, TrainState};
use recur::{Error, Result};
use std::path::Path;

/// Everything a run needs, fresh or resumed.
pub struct Session {
    pub run: RunDir,
    pub settings: TrainSettings,
    /// The training corpus, and the validation and test ids if the run has them.
    pub data: LmData,
    pub model: Lm<f32>,
    pub batcher: BpttBatcher,
    pub state: TrainState<f32>,
}

/// The flags `--resume` accepts beside it.
pub struct ResumeOverrides<'a> {
    /// The PTB folder moved.
    pub data_dir: Option<&'a Path>,
    pub engine: Overrides,
}

impl Session {
    /// Rebuilds a run from its directory: config, data, model, then the checkpoint's state.
    pub fn resume(dir: &Path, overrides: ResumeOverrides) -> Result<Session> {
        let run = RunDir::open(dir)?;
        let Resumable { mut config, settings, data, mut batcher, mut model } =
            resumable(&run, overrides.data_dir, &overrides.engine)?;
        let optimizer = Optimizer::new(settings.optimizer, settings.engine.lr, settings.momentum);
        let state = {
            let mut task = LmTask::new(&mut model, &data.train.ids, &mut batcher);
            resume_state(&run, &mut task, optimizer, &settings.engine, overrides.engine.lr)?
        };
        if config.train.as_ref() != Some(&settings) {
            config.train = Some(settings.clone());
            run.write_config(&config)?;
        }
        Ok(Session { run, settings, data, model, batcher, state })
    }

    /// Trains the remaining epochs (`tensorboard`: the event files to write), then tests on the best weights (validated runs).
    pub fn train(mut self, tensorboard: &TensorboardFlags) -> Result<()> {
        let settings = self.settings.clone();
        let engine = settings.engine.clone();
        let mut task = LmTask::new(&mut self.model, &self.data.train.ids, &mut self.batcher);
        if let Some(valid) = &self.data.valid {
            let (batch, time) = eval_shape("the validation text", valid.len(), &settings)?;
            task = task.validated(valid, batch, time);
        }
        let describe = Describe { command: "recur train", epoch_line: &epoch_line, tensorboard };
        let outcome = fit(&engine, &self.run, &mut task, &mut self.state, &describe)?;
        let Outcome::Finished { best, stopped_early } = outcome else {
            unreachable!("fit returns only finished runs")
        };
        let history = &self.state.progress.history;
        let last = history.last().expect("at least one epoch");
        if stopped_early {
            println!(
                "early stopping after epoch {}: {} epochs without a better validation perplexity",
                last.epoch, engine.patience
            );
        }
        match best {
            Some((best_epoch, best_valid_ppl)) => {
                // The engine put the best epoch's weights back.
                println!("best validation perplexity {best_valid_ppl:.2} (epoch {best_epoch}); its weights are saved");
                let test_ppl = match &self.data.test {
                    Some(test) => {
                        let (batch, time) = eval_shape("the test text", test.len(), &settings)?;
                        self.model.reset_state();
                        let ppl = eval_perplexity(&mut self.model, test, batch, time)?;
                        println!("test perplexity {ppl:.2}");
                        Some(ppl)
                    }
                    None => None,
                };
                self.run.write_result(&RunResult { best_epoch, best_valid_ppl, test_ppl })?;
            }
            None => println!(
                "final perplexity {:.2} after {} epochs",
                last.figure("train_ppl").unwrap_or(f64::NAN),
                last.epoch
            ),
        }
        println!(
            "wrote {} (model, config, vocab, metrics, checkpoint) and {}, {}",
            self.run.root.display(),
            self.run.path("perplexity.png").display(),
            self.run.path("perplexity.svg").display()
        );
        Ok(())
    }
}

/// `| epoch   3 | lr  0.1000 | train perplexity    312.51 | valid perplexity ... | 1.2 s | ...`
fn epoch_line(e: &EpochStats) -> String {
    let fig = |k: &str| e.figure(k).unwrap_or(f64::NAN);
    format!(
        "| epoch {:3} | lr {:7.4} | train perplexity {:9.2} |{} {:.1} s | {:.0} tokens/s{}{}",
        e.epoch,
        e.lr,
        fig("train_ppl"),
        e.figure("valid_ppl").map(|v| format!(" valid perplexity {v:8.2} |")).unwrap_or_default(),
        e.seconds,
        fig("tokens_per_s"),
        e.rss_mib.map(|m| format!(" | RSS {m:.0} MiB")).unwrap_or_default(),
        if e.skipped > 0 { format!(" | {} batches skipped", e.skipped) } else { String::new() },
    )
}

/// The validation or test blocks: the run's (the book's 10 x 35), fewer streams or shorter
/// blocks when the text is too short to fill them (said once).
fn eval_shape(what: &str, tokens: usize, settings: &TrainSettings) -> Result<(usize, usize)> {
    let wanted = (settings.eval_batch_size, settings.eval_time_size);
    let shape = recur::tasks::lm::eval_shape(tokens, wanted.0, wanted.1)
        .ok_or_else(|| Error::msg(format!("{what} has {tokens} tokens: too few to measure a perplexity")))?;
    if shape != wanted {
        println!(
            "{what} has {tokens} tokens: measured in blocks of {} x {} instead of {} x {}",
            shape.0, shape.1, wanted.0, wanted.1
        );
    }
    Ok(shape)
}
