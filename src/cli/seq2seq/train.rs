//! `recur seq2seq train`: a new run (flags checked, pairs split, run directory, a freshly drawn
//! model) or a resumed one (the run's config and pairs, checked against what it recorded), then
//! training on the engine, the accuracy plot and the closing lines.

use super::eval::examples;
use super::{TrainArgs, TRAIN_COMMAND};
use crate::cli::fit::{fit, resume_state, Describe};
use crate::cli::flags::{check_off_or_positive, check_positive, check_probability, TensorboardFlags};
use recur::data::pairs::{self, data_hash, CharVocab, Layout, Pair};
use recur::io::run_dir::{RunDir, TaskKind, METRICS, MODEL};
use recur::io::train_state::CHECKPOINT;
use recur::layers::CellKind;
use recur::models::{Seq2seq, Seq2seqConfig};
use recur::optim::{LrSchedule, Optimizer, OptimizerKind};
use recur::plot::{epoch_ticks, write_panels, Chart, Mark, Panel, Series};
use recur::tasks::seq2seq::run::{
    load_pairs, read_config, recorded_pairs, write_config, write_vocab, DataSource, RunConfig, Settings,
};
use recur::tasks::seq2seq::Seq2seqTask;
use recur::tensor::Rng;
use recur::train::{EpochStats, Outcome, TrainState};
use recur::{Error, Result};
use std::cell::RefCell;
use std::path::Path;

const PLOT_STEM: &str = "accuracy";

/// Everything a run trains with, fresh or resumed.
struct Session {
    run: RunDir,
    config: RunConfig,
    vocab: CharVocab,
    train_pairs: Vec<Pair>,
    valid_pairs: Vec<Pair>,
    model: Seq2seq<f32>,
    /// The batches' generator of a new run (a resumed run's comes from the checkpoint).
    shuffle_rng: Rng,
    /// Set when the run goes on from its checkpoint.
    resuming: Option<Resuming>,
}

/// A run going on from its checkpoint: `--lr` if given, and the config as it was on disk (the
/// one written back if `--resume`'s flags changed it).
struct Resuming {
    lr: Option<f64>,
    recorded: RunConfig,
}

pub(super) fn train(args: TrainArgs) -> Result<()> {
    args.tensorboard.check()?;
    let mut session = match &args.resume {
        Some(dir) => {
            args.check_resume_flags()?;
            resume(dir, &args)?
        }
        None => start(&args)?,
    };
    session.train(args.show.unwrap_or(3), &args.tensorboard)
}

/// A new run: the settings, the data, the run directory, a freshly drawn model.
fn start(args: &TrainArgs) -> Result<Session> {
    let (epochs, batch_size) = (args.epochs.unwrap_or(25), args.batch_size.unwrap_or(128));
    let (layers, hidden_size, wordvec_size) =
        (args.layers.unwrap_or(1), args.hidden_size.unwrap_or(128), args.wordvec_size.unwrap_or(16));
    if epochs == 0 || batch_size == 0 || layers == 0 || hidden_size == 0 || wordvec_size == 0 {
        return Err(Error::msg(
            "--epochs, --batch-size, --layers, --hidden-size and --embed-size must be at least 1",
        ));
    }
    let lr = args.lr.unwrap_or(0.001);
    let (clip, momentum) = (args.clip.unwrap_or(5.0), args.momentum.unwrap_or(0.9));
    let engine = args.schedule.engine(epochs, lr, clip, crate::cli::flags::CONSTANT, 0)?;
    check_positive("--lr", lr)?;
    check_off_or_positive("--clip", clip)?;
    if !(momentum.is_finite() && momentum >= 0.0) {
        return Err(Error::msg(format!("--momentum must be 0 or a positive number (got {momentum})")));
    }
    let dropout = args.dropout.unwrap_or(0.0);
    check_probability("--dropout", dropout)?;
    let valid_share = args.valid_share.unwrap_or(0.1);
    if !(valid_share > 0.0 && valid_share < 1.0) {
        return Err(Error::msg(format!("--valid-share must be between 0 and 1 (got {valid_share})")));
    }
    let source = match (&args.tsv, args.addition) {
        (Some(path), _) => DataSource::Tsv { path: path.clone() },
        (None, true) => DataSource::Addition { examples: args.examples.unwrap_or(50_000) },
        (None, false) => return Err(Error::msg(
            "give the data: --addition (the built-in task) or --tsv FILE (or --resume DIR to continue a run)",
        )),
    };
    let seed = args.seed.unwrap_or(1);
    let mut rng = Rng::new(seed);
    let (train_pairs, valid_pairs) = load_pairs(&source, valid_share, &mut rng)?;
    let all: Vec<Pair> = train_pairs.iter().chain(&valid_pairs).cloned().collect();
    let vocab = CharVocab::from_pairs(&all);
    let (max_input_len, max_output_len) = pairs::max_lengths(&all);
    let mask_padding = args.mask_padding;
    let layout = Layout {
        max_input_len,
        max_output_len,
        reverse_input: args.reverse_input,
        mask_padding,
        input_eos: args.input_eos,
    };
    let model_config = Seq2seqConfig {
        cell: args.cell.unwrap_or(CellKind::Lstm),
        vocab_size: vocab.len(),
        embed_size: wordvec_size,
        hidden_size,
        peeky: args.peeky,
        num_layers: layers,
        dropout,
        attention: args.attention,
        bidirectional: args.bidirectional,
        mask_padding,
    };
    model_config.check()?;
    let settings = Settings {
        data: source,
        train_examples: train_pairs.len(),
        valid_examples: valid_pairs.len(),
        valid_share,
        batch_size,
        engine,
        optimizer: args.optimizer.unwrap_or(OptimizerKind::Adam),
        seed,
        momentum,
        data_sha256: Some(data_hash(&train_pairs, &valid_pairs)),
    };
    let config = RunConfig { task: TaskKind::Seq2seq, model: model_config.clone(), layout, train: settings };

    let run = RunDir::create(&crate::cli::choose_out_dir(args.out.as_deref(), args.overwrite, "seq2seq")?)?;
    run.remove_replaced(&[
        MODEL,
        METRICS,
        CHECKPOINT,
        "accuracy.png",
        "accuracy.svg",
        "loss.png",
        "loss.svg",
    ])?;
    write_config(&run, &config)?;
    write_vocab(&run, &vocab)?;

    let model: Seq2seq<f32> = Seq2seq::new(model_config.clone(), &mut rng);
    println!(
        "training seq2seq {}{}{}{} (V {}, D {}, H {}{}, {} parameters) on {} pairs, {} held out; \
         input up to {} symbols, output up to {}",
        if layers > 1 { format!("{layers} x ") } else { String::new() },
        model_config.cell.name().to_uppercase(),
        model_config.variant(),
        layout.describe(),
        model_config.vocab_size,
        model_config.embed_size,
        model_config.hidden_size,
        if dropout > 0.0 { format!(", dropout {dropout}") } else { String::new() },
        model.params.num_elements(),
        train_pairs.len(),
        valid_pairs.len(),
        max_input_len,
        max_output_len,
    );
    Ok(Session { run, config, vocab, train_pairs, valid_pairs, model, shuffle_rng: rng, resuming: None })
}

/// Rebuilds a run from its directory: config (with the flags `--resume` accepts applied), the
/// same pairs (checked against the run's), the model; the checkpoint is read by `train`.
fn resume(dir: &Path, args: &TrainArgs) -> Result<Session> {
    let (run, recorded) = read_config(dir)?;
    let mut config = recorded.clone();
    let settings = &mut config.train;
    settings.engine.override_with(&args.schedule.overrides(args.lr, args.epochs));
    if let Some(path) = &args.tsv {
        match &mut settings.data {
            DataSource::Tsv { path: recorded } => *recorded = path.clone(),
            DataSource::Addition { .. } => {
                return Err(Error::msg(format!(
                    "{} trained on the generated addition task; --tsv cannot replace its data",
                    run.root.display()
                )))
            }
        }
    }
    let (vocab, train_pairs, valid_pairs, mut rng) = recorded_pairs(&run, &config)?;
    let model: Seq2seq<f32> = Seq2seq::new(config.model.clone(), &mut rng);
    let resuming = Some(Resuming { lr: args.lr, recorded });
    Ok(Session { run, config, vocab, train_pairs, valid_pairs, model, shuffle_rng: rng, resuming })
}

impl Session {
    /// Trains the remaining epochs through the engine, then draws the accuracy and says which
    /// epoch's weights were kept.
    fn train(&mut self, show: usize, tensorboard: &TensorboardFlags) -> Result<()> {
        let settings = self.config.train.clone();
        let engine = settings.engine.clone();
        let shown: RefCell<Vec<String>> = RefCell::new(Vec::new());
        let schedule = settings.engine.lr_rule.schedule;
        let epoch_line = |e: &EpochStats| {
            let fig = |k: &str| e.figure(k).unwrap_or(f64::NAN);
            let mut line = format!(
                "| epoch {:3} |{} train loss {:.4} | held-out accuracy {:.4} ({}/{}) | valid loss {:.4} | {:.1} s | {:.0} pairs/s{}",
                e.epoch,
                if schedule == LrSchedule::Constant { String::new() } else { format!(" lr {:.3e} |", e.lr) },
                e.train_loss,
                fig("valid_accuracy"),
                fig("valid_correct"),
                fig("valid_examples"),
                fig("valid_loss"),
                e.seconds,
                fig("examples_per_s"),
                if e.skipped > 0 { format!(" | {} batches skipped", e.skipped) } else { String::new() },
            );
            for example in shown.borrow().iter() {
                line.push('\n');
                line.push_str(example);
            }
            line
        };
        let task = Seq2seqTask::new(
            &mut self.model,
            &self.vocab,
            self.config.layout,
            &self.train_pairs,
            &self.valid_pairs,
            settings.batch_size,
            self.shuffle_rng.clone(),
        )?;
        let mut task = task.on_validated(|pairs, decoded| {
            *shown.borrow_mut() = examples(pairs, decoded, show);
        });
        let optimizer = Optimizer::new(settings.optimizer, settings.engine.lr, settings.momentum);
        // A resumed run's task takes back its batch order and generator here, with the weights.
        let mut state = match &self.resuming {
            Some(resuming) => {
                let state = resume_state(&self.run, &mut task, optimizer, &engine, resuming.lr)?;
                if resuming.recorded != self.config {
                    write_config(&self.run, &self.config)?;
                }
                state
            }
            None => TrainState::new(optimizer),
        };
        let describe = Describe { command: TRAIN_COMMAND, epoch_line: &epoch_line, tensorboard };
        let outcome = fit(&engine, &self.run, &mut task, &mut state, &describe)?;
        drop(task);
        let Outcome::Finished { best, stopped_early } = outcome else {
            unreachable!("fit returns only finished runs")
        };
        let history = &state.progress.history;
        let series = [Series {
            name: "held-out exact match".into(),
            points: history
                .iter()
                .filter_map(|e| Some((e.epoch as f64, e.figure("valid_accuracy")?)))
                .collect(),
        }];
        let chart =
            Chart { title: "Accuracy", x_label: "epoch", y_label: "accuracy", log_y: false, series: &series };
        // The epoch whose weights are saved, as the engine marks its own curve.
        let marks: Vec<Mark> = best
            .iter()
            .map(|&(epoch, _)| Mark { x: epoch as f64, label: format!("saved: epoch {epoch}") })
            .collect();
        let ticks = epoch_ticks(history.last().map_or(1, |e| e.epoch));
        let (png, svg) =
            write_panels(&self.run.path(PLOT_STEM), &[Panel { chart, x_ticks: &ticks, marks: &marks }])?;
        let last = history.last().expect("at least one epoch");
        let accuracy = |e: &EpochStats| e.figure("valid_accuracy").unwrap_or(f64::NAN);
        if stopped_early {
            println!(
                "early stopping after epoch {}: {} epochs without a better held-out accuracy",
                last.epoch, settings.engine.patience
            );
        }
        if let Some((best_epoch, _)) = best {
            let best_stats = &history[best_epoch - 1];
            println!(
                "best held-out accuracy {:.4} (epoch {best_epoch}): its weights are the model saved; the last \
                 epoch's ({}) {:.4}",
                accuracy(best_stats),
                last.epoch,
                accuracy(last)
            );
        }
        println!(
            "wrote {} (model, config, vocab, metrics, checkpoint) and {}, {}, {}",
            self.run.root.display(),
            png.display(),
            svg.display(),
            self.run.path("loss.png").display()
        );
        Ok(())
    }
}
