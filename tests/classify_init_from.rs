//! `recur classify train --init-from LM_RUN`: the classifier's embedding and recurrent layers
//! start as a `recur train` run's language model, with its vocabulary (`<unk>` first), its cell
//! and sizes; flags that would set those are refused; cross-validation and `--resume` use it.

mod common;

use common::cli::*;
use ndarray::{ArrayD, Axis};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Texts over 30 words, and labelled lines whose class is whether w1 or w2 is more common.
fn data(s: &Scratch) -> (PathBuf, PathBuf) {
    let mut rng = recur::tensor::Rng::new(7);
    let mut line = |extra: &str| -> String {
        let mut words: Vec<String> = (0..4 + rng.below(4)).map(|_| format!("w{}", rng.below(30))).collect();
        words.push(extra.to_string());
        words.join(" ")
    };
    let text: String = (0..150).map(|_| line("w0") + "\n").collect();
    let labelled: String = (0..60).map(|i| format!("{}\t{}\n", line(["w1", "w2"][i % 2]), i % 2)).collect();
    (s.file("corpus.txt", text), s.file("labelled.tsv", labelled))
}

/// Trains the language model (a one-layer LSTM, D 8, H 12) and returns its run directory.
fn lm(s: &Scratch, corpus: &Path) -> PathBuf {
    let dir = s.path("lm");
    let args = [
        "train",
        "--text",
        corpus.to_str().unwrap(),
        "--cell",
        "lstm",
        "--layers",
        "1",
        "--embed-size",
        "8",
        "--hidden-size",
        "12",
        "--batch-size",
        "4",
        "--time-size",
        "8",
        "--epochs",
        "2",
        "--out",
        dir.to_str().unwrap(),
    ];
    success("train the LM", &recur(s, args));
    dir
}

/// `recur classify train --data LABELLED --init-from LM --out OUT FLAGS...`
fn classify(s: &Scratch, labelled: &Path, lm: &Path, out: &Path, flags: &[&str]) -> std::process::Output {
    let mut args = vec!["classify", "train", "--data", labelled.to_str().unwrap(), "--init-from"];
    args.extend([lm.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    args.extend(flags);
    if !flags.contains(&"--ensemble") {
        args.extend(["--ensemble", "1"]); // one model, which keeps a checkpoint
    }
    recur(s, &args)
}

fn weights(path: &Path) -> BTreeMap<String, ArrayD<f32>> {
    recur::io::checkpoint::load::<f32>(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn max_difference(a: &ArrayD<f32>, b: &ArrayD<f32>) -> f32 {
    assert_eq!(a.shape(), b.shape());
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
}

#[test]
fn the_classifier_starts_from_the_language_models_weights_and_vocabulary() {
    let s = Scratch::new("init-from");
    let (corpus, labelled) = data(&s);
    let lm_dir = lm(&s, &corpus);
    let dir = s.path("classify");
    // A learning rate so small that one epoch leaves the weights where they started (Adam moves
    // each weight by about lr a step).
    let out = success(
        "classify --init-from",
        &classify(&s, &labelled, &lm_dir, &dir, &["--epochs", "1", "--lr", "1e-9"]),
    );
    assert!(out.contains("embedding and 1 x LSTM layers from the language model in"), "{out}");
    assert!(out.contains("100.0% of the training texts' words are in its vocabulary"), "{out}");

    let config = read_json(&dir.join("config.json"));
    let model = &config["model"];
    assert_eq!(model["cell"], "lstm", "{config}");
    assert_eq!(
        (model["embed_size"].as_u64(), model["hidden_size"].as_u64()),
        (Some(8), Some(12)),
        "{config}"
    );
    assert_eq!(config["train"]["init_from"].as_str(), Some(lm_dir.to_str().unwrap()), "{config}");

    // The vocabulary: <unk> first, then the LM's other words in the LM's order.
    let lm_vocab: Vec<String> =
        std::fs::read_to_string(lm_dir.join("vocab.txt")).unwrap().lines().map(str::to_string).collect();
    let vocab: Vec<String> =
        std::fs::read_to_string(dir.join("vocab.txt")).unwrap().lines().map(str::to_string).collect();
    let mut expected = vec!["<unk>".to_string()];
    expected.extend(lm_vocab.iter().filter(|w| *w != "<unk>").cloned());
    assert_eq!(vocab, expected);
    assert_eq!(model["vocab_size"].as_u64(), Some(vocab.len() as u64));

    // Each word's vector is the LM's row of that word; the LSTM's weights are the LM's.
    let (lm_w, w) = (weights(&lm_dir.join("model.safetensors")), weights(&dir.join("model.safetensors")));
    let rows: Vec<usize> =
        vocab.iter().map(|word| lm_vocab.iter().position(|v| v == word).unwrap()).collect();
    let from_lm = lm_w["encoder.weight"].select(Axis(0), &rows);
    assert!(max_difference(&w["embedding.weight"], &from_lm) < 1e-6, "embedding rows");
    for name in ["rnn.weight_ih_l0", "rnn.weight_hh_l0"] {
        assert!(max_difference(&w[name], &lm_w[name]) < 1e-6, "{name}");
    }
    let lm_bias = &lm_w["rnn.bias_ih_l0"] + &lm_w["rnn.bias_hh_l0"];
    assert!(max_difference(&w["rnn.bias_ih_l0"], &lm_bias) < 1e-6, "bias");
    // ...and the head is the classifier's own, drawn and trained.
    assert!(w["fc.weight"].iter().any(|&x| x != 0.0));

    // A resumed run reads the language model again and goes on.
    let more = success(
        "resume",
        &recur(&s, ["classify", "train", "--resume", dir.to_str().unwrap(), "--epochs", "2"]),
    );
    assert!(more.contains("resuming"), "{more}");
    let metrics = std::fs::read_to_string(dir.join("metrics.jsonl")).unwrap();
    assert_eq!(metrics.lines().count(), 2, "{metrics}");

    // Cross-validation: every fold's model has the LM's vocabulary.
    let cv_dir = s.path("cv");
    success(
        "classify --folds --init-from",
        &classify(&s, &labelled, &lm_dir, &cv_dir, &["--folds", "3", "--epochs", "2"]),
    );
    let cv = read_json(&cv_dir.join("cv.json"));
    let folds = cv["per_fold"].as_array().unwrap();
    assert_eq!(folds.len(), 3);
    assert!(folds.iter().all(|f| f["vocab_size"].as_u64() == Some(vocab.len() as u64)), "{cv}");
}

#[test]
fn flags_the_language_model_decides_are_refused_and_so_is_a_run_of_another_task() {
    let s = Scratch::new("init-from-refused");
    let (corpus, labelled) = data(&s);
    let lm_dir = lm(&s, &corpus);
    let data_arg = labelled.to_str().unwrap();
    for (flags, named) in [
        (vec!["--hidden-size", "32"], "--hidden-size"),
        (vec!["--bidirectional"], "--bidirectional"),
        (vec!["--min-count", "1", "--cell", "gru"], "--cell, --min-count"),
    ] {
        let out_dir = s.path("never");
        failure(
            &format!("{flags:?}"),
            &classify(&s, &labelled, &lm_dir, &out_dir, &flags),
            &["--init-from", named, "leave out"],
        );
        assert!(!out_dir.exists(), "a refused run writes nothing");
    }

    // A classify run is not a language model.
    let classify_dir = s.path("classifier");
    success(
        "a classifier",
        &recur(
            &s,
            [
                "classify",
                "train",
                "--data",
                data_arg,
                "--epochs",
                "1",
                "--out",
                classify_dir.to_str().unwrap(),
            ],
        ),
    );
    failure(
        "--init-from a classify run",
        &recur(&s, ["classify", "train", "--data", data_arg, "--init-from", classify_dir.to_str().unwrap()]),
        &["classify"],
    );
}
