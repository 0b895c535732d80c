//! `recur train`: truncated-BPTT training of a language model into a run directory.
//!
//! Settings come from a preset (default: the book's chapter 5), each overridable by its flag.
//! With validation on (PTB presets), every epoch ends with the validation perplexity; the best
//! epoch's weights are the ones saved, and the test perplexity is measured on them at the end.

mod session;

use super::flags::{
    check_off_or_positive, check_positive, check_probability, ScheduleFlags, TensorboardFlags,
};
use super::presets::{Preset, Recipe};
use clap::Args;
use recur::data::lm_data::{self, CorpusKind, DataSource};
use recur::io::run_dir::{RunConfig, RunDir, TaskKind, TrainSettings, METRICS, MODEL, RESULT};
use recur::io::train_state::CHECKPOINT;
use recur::layers::CellKind;
use recur::models::{Init, Lm, LmConfig};
use recur::optim::{LrRule, Optimizer, OptimizerKind};
use recur::tensor::Rng;
use recur::train::{BpttBatcher, TrainState};
use recur::{Error, Result};
use session::{ResumeOverrides, Session};
use std::path::PathBuf;

/// Flags left out take the preset's value (see `--preset`).
#[derive(Args, Debug)]
pub struct TrainArgs {
    /// A published recipe; every other flag overrides one of its settings.
    #[arg(long, value_enum, default_value = "book-ch5")]
    preset: Preset,
    /// Which corpus to train on.
    /// [default: the preset's; book-ch5: demo]
    #[arg(long, value_enum)]
    corpus: Option<CorpusKind>,
    /// Folder holding the PTB files (default: $RECUR_DATA/ptb if set, else data/ptb, where
    /// `recur data fetch ptb` puts them).
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Text file to train on, one sentence a line (implies --corpus text). Its words make the
    /// vocabulary, with `<unk>` for every word outside it.
    #[arg(long, value_name = "FILE")]
    text: Option<PathBuf>,
    /// Text corpora: the largest vocabulary, `<unk>` and `<eos>` included (0 = every word)
    /// [default: 0]. The rarer words become `<unk>`.
    #[arg(long, value_name = "N")]
    max_vocab: Option<usize>,
    /// Text corpora: words seen fewer times become `<unk>` [default: 1].
    #[arg(long, value_name = "K")]
    min_count: Option<usize>,
    /// Validation text (validated every epoch, best weights kept; any corpus but PTB).
    #[arg(long, value_name = "FILE")]
    valid: Option<PathBuf>,
    /// Test text, measured once on the best weights at the end (any corpus but PTB).
    #[arg(long, value_name = "FILE")]
    test: Option<PathBuf>,
    /// Text corpora: validate on the last SHARE of the file's lines, held out of training
    /// [default: 0.1 with --validate, else 0 = none].
    #[arg(long, value_name = "SHARE")]
    valid_share: Option<f64>,
    /// Keep only the first N tokens of the corpus (0 = all; the book's chapter 5 uses 1000 of PTB).
    #[arg(long, default_value_t = 0, value_name = "N")]
    corpus_size: usize,
    /// What a token is: a word (PTB split on spaces, other texts lowercased with punctuation split
    /// off) or a character (every character as it is, the line break included, as char-rnn;
    /// `<unk>` for characters training did not see; `eval` adds bits per character) [default: word].
    #[arg(long, value_enum)]
    tokenizer: Option<TokenUnit>,
    /// Recurrent cell.
    /// [default: the preset's; book-ch5: rnn]
    #[arg(long, value_enum)]
    cell: Option<CellKind>,
    /// Stacked recurrent layers.
    /// [default: the preset's; book-ch5: 1]
    #[arg(long)]
    layers: Option<usize>,
    /// Word-vector width (D).
    /// [default: the preset's; book-ch5: 100]
    #[arg(long = "embed-size", visible_alias = "wordvec-size", value_name = "D")]
    wordvec_size: Option<usize>,
    /// Hidden-state width (H).
    /// [default: the preset's; book-ch5: 100]
    #[arg(long)]
    hidden_size: Option<usize>,
    /// Dropout probability on the embedding output and after each recurrent layer.
    /// [default: the preset's; book-ch5: 0]
    #[arg(long)]
    dropout: Option<f64>,
    /// Tie the decoder's weight to the embedding's (needs equal sizes): `--tie-weights [true|false]`.
    /// [default: the preset's; book-ch5: false]
    #[arg(long, num_args = 0..=1, default_missing_value = "true")]
    tie_weights: Option<bool>,
    /// Weight initialisation.
    /// [default: the preset's; book-ch5: book]
    #[arg(long, value_enum)]
    init: Option<Init>,
    /// Bound of the uniform initialisations.
    /// [default: the preset's; book-ch5: 0.1]
    #[arg(long)]
    init_scale: Option<f64>,
    /// Sequences per batch (N).
    /// [default: the preset's; book-ch5: 10]
    #[arg(long)]
    batch_size: Option<usize>,
    /// Time steps per truncated-BPTT block (T).
    /// [default: the preset's; book-ch5: 5]
    #[arg(long)]
    time_size: Option<usize>,
    /// Optimizer.
    /// [default: the preset's; book-ch5: sgd]
    #[arg(long, value_enum)]
    optimizer: Option<OptimizerKind>,
    /// Initial learning rate.
    /// [default: the preset's; book-ch5: 0.1]
    #[arg(long)]
    lr: Option<f64>,
    /// Momentum coefficient (--optimizer momentum).
    /// [default: the preset's; book-ch5: 0.9]
    #[arg(long)]
    momentum: Option<f64>,
    /// Clip the global gradient norm to this (0 = no clipping).
    /// [default: the preset's; book-ch5: 0]
    #[arg(long)]
    clip: Option<f64>,
    /// Passes over the corpus.
    /// [default: the preset's; book-ch5: 100]
    #[arg(long)]
    epochs: Option<usize>,
    /// Validate every epoch, keep the best weights, test at the end (PTB): `--validate [true|false]`.
    /// [default: the preset's; book-ch5: false]
    #[arg(long, num_args = 0..=1, default_missing_value = "true")]
    validate: Option<bool>,
    /// Seed of the weight initialisation and the dropout masks.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Run directory to write (default: a new runs/lm-NNN).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Start from the weights in this safetensors file (PyTorch names) instead of drawing them;
    /// e.g. `bench/numpy_ch05.py train --save-init FILE`, to follow the NumPy reference exactly.
    #[arg(long, value_name = "FILE")]
    init_from: Option<PathBuf>,
    /// Allow --out to name a directory that already holds a trained model (it is replaced).
    #[arg(long)]
    overwrite: bool,
    #[command(flatten)]
    schedule: ScheduleFlags,
    #[command(flatten)]
    tensorboard: TensorboardFlags,
    /// Continue the run in DIR from its checkpoint (written every epoch and on Ctrl-C). Only
    /// --data-dir, --lr, --epochs, --patience, --on-nan and --tensorboard may be given beside it.
    #[arg(long, value_name = "DIR")]
    resume: Option<PathBuf>,
}

/// `--tokenizer`: what one token of a language model is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum TokenUnit {
    Word,
    Char,
}

impl TrainArgs {
    /// `--resume` takes everything from the run; other flags would be silently ignored.
    fn check_resume_flags(&self) -> Result<()> {
        let given = [
            ("--corpus", self.corpus.is_some()),
            ("--text", self.text.is_some()),
            ("--max-vocab", self.max_vocab.is_some()),
            ("--min-count", self.min_count.is_some()),
            ("--valid", self.valid.is_some()),
            ("--test", self.test.is_some()),
            ("--valid-share", self.valid_share.is_some()),
            ("--corpus-size", self.corpus_size != 0),
            ("--tokenizer", self.tokenizer.is_some()),
            ("--cell", self.cell.is_some()),
            ("--layers", self.layers.is_some()),
            ("--embed-size", self.wordvec_size.is_some()),
            ("--hidden-size", self.hidden_size.is_some()),
            ("--dropout", self.dropout.is_some()),
            ("--tie-weights", self.tie_weights.is_some()),
            ("--init", self.init.is_some()),
            ("--init-scale", self.init_scale.is_some()),
            ("--batch-size", self.batch_size.is_some()),
            ("--time-size", self.time_size.is_some()),
            ("--optimizer", self.optimizer.is_some()),
            ("--momentum", self.momentum.is_some()),
            ("--clip", self.clip.is_some()),
            ("--validate", self.validate.is_some()),
            ("--out", self.out.is_some()),
            ("--init-from", self.init_from.is_some()),
            ("--overwrite", self.overwrite),
            ("--preset", self.preset != Preset::BookCh5),
            ("--seed", self.seed != 1),
        ];
        let mut clashing: Vec<&str> = given.iter().filter(|(_, g)| *g).map(|(f, _)| *f).collect();
        clashing.extend(self.schedule.fixed_given());
        if !clashing.is_empty() {
            return Err(Error::msg(format!(
                "--resume continues a run with the settings in its config.json; {} cannot change them \
                 (only --data-dir, --lr, --epochs, --patience and --on-nan can)",
                clashing.join(", ")
            )));
        }
        Ok(())
    }

    /// The preset's recipe with the given flags applied.
    fn recipe(&self) -> Recipe {
        let mut r = self.preset.recipe();
        macro_rules! set {
            ($($field:ident),*) => { $(if let Some(v) = self.$field { r.$field = v; })* };
        }
        set!(corpus, cell, layers, wordvec_size, hidden_size, dropout, tie_weights, init, init_scale);
        set!(batch_size, time_size, optimizer, lr, momentum, clip);
        set!(epochs, validate);
        if self.text.is_some() && self.corpus.is_none() {
            r.corpus = CorpusKind::Text;
        }
        r
    }
}

pub fn run(args: TrainArgs) -> Result<()> {
    let session = match &args.resume {
        Some(dir) => {
            args.check_resume_flags()?;
            args.tensorboard.check()?;
            let overrides = ResumeOverrides {
                data_dir: args.data_dir.as_deref(),
                engine: args.schedule.overrides(args.lr, args.epochs),
            };
            Session::resume(dir, overrides)?
        }
        None => {
            args.tensorboard.check()?;
            start(&args)?
        }
    };
    session.train(&args.tensorboard)
}

/// A new run: the recipe, the data, the run directory, a freshly drawn model.
fn start(args: &TrainArgs) -> Result<Session> {
    let recipe = args.recipe();
    check_recipe(&recipe)?;
    let preset_rule =
        LrRule { schedule: recipe.lr_schedule, factor: recipe.lr_factor, decay_after: recipe.decay_after };
    let engine = args.schedule.engine(recipe.epochs, recipe.lr, recipe.clip, preset_rule, 0)?;
    let source = DataSource {
        corpus: Some(recipe.corpus),
        data_dir: args.data_dir.clone(),
        text: args.text.clone(),
        corpus_size: args.corpus_size,
        validate: recipe.validate,
        max_vocab: args.max_vocab.unwrap_or(0),
        min_count: args.min_count.unwrap_or(1),
        valid: args.valid.clone(),
        test: args.test.clone(),
        valid_share: args.valid_share.unwrap_or(0.0),
        tokenizer: (args.tokenizer == Some(TokenUnit::Char)).then_some(recur::data::corpus::Tokenizer::Char),
    };
    if args.schedule.patience.is_some_and(|p| p > 0) && !source.validates() {
        return Err(Error::msg(
            "--patience stops on the validation perplexity: it needs validation (--validate on PTB, --valid FILE or \
             --valid-share X)",
        ));
    }
    let data = lm_data::load(&source)?;
    for note in &data.notes {
        println!("{note}");
    }
    let corpus = &data.train;
    let batcher = BpttBatcher::new(corpus.ids.len(), recipe.batch_size, recipe.time_size)?;

    let model_config = LmConfig {
        cell: recipe.cell,
        vocab_size: corpus.vocab.len(),
        embed_size: recipe.wordvec_size,
        hidden_size: recipe.hidden_size,
        num_layers: recipe.layers,
        dropout: recipe.dropout,
        tie_weights: recipe.tie_weights,
        init: recipe.init,
        init_scale: recipe.init_scale,
    };
    model_config.check()?;
    recur::io::check_memory(model_config.training_floats(recipe.batch_size, recipe.time_size), "this model")?;
    let settings = TrainSettings {
        preset: Some(args.preset.name()),
        corpus: data.name.clone(),
        corpus_size: corpus.ids.len(),
        batch_size: recipe.batch_size,
        time_size: recipe.time_size,
        engine,
        seed: args.seed,
        optimizer: recipe.optimizer,
        momentum: recipe.momentum,
        validate: source.validates(),
        max_vocab: source.max_vocab,
        min_count: source.min_count,
        valid: source.valid.as_ref().map(|p| p.display().to_string()),
        test: source.test.as_ref().map(|p| p.display().to_string()),
        valid_share: source.valid_share,
        eval_batch_size: 10,
        eval_time_size: 35,
    };

    let run = RunDir::create(&crate::cli::choose_out_dir(args.out.as_deref(), args.overwrite, "lm")?)?;
    let config = RunConfig {
        task: TaskKind::Lm,
        model: model_config.clone(),
        tokenizer: data.tokenizer,
        train: Some(settings.clone()),
    };
    run.remove_replaced(&[MODEL, METRICS, RESULT, CHECKPOINT, "perplexity.png", "perplexity.svg"])?;
    run.write_config(&config)?;
    run.write_vocab(&corpus.vocab)?;

    let mut rng = Rng::new(args.seed);
    let mut model: Lm<f32> = Lm::new(model_config.clone(), &mut rng);
    if let Some(path) = &args.init_from {
        let tensors = recur::io::checkpoint::load::<f32>(path)?;
        model
            .load_state_dict(tensors)
            .map_err(|m| Error::file(path, format!("{m}; expected weights for this corpus and sizes")))?;
    }
    let optimizer = Optimizer::new(settings.optimizer, settings.engine.lr, settings.momentum);
    let iters = batcher.iters_per_epoch(corpus.ids.len());
    println!(
        "training {} x {} {} (V {}, D {}, H {}{}{}, {} parameters) on {} tokens of {}",
        model_config.num_layers,
        model_config.cell.name().to_uppercase(),
        args.preset.name(),
        model_config.vocab_size,
        model_config.embed_size,
        model_config.hidden_size,
        if model_config.dropout > 0.0 {
            format!(", dropout {}", model_config.dropout)
        } else {
            String::new()
        },
        if model_config.tie_weights { ", tied" } else { "" },
        model.params.num_elements(),
        corpus.ids.len(),
        settings.corpus,
    );
    println!(
        "batch {} x {}, {} batches an epoch, {:?} lr {}{}, {:?} schedule, {} epochs{}",
        settings.batch_size,
        settings.time_size,
        iters,
        settings.optimizer,
        settings.engine.lr,
        settings.engine.clip.map(|c| format!(", clip {c}")).unwrap_or_default(),
        settings.engine.lr_rule.schedule,
        settings.engine.epochs,
        if settings.validate { ", validating every epoch" } else { "" },
    );
    Ok(Session { run, state: TrainState::new(optimizer), settings, data, model, batcher })
}

fn check_recipe(r: &Recipe) -> Result<()> {
    if r.epochs == 0 || r.layers == 0 || r.hidden_size == 0 || r.wordvec_size == 0 {
        return Err(Error::msg("--epochs, --layers, --hidden-size and --wordvec-size must be at least 1"));
    }
    check_positive("--lr", r.lr)?;
    check_off_or_positive("--clip", r.clip)?;
    check_probability("--dropout", r.dropout)
}
