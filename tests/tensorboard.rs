//! `--tensorboard DIR`: the event files recur writes are TFRecords of protocol-buffer events
//! that TensorBoard reads. The committed fixture pairs a file recur wrote with what TensorBoard's
//! own reader read from it (`bench/tensorboard/read_events.py`); here recur's reader must read
//! the same. Every `train` command writes its figures, a resumed run goes on counting steps, and
//! a run of several classifiers (`--folds`, `--ensemble`) writes one TensorBoard run a model.

mod common;

use common::cli::{failure, recur, success, Scratch};
use common::guarantees::run;
use recur::io::tensorboard::{event_files, frame, read_events, EventWriter, FILE_VERSION};
use std::collections::BTreeMap;
use std::path::Path;

/// Tag -> (step, value) points.
type Scalars = BTreeMap<String, Vec<(i64, f32)>>;

/// Every scalar of the event files of `dir`: tag -> (step, value), in file and record order.
fn scalars(dir: &Path) -> Scalars {
    let mut found = Scalars::new();
    let files = event_files(dir).unwrap();
    assert!(!files.is_empty(), "{}: no event file", dir.display());
    for file in files {
        let events = read_events(&file).unwrap();
        assert_eq!(events[0].file_version.as_deref(), Some(FILE_VERSION), "{}", file.display());
        for event in &events[1..] {
            assert!(event.file_version.is_none() && !event.scalars.is_empty());
            for (tag, value) in &event.scalars {
                found.entry(tag.clone()).or_default().push((event.step, *value));
            }
        }
    }
    found
}

fn steps(points: &[(i64, f32)]) -> Vec<i64> {
    points.iter().map(|p| p.0).collect()
}

#[test]
fn recur_reads_the_committed_file_as_tensorboard_read_it() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tensorboard");
    let text = std::fs::read_to_string(dir.join("scalars.json")).unwrap();
    let expected: BTreeMap<String, Vec<(i64, f64)>> = serde_json::from_str(&text).unwrap();
    let found = scalars(&dir);
    assert_eq!(found.keys().collect::<Vec<_>>(), expected.keys().collect::<Vec<_>>());
    for (tag, points) in &expected {
        // TensorBoard gives each float32 as the double it is exactly.
        let points: Vec<(i64, f32)> = points.iter().map(|&(s, v)| (s, v as f32)).collect();
        assert_eq!(found[tag], points, "{tag}");
    }
    assert_eq!(steps(&found["valid/accuracy"]), [14, 28, 42]);
    assert_eq!(steps(&found["batch/loss"]), [5, 10, 15, 20, 25, 30, 35, 40]);
}

#[test]
fn written_events_read_back_and_damage_is_refused() {
    let s = Scratch::new("tb-writer");
    let mut writer = EventWriter::create(&s.path("logs/a")).unwrap();
    writer.scalars(7, &[("train/loss".into(), 2.5), ("lr".into(), 0.1)]).unwrap();
    writer.scalars(1 << 33, &[("x".into(), -1e-3)]).unwrap();
    let path = writer.path().to_path_buf();
    drop(writer);
    let name = path.file_name().unwrap().to_str().unwrap();
    assert!(name.starts_with("events.out.tfevents.") && name.split('.').count() >= 6, "{name}");
    let events = read_events(&path).unwrap();
    assert_eq!(events.len(), 3);
    assert_eq!((events[0].step, events[0].file_version.as_deref()), (0, Some(FILE_VERSION)));
    assert_eq!(events[1].scalars, [("train/loss".to_string(), 2.5), ("lr".to_string(), 0.1f32)]);
    assert_eq!((events[2].step, &events[2].scalars[..]), (1 << 33, &[("x".to_string(), -1e-3f32)][..]));
    assert!(events[1].wall_time > 1.6e9 && events[2].wall_time >= events[1].wall_time);

    let bytes = std::fs::read(&path).unwrap();
    let first = frame(&events[0].encode()).len();
    let mut flipped = bytes.clone();
    flipped[first + 20] ^= 1; // Inside the second record's data.
    let damaged = s.file("damaged.tfevents", &flipped);
    let err = read_events(&damaged).unwrap_err().to_string();
    assert!(err.contains(&format!("record at byte {first}")) && err.contains("data's checksum"), "{err}");
    let cut = s.file("cut.tfevents", &bytes[..bytes.len() - 3]);
    let err = read_events(&cut).unwrap_err().to_string();
    assert!(err.contains("bytes left") || err.contains("holds"), "{err}");
    let mut length = bytes.clone();
    length[0] ^= 1;
    let err = read_events(&s.file("length.tfevents", &length)).unwrap_err().to_string();
    assert!(err.contains("record at byte 0") && err.contains("length's checksum"), "{err}");
}

/// Runs `recur ARGS --tensorboard DIR --tensorboard-every EVERY` and returns DIR's scalars and
/// the run's metrics lines.
fn logged(s: &Scratch, args: &[&str], every: usize) -> (Scalars, Vec<serde_json::Value>) {
    let (tb, out) = (s.path("tb"), s.path("run"));
    let mut all: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    let every = every.to_string();
    for extra in
        ["--out", out.to_str().unwrap(), "--tensorboard", tb.to_str().unwrap(), "--tensorboard-every", &every]
    {
        all.push(extra.to_string());
    }
    success(&all.join(" "), &run(&s.root, &all, &[]));
    let metrics = std::fs::read_to_string(out.join("metrics.jsonl")).unwrap();
    (scalars(&tb), metrics.lines().map(|l| serde_json::from_str(l).unwrap()).collect())
}

/// The epoch scalars are the metrics lines' figures at steps epoch x batches per epoch.
fn check_epochs(found: &Scalars, metrics: &[serde_json::Value], iters: i64, keys: &[(&str, &str)]) {
    let epoch_steps: Vec<i64> = (1..=metrics.len() as i64).map(|e| e * iters).collect();
    for (tag, key) in keys {
        let points = found.get(*tag).unwrap_or_else(|| panic!("no {tag} in {:?}", found.keys()));
        assert_eq!(steps(points), epoch_steps, "{tag}");
        for (point, line) in points.iter().zip(metrics) {
            assert_eq!(point.1, line[key].as_f64().unwrap() as f32, "{tag} against metrics' {key}");
        }
    }
    let norms = &found["train/grad_norm"];
    assert!(norms.iter().all(|p| p.1 > 0.0 && p.1.is_finite()), "{norms:?}");
}

#[test]
fn the_language_model_logs_loss_perplexity_rate_and_gradient_norm() {
    let s = Scratch::new("tb-lm");
    // book-ch5 on the demo text: 37 batches an epoch.
    let (found, metrics) = logged(&s, &["train", "--epochs", "2"], 10);
    check_epochs(
        &found,
        &metrics,
        37,
        &[("train/loss", "train_loss"), ("train/ppl", "train_ppl"), ("lr", "lr")],
    );
    assert_eq!(steps(&found["batch/loss"]), [10, 20, 30, 40, 50, 60, 70]);
    assert_eq!(steps(&found["batch/grad_norm"]), [10, 20, 30, 40, 50, 60, 70]);
    assert!(found.contains_key("epoch/tokens_per_s"));
}

#[test]
fn classify_forecast_and_seq2seq_log_their_validation_figures() {
    let s = Scratch::new("tb-classify");
    let texts = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tensorboard/texts.tsv");
    let texts = texts.to_str().unwrap();
    let args =
        ["classify", "train", "--data", texts, "--batch-size", "8", "--epochs", "2", "--ensemble", "1"];
    let (found, metrics) = logged(&s, &args, 5);
    let keys =
        [("train/loss", "train_loss"), ("valid/loss", "valid_loss"), ("valid/accuracy", "valid_accuracy")];
    check_epochs(&found, &metrics, 14, &keys);

    let s = Scratch::new("tb-forecast");
    let args =
        ["forecast", "train", "--synthetic", "--series", "200", "--window", "12", "--hidden-size", "6"];
    let (found, metrics) = logged(&s, &[&args[..], &["--batch-size", "16", "--epochs", "2"]].concat(), 3);
    check_epochs(&found, &metrics, 9, &[("train/loss", "train_loss"), ("valid/mse", "valid_mse")]);
    assert_eq!(steps(&found["batch/loss"]), [3, 6, 9, 12, 15, 18]);

    let s = Scratch::new("tb-seq2seq");
    let args =
        ["seq2seq", "train", "--addition", "--examples", "300", "--hidden-size", "8", "--batch-size", "32"];
    let (found, metrics) = logged(&s, &[&args[..], &["--epochs", "2"]].concat(), 100);
    check_epochs(&found, &metrics, 9, &[("train/loss", "train_loss"), ("valid/accuracy", "valid_accuracy")]);
    assert!(!found.contains_key("batch/loss"), "9 batches an epoch, every 100: no batch scalars");
}

#[test]
fn a_resumed_run_appends_a_file_and_goes_on_counting() {
    let s = Scratch::new("tb-resume");
    let (tb, out) = (s.path("tb"), s.path("run"));
    let (tb, out) = (tb.to_str().unwrap(), out.to_str().unwrap());
    let first: Vec<String> =
        ["train", "--epochs", "2", "--out", out, "--tensorboard", tb, "--tensorboard-every", "10"]
            .map(String::from)
            .to_vec();
    let stopped = run(&s.root, &first, &[("RECUR_STOP_AFTER_BATCHES", "45")]);
    assert_eq!(stopped.status.code(), Some(130));
    let line = format!("resume with: recur train --resume {out} --tensorboard {tb}");
    assert!(String::from_utf8_lossy(&stopped.stdout).contains(&line), "{line}");
    // Seconds in the file name: make the second file's name sort after the first.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let resume: Vec<String> = ["train", "--resume", out, "--tensorboard", tb, "--tensorboard-every", "10"]
        .map(String::from)
        .to_vec();
    success("resume", &run(&s.root, &resume, &[]));
    assert_eq!(event_files(Path::new(tb)).unwrap().len(), 2);
    let found = scalars(Path::new(tb));
    assert_eq!(steps(&found["batch/loss"]), [10, 20, 30, 40, 50, 60, 70]);
    assert_eq!(steps(&found["train/loss"]), [37, 74]);
}

#[test]
fn bad_tensorboard_flags_are_one_clear_line() {
    let s = Scratch::new("tb-flags");
    let file = s.file("taken", "x");
    let out = recur(&s.root, ["train", "--epochs", "1", "--tensorboard", "logs", "--tensorboard-every", "0"]);
    failure("every 0", &out, &["--tensorboard-every", "at least 1"]);
    let out = recur(&s.root, ["train", "--epochs", "1", "--tensorboard", file.to_str().unwrap()]);
    failure("a file", &out, &["taken", "is a file", "directory"]);
    // A folder that cannot be made: the error names it, and the new run leaves no directory.
    let under_file = file.join("logs");
    let args = ["train", "--epochs", "1", "--out", "run", "--tensorboard", under_file.to_str().unwrap()];
    failure("under a file", &recur(&s.root, args), &["taken/logs"]);
    assert!(!s.path("run").exists());
    // The same for a run of several models, whose DIR is made before its run directory.
    let texts = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tensorboard/texts.tsv");
    let (texts, under_file) = (texts.to_str().unwrap(), under_file.to_str().unwrap());
    let args =
        ["classify", "train", "--data", texts, "--folds", "2", "--out", "run", "--tensorboard", under_file];
    failure("folds, under a file", &recur(&s.root, args), &["taken/logs"]);
    assert!(!s.path("run").exists());
}

/// `classify train ARGS --tensorboard DIR --tensorboard-every 1`: DIR's folders (sorted, a
/// model's `fold-1/member-2` as one) with each one's scalars, and the run's metrics lines.
fn logged_models(s: &Scratch, args: &[&str]) -> (Vec<(String, Scalars)>, Vec<serde_json::Value>) {
    let texts = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tensorboard/texts.tsv");
    let (tb, out) = (s.path("tb"), s.path("run"));
    let tiny = ["--batch-size", "8", "--epochs", "2", "--hidden-size", "8", "--embed-size", "8"];
    let fixed = ["classify", "train", "--data", texts.to_str().unwrap(), "--out", out.to_str().unwrap()];
    let logs = ["--tensorboard", tb.to_str().unwrap(), "--tensorboard-every", "1"];
    let one = if args.contains(&"--ensemble") { &[][..] } else { &["--ensemble", "1"][..] };
    let all: Vec<String> =
        [&fixed[..], &tiny, args, one, &logs].concat().iter().map(|a| a.to_string()).collect();
    success(&all.join(" "), &run(&s.root, &all, &[]));
    let mut runs = Vec::new();
    let mut folders = vec![tb.clone()];
    while let Some(folder) = folders.pop() {
        let mut files = 0;
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                folders.push(path);
            } else {
                files += 1;
            }
        }
        if files > 0 {
            assert_eq!(event_files(&folder).unwrap().len(), 1, "{}: one event file", folder.display());
            let name = folder.strip_prefix(&tb).unwrap().to_str().unwrap().to_string();
            runs.push((name, scalars(&folder)));
        }
    }
    runs.sort_by(|a, b| a.0.cmp(&b.0));
    let metrics = std::fs::read_to_string(out.join("metrics.jsonl")).unwrap();
    (runs, metrics.lines().map(|l| serde_json::from_str(l).unwrap()).collect())
}

/// Each model's run holds its own epochs (its metrics lines, by `fold` and `member`) at steps
/// epoch x its batches an epoch, and a batch loss at every one of its batches.
fn check_model(
    name: &str,
    found: &Scalars,
    metrics: &[serde_json::Value],
    fold: Option<u64>,
    member: Option<u64>,
) {
    let own: Vec<&serde_json::Value> =
        metrics.iter().filter(|l| l["fold"].as_u64() == fold && l["member"].as_u64() == member).collect();
    assert!(!own.is_empty(), "{name}: no metrics lines");
    let epoch_steps = steps(&found["train/loss"]);
    let iters = epoch_steps[0];
    assert_eq!(epoch_steps, (1..=own.len() as i64).map(|e| e * iters).collect::<Vec<_>>(), "{name}");
    assert_eq!(steps(&found["batch/loss"]), (1..=own.len() as i64 * iters).collect::<Vec<_>>(), "{name}");
    for (tag, key) in
        [("train/loss", "train_loss"), ("valid/loss", "valid_loss"), ("valid/accuracy", "valid_accuracy")]
    {
        let values: Vec<f32> = found[tag].iter().map(|p| p.1).collect();
        let expected: Vec<f32> = own.iter().map(|l| l[key].as_f64().unwrap() as f32).collect();
        assert_eq!(values, expected, "{name}: {tag} against metrics' {key}");
    }
    for tag in ["lr", "train/accuracy", "train/grad_norm", "batch/grad_norm"] {
        assert!(found.contains_key(tag), "{name}: no {tag} in {:?}", found.keys());
    }
}

#[test]
fn folds_and_ensemble_members_log_one_run_each() {
    let s = Scratch::new("tb-folds");
    let (runs, metrics) = logged_models(&s, &["--folds", "2"]);
    let names: Vec<&str> = runs.iter().map(|r| r.0.as_str()).collect();
    assert_eq!(names, ["final", "fold-1", "fold-2"]);
    check_model("fold-1", &runs[1].1, &metrics, Some(1), None);
    check_model("fold-2", &runs[2].1, &metrics, Some(2), None);
    check_model("final", &runs[0].1, &metrics, None, None);

    let s = Scratch::new("tb-ensemble");
    let (runs, metrics) = logged_models(&s, &["--ensemble", "2"]);
    let names: Vec<&str> = runs.iter().map(|r| r.0.as_str()).collect();
    assert_eq!(names, ["member-1", "member-2"]);
    check_model("member-1", &runs[0].1, &metrics, None, Some(1));
    check_model("member-2", &runs[1].1, &metrics, None, Some(2));
}
