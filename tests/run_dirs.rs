//! One run directory for every task: `config.json` names the task, `recur summary` reads a run
//! of any task, and a command given another task's run answers with one line naming that task
//! and the commands that read it (exit 2).

mod common;

use common::cli::*;
use std::path::{Path, PathBuf};

/// A tiny run of each task: (task, directory).
fn runs(s: &Scratch) -> Vec<(&'static str, PathBuf)> {
    let texts: String =
        (0..40).map(|i| format!("{} film {}\t{}\n", ["good", "bad"][i % 2], i % 7, i % 2)).collect();
    let data = s.file("texts.tsv", texts);
    let commands: [(&str, Vec<&str>); 4] = [
        ("lm", vec!["train", "--hidden-size", "8", "--embed-size", "8", "--epochs", "1"]),
        (
            "classify",
            vec![
                "classify",
                "train",
                "--data",
                data.to_str().unwrap(),
                "--hidden-size",
                "4",
                "--embed-size",
                "4",
                "--epochs",
                "1",
                "--min-count",
                "1",
                "--ensemble",
                "1",
            ],
        ),
        (
            "forecast",
            vec![
                "forecast",
                "train",
                "--synthetic",
                "--series",
                "60",
                "--window",
                "8",
                "--hidden-size",
                "4",
                "--epochs",
                "1",
            ],
        ),
        (
            "seq2seq",
            vec![
                "seq2seq",
                "train",
                "--addition",
                "--examples",
                "100",
                "--hidden-size",
                "4",
                "--epochs",
                "1",
            ],
        ),
    ];
    commands
        .into_iter()
        .map(|(task, mut args)| {
            let dir = s.path(task);
            args.extend(["--out", dir.to_str().unwrap()]);
            success(task, &recur(s, &args));
            (task, dir)
        })
        .collect()
}

fn arg(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn every_task_names_itself_summarises_and_refuses_the_wrong_command() {
    let s = Scratch::new("run-dirs");
    let runs = runs(&s);
    for (task, dir) in &runs {
        assert_eq!(read_json(&dir.join("config.json"))["task"], *task, "{task}");
        let out = success(&format!("summary of {task}"), &recur(&s, ["summary", "--model", arg(dir)]));
        assert!(out.contains("Total params") || out.contains("total"), "{task}: {out}");
        assert!(dir.join("checkpoint.safetensors").exists(), "{task}: no checkpoint");
    }
    let dir =
        |task: &str| -> String { runs.iter().find(|(t, _)| *t == task).unwrap().1.display().to_string() };
    let (lm, classify, forecast, seq2seq) = (dir("lm"), dir("classify"), dir("forecast"), dir("seq2seq"));
    let texts = s.path("texts.tsv");
    let wrong: [(&str, Vec<&str>); 7] = [
        ("classify", vec!["eval", "--model", &classify, "--text", arg(&texts)]),
        ("forecast", vec!["generate", "--model", &forecast]),
        ("seq2seq", vec!["score", "--model", &seq2seq, "a b"]),
        ("lm", vec!["classify", "eval", "--model", &lm, "--data", arg(&texts)]),
        ("lm", vec!["forecast", "eval", "--model", &lm]),
        ("classify", vec!["seq2seq", "eval", "--model", &classify]),
        ("seq2seq", vec!["train", "--resume", &seq2seq]),
    ];
    for (task, args) in wrong {
        let what = format!("{args:?}");
        let message = failure(&what, &recur(&s, &args), &[&format!("is a {task} run: use recur")]);
        assert!(message.len() < 300, "{what}: {message}");
    }
}
