//! A sentiment classifier trained with recur's engine on the classify task: an LSTM reads each
//! review sentence (padded batches, each row stopping at its own length) and its final state
//! says positive or negative. Shows the text pipeline (`text<TAB>label` lines, classes, a
//! vocabulary built on the training texts only, stratified splits), `ClassifyTask` on the
//! `Trainer` with early stopping on the validation loss, and the test accuracy with its
//! confusion matrix against the majority-class baseline.
//!
//! Data: `$RECUR_DATA/sentiment/imdb_labelled.txt` (1,000 IMDB sentences, UCI "Sentiment
//! Labelled Sentences"), or any `text<TAB>label` file given as the first argument. There is no
//! built-in fallback: without the file the example says which file it needs and exits (code 2).
//! Split 80% training, 10% validation (the best epoch), 10% test.
//!
//! Run: `cargo run --release --example sentiment [FILE]` (`--quick`: 2 epochs, for CI).

mod common;

use recur::data::tsv::{build_vocab, read_labelled, stratified_split, Classes, Keep, TextEncoding};
use recur::data::Tokenizer;
use recur::models::{Classifier, ClassifierConfig};
use recur::optim::{Optimizer, OptimizerKind};
use recur::tasks::classify::{evaluate, predict_probabilities, Labelled};
use recur::tasks::ClassifyTask;
use recur::tensor::Rng;
use recur::train::{EpochLines, Settings, TrainState, Trainer};
use std::path::PathBuf;

fn data_path() -> PathBuf {
    if let Some(path) = std::env::args().skip(1).find(|a| !a.starts_with("--")) {
        return PathBuf::from(path);
    }
    let path = common::data_dir().join("sentiment/imdb_labelled.txt");
    if !path.is_file() {
        common::exit_with(&format!(
            "{} not found: set RECUR_DATA to the data folder or give a `text<TAB>label` file as the first argument",
            path.display()
        ));
    }
    path
}

fn main() {
    let quick = common::quick();
    let path = data_path();
    let examples = common::or_exit(read_labelled(&path));
    let classes = common::or_exit(Classes::for_training(&path, &examples));
    let labels = common::or_exit(classes.ids_of(&path, &examples));
    let encoding = TextEncoding { tokenizer: Tokenizer::Text, max_len: 100, keep: Keep::Last };
    let words: Vec<Vec<String>> = examples.iter().map(|e| encoding.words(&e.text)).collect();

    // 80 / 10 / 10, each split with every class in proportion.
    let mut rng = Rng::new(1);
    let all: Vec<usize> = (0..examples.len()).collect();
    let (rest, test_rows) = stratified_split(&all, &labels, 0.1, &mut rng);
    let (train_rows, valid_rows) = stratified_split(&rest, &labels, 1.0 / 9.0, &mut rng);
    // The vocabulary comes from the training texts alone: words seen once become <unk>.
    let vocab = build_vocab(train_rows.iter().map(|&i| words[i].as_slice()), 10_000, 2);
    let encode = |rows: &[usize]| Labelled {
        seqs: rows.iter().map(|&i| recur::data::tsv::word_ids(&words[i], &vocab)).collect(),
        labels: rows.iter().map(|&i| labels[i]).collect(),
    };
    let (train, valid, test) = (encode(&train_rows), encode(&valid_rows), encode(&test_rows));
    println!(
        "{}: {} texts ({} training, {} validation, {} test), classes {}, vocabulary {}",
        path.display(),
        examples.len(),
        train.len(),
        valid.len(),
        test.len(),
        classes.listed(),
        vocab.len()
    );

    // `classify train`'s default: one LSTM layer of 32, dropout 0.3 on the words, 0.5 before the head.
    let config = ClassifierConfig::new(vocab.len(), classes.len());
    let mut model: Classifier<f32> = Classifier::new(config, &mut rng);
    let settings = Settings::default()
        .with_epochs(if quick { 2 } else { 40 })
        .with_lr(0.005)
        .with_clip(Some(5.0))
        .with_patience(6);
    let mut task = ClassifyTask::new(&mut model, &train, 32, Rng::new(rng.next_u64())).validated(&valid, 256);
    let mut state = TrainState::new(Optimizer::new(OptimizerKind::Adam, settings.lr, 0.0));
    let mut lines = EpochLines::new(std::io::stdout());
    let mut trainer = Trainer { settings: &settings, run: None, stop: None, observer: &mut lines };
    let outcome = common::or_exit(trainer.fit(&mut task, &mut state));
    println!("{outcome:?}");

    // The model now holds the best validation epoch's weights.
    let result = evaluate(&mut model, &test, 256);
    let majority =
        (0..classes.len() as u32).map(|c| test.labels.iter().filter(|&&l| l == c).count()).max().unwrap_or(0)
            as f64
            / test.len() as f64;
    println!("test accuracy {:.3} (majority class {majority:.3}), loss {:.4}", result.accuracy, result.loss);
    println!("confusion (rows: true {}, columns: predicted): {:?}", classes.listed(), result.confusion);

    let sentences = ["A wonderful, moving film.", "Two hours I will never get back."];
    let seqs: Vec<Vec<u32>> = sentences.iter().map(|s| encoding.ids(s, &vocab)).collect();
    let probs = predict_probabilities(&mut model, &seqs, 256);
    for (sentence, p) in sentences.iter().zip(probs.rows()) {
        let best = (0..p.len()).max_by(|&a, &b| p[a].total_cmp(&p[b])).unwrap_or(0);
        println!("{sentence:40} -> {} (p = {:.3})", classes.name(best as u32), p[best]);
    }
}
