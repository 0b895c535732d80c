//! The bag-of-words baselines beside the network (`recur classify train`): on IMDB's sentences
//! (`$RECUR_DATA/sentiment/imdb_labelled.txt`; skipped, and said so, without it), 3-fold
//! cross-validation records both baselines per fold and over the folds in `cv.json`, on the
//! same folds as the network, and the single split's figures go into `result.json`.

mod common;

use common::cli::{read_json, recur, success, Scratch};
use std::path::PathBuf;

fn imdb() -> Option<PathBuf> {
    let data = std::env::var_os("RECUR_DATA").map(PathBuf::from)?.join("sentiment/imdb_labelled.txt");
    data.is_file().then_some(data)
}

#[test]
fn cross_validation_records_both_baselines() {
    let Some(data) = imdb() else {
        eprintln!("skipped: set RECUR_DATA to the shared data folder (needs sentiment/imdb_labelled.txt)");
        return;
    };
    let dir = Scratch::new("classify-baselines");
    let run = dir.path("run");
    let args =
        ["classify", "train", "--folds", "3", "--epochs", "1", "--embed-size", "8", "--hidden-size", "8"]
            .map(String::from)
            .into_iter()
            .chain(["--data".into(), data.display().to_string(), "--out".into(), run.display().to_string()]);
    let out = success("classify train --folds 3", &recur(&dir.root, args));
    assert!(out.contains("| naive Bayes ") && out.contains("| logistic (tf-idf) "), "{out}");
    assert!(out.lines().any(|l| l.starts_with("naive Bayes ")), "the summary table: {out}");

    let cv = read_json(&run.join("cv.json"));
    for old in ["folds", "mean_accuracy", "std_accuracy", "min_accuracy", "max_accuracy", "confusion"] {
        assert!(!cv[old].is_null(), "cv.json keeps `{old}`");
    }
    let folds = cv["per_fold"].as_array().unwrap();
    assert_eq!(folds.len(), 3);
    for name in ["naive_bayes", "logistic_tfidf"] {
        let accs: Vec<f64> =
            folds.iter().map(|f| f["baselines"][name]["accuracy"].as_f64().unwrap()).collect();
        for a in &accs {
            assert!(*a > 0.5 && *a <= 1.0, "{name}: fold accuracy {a}");
        }
        let mean = cv["baselines"][name]["mean_accuracy"].as_f64().unwrap();
        assert!((mean - accs.iter().sum::<f64>() / 3.0).abs() < 1e-12, "{name}: mean {mean} of {accs:?}");
        assert!(cv["baselines"][name]["std_accuracy"].as_f64().unwrap() >= 0.0);
        assert!(cv["baselines"][name]["mean_seconds"].is_null(), "times are printed, not written");
    }
    let bayes = cv["baselines"]["naive_bayes"]["mean_accuracy"].as_f64().unwrap();
    assert!(bayes > 0.7, "naive Bayes on IMDB, 3 folds: {bayes}");
    for f in folds {
        let fit = &f["baselines"]["logistic_tfidf"];
        let (start, end) = (fit["loss_start"].as_f64().unwrap(), fit["loss_end"].as_f64().unwrap());
        assert!(end < start, "logistic regression's loss went from {start} to {end}");
        assert!(fit["gradient_norm"].as_f64().unwrap() < 1e-6, "it converged: {fit}");
    }

    // The saved model's split: the baselines on its validation texts.
    let result = read_json(&run.join("result.json"));
    let valid = &result["baselines"]["valid"];
    assert!(valid["naive_bayes"]["accuracy"].as_f64().unwrap() > 0.5, "{result}");
    assert!(valid["logistic_tfidf"]["accuracy"].as_f64().unwrap() > 0.5, "{result}");
    assert!(out.contains("validation: network "), "{out}");
}
