//! The book's chapter-7 encoder-decoder on addition (`"16+75"` -> `"91"`), trained with recur's
//! engine on the seq2seq task: an LSTM encoder reads the question character by character
//! (backwards: the book's reversed input), its final state starts the decoder, which also sees it
//! at every step (the book's peeky decoder); teacher forcing in training, greedy decoding of the
//! held-out questions after every epoch, exact-match accuracy.
//!
//! Data: the first 20,000 questions of `$RECUR_DATA/seq2seq/addition.tsv` (the book's
//! `addition.txt`), 10% held out. Without the file it generates the questions with recur's port
//! of the book's generator (`recur::data::pairs::addition`). The book trains 45,000 questions for
//! 25 epochs with Adam at 0.001 (98.4% with reversal and peeky, `recur seq2seq train` 99.5%);
//! this slice runs 10 epochs to stay under a minute, with Adam at 0.005 so that its 1,400
//! updates get far (about 92% held-out; at 0.001 it is still at 6%).
//!
//! Run: `cargo run --release --example addition` (`--quick`: 1,000 questions, one epoch).

mod common;

use recur::data::pairs::{self, max_lengths, read_pairs, shuffle_split, CharVocab, Layout, Padding, Pair};
use recur::layers::CellKind;
use recur::models::{Seq2seq, Seq2seqConfig};
use recur::optim::{Optimizer, OptimizerKind};
use recur::tasks::Seq2seqTask;
use recur::tensor::Rng;
use recur::train::{EpochLines, Outcome, Settings, TrainState, Trainer};

fn main() {
    let quick = common::quick();
    let count = if quick { 1_000 } else { 20_000 };
    let mut rng = Rng::new(1);
    let mut questions: Vec<Pair> =
        match common::data_file("seq2seq/addition.tsv", "generating the questions with the book's generator")
        {
            Some(path) => common::or_exit(read_pairs(&path)),
            None => common::or_exit(pairs::addition(count, &mut rng, Padding::None)),
        };
    questions.truncate(count);
    let vocab = CharVocab::from_pairs(&questions);
    let (max_input_len, max_output_len) = max_lengths(&questions);
    let layout =
        Layout { max_input_len, max_output_len, reverse_input: true, mask_padding: false, input_eos: false };
    let (train, held_out) = shuffle_split(questions, 0.1, &mut rng);
    println!(
        "{} training and {} held-out questions, {} symbols, inputs up to {max_input_len} characters",
        train.len(),
        held_out.len(),
        vocab.len()
    );

    let config = Seq2seqConfig::book(CellKind::Lstm, vocab.len(), 16, 128, true);
    let mut model: Seq2seq<f32> = Seq2seq::new(config, &mut rng);
    // The book's 0.001 needs more updates than this slice gives: 6% at epoch 10.
    let settings =
        Settings::default().with_epochs(if quick { 1 } else { 10 }).with_lr(0.005).with_clip(Some(5.0));
    let show = |pairs: &[Pair], decoded: &[String]| {
        for (pair, out) in pairs.iter().zip(decoded).take(3) {
            let mark = if *out == pair.output { "ok" } else { "wrong" };
            println!("    {:>8} = {:<5} model: {:<6} {mark}", pair.input, pair.output, out);
        }
    };
    let task = Seq2seqTask::new(&mut model, &vocab, layout, &train, &held_out, 128, rng);
    let mut task = common::or_exit(task).on_validated(show);
    let mut state = TrainState::new(Optimizer::new(OptimizerKind::Adam, settings.lr, 0.0));
    // The held-out questions are the engine's validation texts: `valid_accuracy` is exact match.
    let mut lines = EpochLines::new(std::io::stdout());
    let mut trainer = Trainer { settings: &settings, run: None, stop: None, observer: &mut lines };
    match common::or_exit(trainer.fit(&mut task, &mut state)) {
        // The engine's score is 1 - accuracy; the model now holds that epoch's weights.
        Outcome::Finished { best: Some((epoch, score)), .. } => {
            println!("best held-out accuracy {:.4} (epoch {epoch})", 1.0 - score)
        }
        other => println!("{other:?}"),
    }
}
