//! End-to-end tests of the language-model options: LSTM and GRU cells, stacked layers, dropout,
//! tied weights, the optimizers and learning-rate rules, validation with the best weights kept,
//! presets, and `generate`. Small sizes on the built-in demo corpus or a tiny PTB-shaped folder,
//! so the suite stays fast in the debug profile.

mod common;

use common::cli::*;
use recur::io::checkpoint;
use std::ffi::OsStr;
use std::path::Path;

fn train(s: &Scratch, out: &Path, args: &[&str]) -> String {
    let mut all: Vec<&OsStr> = vec!["train".as_ref(), "--out".as_ref(), out.as_os_str()];
    all.extend(args.iter().map(OsStr::new));
    success(&format!("recur train {args:?}"), &recur(&s.root, all))
}

fn run(s: &Scratch, args: &[&OsStr]) -> String {
    success(&format!("recur {args:?}"), &recur(&s.root, args))
}

/// The train perplexities of a run, from its metrics.jsonl.
fn train_ppls(run: &Path) -> Vec<f64> {
    std::fs::read_to_string(run.join("metrics.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["train_ppl"].as_f64().unwrap())
        .collect()
}

#[test]
fn tied_two_layer_lstm_with_dropout_trains_saves_pytorch_names_and_summarises() {
    let s = Scratch::new("lstm-tied");
    let dir = s.path("run");
    let small = ["--cell", "lstm", "--layers", "2", "--wordvec-size", "12", "--hidden-size", "12"];
    let out =
        train(&s, &dir, &[&small[..], &["--tie-weights", "--dropout", "0.3", "--epochs", "3"]].concat());
    assert!(out.contains("2 x LSTM") && out.contains("dropout 0.3") && out.contains("tied"), "{out}");
    let config = read_json(&dir.join("config.json"));
    assert_eq!(config["model"]["cell"], "lstm");
    assert_eq!(config["model"]["tie_weights"], true);
    assert_eq!(config["model"]["dropout"], 0.3);

    // PyTorch's state_dict: both names, equal values; one-bias LSTM gets a zero bias_hh.
    let tensors = checkpoint::load::<f32>(&dir.join("model.safetensors")).unwrap();
    let names: Vec<&str> = tensors.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "decoder.bias",
            "decoder.weight",
            "encoder.weight",
            "rnn.bias_hh_l0",
            "rnn.bias_hh_l1",
            "rnn.bias_ih_l0",
            "rnn.bias_ih_l1",
            "rnn.weight_hh_l0",
            "rnn.weight_hh_l1",
            "rnn.weight_ih_l0",
            "rnn.weight_ih_l1"
        ]
    );
    assert_eq!(tensors["decoder.weight"], tensors["encoder.weight"]);
    assert_eq!(tensors["rnn.weight_ih_l1"].shape(), [48, 12]);
    assert!(tensors["rnn.bias_hh_l0"].iter().all(|&x| x == 0.0));

    // The tied weight is counted once: V*12 + 2 * (4*12*(12+12) + 4*12) + V.
    let v = config["model"]["vocab_size"].as_u64().unwrap() as usize;
    let want = v * 12 + 2 * (48 * 24 + 48) + v;
    let summary = run(&s, &["summary".as_ref(), "--model".as_ref(), dir.as_os_str()]);
    assert!(summary.contains("TimeLSTM[1]") && summary.contains("TimeDropout(0.3)"), "{summary}");
    assert!(summary.contains("weight tied to encoder.weight"), "{summary}");
    let total = summary.lines().last().unwrap();
    assert_eq!(total.replace(',', ""), format!("Total params: {want}"), "{summary}");

    // Evaluation and scoring work for the cell (dropout off, so repeated runs agree).
    let text = s.file("eval.txt", "the town is quiet .\nthe people say hello .\n");
    let eval = [OsStr::new("eval"), "--model".as_ref(), dir.as_os_str(), "--text".as_ref(), text.as_os_str()];
    let eval =
        [OsStr::new("eval"), "--batch-size".as_ref(), "1".as_ref(), "--time-size".as_ref(), "3".as_ref()]
            .into_iter()
            .chain(eval.into_iter().skip(1))
            .collect::<Vec<_>>();
    let first = run(&s, &eval);
    assert_eq!(first, run(&s, &eval), "evaluation must not depend on dropout or leftover state");
    let score = [OsStr::new("score"), "--model".as_ref(), dir.as_os_str(), "the town is quiet .".as_ref()];
    assert!(run(&s, &score).contains("log P ="));
}

#[test]
fn gru_adam_and_momentum_lower_the_training_perplexity() {
    let s = Scratch::new("optimizers");
    for (name, args) in [
        ("gru-sgd", vec!["--cell", "gru", "--lr", "1", "--clip", "5"]),
        ("lstm-adam", vec!["--cell", "lstm", "--optimizer", "adam", "--lr", "0.01"]),
        ("rnn-momentum", vec!["--optimizer", "momentum", "--lr", "0.05", "--momentum", "0.9"]),
    ] {
        let dir = s.path(name);
        let common = ["--wordvec-size", "16", "--hidden-size", "16", "--epochs", "8"];
        train(&s, &dir, &[&args[..], &common[..]].concat());
        let ppls = train_ppls(&dir);
        assert!(ppls[7] < 0.8 * ppls[0], "{name}: perplexity {:?} did not fall", ppls);
        assert_eq!(
            read_json(&dir.join("config.json"))["train"]["optimizer"],
            name.split('-').nth(1).unwrap()
        );
    }
}

#[test]
fn validated_runs_keep_the_best_weights_and_report_the_test_perplexity() {
    let s = Scratch::new("validate");
    let ptb = tiny_ptb(&s);
    let dir = s.path("run");
    // book-ch6's settings at a tiny size, with the plateau rule and a rate high enough to overshoot.
    let sizes = ["--wordvec-size", "8", "--hidden-size", "8", "--batch-size", "4", "--time-size", "5"];
    let rule =
        ["--lr-schedule", "plateau", "--lr", "20", "--epochs", "6", "--data-dir", ptb.to_str().unwrap()];
    // Seed 1 overshoots before epoch 6 (as seeds 2, 4, 5 and 6 do; 3 and 7 improve to the end),
    // so the restore is tested. Which seeds overshoot shifts with float rounding: the
    // non-vacuity assertion below says so if a change to the arithmetic moves it.
    let seed = ["--seed", "1"];
    let out = train(&s, &dir, &[&["--preset", "book-ch6"][..], &sizes, &rule, &seed].concat());
    let metrics: Vec<serde_json::Value> = std::fs::read_to_string(dir.join("metrics.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(metrics.len(), 6);
    let valid: Vec<f64> = metrics.iter().map(|m| m["valid_ppl"].as_f64().unwrap()).collect();
    let lrs: Vec<f64> = metrics.iter().map(|m| m["lr"].as_f64().unwrap()).collect();
    // The rate is divided by 4 exactly after the epochs that did not improve on the best.
    let mut best = f64::INFINITY;
    let mut want_lr = 20.0;
    for e in 0..6 {
        assert_eq!(lrs[e], want_lr, "epoch {}: lr {:?}, valid {:?}", e + 1, lrs, valid);
        if valid[e] < best {
            best = valid[e];
        } else {
            want_lr /= 4.0;
        }
    }
    let result = read_json(&dir.join("result.json"));
    let best_epoch = result["best_epoch"].as_u64().unwrap() as usize;
    // Not vacuous: this seed overshoots, so the rule fires and the best epoch is not the last.
    assert!(lrs[5] < 20.0 && best_epoch < 6, "lr {lrs:?}, valid {valid:?}");
    assert_eq!(result["best_valid_ppl"].as_f64().unwrap(), best);
    assert_eq!(valid[best_epoch - 1], best);
    let test = result["test_ppl"].as_f64().unwrap();
    assert!(out.contains(&format!("test perplexity {test:.2}")), "{out}");

    // The saved weights are the best epoch's: re-evaluating them gives the same figures.
    let eval = |split: &str| {
        let args =
            [OsStr::new("eval"), "--model".as_ref(), dir.as_os_str(), "--split".as_ref(), split.as_ref()];
        let mut args = args.to_vec();
        args.extend([OsStr::new("--data-dir"), ptb.as_os_str()]);
        run(&s, &args)
    };
    assert!(eval("valid").ends_with(&format!("valid perplexity: {best:.2}\n")));
    assert!(eval("test").ends_with(&format!("test perplexity: {test:.2}\n")));
    assert!(dir.join("perplexity.png").exists());
}

#[test]
fn bad_model_options_are_refused_with_the_reason() {
    let s = Scratch::new("bad-options");
    let cases: [(&[&str], &[&str]); 5] = [
        (&["--tie-weights", "--wordvec-size", "8", "--hidden-size", "10"], &["tied weights", "8", "10"]),
        (&["--dropout", "1.0"], &["--dropout", "[0, 1)"]),
        (&["--validate"], &["--validate", "no validation split", "--valid FILE"]),
        (&["--preset", "zaremba-small", "--data-dir", "/nonexistent"], &["/nonexistent", "ptb.train.txt"]),
        (&["--clip=-1"], &["--clip"]),
    ];
    for (args, needles) in cases {
        let out_dir = s.path("never");
        let mut all: Vec<&OsStr> = vec!["train".as_ref(), "--out".as_ref(), out_dir.as_os_str()];
        all.extend(args.iter().map(OsStr::new));
        failure(&format!("{args:?}"), &recur(&s.root, all), needles);
        assert!(!out_dir.exists(), "{args:?} left a run directory");
    }
}

#[test]
fn generate_is_seeded_skips_words_and_primes_with_the_start() {
    let s = Scratch::new("generate");
    let dir = s.path("run");
    train(
        &s,
        &dir,
        &["--cell", "gru", "--wordvec-size", "16", "--hidden-size", "16", "--epochs", "5", "--lr", "1"],
    );
    let gen = |extra: &[&str]| {
        let mut args: Vec<&OsStr> = vec!["generate".as_ref(), "--model".as_ref(), dir.as_os_str()];
        args.extend(["--start", "the town", "--words", "40"].iter().map(OsStr::new));
        args.extend(extra.iter().map(OsStr::new));
        run(&s, &args)
    };
    let a = gen(&["--seed", "1"]);
    assert!(a.starts_with("the town"), "the start words come first: {a}");
    assert_eq!(a, gen(&["--seed", "1"]), "same seed, same text");
    assert_ne!(a, gen(&["--seed", "2"]), "another seed, another text");
    assert_eq!(gen(&["--temperature", "0", "--seed", "1"]), gen(&["--temperature", "0", "--seed", "2"]));
    let skipped = gen(&["--skip", "the,.", "--seed", "3"]);
    let generated: Vec<&str> = skipped.split_whitespace().skip(2).collect();
    assert!(!generated.contains(&"the") && !generated.contains(&"."), "{skipped}");
    assert_eq!(generated.len(), 40, "{skipped}");

    // A beam of 1 is greedy; a wider one keeps the skipped words out too.
    assert_eq!(gen(&["--beam", "1"]), gen(&["--temperature", "0"]));
    let beamed = gen(&["--beam", "4", "--skip", "the"]);
    let generated: Vec<&str> = beamed.split_whitespace().skip(2).collect();
    assert!(!generated.contains(&"the") && generated.len() == 40, "{beamed}");
    let model = dir.to_str().unwrap();
    failure("--beam 0", &recur(&s.root, ["generate", "--model", model, "--beam", "0"]), &["--beam"]);
    let both = ["generate", "--model", model, "--beam", "2", "--temperature", "0.5"];
    let out = recur(&s.root, both);
    assert_eq!(out.status.code(), Some(2), "--beam with --temperature is refused");
}
