//! Every `recur` command line quoted in README.md and docs/*.md, run (issue 16): a documented
//! command can never be refused again.
//!
//! - A command line in a fenced block (`recur ...`, `target/release/recur ...`, `$ recur ...`,
//!   `cargo run --release -- ...`, `\` continuations joined) runs for real, in the order of its
//!   document, in one scratch folder per document where `../shared/data` is `$RECUR_DATA` and
//!   the block's variable assignments (`D=...`) hold. Long runs are shrunk: one epoch (two for a
//!   `--resume` that adds epochs), hidden and embedding width 8, 2,000 PTB tokens (unvalidated:
//!   a cut PTB cannot be), 300 synthetic
//!   series, 600 addition examples. A run that a later line resumes without new epochs is the
//!   "interrupted" one of its recipe: it is stopped after its first batch (exit 130).
//! - An inline command (`` `recur ...` `` in prose or a table) with flags and no placeholder runs
//!   the same way; a bare subcommand name (`recur summary`) or one with placeholders (`RUN`, `FILE`, `a\|b`, `[...]`) is checked by clap: each
//!   alternative, placeholders filled, is given `--help` and must be accepted.
//!
//! `recur data fetch` downloads, so it is only checked by clap. A command that reads
//! `../shared/data` (or PTB from `$RECUR_DATA`) is skipped, and said so, without `RECUR_DATA`.

mod common;

use common::cli::*;
use std::path::{Path, PathBuf};
use std::process::Command;

/// One quoted command: where it stands and its text (continuations joined, comment dropped).
#[derive(Debug, Clone)]
struct Quoted {
    doc: String,
    line: usize,
    text: String,
    kind: Kind,
    /// The fenced block it stands in (0 for inline commands).
    block: usize,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    /// `` `recur ...` `` in prose or a table.
    Inline,
    /// A `recur` command line in a fenced block.
    Fenced,
    /// Other shell lines of an `sh` block (a loop that makes the files the next command reads).
    Shell,
}

fn docs() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut docs = vec![root.join("README.md")];
    let mut more: Vec<PathBuf> = std::fs::read_dir(root.join("docs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "md"))
        .collect();
    more.sort();
    docs.extend(more);
    docs
}

/// The text of a `recur` command line in a fenced block, without its prompt or binary path.
fn fenced_command(line: &str) -> Option<String> {
    let line = line.trim_start().trim_start_matches("$ ");
    for prefix in ["recur ", "target/release/recur ", "./target/release/recur ", "cargo run --release -- "] {
        if let Some(rest) = line.strip_prefix(prefix) {
            return Some(format!("recur {rest}"));
        }
    }
    None
}

/// The line without a trailing `# comment` (a `#` outside quotes after white space).
fn without_comment(line: &str) -> &str {
    let mut quote = None;
    let bytes = line.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        match (quote, b) {
            (None, b'"' | b'\'') => quote = Some(b),
            (Some(q), _) if b == q => quote = None,
            (None, b'#') if i > 0 && bytes[i - 1] == b' ' => return line[..i].trim_end(),
            _ => {}
        }
    }
    line.trim_end()
}

/// Every command `doc` quotes, and the variable assignments of its fenced blocks.
fn quoted(doc: &Path) -> (Vec<Quoted>, Vec<String>) {
    let name = doc.file_name().unwrap().to_string_lossy().into_owned();
    let text = std::fs::read_to_string(doc).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let (mut commands, mut assignments) = (Vec::new(), Vec::new());
    let (mut fenced, mut shell_block, mut block) = (false, false, 0);
    let mut chunk: Option<Quoted> = None;
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        let number = i + 1;
        let trimmed = line.trim();
        if trimmed.starts_with("```") {
            fenced = !fenced;
            if fenced {
                block += 1;
                shell_block = matches!(trimmed, "```sh" | "```bash" | "```shell");
            }
            commands.extend(chunk.take());
        } else if fenced {
            if let Some(mut command) = fenced_command(line) {
                while command.trim_end().ends_with('\\') && i + 1 < lines.len() {
                    i += 1;
                    command = format!("{} {}", command.trim_end().trim_end_matches('\\'), lines[i].trim());
                }
                let text = without_comment(&command).to_string();
                commands.extend(chunk.take());
                commands.push(Quoted { doc: name.clone(), line: number, text, kind: Kind::Fenced, block });
            } else if is_assignment(line) {
                assignments.push(trimmed.to_string());
            } else if shell_block && (chunk.is_some() || makes_files(trimmed)) {
                let c = chunk.get_or_insert_with(|| Quoted {
                    doc: name.clone(),
                    line: number,
                    text: String::new(),
                    kind: Kind::Shell,
                    block,
                });
                c.text.push_str(line);
                c.text.push('\n');
                // A loop goes on to its `done`; any other such line is whole by itself.
                let done = trimmed == "done" || trimmed.ends_with("; done") || trimmed.ends_with(" done");
                if !c.text.starts_with("for ") || done {
                    commands.extend(chunk.take());
                }
            }
        } else {
            for (k, part) in line.split('`').enumerate() {
                if k % 2 == 1 && (part.starts_with("recur ") || part == "recur") {
                    commands.push(Quoted {
                        doc: name.clone(),
                        line: number,
                        text: part.to_string(),
                        kind: Kind::Inline,
                        block: 0,
                    });
                }
            }
        }
        i += 1;
    }
    (commands, assignments)
}

/// Whether a shell line of a block starts what makes the files its next commands read (a loop,
/// `cut`, `cat`, ...); other programs (`cargo`, `python3`) are not run.
fn makes_files(line: &str) -> bool {
    let first = line.split_whitespace().next().unwrap_or("");
    ["for", "cut", "head", "tail", "cat", "printf", "echo", "mkdir", "cp"].contains(&first)
}

fn is_assignment(line: &str) -> bool {
    let line = line.trim();
    match line.split_once('=') {
        Some((var, value)) => {
            !var.is_empty() && var.chars().all(|c| c.is_ascii_uppercase() || c == '_') && !value.contains(' ')
        }
        None => false,
    }
}

/// Splits a command into words the way `sh` would, each word keeping its quotes.
fn words(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut quote = None;
    for c in text.chars() {
        match (quote, c) {
            (None, ' ') => {
                if !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                }
                continue;
            }
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), _) if c == q => quote = None,
            _ => {}
        }
        word.push(c);
    }
    if !word.is_empty() {
        words.push(word);
    }
    words
}

/// A placeholder word of the documentation's synopses: `RUN`, `FILE`, `N`, `<command>`, ...
fn is_placeholder(word: &str) -> bool {
    word == "..."
        || word.contains('|')
        || word.starts_with('[')
        || word.ends_with(']')
        || word.starts_with('<') && word.ends_with('>')
        || word.len() <= 5 && word.chars().all(|c| c.is_ascii_uppercase())
}

fn flag_value<'a>(words: &'a [String], flag: &str) -> Option<&'a str> {
    words.iter().position(|w| w == flag).and_then(|i| words.get(i + 1)).map(String::as_str)
}

fn has(words: &[String], flags: &[&str]) -> bool {
    words.iter().any(|w| flags.contains(&w.as_str()))
}

/// Sets the value of the flag (any of its `names`), adding it when absent.
fn set(w: &mut Vec<String>, names: &[&str], value: &str) {
    match w.iter().position(|x| names.contains(&x.as_str())) {
        Some(i) => w[i + 1] = value.into(),
        None => w.extend([names[0].into(), value.into()]),
    }
}

/// The command with its long settings shrunk (see the module's comment).
fn shrink(text: &str) -> String {
    let mut w = words(text);
    let task: Vec<&str> = w.iter().skip(1).take(2).map(String::as_str).collect();
    let training = match task.as_slice() {
        ["train", ..] => Some("lm"),
        ["classify", "train"] => Some("classify"),
        ["forecast", "train"] => Some("forecast"),
        ["seq2seq", "train"] => Some("seq2seq"),
        _ => None,
    };
    let Some(task) = training else {
        return text.to_string();
    };
    if has(&w, &["--help"]) {
        return text.to_string();
    }
    let resume = has(&w, &["--resume"]);
    let epochs = if resume { "2" } else { "1" };
    match w.iter().position(|x| x == "--epochs") {
        Some(i) => w[i + 1] = epochs.into(),
        None if !resume => w.extend(["--epochs".into(), epochs.into()]),
        None => {}
    }
    if !resume {
        // With --init-from the sizes are those of the weights it names.
        if !has(&w, &["--init-from"]) {
            set(&mut w, &["--hidden-size"], "8");
            if task != "forecast" {
                set(&mut w, &["--embed-size", "--wordvec-size"], "8");
            }
        }
        let ptb = has(&w, &["--preset", "--data-dir"]) || flag_value(&w, "--corpus") == Some("ptb");
        if task == "lm" && ptb && !has(&w, &["--corpus-size"]) {
            // A cut PTB has no validation (its splits need the whole training vocabulary).
            w.extend(["--corpus-size".into(), "2000".into()]);
            // A batch of the cut corpus: at most 10 x 35 (the character recipe's 32 x 100
            // needs 3,201 tokens).
            cap(&mut w, "--batch-size", 10);
            cap(&mut w, "--time-size", 35);
            if !has(&w, &["--validate"]) {
                w.extend(["--validate".into(), "false".into()]);
            }
        }
        if task == "forecast" && has(&w, &["--synthetic"]) && !has(&w, &["--series"]) {
            w.extend(["--series".into(), "300".into()]);
        }
        if task == "seq2seq" && has(&w, &["--addition"]) && !has(&w, &["--examples"]) {
            w.extend(["--examples".into(), "600".into()]);
        }
    }
    w.join(" ")
}

/// Lowers `flag`'s value to `max` when it is given larger.
fn cap(w: &mut [String], flag: &str, max: usize) {
    if let Some(i) = w.iter().position(|x| x == flag) {
        if w[i + 1].parse::<usize>().is_ok_and(|v| v > max) {
            w[i + 1] = max.to_string();
        }
    }
}

/// The variants of a synopsis with placeholders, each filled in and ending with `--help`.
fn synopsis_variants(text: &str) -> Vec<String> {
    let mut variants: Vec<Vec<String>> = vec![Vec::new()];
    // A table writes `a\|b` (its cells are split at `|`), prose `a|b`.
    let ws = words(&text.replace("\\|", "|"));
    let mut i = 0;
    while i < ws.len() {
        let word = ws[i].as_str();
        if word.starts_with('[') {
            // An optional group `[a \| b]`: one variant per alternative (and none left out).
            let mut group = vec![word.trim_start_matches('[').to_string()];
            while !group.last().unwrap().ends_with(']') && i + 1 < ws.len() {
                i += 1;
                group.push(ws[i].clone());
            }
            let last = group.pop().unwrap();
            group.push(last.trim_end_matches(']').to_string());
            let alternatives: Vec<Vec<String>> = group
                .split(|w| w == "|")
                .map(|a| a.iter().filter(|w| !w.is_empty()).cloned().collect())
                .collect();
            variants = variants
                .iter()
                .flat_map(|v| alternatives.iter().map(move |a| [v.clone(), a.clone()].concat()))
                .collect();
        } else if word.contains('|') {
            let alternatives: Vec<String> = word.split('|').map(String::from).collect();
            variants = variants
                .iter()
                .flat_map(|v| alternatives.iter().map(move |a| [v.clone(), vec![a.clone()]].concat()))
                .collect();
        } else if word != "..." {
            for v in &mut variants {
                v.push(word.to_string());
            }
        }
        i += 1;
    }
    variants
        .into_iter()
        .map(|v| {
            let filled: Vec<String> = v
                .iter()
                .enumerate()
                .map(|(k, w)| {
                    let before = if k > 0 { v[k - 1].as_str() } else { "" };
                    fill(before, w)
                })
                .collect();
            format!("{} --help", filled.join(" "))
        })
        .collect()
}

/// A value for the placeholder `word` after `before`, one clap accepts where a value is checked.
fn fill(before: &str, word: &str) -> String {
    if !is_placeholder(word) {
        return word.to_string();
    }
    match (before, word) {
        ("--preset", _) => "book-ch6",
        ("bench", _) => "ch05",
        (_, "N" | "S" | "K") => "1",
        (_, "<command>") => "train",
        _ => "x",
    }
    .to_string()
}

/// A scratch folder laid out as a user's checkout: `work/` (the current folder, with
/// `target/release/recur`), `bin/recur` on the PATH, and `shared/data` -> `$RECUR_DATA`.
struct Workspace {
    scratch: Scratch,
    data: Option<PathBuf>,
}

impl Workspace {
    fn new(doc: &str) -> Self {
        let scratch = Scratch::new(&format!("doc-{doc}"));
        let binary = Path::new(env!("CARGO_BIN_EXE_recur"));
        std::fs::create_dir_all(scratch.path("work/target/release")).unwrap();
        std::fs::create_dir_all(scratch.path("bin")).unwrap();
        std::os::unix::fs::symlink(binary, scratch.path("work/target/release/recur")).unwrap();
        std::os::unix::fs::symlink(binary, scratch.path("bin/recur")).unwrap();
        let data = std::env::var_os("RECUR_DATA").map(PathBuf::from).filter(|d| d.is_dir());
        if let Some(data) = &data {
            std::fs::create_dir_all(scratch.path("shared")).unwrap();
            std::os::unix::fs::symlink(std::fs::canonicalize(data).unwrap(), scratch.path("shared/data"))
                .unwrap();
        }
        // The files the README's own-text example names.
        let work = scratch.path("work");
        std::fs::write(work.join("my.txt"), sentences(1, 300)).unwrap();
        std::fs::write(work.join("test.txt"), sentences(2, 40)).unwrap();
        std::fs::write(work.join("new.txt"), sentences(3, 40) + "a zorbleflax sentence\n").unwrap();
        std::fs::write(work.join("sentences.txt"), "the film was good\nthe film was bad\n").unwrap();
        // The user's own sums that docs/seq2seq.md evaluates.
        std::fs::write(work.join("my-sums.tsv"), "16+75\t91\n52+607\t659\n1+1\t2\n").unwrap();
        Workspace { scratch, data }
    }

    /// Runs `text` with `sh` from `work/`; `stop_after_one_batch` interrupts a training run.
    fn run(&self, prelude: &[String], text: &str, stop_after_one_batch: bool) -> std::process::Output {
        let script = format!("{}\n{text}", prelude.join("\n"));
        let path =
            format!("{}:{}", self.scratch.path("bin").display(), std::env::var("PATH").unwrap_or_default());
        let mut command = Command::new("sh");
        command.args(["-c", &script]).current_dir(self.scratch.path("work")).env("PATH", path);
        if stop_after_one_batch {
            command.env("RECUR_STOP_AFTER_BATCHES", "1");
        }
        command.output().unwrap()
    }
}

/// `n` short sentences of a small fixed vocabulary, different for each `seed`.
fn sentences(seed: u64, n: usize) -> String {
    const WORDS: [&str; 16] = [
        "the", "film", "was", "good", "bad", "a", "story", "actor", "played", "well", "and", "i", "liked",
        "it", "not", "plot",
    ];
    let mut state = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    let mut out = String::new();
    for _ in 0..n {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        let len = 3 + (state >> 60) as usize % 6;
        for k in 0..len {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            out.push_str(WORDS[(state >> 59) as usize % WORDS.len()]);
            out.push(if k + 1 == len { '\n' } else { ' ' });
        }
    }
    out
}

/// Whether `text` reads `../shared/data` (itself or through a variable of `prelude`), or PTB from
/// `$RECUR_DATA` (a preset or `--corpus ptb`).
fn needs_data(text: &str, prelude: &[String]) -> bool {
    let through_variable = prelude.iter().any(|assignment| {
        let (var, value) = assignment.split_once('=').unwrap();
        value.contains("shared/data") && text.contains(&format!("${var}"))
    });
    let w = words(text);
    let ptb = w.get(1).is_some_and(|c| c == "train")
        && (flag_value(&w, "--preset").is_some_and(|p| p != "book-ch5")
            || flag_value(&w, "--corpus") == Some("ptb"));
    text.contains("shared/data") || through_variable || ptb
}

/// The folder a training command writes (`--out`), if it names one.
fn out_dir(text: &str) -> Option<String> {
    flag_value(&words(text), "--out").map(String::from)
}

#[test]
fn every_documented_command_runs() {
    let mut ran = 0;
    let mut checked = 0;
    let mut skipped = Vec::new();
    for doc in docs() {
        let (commands, prelude) = quoted(&doc);
        if commands.is_empty() {
            continue;
        }
        let doc_name = doc.file_name().unwrap().to_string_lossy().into_owned();
        let workspace = Workspace::new(&doc_name);
        let mut missing_runs = std::collections::HashSet::new();
        let mut skipped_block = None;
        for (k, q) in commands.iter().enumerate() {
            let placeholders = words(&q.text).iter().any(|w| is_placeholder(w));
            // `data fetch` downloads: CI has no network beyond the package registries.
            let network = q.text.starts_with("recur data fetch");
            let flagless = !q.text.contains(" --");
            if network || q.kind == Kind::Inline && (placeholders || flagless) {
                for variant in synopsis_variants(&q.text) {
                    let out = workspace.run(&[], &variant, false);
                    assert!(
                        out.status.success(),
                        "{}:{}: `{}` is refused by the command line (checked as `{variant}`):\n{}",
                        q.doc,
                        q.line,
                        q.text,
                        stderr(&out)
                    );
                    checked += 1;
                }
                continue;
            }
            // A command on a run that a skipped command would have written is skipped too, and so
            // is the rest of a block once a line of it was (it builds on that line).
            let on_missing_run = words(&q.text).iter().any(|w| missing_runs.contains(w));
            let after_skipped = q.block > 0 && skipped_block == Some(q.block);
            if on_missing_run || after_skipped || needs_data(&q.text, &prelude) && workspace.data.is_none() {
                skipped.push(format!("{}:{}", q.doc, q.line));
                missing_runs.extend(out_dir(&q.text));
                if q.block > 0 {
                    skipped_block = Some(q.block);
                }
                continue;
            }
            if q.kind == Kind::Shell {
                let out = workspace.run(&prelude, &q.text, false);
                assert!(
                    out.status.success(),
                    "{}:{}: the shell lines failed:\n{}{}",
                    q.doc,
                    q.line,
                    q.text,
                    stderr(&out)
                );
                continue;
            }
            // A run resumed later without new epochs is its recipe's interrupted run.
            let interrupted = out_dir(&q.text).is_some_and(|out| {
                commands[k + 1..].iter().any(|later| {
                    let w = words(&later.text);
                    flag_value(&w, "--resume") == Some(out.as_str()) && !has(&w, &["--epochs"])
                })
            });
            let ws = words(&q.text);
            let filled: Vec<String> =
                ws.iter().enumerate().map(|(i, w)| fill(if i > 0 { &ws[i - 1] } else { "" }, w)).collect();
            let text = shrink(&filled.join(" "));
            let clock = std::time::Instant::now();
            let out = workspace.run(&prelude, &text, interrupted);
            eprintln!("{}:{}: {:.1} s: {text}", q.doc, q.line, clock.elapsed().as_secs_f64());
            let expected = if interrupted { 130 } else { 0 };
            assert_eq!(
                out.status.code(),
                Some(expected),
                "{}:{}: `{}` (run as `{text}`) exited {:?}, expected {expected}:\n--- stdout\n{}--- stderr\n{}",
                q.doc,
                q.line,
                q.text,
                out.status.code(),
                stdout(&out),
                stderr(&out)
            );
            ran += 1;
        }
    }
    if !skipped.is_empty() {
        eprintln!(
            "skipped {} documented commands that read ../shared/data (set RECUR_DATA to run them): {}",
            skipped.len(),
            skipped.join(", ")
        );
    }
    eprintln!("ran {ran} documented commands, checked {checked} synopses");
    assert!(ran >= 10 && checked >= 20, "too few commands found: ran {ran}, checked {checked}");
}

#[test]
fn synopses_expand_to_each_alternative() {
    assert_eq!(
        synopsis_variants("recur seq2seq train\\|eval"),
        ["recur seq2seq train --help", "recur seq2seq eval --help"]
    );
    assert_eq!(
        synopsis_variants("recur train --text FILE [--valid FILE \\| --valid-share 0.1]"),
        ["recur train --text x --valid x --help", "recur train --text x --valid-share 0.1 --help"]
    );
    assert_eq!(synopsis_variants("recur train --preset NAME"), ["recur train --preset book-ch6 --help"]);
    assert_eq!(
        synopsis_variants("recur seq2seq predict|eval --beam K"),
        ["recur seq2seq predict --beam 1 --help", "recur seq2seq eval --beam 1 --help"]
    );
    assert_eq!(
        shrink("recur train --preset book-ch6 --data-dir d --epochs 40"),
        "recur train --preset book-ch6 --data-dir d --epochs 1 --hidden-size 8 --embed-size 8 --corpus-size 2000 \
         --validate false"
    );
    assert_eq!(
        shrink("recur forecast train --resume runs/air --epochs 300"),
        "recur forecast train --resume runs/air --epochs 2"
    );
    assert_eq!(without_comment("recur eval --model r   # a \"comment\""), "recur eval --model r");
}
