//! `recur bench --json`: the fields bench/suite.py reads, on budgets of a few steps (a check of
//! the output, not a measurement: the suite is not part of the tests).

mod common;

use common::cli::*;

fn bench_json(s: &Scratch, model: &str) -> serde_json::Value {
    let args =
        ["bench", model, "--json", "--warmup", "0", "--repeats", "1", "--seconds", "0.01", "--threads", "1"];
    let out = success(&format!("recur bench {model}"), &recur(&s.root, args));
    let line = out.lines().last().expect("one line");
    serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"))
}

fn number(v: &serde_json::Value, key: &str) -> f64 {
    v[key].as_f64().unwrap_or_else(|| panic!("no number {key:?} in {v}"))
}

#[test]
fn bench_reports_speed_flops_and_peak_memory() {
    let s = Scratch::new("bench");
    for model in ["ch05", "classify"] {
        let v = bench_json(&s, model);
        assert_eq!(v["impl"], "recur");
        assert_eq!(v["model"], model);
        assert_eq!(v["threads"], 1);
        assert!(number(&v, "tokens_per_s") > 0.0, "{v}");
        assert_eq!(v["runs"].as_array().map(Vec::len), Some(1), "{v}");
        let (tps, fpt) = (number(&v, "tokens_per_s"), number(&v, "flops_per_token"));
        assert!((number(&v, "gflops") - tps * fpt / 1e9).abs() < 1e-9 * tps * fpt, "{v}");
        if cfg!(target_os = "linux") {
            assert!(number(&v, "peak_rss_mib") >= number(&v, "start_rss_mib"), "{v}");
        }
    }
    // ch05: 3 x [2 x 100 x (100 + 100) + 2 x 100 x 418] FLOPs per token
    assert_eq!(number(&bench_json(&s, "ch05"), "flops_per_token"), 3.0 * (40_000.0 + 83_600.0));
}

#[test]
fn bench_refuses_empty_budgets() {
    let s = Scratch::new("bench-args");
    for args in [["--repeats", "0"], ["--seconds", "0"], ["--warmup=-1", "--json"]] {
        let mut all = vec!["bench", "ch05"];
        all.extend(args);
        failure(&format!("recur {all:?}"), &recur(&s.root, &all), &["must be"]);
    }
}
