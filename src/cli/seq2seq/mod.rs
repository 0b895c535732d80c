//! `recur seq2seq train|eval|predict|summary|attend`: the book's chapter-7 (and, with
//! `--attention`, chapter-8) encoder-decoder on `input<TAB>output`
//! pairs (or the built-in addition task), character by character.
//!
//! Training: shuffle the pairs with the seed, hold out `--valid-share` of them, then train on
//! the rest through the engine (`recur::tasks::Seq2seqTask`): per epoch shuffled batches,
//! teacher forcing, clipping, a step; after each epoch the held-out inputs are decoded greedily
//! (until `<eos>` or T_out + 1 symbols) and exact matches counted. The epoch with the highest
//! held-out accuracy is the model kept. Ctrl-C, `--resume`, `--on-nan` are the engine's.
//!
//! Run directory: `config.json` (task, model, layout, data and training settings), `vocab.json`
//! (the symbols as a JSON list: characters may be spaces), `model.safetensors` (the best
//! epoch's weights), `checkpoint.safetensors` (everything `--resume` needs), `metrics.jsonl`
//! (one object per epoch), `accuracy.png` / `.svg` (held-out exact match) and `loss.png` /
//! `.svg` (training and held-out loss).
//!
//! ```text
//! mod.rs      the subcommands and their flags, dispatch
//! config.rs   config.json and vocab.json: the run's settings, its pairs, the model read back
//! train.rs    a new or resumed run's session, trained on the engine
//! eval.rs     exact-match accuracy and the printed examples
//! attend.rs   one input's answer and its attention map (PNG and SVG)
//! summary.rs  the layer table
//! ```

mod attend;
mod eval;
mod summary;
mod train;

use super::flags::{ScheduleFlags, TensorboardFlags};
use clap::{Args, Subcommand};
use eval::eval;
use recur::layers::attention::ScoreKind;
use recur::layers::CellKind;
use recur::optim::OptimizerKind;
use recur::tasks::seq2seq::Search;
use recur::{Error, Result};
use std::path::PathBuf;
pub(super) use summary::print_summary_of;
use train::train;

/// The command that trains (and resumes) a run.
const TRAIN_COMMAND: &str = "recur seq2seq train";

#[derive(Subcommand, Debug)]
pub enum Seq2seqCommand {
    /// Train an encoder-decoder on `input<TAB>output` lines or the built-in addition task.
    Train(Box<TrainArgs>),
    /// Exact-match accuracy of a trained encoder-decoder (default: on its own held-out pairs).
    Eval(EvalArgs),
    /// Outputs of a trained encoder-decoder for new inputs (greedy decoding).
    Predict(PredictArgs),
    /// Layers, tensor shapes and parameter counts of a trained encoder-decoder.
    Summary(SummaryArgs),
    /// The answer of an attention run for one input and its attention map (PNG and SVG).
    Attend(AttendArgs),
}

pub fn run(cmd: Seq2seqCommand) -> Result<()> {
    match cmd {
        Seq2seqCommand::Train(args) => train(*args),
        Seq2seqCommand::Eval(args) => eval(args),
        Seq2seqCommand::Predict(args) => eval::predict(args),
        Seq2seqCommand::Summary(args) => print_summary_of(&args.model),
        Seq2seqCommand::Attend(args) => attend::attend(args),
    }
}

/// Flags left out take the default in brackets (a new run) or the run's setting (`--resume`).
#[derive(Args, Debug)]
#[command(group(clap::ArgGroup::new("data").args(["addition", "tsv"])))]
pub struct TrainArgs {
    /// Generate the book's addition task (`a+b` -> sum, a and b in 0..999; no data needed).
    #[arg(long)]
    addition: bool,
    /// Distinct questions to generate with --addition (the book: 50000) [default: 50000].
    #[arg(long, requires = "addition")]
    examples: Option<usize>,
    /// Read `input<TAB>output` lines from this file (with --resume: where the run's file is now).
    #[arg(long, value_name = "FILE")]
    tsv: Option<PathBuf>,
    /// Feed the input to the encoder backwards (the book's "reversed input").
    #[arg(long)]
    reverse_input: bool,
    /// The encoder skips each input's padding (Keras' masking, PyTorch's packed sequences), so
    /// every input starts from the zero state whatever its length; off, it reads the padding
    /// like any symbol (the book's layout).
    #[arg(long)]
    mask_padding: bool,
    /// End every input with `<eos>` (PyTorch's translation tutorial, fairseq), so the encoder
    /// sees where each input ends whatever its length; off, the book's layout.
    #[arg(long)]
    input_eos: bool,
    /// Give the encoder's state to every decoder step (the book's "peeky" decoder).
    #[arg(long, conflicts_with = "attention")]
    peeky: bool,
    /// The decoder attends to all the encoder's outputs with this score (the book's chapter
    /// 8: dot; Luong's general; Bahdanau's additive) [default: none].
    #[arg(long, value_enum)]
    attention: Option<ScoreKind>,
    /// Each encoder layer reads the input both ways (outputs and final h 2H wide; the decoder
    /// is then 2H wide and starts from [forward final h | reverse final h]).
    #[arg(long)]
    bidirectional: bool,
    /// Recurrent cell of the encoder and the decoder [default: lstm].
    #[arg(long, value_enum)]
    cell: Option<CellKind>,
    /// Stacked recurrent layers on each side; decoder layer k starts from encoder layer k's
    /// final state [default: 1].
    #[arg(long)]
    layers: Option<usize>,
    /// Embedding width (D) [default: 16].
    #[arg(long = "embed-size", visible_alias = "wordvec-size", value_name = "D")]
    wordvec_size: Option<usize>,
    /// Hidden-state width (H) [default: 128].
    #[arg(long)]
    hidden_size: Option<usize>,
    /// Dropout probability on the embeddings, between stacked layers and before the decoder's
    /// affine, in training only [default: 0].
    #[arg(long)]
    dropout: Option<f64>,
    /// Pairs per batch (N) [default: 128].
    #[arg(long)]
    batch_size: Option<usize>,
    /// Passes over the training pairs [default: 25].
    #[arg(long)]
    epochs: Option<usize>,
    /// Optimizer [default: adam].
    #[arg(long, value_enum)]
    optimizer: Option<OptimizerKind>,
    /// Learning rate (with --resume: the rate from now on) [default: 0.001].
    #[arg(long)]
    lr: Option<f64>,
    /// Momentum coefficient (--optimizer momentum) [default: 0.9].
    #[arg(long)]
    momentum: Option<f64>,
    /// Clip the global gradient norm to this (0 = no clipping) [default: 5].
    #[arg(long)]
    clip: Option<f64>,
    #[command(flatten)]
    schedule: ScheduleFlags,
    #[command(flatten)]
    tensorboard: TensorboardFlags,
    /// Share of the pairs held out to measure accuracy after every epoch [default: 0.1].
    #[arg(long)]
    valid_share: Option<f64>,
    /// Held-out examples printed with their decodings after every epoch [default: 3].
    #[arg(long)]
    show: Option<usize>,
    /// Seed of the data (generation, split, batch order) and of the weights [default: 1].
    #[arg(long)]
    seed: Option<u64>,
    /// Run directory to write (default: a new runs/seq2seq-NNN).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Allow --out to name a directory that already holds a trained model (it is replaced).
    #[arg(long)]
    overwrite: bool,
    /// Continue the run in DIR from its checkpoint (written every epoch and on Ctrl-C). Only
    /// --epochs, --lr, --patience, --on-nan, --tensorboard, --show and --tsv (the data file
    /// moved) may be given beside it.
    #[arg(long, value_name = "DIR")]
    resume: Option<PathBuf>,
}

impl TrainArgs {
    /// `--resume` takes everything from the run; other flags would be silently ignored.
    pub(super) fn check_resume_flags(&self) -> Result<()> {
        let given = [
            ("--addition", self.addition),
            ("--examples", self.examples.is_some()),
            ("--reverse-input", self.reverse_input),
            ("--mask-padding", self.mask_padding),
            ("--input-eos", self.input_eos),
            ("--peeky", self.peeky),
            ("--attention", self.attention.is_some()),
            ("--bidirectional", self.bidirectional),
            ("--cell", self.cell.is_some()),
            ("--layers", self.layers.is_some()),
            ("--embed-size", self.wordvec_size.is_some()),
            ("--hidden-size", self.hidden_size.is_some()),
            ("--dropout", self.dropout.is_some()),
            ("--batch-size", self.batch_size.is_some()),
            ("--optimizer", self.optimizer.is_some()),
            ("--momentum", self.momentum.is_some()),
            ("--clip", self.clip.is_some()),
            ("--valid-share", self.valid_share.is_some()),
            ("--seed", self.seed.is_some()),
            ("--out", self.out.is_some()),
            ("--overwrite", self.overwrite),
        ];
        let mut clashing: Vec<&str> = given.iter().filter(|(_, g)| *g).map(|(f, _)| *f).collect();
        clashing.extend(self.schedule.fixed_given());
        if !clashing.is_empty() {
            return Err(Error::msg(format!(
                "--resume continues a run with the settings in its config.json; {} cannot change them \
                 (only --epochs, --lr, --patience, --on-nan, --show and --tsv can)",
                clashing.join(", ")
            )));
        }
        Ok(())
    }
}

#[derive(Args, Debug)]
pub struct EvalArgs {
    /// Run directory written by `recur seq2seq train`.
    #[arg(long, value_name = "DIR")]
    model: PathBuf,
    /// Pairs to evaluate (default: the run's held-out pairs, remade from its data and seed).
    #[arg(long, value_name = "FILE")]
    tsv: Option<PathBuf>,
    /// Examples printed with their decodings.
    #[arg(long, default_value_t = 5)]
    show: usize,
    /// Pairs decoded at once.
    #[arg(long, default_value_t = 500)]
    batch_size: usize,
    #[command(flatten)]
    search: SearchFlags,
}

/// How `eval` and `predict` decode.
#[derive(Args, Debug)]
pub struct SearchFlags {
    /// Decode by a beam search keeping K hypotheses at each step (1 = greedy, the default).
    #[arg(long, value_name = "K")]
    beam: Option<usize>,
    /// With --beam: rank finished outputs by their mean log-probability per symbol, not the sum
    /// (the sum favours short outputs).
    #[arg(long, requires = "beam")]
    length_norm: bool,
}

impl SearchFlags {
    fn search(&self) -> Result<Search> {
        match self.beam {
            None => Ok(Search::Greedy),
            Some(0) => Err(Error::msg("--beam must be at least 1 (1 = greedy)")),
            Some(width) => Ok(Search::Beam { width, length_norm: self.length_norm }),
        }
    }
}

#[derive(Args, Debug)]
pub struct PredictArgs {
    /// Run directory written by `recur seq2seq train`.
    #[arg(long, value_name = "DIR")]
    model: PathBuf,
    /// A file of inputs, one a line (for `input<TAB>output` lines the output is ignored).
    #[arg(long, value_name = "FILE")]
    file: Option<PathBuf>,
    /// Inputs to decode (quote each one).
    #[arg(value_name = "INPUT")]
    inputs: Vec<String>,
    #[command(flatten)]
    search: SearchFlags,
}

#[derive(Args, Debug)]
pub struct AttendArgs {
    /// Run directory written by `recur seq2seq train --attention ...`.
    #[arg(long, value_name = "DIR")]
    model: PathBuf,
    /// The PNG to write; the SVG goes beside it (same name, .svg).
    #[arg(long, value_name = "FILE", default_value = "attention.png")]
    out: PathBuf,
    /// The input to decode (quote it).
    #[arg(value_name = "INPUT")]
    input: String,
}

#[derive(Args, Debug)]
pub struct SummaryArgs {
    /// Run directory written by `recur seq2seq train`.
    #[arg(long, value_name = "DIR")]
    model: PathBuf,
}
