//! Loads a language model trained by PyTorch and scores sentences with it in recur.
//!
//! The run directory holds PyTorch's `RNNModel.state_dict()` as `model.safetensors` (PyTorch's
//! names and layouts, which recur's `Lm` uses), with `config.json` and `vocab.txt`; by default it
//! is the 2-layer LSTM fixture in `tests/fixtures/pytorch_runs/lstm`, written by
//! `tests/fixtures/make_run_fixtures.py` (PyTorch, trained on a small made-up language). Any
//! directory of `recur train` or of `bench/pytorch/word_lm.py --save-run` works too.
//!
//! Each sentence's probability by the chain rule,
//! `log P(w_1..w_n) = sum_t log P(w_t | <eos>, w_1..w_{t-1})`: one forward pass over the sentence
//! (the state carried from word to word), then the softmax probability of each next word.
//! Where the directory has PyTorch's own `expected.json` (the fixtures do), the example first
//! checks that recur's perplexity on PyTorch's text equals the loss PyTorch computed.
//!
//! Run: `cargo run --release --example score_pytorch [-- --run DIR] [SENTENCE ...]`.
//! It is fast at any setting; `--quick` is accepted for CI and changes nothing.

mod common;

use ndarray::Array2;
use recur::data::EOS;
use recur::io::run_dir::{LoadedLm, RunDir};
use recur::tasks::eval_perplexity;
use std::path::PathBuf;

/// Sentences of the fixtures' made-up language (a sparse random bigram chain): two lines of its
/// text and the same words reversed. The fixture is a toy trained for a few seconds (loss 2.97
/// where a uniform guess gives ln 32 = 3.47), so it barely tells them apart: the example is
/// about loading PyTorch's weights and the chain rule, not about this model.
const DEFAULT_SENTENCES: [&str; 4] = [
    "ekka vesk fendo glup frim brisk",
    "brisk frim glup fendo vesk ekka",
    "hume quib gask",
    "gask quib hume",
];

/// `--run DIR` and the sentences (the other arguments).
fn arguments() -> (PathBuf, Vec<String>) {
    let mut run = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/pytorch_runs/lstm");
    let mut sentences = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--run" => {
                run = args.next().map(PathBuf::from).unwrap_or_else(|| common::exit_with("--run needs a DIR"))
            }
            "--quick" => {}
            _ => sentences.push(arg),
        }
    }
    if sentences.is_empty() {
        sentences = DEFAULT_SENTENCES.iter().map(|s| s.to_string()).collect();
    }
    (run, sentences)
}

/// PyTorch's mean cross-entropy of its own text, against recur's perplexity of the same ids read
/// the same way (batch and time size from the file).
fn check_against_pytorch(loaded: &mut LoadedLm, dir: &std::path::Path) {
    let Ok(text) = std::fs::read_to_string(dir.join("expected.json")) else { return };
    let expected: serde_json::Value =
        serde_json::from_str(&text).unwrap_or_else(|e| common::exit_with(&format!("expected.json: {e}")));
    let field = |name: &str| expected[name].as_u64().map(|v| v as usize);
    let (Some(batch), Some(time), Some(ids), Some(loss)) =
        (field("batch_size"), field("time_size"), expected["ids"].as_array(), expected["loss_f32"].as_f64())
    else {
        common::exit_with("expected.json: expected batch_size, time_size, ids and loss_f32")
    };
    let ids: Vec<u32> = ids.iter().filter_map(|v| v.as_u64()).map(|v| v as u32).collect();
    let ppl = common::or_exit(eval_perplexity(&mut loaded.model, &ids, batch, time));
    println!(
        "PyTorch's text ({} tokens): PyTorch's loss {loss:.6}, recur's {:.6} (perplexity {ppl:.3})",
        ids.len(),
        ppl.ln()
    );
}

fn main() {
    let (dir, sentences) = arguments();
    let mut loaded = common::or_exit(RunDir::open(&dir).and_then(|run| run.load_lm()));
    let m = &loaded.config.model;
    println!(
        "{}: {} x {} {} (D {}, H {}), vocabulary {}",
        dir.display(),
        m.num_layers,
        m.cell.name().to_uppercase(),
        if m.tie_weights { "tied" } else { "untied" },
        m.embed_size,
        m.hidden_size,
        loaded.vocab.len()
    );
    check_against_pytorch(&mut loaded, &dir);

    let start = loaded.vocab.id(EOS);
    for sentence in &sentences {
        let words = loaded.config.tokenizer.words(sentence);
        // ids: <eos> (the sentence start, when the vocabulary has it), then the words.
        let ids: Vec<u32> = start
            .into_iter()
            .chain(words.iter().map(|w| common::or_exit(loaded.vocab.id_or_unk(w))))
            .collect();
        if ids.len() < 2 {
            common::exit_with(&format!("sentence {sentence:?}: too short to score"));
        }
        let n = ids.len() - 1;
        let xs = Array2::from_shape_vec((1, n), ids[..n].to_vec()).expect("1 x n"); // inputs
        let ts = Array2::from_shape_vec((1, n), ids[1..].to_vec()).expect("1 x n"); // next words
        loaded.model.reset_state();
        loaded.model.forward(xs.view(), ts.view());
        let probs = loaded.model.probs(); // (1, n, V): P(next word | the words before)
        let p: Vec<f64> = (0..n).map(|t| f64::from(probs[[0, t, ts[[0, t]] as usize]])).collect();
        let log_p: f64 = p.iter().map(|p| p.ln()).sum();
        let per_word: Vec<String> =
            (0..n).map(|t| format!("{} {:.3}", loaded.vocab.word(ts[[0, t]]), p[t])).collect();
        println!(
            "log P = {log_p:8.3}  perplexity = {:7.2}  {sentence:?}\n    P(word | before): {}",
            (-log_p / n as f64).exp(),
            per_word.join(", ")
        );
    }
}
