//! `recur classify train --vectors`: the embedding starts from pretrained word vectors (a file
//! in GloVe's text format, or the built-in GloVe 6B 50d, the default). The width becomes the
//! vectors'; a rare training word with a vector stays in the vocabulary; the room left under
//! --max-vocab goes to the file's other words, whose rows no training text moves; the flags
//! that clash are refused, naming what to change.

mod common;

use common::cli::*;
use recur::io::checkpoint;
use std::path::{Path, PathBuf};

/// Labelled texts whose class is whether `good` or `bad` is in them, over filler words; `rare`
/// appears once.
fn data(s: &Scratch) -> PathBuf {
    let mut rng = recur::tensor::Rng::new(3);
    let mut lines: String = (0..40)
        .map(|i| {
            let mut words: Vec<String> =
                (0..3 + rng.below(3)).map(|_| format!("w{}", rng.below(6))).collect();
            words.insert(rng.below(words.len()), ["bad", "good"][i % 2].to_string());
            format!("{}\t{}\n", words.join(" "), i % 2)
        })
        .collect();
    lines.push_str("rare good w1\t1\n");
    s.file("labelled.tsv", lines)
}

/// Vectors of width 3 for `good`, `bad`, `rare`, `superb` (never in the texts), `w0`.
fn vectors(s: &Scratch) -> PathBuf {
    s.file("vectors.txt", "good 1 0 0.5\nbad -1 0 0.5\nrare 0.25 0.25 0.25\nsuperb 0.9 0.1 -0.3\nw0 0 1 0\n")
}

fn train(s: &Scratch, data: &Path, out: &Path, flags: &[&str]) -> std::process::Output {
    let mut args =
        vec!["classify", "train", "--data", data.to_str().unwrap(), "--out", out.to_str().unwrap()];
    args.extend(["--epochs", "2", "--batch-size", "8", "--ensemble", "1"]);
    if !flags.contains(&"--init-from") {
        args.extend(["--hidden-size", "4"]);
    }
    args.extend(flags);
    recur(s, &args)
}

fn embedding(run: &Path) -> ndarray::ArrayD<f32> {
    let mut tensors = checkpoint::load::<f32>(&run.join("model.safetensors")).unwrap();
    tensors.remove("embedding.weight").expect("a classifier has an embedding")
}

fn vocab(run: &Path) -> Vec<String> {
    std::fs::read_to_string(run.join("vocab.txt")).unwrap().lines().map(String::from).collect()
}

#[test]
fn a_vectors_file_sets_the_width_the_vocabulary_and_the_starting_rows() {
    let s = Scratch::new("classify-vectors");
    let (data, file) = (data(&s), vectors(&s));
    let run = s.path("run");
    let out = success("--vectors FILE", &train(&s, &data, &run, &["--vectors", file.to_str().unwrap()]));
    assert!(out.contains("embedding from the 5 word vectors of width 3"), "{out}");

    let config = read_json(&run.join("config.json"));
    assert_eq!(config["model"]["embed_size"].as_u64(), Some(3), "{config}");
    assert_eq!(config["train"]["vectors"].as_str(), Some(file.to_str().unwrap()), "{config}");
    let words = vocab(&run);
    assert_eq!(words[0], "<unk>");
    // `rare` is seen once (under --min-count 2) but has a vector; `superb` is never seen and is
    // added from the file; the filler words w1..w5, without vectors, need two sightings.
    for w in ["good", "bad", "rare", "superb", "w0", "w1"] {
        assert!(words.iter().any(|x| x == w), "`{w}` in the vocabulary {words:?}");
    }
    assert_eq!(config["model"]["vocab_size"].as_u64(), Some(words.len() as u64));

    // No training text holds `superb`: its row is still its vector after training (Adam moves
    // nothing without a gradient). `good` was trained on, so it moved.
    let table = embedding(&run);
    let row = |w: &str| -> Vec<f32> {
        table
            .index_axis(ndarray::Axis(0), words.iter().position(|x| x == w).unwrap())
            .iter()
            .copied()
            .collect()
    };
    assert_eq!(row("superb"), [0.9, 0.1, -0.3]);
    assert_ne!(row("good"), [1.0, 0.0, 0.5], "a word of the training texts is trained");

    // A cap leaves no room for the file's other words.
    let capped = s.path("capped");
    let flags = ["--vectors", file.to_str().unwrap(), "--max-vocab", "4"];
    success("--max-vocab 4", &train(&s, &data, &capped, &flags));
    assert_eq!(vocab(&capped).len(), 4);
}

#[test]
fn the_builtin_vectors_are_the_default_unless_the_width_or_the_start_says_otherwise() {
    let s = Scratch::new("classify-vectors-default");
    let data = data(&s);
    let run = s.path("run");
    let out = success("the defaults", &train(&s, &data, &run, &["--max-vocab", "300"]));
    assert!(
        out.contains("embedding from the built-in word vectors (GloVe 6B, 50000 words of width 50)"),
        "{out}"
    );
    let config = read_json(&run.join("config.json"));
    assert_eq!(config["train"]["vectors"].as_str(), Some("builtin"), "{config}");
    assert_eq!(config["model"]["embed_size"].as_u64(), Some(50), "{config}");
    let words = vocab(&run);
    assert_eq!(words.len(), 300, "the room under --max-vocab filled from GloVe's common words");
    assert!(words.iter().any(|w| w == "the"), "{:?}", &words[..20]);

    // Another width, or `none`: drawn at random, as before.
    for (name, flags) in [("embed", vec!["--embed-size", "8"]), ("none", vec!["--vectors", "none"])] {
        let dir = s.path(name);
        let out = success(name, &train(&s, &data, &dir, &flags));
        assert!(!out.contains("embedding from the"), "{out}");
        let config = read_json(&dir.join("config.json"));
        assert!(config["train"]["vectors"].is_null(), "{config}");
        assert!(vocab(&dir).len() < 20, "only the training texts' words");
    }
}

#[test]
fn clashing_flags_and_bad_files_are_named() {
    let s = Scratch::new("classify-vectors-errors");
    let (data, file) = (data(&s), vectors(&s));
    let out = s.path("run");
    let file_arg = file.to_str().unwrap();
    failure(
        "--embed-size beside --vectors",
        &train(&s, &data, &out, &["--vectors", file_arg, "--embed-size", "8"]),
        &["--vectors", "3 numbers each", "--embed-size 8"],
    );
    failure(
        "--init-from beside --vectors",
        &train(&s, &data, &out, &["--vectors", file_arg, "--init-from", "somewhere"]),
        &["--init-from", "leave out --vectors"],
    );
    let bad = s.file("bad.txt", "good 1 0\nbad 1\n");
    failure(
        "a short line",
        &train(&s, &data, &out, &["--vectors", bad.to_str().unwrap()]),
        &["bad.txt:2:", "`bad` has 1 numbers; expected 2"],
    );
    failure("a missing file", &train(&s, &data, &out, &["--vectors", "nowhere.txt"]), &["nowhere.txt"]);
}
