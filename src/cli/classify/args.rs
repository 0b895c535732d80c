//! The flags of `recur classify train` and their checks: the values of a new run, and which
//! flags `--resume` accepts (the ones given on the command line, told from those left at their
//! defaults by clap's value sources).

use crate::cli::flags::{
    check_off_or_positive, check_positive, check_probability, ScheduleFlags, TensorboardFlags, CONSTANT,
};
use clap::Args;
use recur::data::tsv::Keep;
use recur::layers::CellKind;
use recur::models::Pool;
use recur::optim::OptimizerKind;
use recur::{Error, Result};
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct TrainArgs {
    /// Labelled texts, one `text<TAB>label` a line (the label is what follows the last tab).
    #[arg(long, value_name = "FILE", required_unless_present = "resume")]
    pub(super) data: Option<PathBuf>,
    /// Validation texts for early stopping (default: --valid-split of --data).
    #[arg(long, value_name = "FILE")]
    pub(super) valid: Option<PathBuf>,
    /// Share of the training texts held out (per class) for early stopping when there is no --valid.
    #[arg(long = "valid-share", visible_alias = "valid-split", default_value_t = 0.1, value_name = "SHARE")]
    pub(super) valid_split: f64,
    /// More labelled texts (e.g. another domain's) added to the training texts of every model,
    /// cross-validation folds included; never validated or tested on. Repeatable.
    #[arg(long, value_name = "FILE")]
    pub(super) extra: Vec<PathBuf>,
    /// Test texts, measured once on the saved model's weights at the end.
    #[arg(long, value_name = "FILE")]
    pub(super) test: Option<PathBuf>,
    /// K-fold cross-validation (stratified, seeded) before the final model; 0 = none. With
    /// --tensorboard DIR each model logs to a folder of its own: DIR/fold-1 ... DIR/fold-K and
    /// DIR/final (with --ensemble, DIR/fold-1/member-1 ...).
    #[arg(long, default_value_t = 0, value_name = "K")]
    pub(super) folds: usize,
    /// Recurrent cell.
    #[arg(long, value_enum, default_value = "lstm")]
    pub(super) cell: CellKind,
    /// Stacked recurrent layers (inner ones pass every step on, the last its final state).
    #[arg(long, default_value_t = 1)]
    pub(super) layers: usize,
    /// Word-vector width (D).
    #[arg(long, visible_alias = "wordvec-size", default_value_t = 32)]
    pub(super) embed_size: usize,
    /// Hidden width of each direction (H).
    #[arg(long, default_value_t = 32)]
    pub(super) hidden_size: usize,
    /// Read each text both ways; the head sees [forward final | reverse final].
    #[arg(long)]
    pub(super) bidirectional: bool,
    /// What the head reads of the last layer: its final state, or its outputs pooled over the
    /// text's steps (max or mean).
    #[arg(long, value_enum, default_value = "last")]
    pub(super) pool: Pool,
    /// Dropout on the word vectors.
    #[arg(long, default_value_t = 0.3)]
    pub(super) embed_dropout: f64,
    /// Dropout between recurrent layers and on the final state.
    #[arg(long, default_value_t = 0.5)]
    pub(super) dropout: f64,
    /// Each training word becomes `<unk>` with this probability, anew each epoch.
    #[arg(long, default_value_t = 0.0)]
    pub(super) word_dropout: f64,
    /// Largest vocabulary, `<unk>` included (0 = no cap); other words become `<unk>`.
    #[arg(long, default_value_t = 50_000)]
    pub(super) max_vocab: usize,
    /// Words seen fewer times in the training texts become `<unk>`.
    #[arg(long, default_value_t = 2)]
    pub(super) min_count: usize,
    /// Longest text in words; longer ones are truncated (see --keep).
    #[arg(long, default_value_t = 100)]
    pub(super) max_len: usize,
    /// Which words a truncated text keeps.
    #[arg(long, value_enum, default_value = "last")]
    pub(super) keep: Keep,
    /// Texts per batch (each batch is padded to its longest text).
    #[arg(long, default_value_t = 32)]
    pub(super) batch_size: usize,
    #[arg(long, value_enum, default_value = "adam")]
    pub(super) optimizer: OptimizerKind,
    /// Learning rate.
    #[arg(long, default_value_t = 0.005)]
    pub(super) lr: f64,
    /// Momentum coefficient (--optimizer momentum).
    #[arg(long, default_value_t = 0.9)]
    pub(super) momentum: f64,
    /// Clip the global gradient norm to this (0 = no clipping).
    #[arg(long, default_value_t = 5.0)]
    pub(super) clip: f64,
    /// Most passes over the training texts.
    #[arg(long, default_value_t = 40)]
    pub(super) epochs: usize,
    /// Average the class probabilities of this many models, each from its own seed and with its
    /// own early stopping (1 = one model). An ensemble keeps each member as it finishes, and
    /// --resume goes on from the next one; one model keeps a checkpoint every epoch.
    /// With --tensorboard DIR each member logs to a folder of its own: DIR/member-1 ...
    /// DIR/member-M.
    #[arg(long, default_value_t = 5, value_name = "M")]
    pub(super) ensemble: usize,
    /// Start the embedding and the recurrent layers from the language model trained in this
    /// `recur train` run (ULMFiT's first step): its cell, sizes and vocabulary become the
    /// classifier's, so --cell, --layers, --embed-size, --hidden-size, --max-vocab, --min-count
    /// and --bidirectional cannot be given beside it.
    #[arg(long, value_name = "LM_RUN")]
    pub(super) init_from: Option<PathBuf>,
    /// Word vectors the embedding starts from: `builtin` (GloVe 6B's 50,000 most frequent
    /// words, 50 numbers each), a file in GloVe's or word2vec's text format (a word and its
    /// numbers a line, most frequent words first), or `none` (drawn at random). Default:
    /// `builtin`, or `none` with --init-from or an --embed-size other than 50. --embed-size
    /// becomes the vectors' width; a training word with a vector stays in the vocabulary even
    /// if rarer than --min-count, and the room left under --max-vocab goes to the file's other
    /// words, so that words never seen in training still read as their vectors.
    #[arg(long, value_name = "builtin|none|FILE")]
    pub(super) vectors: Option<String>,
    /// Each ensemble member holds out its own stratified --valid-split for its early stopping,
    /// so that together the members train on every text (default: one split for all members).
    #[arg(long)]
    pub(super) split_per_member: bool,
    /// The schedule flags every train subcommand shares; classify's --patience defaults to 6
    /// (epochs without a lower validation loss).
    #[command(flatten)]
    pub(super) schedule: ScheduleFlags,
    #[command(flatten)]
    pub(super) tensorboard: TensorboardFlags,
    /// Seed of the splits, the folds, the weights, the batch order and the dropout masks.
    #[arg(long, default_value_t = 1)]
    pub(super) seed: u64,
    /// Run directory to write (default: a new runs/classify-NNN).
    #[arg(long, value_name = "DIR")]
    pub(super) out: Option<PathBuf>,
    /// Allow --out to name a directory that already holds a trained model (it is replaced).
    #[arg(long)]
    pub(super) overwrite: bool,
    /// Continue the single-model run in DIR from its checkpoint (written every epoch and on
    /// Ctrl-C). Only --data, --valid, --test, --extra (the files moved), --epochs, --lr,
    /// --patience, --on-nan and --tensorboard may be given beside it. Runs with --folds or --ensemble keep no
    /// checkpoint and start again instead.
    #[arg(long, value_name = "DIR")]
    pub(super) resume: Option<PathBuf>,
}

/// The flags `--resume` accepts beside it (clap's argument ids).
const RESUME_FLAGS: [&str; 11] = [
    "resume",
    "data",
    "valid",
    "test",
    "extra",
    "epochs",
    "lr",
    "patience",
    "on_nan",
    "tensorboard",
    "tensorboard_every",
];

/// The ids of the flags given on the command line (not left at their defaults), read again
/// from the process's arguments, which clap has already accepted once.
pub(super) fn given_flags() -> Vec<String> {
    use clap::parser::ValueSource;
    use clap::CommandFactory;
    let command = crate::cli::Cli::command();
    let Ok(matches) = command.clone().try_get_matches_from(std::env::args_os()) else {
        return Vec::new();
    };
    let Some(train) = matches.subcommand_matches("classify").and_then(|m| m.subcommand_matches("train"))
    else {
        return Vec::new();
    };
    // The subcommand's arguments, not the group clap makes of the struct.
    let args = command.find_subcommand("classify").and_then(|c| c.find_subcommand("train"));
    let args: Vec<String> = args
        .map(|c| c.get_arguments().map(|a| a.get_id().as_str().to_string()).collect())
        .unwrap_or_default();
    args.into_iter().filter(|id| train.value_source(id) == Some(ValueSource::CommandLine)).collect()
}

/// The flags given on the command line whose ids `clash` picks, as they are typed (`--max-vocab`).
fn clashing_flags(clash: impl Fn(&str) -> bool) -> Vec<String> {
    given_flags().into_iter().filter(|id| clash(id)).map(|id| format!("--{}", id.replace('_', "-"))).collect()
}

/// `--resume` takes everything else from the run; other flags would be silently ignored.
pub(super) fn check_resume_flags() -> Result<()> {
    let clashing = clashing_flags(|id| !RESUME_FLAGS.contains(&id));
    if clashing.is_empty() {
        return Ok(());
    }
    Err(Error::msg(format!(
        "--resume continues a run with the settings in its config.json; {} cannot change them (only --data, \
         --valid, --test, --extra, --epochs, --lr, --patience and --on-nan can)",
        clashing.join(", ")
    )))
}

/// The flags `--init-from` decides (clap's argument ids): the language model's shape and
/// vocabulary.
const SHAPED_BY_INIT_FROM: [&str; 7] =
    ["cell", "layers", "embed_size", "hidden_size", "max_vocab", "min_count", "bidirectional"];

/// `--init-from` takes the model's shape and vocabulary from the language model; a flag that
/// would set them is refused rather than silently ignored.
fn check_init_from(args: &TrainArgs) -> Result<()> {
    let Some(dir) = &args.init_from else { return Ok(()) };
    let clashing = clashing_flags(|id| SHAPED_BY_INIT_FROM.contains(&id));
    if clashing.is_empty() {
        return Ok(());
    }
    Err(Error::msg(format!(
        "--init-from {}: the language model sets the cell, the sizes and the vocabulary; leave out {}",
        dir.display(),
        clashing.join(", ")
    )))
}

pub(super) fn check_args(args: &TrainArgs) -> Result<()> {
    check_init_from(args)?;
    let sizes = [
        args.epochs,
        args.layers,
        args.hidden_size,
        args.embed_size,
        args.batch_size,
        args.max_len,
        args.ensemble,
    ];
    if sizes.contains(&0) {
        return Err(Error::msg(
            "--epochs, --layers, --hidden-size, --embed-size, --batch-size, --max-len and --ensemble must be at least 1",
        ));
    }
    check_positive("--lr", args.lr)?;
    args.schedule.rule(CONSTANT)?;
    args.schedule.weight_decay()?;
    check_off_or_positive("--clip", args.clip)?;
    check_probability("--dropout", args.dropout)?;
    check_probability("--embed-dropout", args.embed_dropout)?;
    check_probability("--word-dropout", args.word_dropout)?;
    let split_needed = args.valid.is_none() || args.folds >= 2;
    if split_needed && !(args.valid_split > 0.0 && args.valid_split < 1.0) {
        return Err(Error::msg(format!(
            "--valid-share must be between 0 and 1 (got {}): early stopping needs validation texts",
            args.valid_split
        )));
    }
    if args.folds == 1 {
        return Err(Error::msg("--folds must be 0 (no cross-validation) or at least 2"));
    }
    args.tensorboard.check()
}
