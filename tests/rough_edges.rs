//! What a new user hits first (issue 16), each answered as a user expects: one regression
//! test per item.

mod common;

use common::cli::*;
use std::process::{Command, Stdio};

const SMALL: [&str; 6] = ["--hidden-size", "8", "--embed-size", "8", "--epochs", "1"];

#[test]
fn text_alone_trains_on_that_text() {
    let s = Scratch::new("text-alone");
    let text = s.file("my.txt", "the cat sat on the mat\nthe dog ran in the park\n".repeat(20));
    let dir = s.path("run");
    let mut args = vec!["train", "--text", text.to_str().unwrap(), "--out", dir.to_str().unwrap()];
    args.extend(SMALL);
    success("train --text", &recur(&s, &args));
    let config = read_json(&dir.join("config.json"));
    assert_eq!(config["train"]["corpus"].as_str().unwrap(), format!("text:{}", text.display()));
    // Nine words, <eos> and <unk>.
    assert_eq!(config["model"]["vocab_size"].as_u64(), Some(11), "{config}");

    let mut clash = vec!["train", "--corpus", "demo", "--text", text.to_str().unwrap()];
    clash.extend(SMALL);
    failure("--corpus demo --text", &recur(&s, &clash), &["--text", "--corpus demo"]);
}

#[test]
fn the_readme_preset_names_are_accepted() {
    let s = Scratch::new("preset-name");
    for name in ["pytorch-650-tied", "pytorch650-tied", "book-ch6", "zaremba-small"] {
        // A missing PTB folder is the expected refusal: the preset name itself was accepted.
        let out = recur(&s, ["train", "--preset", name, "--data-dir", s.path("no-ptb").to_str().unwrap()]);
        let err = stderr(&out);
        assert!(!err.contains("invalid value"), "{name}: {err}");
        assert_eq!(out.status.code(), Some(2), "{name}: {err}");
    }
}

#[test]
fn a_closed_pipe_ends_quietly() {
    let s = Scratch::new("pipe");
    let mut child = Command::new(env!("CARGO_BIN_EXE_recur"))
        .args(["train", "--epochs", "50", "--out", s.path("run").to_str().unwrap()])
        .args(&SMALL[..4])
        .current_dir(&s.root)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Read the first line, then close the pipe: the next line recur prints meets a broken pipe.
    let mut first = [0u8; 1];
    std::io::Read::read_exact(child.stdout.as_mut().unwrap(), &mut first).unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let err = stderr(&out);
    assert!(!err.contains("panicked") && !err.contains("Broken pipe"), "{err}");
    use std::os::unix::process::ExitStatusExt;
    assert!(
        out.status.code() == Some(0) || out.status.signal() == Some(13),
        "expected exit 0 or SIGPIPE, got {:?}",
        out.status
    );
}

#[test]
fn sizes_beyond_the_memory_are_one_line_and_leave_nothing() {
    let s = Scratch::new("too-big");
    let dir = s.path("run");
    let out = recur(&s, ["train", "--hidden-size", "100000", "--out", dir.to_str().unwrap()]);
    failure("huge hidden size", &out, &["needs about", "of memory", "choose smaller sizes"]);
    assert!(!dir.exists(), "a refused run left {}", dir.display());
}

#[test]
fn a_run_that_diverges_before_its_first_checkpoint_leaves_nothing() {
    let s = Scratch::new("diverged-empty");
    let dir = s.path("run");
    let out =
        recur(&s, ["train", "--lr", "1e9", "--clip", "0", "--epochs", "2", "--out", dir.to_str().unwrap()]);
    failure("diverged", &out, &["epoch 1", "no checkpoint yet"]);
    assert!(!dir.exists(), "the diverged run left {}", dir.display());
    // A folder of the user's keeps the user's files.
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("notes.txt"), "mine").unwrap();
    let out =
        recur(&s, ["train", "--lr", "1e9", "--clip", "0", "--epochs", "2", "--out", dir.to_str().unwrap()]);
    failure("diverged into a user's folder", &out, &["no checkpoint yet"]);
    let left: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(left, ["notes.txt"]);
}

#[test]
fn default_run_folders_are_named_by_task() {
    let s = Scratch::new("default-out");
    success("train", &recur(&s, ["train", "--hidden-size", "8", "--embed-size", "8", "--epochs", "1"]));
    assert!(s.path("runs/lm-001/model.safetensors").exists());
    success("again", &recur(&s, ["train", "--hidden-size", "8", "--embed-size", "8", "--epochs", "1"]));
    assert!(s.path("runs/lm-002/model.safetensors").exists());
    assert_eq!(read_json(&s.path("runs/lm-001/config.json"))["task"], "lm");
}

#[test]
fn more_folds_than_texts_is_refused_before_training() {
    let s = Scratch::new("folds");
    let texts: String = (0..12).map(|i| format!("{} film\t{}\n", ["good", "bad"][i % 2], i % 2)).collect();
    let data = s.file("t.tsv", texts);
    let dir = s.path("run");
    let out = recur(
        &s,
        [
            "classify",
            "train",
            "--data",
            data.to_str().unwrap(),
            "--folds",
            "100",
            "--out",
            dir.to_str().unwrap(),
        ],
    );
    failure("--folds 100", &out, &["12 texts", "--folds 100"]);
    assert!(!dir.exists());
}

#[test]
fn seq2seq_predict_decodes_new_inputs() {
    let s = Scratch::new("s2s-predict");
    let dir = s.path("run");
    let d = dir.to_str().unwrap();
    let train = [
        "seq2seq",
        "train",
        "--addition",
        "--examples",
        "200",
        "--hidden-size",
        "8",
        "--epochs",
        "1",
        "--out",
        d,
    ];
    success("train", &recur(&s, train));
    let file = s.file("inputs.txt", "1+2\t3\n\n40+2\n");
    let out = success(
        "predict",
        &recur(&s, ["seq2seq", "predict", "--model", d, "12+34", "--file", file.to_str().unwrap()]),
    );
    let inputs: Vec<&str> = out.lines().map(|l| l.split('\t').next().unwrap()).collect();
    assert_eq!(inputs, ["12+34", "1+2", "40+2"], "{out}");
    failure(
        "unknown character",
        &recur(&s, ["seq2seq", "predict", "--model", d, "12*34"]),
        &["input 1", "'*'"],
    );
    failure("nothing", &recur(&s, ["seq2seq", "predict", "--model", d]), &["nothing to decode"]);
}

/// `--lr-factor` is a multiplier for both rules, as Keras' `factor` and PyTorch's `gamma`: 0.5
/// halves the rate after an epoch that did not improve; a factor above 1 is refused in one line.
#[test]
fn the_lr_factor_is_a_multiplier_for_every_rule() {
    let s = Scratch::new("lr-factor");
    let text = s.file("my.txt", "the cat sat on the mat\nthe dog ran in the park\n".repeat(20));
    let dir = s.path("run");
    let mut args = vec![
        "train",
        "--text",
        text.to_str().unwrap(),
        "--valid-share",
        "0.2",
        "--lr",
        "20",
        "--lr-schedule",
        "plateau",
        "--lr-factor",
        "0.5",
        "--out",
        dir.to_str().unwrap(),
    ];
    args.extend(&SMALL[..4]);
    args.extend(["--epochs", "6"]);
    success("plateau 0.5", &recur(&s, &args));
    let lines = std::fs::read_to_string(dir.join("metrics.jsonl")).unwrap();
    let epochs: Vec<serde_json::Value> = lines.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let mut best = f64::INFINITY;
    let mut expected = 20.0;
    for e in &epochs {
        assert_eq!(e["lr"].as_f64(), Some(expected), "{lines}");
        let valid = e["valid_ppl"].as_f64().unwrap();
        if valid < best {
            best = valid;
        } else {
            expected *= 0.5;
        }
    }
    assert!(expected < 20.0, "the test needs an epoch without improvement: {lines}");

    let mut above_one = args.clone();
    let at = above_one.iter().position(|a| *a == "0.5").unwrap();
    above_one[at] = "4";
    let out = dir.with_file_name("run4");
    let at = above_one.iter().position(|a| *a == dir.to_str().unwrap()).unwrap();
    above_one[at] = out.to_str().unwrap();
    failure("--lr-factor 4", &recur(&s, &above_one), &["--lr-factor", "at most 1", "0.25"]);
    assert!(!out.exists());
}

/// `--corpus-size` cuts the training text before the held-out lines are read: the words only the
/// cut-off part had are `<unk>` there, not ids past the vocabulary.
#[test]
fn a_cut_text_corpus_reads_its_held_out_lines_with_the_cut_vocabulary() {
    let s = Scratch::new("cut-text");
    let text = "the cat sat on the mat\n".repeat(30) + &"a dog ran in a park\n".repeat(30);
    let text = s.file("my.txt", text);
    let dir = s.path("run");
    let mut args = vec![
        "train",
        "--text",
        text.to_str().unwrap(),
        "--valid-share",
        "0.1",
        "--corpus-size",
        "120",
        "--out",
        dir.to_str().unwrap(),
    ];
    args.extend(SMALL);
    let out = success("--corpus-size with --valid-share", &recur(&s, &args));
    assert!(out.contains("the validation lines: 36 of 42 tokens"), "{out}");
    // <unk>, <eos> and the five words of the kept part.
    assert_eq!(read_json(&dir.join("config.json"))["model"]["vocab_size"].as_u64(), Some(7));
}

/// A forecast with no series names both sources; an empty `--file` for `classify predict` names
/// the file.
#[test]
fn missing_inputs_name_what_to_give() {
    let s = Scratch::new("missing-inputs");
    failure("forecast train", &recur(&s, ["forecast", "train"]), &["--csv FILE", "--synthetic"]);
    assert!(!s.path("runs").exists(), "a refused run leaves no folder");

    let data = s.file("reviews.tsv", "a fine film\t1\na bad film\t0\n".repeat(20));
    let dir = s.path("run");
    let train = [
        "classify",
        "train",
        "--data",
        data.to_str().unwrap(),
        "--epochs",
        "1",
        "--out",
        dir.to_str().unwrap(),
    ];
    success("classify train", &recur(&s, train));
    let empty = s.file("empty.txt", "\n\n");
    let predict =
        ["classify", "predict", "--model", dir.to_str().unwrap(), "--file", empty.to_str().unwrap()];
    failure("classify predict --file empty.txt", &recur(&s, predict), &["empty.txt", "one"]);
}

/// `label<TAB>text` lines (the columns swapped) are refused in one line that says so.
#[test]
fn swapped_columns_are_named() {
    let s = Scratch::new("swapped");
    let data = s.file(
        "swapped.tsv",
        (0..60).map(|i| format!("{}\treview number {i} was fine\n", i % 2)).collect::<String>(),
    );
    let out = s.path("run");
    let args = ["classify", "train", "--data", data.to_str().unwrap(), "--out", out.to_str().unwrap()];
    failure("swapped columns", &recur(&s, args), &["swapped.tsv", "columns swapped", "text<TAB>label"]);
}

/// `--help` says each preset-dependent default and has text for every flag; no rustdoc links.
#[test]
fn help_gives_defaults_and_text_for_every_flag() {
    let s = Scratch::new("help");
    let train = success("train --help", &recur(&s, ["train", "--help"]));
    for flag in ["--cell", "--layers", "--hidden-size", "--dropout", "--lr", "--epochs", "--batch-size"] {
        let at = train.find(&format!("      {flag} ")).unwrap_or_else(|| panic!("{flag} missing"));
        let entry = &train[at..at + train[at..].find("\n\n").unwrap_or(train.len() - at)];
        assert!(entry.contains("[default: the preset's"), "{flag}: {entry}");
    }
    assert!(!train.contains("[`"), "a rustdoc link in --help");
    for (command, flags) in [
        (vec!["generate", "--help"], vec!["--seed", "--beam", "--temperature"]),
        (vec!["forecast", "train", "--help"], vec!["--epochs", "--batch-size", "--optimizer"]),
    ] {
        let help = success("--help", &recur(&s, &command));
        for flag in flags {
            let line = help.lines().find(|l| l.trim_start().starts_with(flag)).unwrap();
            let described = line.trim_start().len() > flag.len() + 20
                || help
                    .lines()
                    .skip_while(|l| *l != line)
                    .nth(1)
                    .is_some_and(|n| n.starts_with("          "));
            assert!(described, "{command:?}: {flag} has no text: {line}");
        }
    }
}

/// The progress bar (drawn only on a terminal: run under `script`'s pseudo-terminal) counts
/// batches per second with one decimal and never shows an epoch 0.
#[test]
fn the_progress_bar_reads_well() {
    if std::process::Command::new("script").arg("--version").output().is_err() {
        eprintln!("skipped: `script` (util-linux) is not installed; the progress bar needs a terminal");
        return;
    }
    let s = Scratch::new("bar");
    let command = format!(
        "{} train --epochs 2 --hidden-size 8 --embed-size 8 --out {}",
        env!("CARGO_BIN_EXE_recur"),
        s.path("run").display()
    );
    let out =
        Command::new("script").args(["-qfc", &command, "/dev/null"]).current_dir(&s.root).output().unwrap();
    let screen = String::from_utf8_lossy(&out.stdout).replace('\r', "\n");
    let frames: Vec<&str> = screen.lines().filter(|l| l.contains(" batches  epoch ")).collect();
    assert!(!frames.is_empty(), "no progress bar drawn:\n{screen}");
    for frame in frames {
        assert!(!frame.contains("epoch 0/"), "{frame}");
        let rate = frame.split("batches/s").next().unwrap().rsplit(' ').nth(1).unwrap();
        let decimals = rate.split('.').nth(1).map_or(0, str::len);
        assert_eq!(decimals, 1, "{frame}");
    }
}
