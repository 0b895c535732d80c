//! `recur seq2seq train --attention ... --bidirectional`, then `summary`, `eval`, `predict` and
//! `attend` (the answer and the attention map's PNG and SVG) on a tiny run; `attend` on a run
//! without attention and `--peeky` with `--attention` are refused (the first in one line, the second by clap).

mod common;

use common::cli::{failure, read_json, recur, success, Scratch};

#[test]
fn cli_attention_train_summary_eval_attend() {
    let dir = Scratch::new("attention");
    let run = dir.path("run");
    let args = [
        "seq2seq",
        "train",
        "--addition",
        "--examples",
        "300",
        "--epochs",
        "1",
        "--hidden-size",
        "8",
        "--wordvec-size",
        "4",
        "--batch-size",
        "32",
        "--reverse-input",
        "--attention",
        "additive",
        "--bidirectional",
        "--seed",
        "3",
        "--out",
    ];
    let out = recur(&dir.root, args.iter().copied().chain([run.to_str().unwrap()]));
    let stdout = success("seq2seq train --attention", &out);
    assert!(stdout.contains("attention additive, bidirectional"), "{stdout}");
    let config = read_json(&run.join("config.json"));
    assert_eq!(config["model"]["attention"], "additive");
    assert_eq!(config["model"]["bidirectional"], true);

    let summary =
        success("summary", &recur(&dir.root, ["seq2seq", "summary", "--model", run.to_str().unwrap()]));
    assert!(
        summary.contains("TimeAttention(additive)") && summary.contains("decoder.attention.v"),
        "{summary}"
    );
    let eval = success("eval", &recur(&dir.root, ["seq2seq", "eval", "--model", run.to_str().unwrap()]));
    assert!(eval.contains("accuracy:"), "{eval}");
    success("predict", &recur(&dir.root, ["seq2seq", "predict", "--model", run.to_str().unwrap(), "12+34"]));

    let map = dir.path("maps/one.png");
    std::fs::create_dir_all(map.parent().unwrap()).unwrap();
    let out = recur(
        &dir.root,
        ["seq2seq", "attend", "--model", run.to_str().unwrap(), "--out", map.to_str().unwrap(), "12+34"],
    );
    let printed = success("attend", &out);
    assert!(printed.starts_with("12+34\t"), "{printed}");
    assert!(map.exists() && map.with_extension("svg").exists(), "{printed}");
    let svg = std::fs::read_to_string(map.with_extension("svg")).unwrap();
    assert!(
        svg.contains("\n+\n") && svg.contains("attention: 12+34"),
        "the input's characters label the map"
    );
    // Default: attention.png in the current folder.
    success("attend", &recur(&dir.root, ["seq2seq", "attend", "--model", run.to_str().unwrap(), "7+8"]));
    assert!(dir.root.join("attention.png").exists() && dir.root.join("attention.svg").exists());
    let out = recur(&dir.root, ["seq2seq", "attend", "--model", run.to_str().unwrap(), "12x34"]);
    failure("attend with an unknown character", &out, &["12x34"]);

    let plain = dir.path("plain");
    let out = recur(
        &dir.root,
        [
            "seq2seq",
            "train",
            "--addition",
            "--examples",
            "200",
            "--epochs",
            "1",
            "--hidden-size",
            "4",
            "--out",
        ]
        .into_iter()
        .chain([plain.to_str().unwrap()]),
    );
    success("plain train", &out);
    let out = recur(&dir.root, ["seq2seq", "attend", "--model", plain.to_str().unwrap(), "1+2"]);
    failure("attend on a run without attention", &out, &["without attention", "--attention"]);
    let out = recur(&dir.root, ["seq2seq", "train", "--addition", "--peeky", "--attention", "dot"]);
    let err = common::cli::stderr(&out);
    assert_eq!(out.status.code(), Some(2), "--peeky with --attention: {err}");
    assert!(err.starts_with("error: the argument '--peeky' cannot be used with '--attention"), "{err}");
}

/// `--input-eos` and `--mask-padding` are kept in the run's config, every command reads them
/// back, and the attention map gives the input's `<eos>` its own column.
#[test]
fn cli_input_eos_and_masked_padding_round_trip() {
    let dir = Scratch::new("attention-eos");
    let run = dir.path("run");
    let mut args = vec!["seq2seq", "train", "--addition", "--examples", "300", "--epochs", "1"];
    args.extend(["--hidden-size", "8", "--wordvec-size", "4", "--batch-size", "32", "--reverse-input"]);
    args.extend(["--attention", "dot", "--input-eos", "--mask-padding", "--seed", "3", "--out"]);
    args.push(run.to_str().unwrap());
    success("seq2seq train --input-eos --mask-padding", &recur(&dir.root, args));
    let config = read_json(&run.join("config.json"));
    assert_eq!(config["layout"]["input_eos"], true);
    assert_eq!(config["layout"]["mask_padding"], true);
    assert_eq!(config["model"]["mask_padding"], true);
    let model = run.to_str().unwrap();
    let eval = success("eval", &recur(&dir.root, ["seq2seq", "eval", "--model", model]));
    assert!(eval.contains("accuracy:"), "{eval}");
    success("predict", &recur(&dir.root, ["seq2seq", "predict", "--model", model, "--beam", "3", "12+34"]));
    let map = dir.path("map.png");
    let printed = success(
        "attend",
        &recur(&dir.root, ["seq2seq", "attend", "--model", model, "--out", map.to_str().unwrap(), "1+2"]),
    );
    assert!(printed.starts_with("1+2\t"), "{printed}");
    let svg = std::fs::read_to_string(map.with_extension("svg")).unwrap();
    assert!(svg.contains("&lt;eos&gt;"), "the map has a column for the input's <eos>");

    // A config whose model and layout disagree on the padding is refused, naming both fields.
    let path = run.join("config.json");
    let text = std::fs::read_to_string(&path).unwrap();
    let mut edited: serde_json::Value = serde_json::from_str(&text).unwrap();
    edited["model"]["mask_padding"] = serde_json::Value::Bool(false);
    std::fs::write(&path, serde_json::to_string_pretty(&edited).unwrap()).unwrap();
    let out = recur(&dir.root, ["seq2seq", "eval", "--model", model]);
    failure("eval with mask_padding disagreeing", &out, &["model.mask_padding", "layout.mask_padding"]);
}
