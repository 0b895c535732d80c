//! A word-level LSTM language model trained with recur's engine (`recur::train::Trainer`) on
//! the language-model task (`recur::tasks::LmTask`): truncated BPTT, gradient clipping, the
//! learning rate divided by 4 whenever the validation perplexity gets worse (the book's
//! chapter-6 recipe), the best epoch's weights kept, and the validation perplexity per epoch.
//!
//! Data: the first 200,000 tokens of PTB's training split and the first 20,000 of its
//! validation split (`$RECUR_DATA/ptb/`), over a vocabulary of the 2,000 most frequent training
//! words (the rest read as `<unk>`), so that it trains in well under a minute. Without PTB it
//! trains on recur's built-in demo text (90% / 10%).
//!
//! Run: `cargo run --release --example word_lm` (`--quick`: a few thousand tokens, one epoch).
//!
//! The engine does what the chapter-5 example writes by hand (zero the gradients, forward and
//! backward, clip, step) and adds the rest (validation, the learning-rate rule, the best
//! weights); an `Observer` hears about each epoch (here the library's `EpochLines`, a line
//! each). Pass `run: Some(&RunDir)` to the trainer to get checkpoints, `metrics.jsonl` and the
//! curves on disk as `recur train` does.

mod common;

use recur::data::{demo, ptb};
use recur::models::{Lm, LmConfig};
use recur::optim::{LrRule, LrSchedule, Optimizer, OptimizerKind};
use recur::tasks::{eval_perplexity, LmTask};
use recur::tensor::Rng;
use recur::train::{BpttBatcher, EpochLines, Outcome, Settings, TrainState, Trainer};

/// Training and validation ids over one vocabulary.
struct Data {
    train: Vec<u32>,
    valid: Vec<u32>,
    vocab_size: usize,
    /// What the data is, for the first line printed.
    what: String,
    /// PTB (else the demo text).
    ptb: bool,
}

fn load_data(quick: bool) -> Data {
    let (train_tokens, valid_tokens, vocab_size) =
        if quick { (5_000, 1_000, 500) } else { (200_000, 20_000, 2_000) };
    match common::data_file("ptb/ptb.train.txt", "training on the built-in demo text") {
        Some(path) => {
            let dir = path.parent().unwrap();
            let corpus = common::or_exit(ptb::load_train(dir)).with_vocab_limits(vocab_size, 0);
            let valid = common::or_exit(ptb::load_split(dir, ptb::Split::Valid, &corpus.vocab));
            let train = corpus.ids[..train_tokens].to_vec();
            let valid = valid[..valid_tokens].to_vec();
            let what = format!(
                "PTB: {train_tokens} training and {valid_tokens} validation tokens, vocabulary {}",
                corpus.vocab.len()
            );
            Data { train, valid, vocab_size: corpus.vocab.len(), what, ptb: true }
        }
        None => {
            let corpus = demo::demo_corpus();
            let cut = corpus.ids.len() * 9 / 10;
            let (train, valid) = (corpus.ids[..cut].to_vec(), corpus.ids[cut..].to_vec());
            let what = format!(
                "the demo text: {} training and {} validation tokens, vocabulary {}",
                train.len(),
                valid.len(),
                corpus.vocab.len()
            );
            Data { train, valid, vocab_size: corpus.vocab.len(), what, ptb: false }
        }
    }
}

fn main() {
    let quick = common::quick();
    let Data { train, valid, vocab_size, what, ptb } = load_data(quick);
    println!("{what}");
    let (batch_size, time_size) = if ptb { (20, 35) } else { (10, 10) };
    let epochs = match (quick, ptb) {
        (true, _) => 1,
        (false, true) => 4,
        (false, false) => 20,
    };

    let config = LmConfig::new(vocab_size).with_embed_size(128).with_hidden_size(128);
    let mut model: Lm<f32> = Lm::new(config, &mut Rng::new(1));
    let mut batcher = common::or_exit(BpttBatcher::new(train.len(), batch_size, time_size));
    let settings = Settings::default()
        .with_epochs(epochs)
        .with_lr(20.0)
        .with_lr_rule(LrRule { schedule: LrSchedule::Plateau, factor: 0.25, decay_after: 0 })
        .with_clip(Some(0.25));
    let untrained = common::or_exit(eval_perplexity(&mut model, &valid, batch_size, time_size));
    println!("untrained: valid ppl {untrained:.2} (a uniform guess: {})", vocab_size);

    let mut task = LmTask::new(&mut model, &train, &mut batcher).validated(&valid, batch_size, time_size);
    let mut state = TrainState::new(Optimizer::new(OptimizerKind::Sgd, settings.lr, 0.0));
    // One line per epoch: training loss and perplexity, validation perplexity, lr, time, tokens/s.
    let mut lines = EpochLines::new(std::io::stdout());
    let mut trainer = Trainer { settings: &settings, run: None, stop: None, observer: &mut lines };
    match common::or_exit(trainer.fit(&mut task, &mut state)) {
        Outcome::Finished { best: Some((epoch, ppl)), .. } => {
            println!("best: epoch {epoch}, valid ppl {ppl:.2} (the model now holds its weights)")
        }
        Outcome::Diverged { place, what, .. } => common::exit_with(&format!("diverged at {place}: {what}")),
        other => println!("{other:?}"),
    }
}
