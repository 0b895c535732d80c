//! Language models on your own text: a capped vocabulary with `<unk>`, validation on a file or a
//! held-out share, the test perplexity, and `eval`, `score` and `generate` on new text whose
//! unknown words are read as `<unk>` (and said so).

mod common;

use common::cli::*;
use std::path::{Path, PathBuf};

const SMALL: [&str; 8] =
    ["--hidden-size", "12", "--embed-size", "8", "--batch-size", "4", "--time-size", "8"];

/// A text of 120 lines over 30 words, and a new text with words training never saw.
fn texts(s: &Scratch) -> (PathBuf, PathBuf) {
    let words: Vec<String> = (0..30).map(|i| format!("w{i}")).collect();
    let mut rng = recur::tensor::Rng::new(4);
    let line = |rng: &mut recur::tensor::Rng| -> String {
        (0..5 + rng.below(5))
            .map(|_| words[rng.below(words.len()).min(rng.below(words.len()))].clone())
            .collect::<Vec<_>>()
            .join(" ")
    };
    let train: String = (0..120).map(|_| line(&mut rng) + "\n").collect();
    let new: String = (0..20).map(|i| format!("{} unseen{i} w1\n", line(&mut rng))).collect();
    (s.file("train.txt", train), s.file("new.txt", new))
}

fn train(s: &Scratch, dir: &Path, extra: &[&str]) -> String {
    let (text, _) = texts(s);
    let mut args =
        vec!["train", "--text", text.to_str().unwrap(), "--out", dir.to_str().unwrap(), "--epochs", "3"];
    args.extend(SMALL);
    args.extend(extra);
    success("train", &recur(s, &args))
}

#[test]
fn a_text_corpus_gets_a_capped_vocabulary_validation_and_a_test_perplexity() {
    let s = Scratch::new("lm-text");
    let (_, new) = texts(&s);
    let dir = s.path("run");
    let out =
        train(&s, &dir, &["--max-vocab", "20", "--valid-share", "0.2", "--test", new.to_str().unwrap()]);
    assert!(out.contains("validating on the last 24 lines"), "{out}");
    assert!(out.contains("read as <unk>"), "{out}");
    let config = read_json(&dir.join("config.json"));
    assert_eq!(config["model"]["vocab_size"].as_u64(), Some(20), "{config}");
    let vocab = std::fs::read_to_string(dir.join("vocab.txt")).unwrap();
    assert_eq!(vocab.lines().next(), Some("<unk>"));
    let metrics = std::fs::read_to_string(dir.join("metrics.jsonl")).unwrap();
    assert_eq!(metrics.lines().filter(|l| l.contains("\"valid_ppl\"")).count(), 3, "{metrics}");
    let result = read_json(&dir.join("result.json"));
    assert!(result["test_ppl"].as_f64().unwrap().is_finite(), "{result}");
    assert!(out.contains("test perplexity"), "{out}");

    // Resuming a finished text run re-reads the same data (the held-out share, the capped
    // vocabulary) and trains on.
    success("extend", &recur(&s, ["train", "--resume", dir.to_str().unwrap(), "--epochs", "4"]));
}

#[test]
fn eval_score_and_generate_read_unknown_words_as_unk() {
    let s = Scratch::new("lm-unk");
    let (_, new) = texts(&s);
    let dir = s.path("run");
    train(&s, &dir, &[]);
    let d = dir.to_str().unwrap();
    let out = success("eval", &recur(&s, ["eval", "--model", d, "--text", new.to_str().unwrap()]));
    assert!(out.contains("20 of ") && out.contains("read as <unk>"), "{out}");
    assert!(out.lines().last().unwrap().starts_with("text perplexity: "), "{out}");

    let out = success("score", &recur(&s, ["score", "--model", d, "w1 w2 never-seen", "w3 w1"]));
    assert!(out.contains("1 word(s) not in the model's vocabulary are read as <unk>"), "{out}");
    let out = success("score --file", &recur(&s, ["score", "--model", d, "--file", new.to_str().unwrap()]));
    assert_eq!(out.lines().filter(|l| l.starts_with("log P")).count(), 20, "{out}");
    failure("score nothing", &recur(&s, ["score", "--model", d]), &["nothing to score", "--file"]);

    let out = recur(&s, ["generate", "--model", d, "--start", "w1 brand-new", "--words", "5"]);
    success("generate", &out);
    assert!(stderr(&out).contains("brand-new"), "{}", stderr(&out));
    failure(
        "--skip unknown",
        &recur(&s, ["generate", "--model", d, "--skip", "not-a-word"]),
        &["--skip", "not-a-word", "vocabulary"],
    );
    failure(
        "negative temperature",
        &recur(&s, ["generate", "--model", d, "--temperature", "-1"]),
        &["--temperature"],
    );
}

#[test]
fn eval_on_a_short_text_measures_in_smaller_blocks() {
    let s = Scratch::new("lm-short");
    let dir = s.path("run");
    train(&s, &dir, &[]);
    let short = s.file("short.txt", "w1 w2 w3 w4\nw5 w6 w7\n");
    let out = success(
        "eval short",
        &recur(&s, ["eval", "--model", dir.to_str().unwrap(), "--text", short.to_str().unwrap()]),
    );
    assert!(out.contains("too few for 10 x 35: measured in blocks of 1 x 8"), "{out}");
    let one = s.file("one.txt", "w1");
    failure(
        "one word",
        &recur(&s, ["eval", "--model", dir.to_str().unwrap(), "--text", one.to_str().unwrap()]),
        &["too few"],
    );
}
