//! End-to-end tests of the `recur` binary: `train` into a run directory, then `summary`, `score`
//! and `eval` reading it back, and bad input answered with exit code 2 and one `error: ` line.
//!
//! Every test works in its own temporary folder (removed when the test ends, passed or not) and
//! trains a small model (D = H = 16) for an epoch or a few, so the suite stays fast in the debug
//! profile. The PTB test needs `RECUR_DATA` (it prints SKIPPED without it).

mod common;

use common::cli::*;
use std::ffi::OsStr;
use std::path::Path;

/// Small and fast: the chapter-5 model on the demo corpus with D = H = 16.
const SMALL: [&str; 4] = ["--hidden-size", "16", "--wordvec-size", "16"];

/// Trains the small demo model into `dir` for `epochs` epochs; returns stdout.
fn train_demo(cwd: &Path, dir: &Path, epochs: usize) -> String {
    let epochs = epochs.to_string();
    let mut args: Vec<&OsStr> = vec!["train".as_ref(), "--out".as_ref(), dir.as_os_str()];
    args.extend([OsStr::new("--epochs"), OsStr::new(&epochs)]);
    args.extend(SMALL.iter().map(OsStr::new));
    success("recur train", &recur(cwd, args))
}

/// Copies every file of run directory `from` into a new folder `to`.
fn copy_run(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}

/// `1234567` -> `"1,234,567"`.
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The number after `prefix` on `line` (up to the next whitespace after it).
fn number_after(line: &str, prefix: &str) -> f64 {
    let rest = line.split_once(prefix).unwrap_or_else(|| panic!("no {prefix:?} in {line:?}")).1;
    let word = rest.split_whitespace().next().unwrap_or_else(|| panic!("no number in {line:?}"));
    word.parse().unwrap_or_else(|e| panic!("{word:?} in {line:?}: {e}"))
}

/// A perplexity line `<name> perplexity: <number>` as the last line of `out`; returns the number.
fn last_perplexity(out: &str, name: &str) -> f64 {
    let last = out.lines().last().unwrap_or_else(|| panic!("no output"));
    let prefix = format!("{name} perplexity: ");
    assert!(last.starts_with(&prefix), "last line {last:?} does not start with {prefix:?}");
    let ppl: f64 = last[prefix.len()..].trim().parse().unwrap_or_else(|e| panic!("{last:?}: {e}"));
    assert!(ppl.is_finite() && ppl >= 1.0, "{name} perplexity {ppl} is not a finite number >= 1");
    ppl
}

#[test]
fn train_writes_a_complete_run_directory() {
    let s = Scratch::new("train");
    let run = s.path("run");
    let out = train_demo(&s.root, &run, 3);

    // One `| epoch` line per epoch, in order.
    let epochs: Vec<usize> = out
        .lines()
        .filter(|l| l.starts_with("| epoch"))
        .map(|l| number_after(l, "| epoch") as usize)
        .collect();
    assert_eq!(epochs, [1, 2, 3], "epoch lines in:\n{out}");

    // config.json agrees with vocab.txt and the flags.
    let config = read_json(&run.join("config.json"));
    assert_eq!(config["model"]["cell"], "rnn", "{config}");
    assert_eq!(config["model"]["embed_size"], 16, "{config}");
    assert_eq!(config["model"]["hidden_size"], 16, "{config}");
    assert_eq!(config["train"]["epochs"], 3, "{config}");
    let vocab = std::fs::read_to_string(run.join("vocab.txt")).unwrap();
    let vocab_lines = vocab.lines().count();
    assert!(vocab_lines > 100, "the demo vocabulary has {vocab_lines} words");
    assert_eq!(config["model"]["vocab_size"], vocab_lines as u64, "{config}");
    assert!(out.contains(&format!("V {vocab_lines},")), "the printed vocabulary size in:\n{out}");

    // The weights: a non-trivial safetensors file.
    let model = std::fs::read(run.join("model.safetensors")).unwrap();
    assert!(model.len() > 8 + vocab_lines * 16 * 4, "model.safetensors has only {} bytes", model.len());

    // metrics.jsonl: one object per epoch with every field; finite perplexity, lower at the end.
    let metrics = std::fs::read_to_string(run.join("metrics.jsonl")).unwrap();
    let rows: Vec<serde_json::Value> =
        metrics.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}"))).collect();
    assert_eq!(rows.len(), 3, "metrics.jsonl:\n{metrics}");
    let mut ppls = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        for field in ["epoch", "train_ppl", "seconds", "tokens_per_s", "lr"] {
            assert!(row[field].is_number(), "metrics line {}: no number {field}: {row}", i + 1);
        }
        assert_eq!(row["epoch"], i as u64 + 1, "{row}");
        assert_eq!(row["lr"], 0.1, "{row}");
        let ppl = row["train_ppl"].as_f64().unwrap();
        assert!(ppl.is_finite() && ppl > 1.0, "epoch {}: train_ppl {ppl}", i + 1);
        assert!(row["seconds"].as_f64().unwrap() >= 0.0, "{row}");
        assert!(row["tokens_per_s"].as_f64().unwrap() > 0.0, "{row}");
        ppls.push(ppl);
    }
    assert!(ppls[2] < ppls[0], "the training perplexity did not go down: {ppls:?}");
    // The printed final perplexity is the last epoch's.
    let final_line = out.lines().find(|l| l.starts_with("final perplexity")).expect("a final line");
    assert!((number_after(final_line, "final perplexity") - ppls[2]).abs() < 0.01, "{final_line}");

    // The plots.
    let png = std::fs::read(run.join("perplexity.png")).unwrap();
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "perplexity.png lacks the PNG signature");
    let svg = std::fs::read_to_string(run.join("perplexity.svg")).unwrap();
    assert!(svg.contains("<svg"), "perplexity.svg is not SVG");

    // Exactly these files; no temporary file left behind.
    let mut names: Vec<String> =
        std::fs::read_dir(&run).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into()).collect();
    names.sort();
    assert!(!names.iter().any(|n| n.starts_with('.')), "temporary files left: {names:?}");
    assert_eq!(
        names,
        [
            "checkpoint.safetensors",
            "config.json",
            "metrics.jsonl",
            "model.safetensors",
            "perplexity.png",
            "perplexity.svg",
            "vocab.txt"
        ]
    );
}

#[test]
fn summary_lists_the_tensors_and_counts_every_parameter() {
    let s = Scratch::new("summary");
    let run = s.path("run");
    train_demo(&s.root, &run, 1);
    let out =
        success("recur summary", &recur(&s.root, ["summary".as_ref(), "--model".as_ref(), run.as_os_str()]));

    let config = read_json(&run.join("config.json"));
    let v = config["model"]["vocab_size"].as_u64().unwrap() as usize;
    let (d, h) = (16, 16);
    let total = v * d + h * d + h * h + h + v * h + v;
    let total_line = out.lines().find(|l| l.starts_with("Total params:")).unwrap_or_else(|| panic!("{out}"));
    assert_eq!(total_line.trim_end(), format!("Total params: {}", thousands(total)), "{out}");

    for (name, shape, count) in [
        ("encoder.weight", format!("[{v}, {d}]"), v * d),
        ("rnn.weight_ih_l0", format!("[{h}, {d}]"), h * d),
        ("rnn.weight_hh_l0", format!("[{h}, {h}]"), h * h),
        ("rnn.bias_ih_l0", format!("[{h}]"), h),
        ("decoder.weight", format!("[{v}, {h}]"), v * h),
        ("decoder.bias", format!("[{v}]"), v),
    ] {
        let line = out
            .lines()
            .find(|l| l.split_whitespace().any(|w| w == name))
            .unwrap_or_else(|| panic!("no tensor {name} in:\n{out}"));
        assert!(line.contains(&shape), "{name}: expected shape {shape}: {line:?}");
        assert!(line.trim_end().ends_with(&thousands(count)), "{name}: expected {count} params: {line:?}");
    }
}

#[test]
fn score_sorts_sentences_best_first() {
    let s = Scratch::new("score");
    let run = s.path("run");
    train_demo(&s.root, &run, 2);
    let (good, shuffled) = ("you say goodbye and i say hello", "hello say i and goodbye say you");
    let score = |sentences: [&str; 2]| {
        let mut args: Vec<&OsStr> = vec!["score".as_ref(), "--model".as_ref(), run.as_os_str()];
        args.extend(sentences.iter().map(OsStr::new));
        success("recur score", &recur(&s.root, args))
    };
    let out = score([good, shuffled]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    let mut seen = Vec::new();
    for line in &lines {
        assert!(line.starts_with("log P ="), "{line:?}");
        let logp = number_after(line, "log P =");
        assert!(logp.is_finite() && logp < 0.0, "log P {logp} in {line:?}");
        let ppl = number_after(line, "per-word perplexity =");
        assert!(ppl.is_finite() && ppl > 1.0, "perplexity {ppl} in {line:?}");
        let sentence = [good, shuffled].into_iter().find(|s| line.ends_with(s));
        seen.push((logp, sentence.unwrap_or_else(|| panic!("which sentence is {line:?}?"))));
    }
    assert!(seen[0].0 >= seen[1].0, "not best first:\n{out}");
    assert_ne!(seen[0].1, seen[1].1, "the same sentence twice:\n{out}");
    // The order is by score, not by the order of the arguments.
    assert_eq!(score([shuffled, good]), out);
}

#[test]
fn eval_reports_the_perplexity_of_a_text_file() {
    let s = Scratch::new("eval");
    let run = s.path("run");
    train_demo(&s.root, &run, 2);
    let text = s.file(
        "text.txt",
        "You say goodbye and I say hello.\nTom is a fisherman with a red boat and a green hat.\n\
         She has a gray cat, a tall window and many books.\n",
    );
    let out = recur(
        &s.root,
        [
            "eval".as_ref(),
            "--model".as_ref(),
            run.as_os_str(),
            "--text".as_ref(),
            text.as_os_str(),
            "--batch-size".as_ref(),
            "2".as_ref(),
            "--time-size".as_ref(),
            "5".as_ref(),
        ] as [&OsStr; 9],
    );
    let out = success("recur eval --text", &out);
    last_perplexity(&out, "text");
}

#[test]
fn a_missing_run_directory_is_named() {
    let s = Scratch::new("missing");
    let missing = s.path("no-such-run");
    let text = s.file("text.txt", "you say hello\n");
    let m = missing.as_os_str();
    let named = missing.display().to_string();
    let cases: [(&str, Vec<&OsStr>); 3] = [
        ("eval", vec!["eval".as_ref(), "--model".as_ref(), m, "--text".as_ref(), text.as_os_str()]),
        ("score", vec!["score".as_ref(), "--model".as_ref(), m, "you say hello".as_ref()]),
        ("summary", vec!["summary".as_ref(), "--model".as_ref(), m]),
    ];
    for (what, args) in cases {
        failure(what, &recur(&s.root, args), &[&named, "not a run directory"]);
    }
    assert!(!missing.exists(), "reading created the run directory");
}

#[test]
fn damaged_run_directories_are_refused_naming_the_file() {
    let s = Scratch::new("damaged");
    let good = s.path("good");
    train_demo(&s.root, &good, 1);
    let text = s.file("text.txt", "you say goodbye and i say hello .\n".repeat(10));

    // Garbage weights.
    let bad_model = s.path("bad-model");
    copy_run(&good, &bad_model);
    std::fs::write(bad_model.join("model.safetensors"), b"\x07garbage, not safetensors\xff\x00\x13").unwrap();
    // config.json cut in the middle.
    let bad_config = s.path("bad-config");
    copy_run(&good, &bad_config);
    let config = std::fs::read(good.join("config.json")).unwrap();
    std::fs::write(bad_config.join("config.json"), &config[..config.len() / 2]).unwrap();
    // vocab.txt with line 6 a repeat of line 2 (same line count, so only the duplicate is wrong).
    let bad_vocab = s.path("bad-vocab");
    copy_run(&good, &bad_vocab);
    let vocab = std::fs::read_to_string(good.join("vocab.txt")).unwrap();
    let mut words: Vec<&str> = vocab.lines().collect();
    words[5] = words[1];
    let repeated = format!("`{}`", words[1]);
    std::fs::write(bad_vocab.join("vocab.txt"), words.join("\n") + "\n").unwrap();

    let cases: [(&Path, Vec<&str>); 3] = [
        (&bad_model, vec!["model.safetensors"]),
        (&bad_config, vec!["config.json"]),
        (&bad_vocab, vec!["vocab.txt:6:", &repeated, "twice"]),
    ];
    for (dir, needles) in cases {
        let d = dir.as_os_str();
        let name = dir.file_name().unwrap().to_string_lossy();
        let commands: [(&str, Vec<&OsStr>); 3] = [
            ("eval", vec!["eval".as_ref(), "--model".as_ref(), d, "--text".as_ref(), text.as_os_str()]),
            ("score", vec!["score".as_ref(), "--model".as_ref(), d, "you say hello".as_ref()]),
            ("summary", vec!["summary".as_ref(), "--model".as_ref(), d]),
        ];
        for (what, args) in commands {
            failure(&format!("{what} on {name}"), &recur(&s.root, args), &needles);
        }
    }
    // The intact copy still loads.
    success("summary", &recur(&s.root, ["summary".as_ref(), "--model".as_ref(), good.as_os_str()]));
}

/// `recur train --out DIR ARGS` must fail naming `needles`, and leave no run directory.
fn train_fails(s: &Scratch, what: &str, args: &[&OsStr], needles: &[&str]) -> String {
    let out_dir = s.path(&format!("run-{}", what.replace(' ', "-")));
    let mut all: Vec<&OsStr> = vec!["train".as_ref(), "--out".as_ref(), out_dir.as_os_str()];
    all.extend_from_slice(args);
    all.extend(SMALL.iter().map(OsStr::new));
    let message = failure(what, &recur(&s.root, all), needles);
    assert!(!out_dir.exists(), "{what}: a failed run left {}", out_dir.display());
    message
}

#[test]
fn train_refuses_a_missing_ptb_folder() {
    let s = Scratch::new("ptb-missing");
    let args = ["--corpus", "ptb", "--data-dir", "/nonexistent"].map(OsStr::new);
    train_fails(&s, "missing ptb", &args, &["/nonexistent", "ptb.train.txt"]);
}

#[test]
fn train_refuses_a_text_without_words() {
    let s = Scratch::new("empty-text");
    for (name, contents) in [("empty.txt", ""), ("blank.txt", "\n  \n\t\n")] {
        let path = s.file(name, contents);
        let args = ["--corpus".as_ref(), "text".as_ref(), "--text".as_ref(), path.as_os_str()];
        train_fails(&s, name, &args, &[name, "contains no words"]);
    }
}

#[test]
fn train_refuses_a_corpus_size_beyond_the_corpus() {
    let s = Scratch::new("corpus-size");
    let args = ["--corpus-size", "999999"].map(OsStr::new);
    train_fails(&s, "corpus size", &args, &["999999", "larger than the corpus"]);
}

#[test]
fn train_refuses_a_batch_the_corpus_cannot_fill() {
    let s = Scratch::new("batch");
    let args = ["--batch-size", "500", "--time-size", "50"].map(OsStr::new);
    train_fails(&s, "big batch", &args, &["cannot fill", "500 x 50"]);
}

#[test]
fn score_names_a_word_outside_the_vocabulary() {
    let s = Scratch::new("oov");
    let run = s.path("run");
    train_demo(&s.root, &run, 1);
    let vocab = std::fs::read_to_string(run.join("vocab.txt")).unwrap();
    assert!(!vocab.lines().any(|w| w == "<unk>" || w == "zyzzyva"), "the demo vocabulary changed");
    let out = recur(
        &s.root,
        ["score".as_ref(), "--model".as_ref(), run.as_os_str(), "you say zyzzyva".as_ref()] as [&OsStr; 4],
    );
    failure("score with an unknown word", &out, &["`zyzzyva`", "not in the model's vocabulary"]);
}

#[test]
fn train_refuses_to_replace_a_trained_model_without_overwrite() {
    let s = Scratch::new("overwrite");
    let run = s.path("run");
    train_demo(&s.root, &run, 1);
    let files = ["model.safetensors", "config.json", "vocab.txt", "metrics.jsonl"];
    let before: Vec<Vec<u8>> = files.iter().map(|f| std::fs::read(run.join(f)).unwrap()).collect();

    // Different settings, so that any rewrite would show.
    let args: [&OsStr; 7] = [
        "train".as_ref(),
        "--out".as_ref(),
        run.as_os_str(),
        "--epochs".as_ref(),
        "1".as_ref(),
        "--hidden-size".as_ref(),
        "8".as_ref(),
    ];
    failure("train over a model", &recur(&s.root, args), &["model.safetensors", "--overwrite"]);
    for (file, old) in files.iter().zip(&before) {
        assert!(&std::fs::read(run.join(file)).unwrap() == old, "{file} changed");
    }

    // With --overwrite the model is replaced.
    let mut args = args.to_vec();
    args.push("--overwrite".as_ref());
    success("train --overwrite", &recur(&s.root, args));
    assert_eq!(read_json(&run.join("config.json"))["model"]["hidden_size"], 8);
    assert!(std::fs::read(run.join("model.safetensors")).unwrap() != before[0], "the model was not replaced");
}

#[test]
fn ptb_chapter_5_trains_and_evaluates_on_the_validation_split() {
    let Some(data) = common::shared_data("cli ptb", "ptb/ptb.train.txt") else { return };
    let ptb = data.join("ptb");
    let s = Scratch::new("ptb");
    let run = s.path("run");
    let args: [&OsStr; 11] = [
        "train".as_ref(),
        "--corpus".as_ref(),
        "ptb".as_ref(),
        "--data-dir".as_ref(),
        ptb.as_os_str(),
        "--corpus-size".as_ref(),
        "1000".as_ref(),
        "--epochs".as_ref(),
        "1".as_ref(),
        "--out".as_ref(),
        run.as_os_str(),
    ];
    let out = success("recur train --corpus ptb", &recur(&s.root, args));
    assert!(out.contains("(V 418,"), "the book's corpus[:1000] has 418 words:\n{out}");
    assert!(out.contains("on 1000 tokens"), "{out}");
    let config = read_json(&run.join("config.json"));
    assert_eq!(config["model"]["vocab_size"], 418, "{config}");
    assert_eq!(config["tokenizer"], "whitespace", "{config}");
    let vocab = std::fs::read_to_string(run.join("vocab.txt")).unwrap();
    assert!(vocab.lines().any(|w| w == "<unk>"), "the PTB prefix vocabulary has <unk>");

    // The validation split has words beyond those 418: they become <unk>.
    let args: [&OsStr; 7] = [
        "eval".as_ref(),
        "--model".as_ref(),
        run.as_os_str(),
        "--split".as_ref(),
        "valid".as_ref(),
        "--data-dir".as_ref(),
        ptb.as_os_str(),
    ];
    let out = success("recur eval --split valid", &recur(&s.root, args));
    last_perplexity(&out, "valid");
}
