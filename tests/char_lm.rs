//! Character-level language models (issue 17): `recur train --tokenizer char` on any corpus,
//! and `eval`, `score`, `generate` reading the tokenizer from the run.

mod common;

use common::cli::*;

const SMALL: [&str; 10] =
    ["--cell", "lstm", "--hidden-size", "24", "--embed-size", "12", "--lr", "1", "--epochs", "4"];

fn number_after(text: &str, key: &str) -> f64 {
    let at = text.find(key).unwrap_or_else(|| panic!("no {key:?} in {text}")) + key.len();
    let rest = text[at..].trim_start();
    let end = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(rest.len());
    rest[..end].parse().unwrap_or_else(|e| panic!("{key:?} in {text}: {e}"))
}

/// A character model trains on a text, keeps every character (case, punctuation, spaces), says
/// bits per character in `eval`, reads unseen characters as `<unk>`, and writes characters.
#[test]
fn a_character_model_reads_and_writes_characters() {
    let s = Scratch::new("char-lm");
    let text = s.file("chars.txt", "Hello world, said the Cat.\nthe cat sat on the mat!\n".repeat(30));
    let dir = s.path("run");
    let mut args =
        vec!["train", "--text", text.to_str().unwrap(), "--tokenizer", "char", "--valid-share", "0.1"];
    args.extend(SMALL);
    args.extend(["--out", dir.to_str().unwrap()]);
    success("train --tokenizer char", &recur(&s, &args));

    let config = read_json(&dir.join("config.json"));
    assert_eq!(config["tokenizer"], "char", "{config}");
    let vocab = std::fs::read_to_string(dir.join("vocab.txt")).unwrap();
    let tokens: Vec<&str> = vocab.lines().collect();
    for t in ["<unk>", "<eos>", "<sp>", "H", "C", ",", "!", "."] {
        assert!(tokens.contains(&t), "{t} missing from {tokens:?}");
    }
    // Every distinct character of the text, `<unk>` and `<eos>` (the line break is `<eos>`).
    let mut chars: Vec<char> =
        std::fs::read_to_string(&text).unwrap().chars().filter(|&c| c != '\n').collect();
    chars.sort_unstable();
    chars.dedup();
    assert_eq!(tokens.len(), chars.len() + 2, "{tokens:?}");

    let unseen = s.file("new.txt", "the zoq sat on the mat!\n".repeat(20));
    let model = dir.to_str().unwrap();
    let out = success("eval", &recur(&s, ["eval", "--model", model, "--text", unseen.to_str().unwrap()]));
    let ppl = number_after(&out, "text perplexity:");
    let bpc = number_after(&out, &format!("text perplexity: {ppl:.3},"));
    assert!((bpc - ppl.log2()).abs() < 1e-3, "{out}");
    // `z` and `q` were never seen: 2 characters a line.
    assert!(out.contains("40 of "), "{out}");

    let out = success("score", &recur(&s, ["score", "--model", model, "the cat", "thq cat"]));
    assert!(out.contains("1 character(s) not in the model's vocabulary"), "{out}");
    assert!(out.contains("(7 characters)  the cat"), "{out}");
    let first = out.lines().find(|l| l.starts_with("log P")).unwrap();
    assert!(first.ends_with("the cat"), "the likelier text comes first: {out}");

    let out = success(
        "generate",
        &recur(&s, ["generate", "--model", model, "--start", "the c", "--words", "200", "--seed", "3"]),
    );
    assert!(out.starts_with("the c"), "{out}");
    let generated: String = out.chars().skip(5).collect();
    // 200 characters (line breaks included) and println's line break: nothing added between them.
    assert_eq!(generated.chars().count(), 201, "{out:?}");
    assert!(generated.chars().all(|c| c == '\n' || chars.contains(&c)), "{out}");
    assert!(generated.contains(' '), "spaces come back as spaces: {out}");

    let resumed = ["train", "--resume", model, "--tokenizer", "word"];
    failure("--resume --tokenizer", &recur(&s, resumed), &["--tokenizer"]);
}

/// PTB read as characters: its three files, validation and test included, even on a cut corpus
/// (characters outside the cut are `<unk>`).
#[test]
fn ptb_reads_as_characters() {
    let Some(data) = std::env::var_os("RECUR_DATA") else {
        eprintln!("skipped: set RECUR_DATA to the shared data folder (needs ptb/)");
        return;
    };
    let ptb = std::path::Path::new(&data).join("ptb");
    if !ptb.join("ptb.train.txt").exists() {
        eprintln!("skipped: {} has no ptb.train.txt", ptb.display());
        return;
    }
    let s = Scratch::new("char-ptb");
    let dir = s.path("run");
    let args = [
        "train",
        "--corpus",
        "ptb",
        "--data-dir",
        ptb.to_str().unwrap(),
        "--tokenizer",
        "char",
        "--corpus-size",
        "20000",
        "--validate",
        "--hidden-size",
        "8",
        "--embed-size",
        "8",
        "--epochs",
        "1",
        "--out",
        dir.to_str().unwrap(),
    ];
    let out = success("train --corpus ptb --tokenizer char", &recur(&s, args));
    assert!(out.contains("test perplexity"), "{out}");
    let config = read_json(&dir.join("config.json"));
    assert_eq!(config["tokenizer"], "char");
    let vocab = config["model"]["vocab_size"].as_u64().unwrap();
    assert!((30..=60).contains(&vocab), "PTB has about 50 characters: {vocab}");
    let out = success(
        "eval --split test",
        &recur(
            &s,
            [
                "eval",
                "--model",
                dir.to_str().unwrap(),
                "--split",
                "test",
                "--data-dir",
                ptb.to_str().unwrap(),
            ],
        ),
    );
    assert!(out.contains("bits per character"), "{out}");
}
