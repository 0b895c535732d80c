//! The text classifier: gradient checks of the whole model on padded batches (f64), padding
//! semantics, parameter counts, saving and loading, the TSV reader's errors, and
//! `recur classify train|eval|predict|summary` end to end.
//!
//! Gradient checks: V 7, D 4, H 5, N 3 texts padded to T 5 with lengths [5, 2, 4]; the padded
//! ids are valid words that the model must not read (id 5 occurs only in padding, so its
//! embedding row must get exactly zero gradient, numerically and analytically). Loss: the
//! classifier's own mean cross-entropy. Every parameter, by central differences.

mod common;

use common::cli::{failure, read_json, recur, success, Scratch};
use common::{check_params, randomize};
use ndarray::{arr2, s, Array2, Ix2};
use recur::data::tsv::{read_labelled, Classes};
use recur::layers::CellKind;
use recur::models::classifier::{Classifier, ClassifierConfig, Pool};
use recur::tasks::classify::{evaluation_of, pad_batch, ClassifyTask, Labelled};
use recur::tensor::Rng;
use recur::train::Task;
use std::collections::BTreeMap;

const V: usize = 7;
const D: usize = 4;
const H: usize = 5;
const LENGTHS: [usize; 3] = [5, 2, 4];

fn config(
    cell: CellKind,
    layers: usize,
    bidirectional: bool,
    classes: usize,
    dropout: f64,
) -> ClassifierConfig {
    ClassifierConfig {
        cell,
        vocab_size: V,
        embed_size: D,
        hidden_size: H,
        num_layers: layers,
        bidirectional,
        embed_dropout: dropout / 2.0,
        dropout,
        num_classes: classes,
        pool: Pool::Last,
    }
}

/// Ids (3, 5): row 1 is 2 words long and row 2 is 4; what follows is padding that must not be
/// read (id 5 appears nowhere else).
fn batch() -> Array2<u32> {
    arr2(&[[1u32, 3, 1, 6, 2], [6, 0, 5, 5, 5], [2, 2, 4, 1, 5]])
}

fn check_classifier(config: ClassifierConfig, seed: u64) {
    let what = format!(
        "{} layer(s) of {}{}, {} classes, dropout {}",
        config.num_layers,
        config.cell,
        if config.bidirectional { " (bidirectional)" } else { "" },
        config.num_classes,
        config.dropout
    );
    let labels: Vec<u32> = if config.num_classes == 2 { vec![1, 0, 1] } else { vec![2, 0, 1] };
    let mut rng = Rng::new(seed);
    let mut model: Classifier<f64> = Classifier::new(config, &mut rng);
    randomize(&mut model.params, &mut rng, 0.5);
    let ids = batch();
    let masks = model.dropout_rng_mut().state();
    model.params.zero_grad();
    model.forward(ids.view(), &LENGTHS, &labels);
    model.backward();
    let emb = model.params.grad(model.embed.inner.weight).into_dimensionality::<Ix2>().unwrap().to_owned();
    assert!(emb.row(5).iter().all(|&g| g == 0.0), "{what}: a word seen only in padding got a gradient");
    let mut params = model.params.clone();
    check_params(&what, &mut params, |p| {
        let mut probe = model.clone();
        probe.params = p.clone();
        *probe.dropout_rng_mut() = Rng::from_state(masks);
        probe.forward(ids.view(), &LENGTHS, &labels)
    });
}

#[test]
fn gradcheck_lstm_two_layers_sigmoid_with_lengths() {
    check_classifier(config(CellKind::Lstm, 2, false, 2, 0.0), 1);
}

#[test]
fn gradcheck_gru_one_layer_softmax_with_lengths() {
    check_classifier(config(CellKind::Gru, 1, false, 3, 0.0), 2);
}

#[test]
fn gradcheck_bidirectional_lstm_two_layers_softmax_with_lengths() {
    check_classifier(config(CellKind::Lstm, 2, true, 3, 0.0), 3);
}

#[test]
fn gradcheck_bidirectional_gru_sigmoid_with_lengths() {
    check_classifier(config(CellKind::Gru, 2, true, 2, 0.0), 4);
}

#[test]
fn gradcheck_bidirectional_rnn_with_dropout_replayed() {
    check_classifier(config(CellKind::Rnn, 2, true, 2, 0.3), 5);
}

#[test]
fn gradcheck_max_pool_bidirectional_lstm() {
    check_classifier(ClassifierConfig { pool: Pool::Max, ..config(CellKind::Lstm, 2, true, 2, 0.0) }, 6);
}

#[test]
fn gradcheck_mean_pool_gru_softmax() {
    check_classifier(ClassifierConfig { pool: Pool::Mean, ..config(CellKind::Gru, 1, false, 3, 0.0) }, 7);
}

/// A padded batch classifies each text exactly as the text alone (N = 1, T = its length), and
/// whatever the padding holds.
#[test]
fn padded_batch_equals_each_text_alone() {
    for (cell, bidirectional, classes, pool) in [
        (CellKind::Lstm, true, 2, Pool::Last),
        (CellKind::Gru, false, 3, Pool::Last),
        (CellKind::Rnn, true, 3, Pool::Last),
        (CellKind::Lstm, true, 2, Pool::Max),
        (CellKind::Gru, false, 3, Pool::Mean),
    ] {
        let config = ClassifierConfig { pool, ..config(cell, 2, bidirectional, classes, 0.5) };
        let mut model: Classifier<f64> = Classifier::new(config, &mut Rng::new(7));
        model.set_training(false);
        let ids = batch();
        model.scores(ids.view(), &LENGTHS);
        let together = model.probabilities();
        let mut other_padding = ids.clone();
        other_padding.slice_mut(s![1, 2..]).fill(3);
        model.scores(other_padding.view(), &LENGTHS);
        assert_eq!(model.probabilities(), together, "{cell} {pool:?}: the padding was read");
        for (row, &len) in LENGTHS.iter().enumerate() {
            let alone = ids.slice(s![row..row + 1, ..len]).to_owned();
            model.scores(alone.view(), &[len]);
            let p = model.probabilities();
            for c in 0..classes {
                let diff = (p[[0, c]] - together[[row, c]]).abs();
                assert!(
                    diff < 1e-12,
                    "{cell} row {row} class {c}: alone {} vs in the batch {}",
                    p[[0, c]],
                    together[[row, c]]
                );
            }
            let sum: f64 = p.row(0).sum();
            assert!((sum - 1.0).abs() < 1e-12, "probabilities sum to {sum}");
        }
    }
}

#[test]
fn pad_batch_pads_to_the_longest_and_returns_lengths() {
    let seqs: [&[u32]; 3] = [&[4, 2], &[], &[1, 2, 3]];
    let mut ids = Array2::zeros((0, 0));
    let lengths = pad_batch(seqs, &mut ids);
    assert_eq!(lengths, [2, 0, 3]);
    assert_eq!(ids, arr2(&[[4u32, 2, 0], [0, 0, 0], [1, 2, 3]]));
    let lengths = pad_batch([&[][..]], &mut ids);
    assert_eq!((lengths, ids.dim()), (vec![0], (1, 1)), "an all-empty batch still has one step");
}

/// The primer's count: 4 inputs and 3 RNN units give Wx 12 + Wh 9 + b 3 = 24.
#[test]
fn summary_counts_every_parameter() {
    let count = |cell, bidirectional| {
        let config = ClassifierConfig {
            cell,
            vocab_size: 10,
            embed_size: 4,
            hidden_size: 3,
            num_layers: 1,
            bidirectional,
            embed_dropout: 0.0,
            dropout: 0.2,
            num_classes: 2,
            pool: Pool::Last,
        };
        let model: Classifier<f32> = Classifier::new(config, &mut Rng::new(1));
        let rows = model.summary();
        let total: usize = rows.iter().map(|r| r.params).sum();
        assert_eq!(total, model.params.num_elements(), "the summary misses parameters");
        assert_eq!(rows[0].params, 40, "embedding 10 x 4");
        assert_eq!(rows.last().unwrap().params, 3 * (1 + usize::from(bidirectional)) + 1, "dense head");
        rows[1].params
    };
    assert_eq!(count(CellKind::Rnn, false), 12 + 9 + 3);
    assert_eq!(count(CellKind::Lstm, false), 4 * (12 + 9 + 3));
    assert_eq!(count(CellKind::Gru, false), 3 * (12 + 9 + 3 + 3)); // GRU keeps two biases
    assert_eq!(count(CellKind::Rnn, true), 2 * 24);
}

#[test]
fn state_dict_round_trip_and_pytorch_names() {
    let mut model: Classifier<f32> =
        Classifier::new(config(CellKind::Lstm, 2, true, 2, 0.0), &mut Rng::new(3));
    model.set_training(false);
    let tensors = model.state_dict();
    let names: Vec<&str> = tensors.iter().map(|(n, _)| n.as_str()).collect();
    for name in [
        "embedding.weight",
        "rnn.weight_ih_l1_reverse",
        "rnn.bias_hh_l0",
        "rnn.bias_hh_l1_reverse",
        "fc.weight",
        "fc.bias",
    ] {
        assert!(names.contains(&name), "missing {name} in {names:?}");
    }
    let ids = batch();
    model.scores(ids.view(), &LENGTHS);
    let before = model.probabilities();
    let mut fresh: Classifier<f32> = Classifier::new(model.config.clone(), &mut Rng::new(99));
    fresh.set_training(false);
    fresh.load_state_dict(tensors.into_iter().collect()).unwrap();
    fresh.scores(ids.view(), &LENGTHS);
    assert_eq!(fresh.probabilities(), before);
    let mut missing: std::collections::BTreeMap<_, _> = model.state_dict().into_iter().collect();
    missing.remove("fc.bias");
    assert!(fresh.load_state_dict(missing).unwrap_err().message().contains("fc.bias"));
}

#[test]
fn reader_errors_name_the_file_the_line_and_what_was_expected() {
    let dir = Scratch::new("tsv-errors");
    let cases = [
        ("no-tab.tsv", "good film\t1\nno tab here\n", ":2: expected `text<TAB>label`, found no tab"),
        ("no-text.tsv", "good film\t1\n\n  \t0\n", ":3: expected text before the tab"),
        ("no-label.tsv", "good film\t \n", ":1: expected a label after the tab"),
        ("empty.tsv", "\n\n", "contains no examples"),
    ];
    for (name, content, want) in cases {
        let path = dir.file(name, content);
        let err = read_labelled(&path).unwrap_err();
        assert!(err.message().contains(name) && err.message().contains(want), "{name}: {err}");
    }
    let path = dir.file("labels.tsv", "a\t1\nb\t0\nc\tpositive\n");
    let examples = read_labelled(&path).unwrap();
    let classes = Classes::new(vec!["0".into(), "1".into()]);
    let err = classes.ids_of(&path, &examples).unwrap_err();
    assert!(
        err.message().contains("labels.tsv:3: unknown label `positive` (expected one of: 0, 1)"),
        "{err}"
    );
}

/// Sentences whose class is set by one or two sentiment words among filler words.
fn synthetic(n: usize, seed: u64) -> String {
    let positive = ["good", "great", "wonderful", "loved", "excellent"];
    let negative = ["bad", "awful", "boring", "hated", "terrible"];
    let filler = ["the", "movie", "was", "a", "film", "plot", "acting", "really", "quite", "and"];
    let mut rng = Rng::new(seed);
    let mut out = String::new();
    for i in 0..n {
        let label = i % 2;
        let mut words: Vec<&str> = (0..2 + rng.below(5)).map(|_| filler[rng.below(filler.len())]).collect();
        let cues = if label == 1 { &positive } else { &negative };
        for _ in 0..1 + rng.below(2) {
            let at = rng.below(words.len() + 1);
            words.insert(at, cues[rng.below(cues.len())]);
        }
        out.push_str(&format!("{}.\t{label}\n", words.join(" ")));
    }
    out
}

/// One model (the only kind with a checkpoint), quick to train.
const FAST: [&str; 14] = [
    "--ensemble",
    "1",
    "--epochs",
    "25",
    "--patience",
    "8",
    "--lr",
    "0.02",
    "--dropout",
    "0",
    "--embed-dropout",
    "0",
    "--min-count",
    "1",
];

#[test]
fn cli_train_eval_predict_summary() {
    let dir = Scratch::new("classify-cli");
    let data = dir.file("train.tsv", synthetic(240, 1));
    let test = dir.file("test.tsv", synthetic(60, 2));
    let run = dir.path("run");
    let args: Vec<String> = ["classify", "train", "--data"]
        .iter()
        .map(|s| s.to_string())
        .chain([data.display().to_string(), "--test".into(), test.display().to_string()])
        .chain(["--out".into(), run.display().to_string(), "--cell".into(), "gru".into()])
        .chain(FAST.iter().map(|s| s.to_string()))
        .collect();
    let out = success("classify train", &recur(&dir.root, &args));
    assert!(out.contains("Total params"), "the summary is printed at the start:\n{out}");
    assert!(out.contains("confusion matrix"), "{out}");
    for file in [
        "config.json",
        "vocab.txt",
        "model.safetensors",
        "metrics.jsonl",
        "result.json",
        "checkpoint.safetensors",
        "loss.png",
        "loss.svg",
    ] {
        assert!(run.join(file).exists(), "{file} missing");
    }
    // One line an epoch, the engine's fields and the task's figures.
    let metrics = std::fs::read_to_string(run.join("metrics.jsonl")).unwrap();
    let first: serde_json::Value = serde_json::from_str(metrics.lines().next().unwrap()).unwrap();
    for key in [
        "epoch",
        "train_loss",
        "train_accuracy",
        "valid_loss",
        "valid_accuracy",
        "lr",
        "seconds",
        "texts_per_s",
    ] {
        assert!(first.get(key).is_some(), "no `{key}` in {first}");
    }
    let config = read_json(&run.join("config.json"));
    assert_eq!(config["task"], "classify");
    assert_eq!(config["classes"], serde_json::json!(["0", "1"]));
    let result = read_json(&run.join("result.json"));
    let test_accuracy = result["test"]["accuracy"].as_f64().unwrap();
    assert!(test_accuracy >= 0.9, "test accuracy {test_accuracy} on an easy task:\n{out}");
    assert_eq!(std::fs::read_to_string(run.join("vocab.txt")).unwrap().lines().next(), Some("<unk>"));

    // eval reads the run back and measures the same test accuracy.
    let (run_s, test_s) = (run.display().to_string(), test.display().to_string());
    let run_s = run_s.as_str();
    let out =
        success("eval", &recur(&dir.root, ["classify", "eval", "--model", run_s, "--data", test_s.as_str()]));
    let last = out.lines().last().unwrap();
    assert!(last.starts_with(&format!("accuracy: {test_accuracy:.4}")), "{out}");

    let out = success(
        "predict",
        &recur(
            &dir.root,
            ["classify", "predict", "--model", run_s, "a wonderful and great film", "the plot was awful."],
        ),
    );
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[0].contains("p(0)") && lines[0].contains("p(1)"), "{out}");
    assert!(lines[1].starts_with('1') && lines[2].starts_with('0'), "{out}");
    let p: Vec<f64> = lines[1].split_whitespace().skip(1).take(2).map(|v| v.parse().unwrap()).collect();
    assert!((p[0] + p[1] - 1.0).abs() < 1e-3 && p[1] > 0.5, "{out}");

    let out = success("summary", &recur(&dir.root, ["classify", "summary", "--model", run_s]));
    assert!(
        out.contains("TimeGRU[0]") && out.contains("rnn.weight_hh_l0") && out.contains("Total params"),
        "{out}"
    );
    // `recur summary` reads the run's task and prints the same table.
    let same = success("recur summary", &recur(&dir.root, ["summary", "--model", run_s]));
    assert_eq!(same, out);

    // Without --overwrite the trained model is kept.
    failure("retrain", &recur(&dir.root, &args), &["model.safetensors", "--overwrite"]);
}

#[test]
fn cli_cross_validation_writes_every_fold() {
    let dir = Scratch::new("classify-cv");
    let data = dir.file("train.tsv", synthetic(150, 3));
    let run = dir.path("run");
    let mut args: Vec<String> =
        ["classify", "train", "--folds", "3", "--epochs", "4", "--bidirectional", "--ensemble", "1"]
            .iter()
            .map(|s| s.to_string())
            .collect();
    args.extend(["--data".into(), data.display().to_string(), "--out".into(), run.display().to_string()]);
    let out = success("classify train --folds 3", &recur(&dir.root, &args));
    assert!(out.contains("3-fold cross-validated accuracy"), "{out}");
    let cv = read_json(&run.join("cv.json"));
    let folds = cv["per_fold"].as_array().unwrap();
    assert_eq!(folds.len(), 3);
    let tested: u64 = folds.iter().map(|f| f["test_texts"].as_u64().unwrap()).sum();
    assert_eq!(tested, 150, "every text is tested once");
    let accs: Vec<f64> = folds.iter().map(|f| f["test_accuracy"].as_f64().unwrap()).collect();
    let mean = cv["mean_accuracy"].as_f64().unwrap();
    assert!((mean - accs.iter().sum::<f64>() / 3.0).abs() < 1e-12);
    let metrics = std::fs::read_to_string(run.join("metrics.jsonl")).unwrap();
    assert!(metrics.lines().any(|l| l.starts_with("{\"fold\":3,\"epoch\":")), "{metrics}");
    assert!(
        metrics.lines().last().unwrap().starts_with("{\"epoch\":"),
        "the final model's lines have no fold"
    );
    assert!(run.join("model.safetensors").exists(), "the final model is saved too");
    assert!(run.join("loss.png").exists(), "its curve is drawn");
    assert!(!run.join("checkpoint.safetensors").exists(), "runs of several models keep no checkpoint");
}

#[test]
fn cli_errors() {
    let dir = Scratch::new("classify-errors");
    let bad = dir.file("bad.tsv", "good film\t1\nbad film 0\n").display().to_string();
    let out = recur(&dir.root, ["classify", "train", "--data", bad.as_str()]);
    failure("missing tab", &out, &["bad.tsv:2", "expected `text<TAB>label`"]);

    let one = dir.file("one.tsv", "good film\t1\ngreat film\t1\n").display().to_string();
    let out = recur(&dir.root, ["classify", "train", "--data", one.as_str()]);
    failure("one class", &out, &["one.tsv", "at least two classes"]);

    let data = dir.file("data.tsv", synthetic(40, 4));
    let run = dir.path("run");
    let (data_s, run_s) = (data.display().to_string(), run.display().to_string());
    let (data_s, run_s) = (data_s.as_str(), run_s.as_str());
    let out = recur(&dir.root, ["classify", "train", "--data", data_s, "--folds", "1"]);
    failure("--folds 1", &out, &["--folds"]);
    success(
        "train",
        &recur(&dir.root, ["classify", "train", "--data", data_s, "--out", run_s, "--epochs", "1"]),
    );
    let unknown = dir.file("unknown.tsv", "good film\t1\nfine film\tneutral\n").display().to_string();
    let out = recur(&dir.root, ["classify", "eval", "--model", run_s, "--data", unknown.as_str()]);
    failure("unknown label", &out, &["unknown.tsv:2", "unknown label `neutral`", "0, 1"]);
    let out = recur(&dir.root, ["classify", "predict", "--model", run_s]);
    failure("nothing to predict", &out, &["nothing to classify"]);

    // A language model's run directory is not a classifier's.
    let lm = dir.path("lm");
    std::fs::create_dir_all(&lm).unwrap();
    std::fs::write(lm.join("config.json"), "{\"model\": {}, \"tokenizer\": \"whitespace\"}").unwrap();
    let lm_s = lm.display().to_string();
    let out = recur(&dir.root, ["classify", "summary", "--model", lm_s.as_str()]);
    failure("not a classifier", &out, &["is a lm run", "recur eval|score|generate|summary"]);
}

#[test]
fn evaluation_of_averaged_probabilities() {
    let probs = arr2(&[[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]]);
    let e = evaluation_of(probs.view(), &[0, 1, 1]);
    assert_eq!(e.confusion, vec![vec![1, 0], vec![1, 1]]);
    assert!((e.accuracy - 2.0 / 3.0).abs() < 1e-12);
    let want = -(0.9f64.ln() + 0.8f64.ln() + 0.4f64.ln()) / 3.0;
    assert!((e.loss - want).abs() < 1e-12, "loss {} vs {want}", e.loss);
}

/// `--ensemble 2`: both members are saved (under `member0.` and `member1.`) and read back by
/// eval, predict and summary.
#[test]
fn cli_ensemble_saves_and_reads_every_member() {
    let dir = Scratch::new("classify-ensemble");
    let data = dir.file("train.tsv", synthetic(80, 5)).display().to_string();
    let run = dir.path("run").display().to_string();
    let train = [
        "classify",
        "train",
        "--data",
        data.as_str(),
        "--out",
        run.as_str(),
        "--epochs",
        "2",
        "--ensemble",
        "2",
    ];
    let out = success("train --ensemble 2", &recur(&dir.root, train));
    assert!(out.contains("ensemble member 2/2"), "{out}");
    let config = read_json(&dir.path("run").join("config.json"));
    assert_eq!(config["members"], 2);
    let tensors = recur::io::checkpoint::load::<f32>(&dir.path("run").join("model.safetensors")).unwrap();
    assert!(tensors.contains_key("member0.fc.weight") && tensors.contains_key("member1.rnn.weight_ih_l0"));
    let result = read_json(&dir.path("run").join("result.json"));
    assert_eq!(result["best_epochs"].as_array().unwrap().len(), 2);
    // The plot marks the epoch each member's saved weights come from.
    let plot = std::fs::read_to_string(dir.path("run").join("loss.svg")).unwrap();
    for (k, epoch) in result["best_epochs"].as_array().unwrap().iter().enumerate() {
        let mark = format!("member {}: saved epoch {}", k + 1, epoch);
        assert!(plot.contains(&mark), "{mark} missing from loss.svg");
    }
    let metrics = std::fs::read_to_string(dir.path("run").join("metrics.jsonl")).unwrap();
    assert_eq!(metrics.lines().filter(|l| l.starts_with("{\"member\":2,")).count(), 2, "{metrics}");
    let out = success(
        "eval",
        &recur(&dir.root, ["classify", "eval", "--model", run.as_str(), "--data", data.as_str()]),
    );
    assert!(out.lines().last().unwrap().starts_with("accuracy: "), "{out}");
    let out =
        success("predict", &recur(&dir.root, ["classify", "predict", "--model", run.as_str(), "great film"]));
    assert_eq!(out.lines().count(), 2, "{out}");
    let out = success("summary", &recur(&dir.root, ["classify", "summary", "--model", run.as_str()]));
    assert!(out.contains("2 ensemble members"), "{out}");
}

#[test]
fn cli_extra_texts_train_every_fold_and_are_never_tested() {
    let dir = Scratch::new("classify-extra");
    let data = dir.file("train.tsv", synthetic(120, 5));
    let extra = dir.file("extra.tsv", synthetic(90, 6));
    let run = dir.path("run");
    let mut args: Vec<String> = ["classify", "train", "--folds", "3", "--epochs", "3", "--ensemble", "2"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    args.extend(["--data".into(), data.display().to_string(), "--extra".into(), extra.display().to_string()]);
    args.extend(["--out".into(), run.display().to_string()]);
    success("classify train --extra", &recur(&dir.root, &args));
    let cv = read_json(&run.join("cv.json"));
    for fold in cv["per_fold"].as_array().unwrap() {
        // 80 of the 120 texts are the fold's training part; 8 of them are held out; the 90
        // extra texts are added to the training texts only.
        assert_eq!(fold["train_texts"].as_u64().unwrap(), 72 + 90, "{fold}");
        assert_eq!(fold["valid_texts"].as_u64().unwrap(), 8, "{fold}");
        assert_eq!(fold["test_texts"].as_u64().unwrap(), 40, "{fold}");
    }
    let config = read_json(&run.join("config.json"));
    assert_eq!(config["train"]["extra"][0], extra.display().to_string());
    let result = read_json(&run.join("result.json"));
    assert_eq!(result["valid"]["texts"].as_u64().unwrap(), 12, "validation is from --data only");

    // Each member may hold out its own split instead: all the fold's texts are then training texts.
    let run2 = dir.path("run2");
    let n = args.len();
    args[n - 1] = run2.display().to_string();
    args.push("--split-per-member".into());
    success("classify train --split-per-member", &recur(&dir.root, &args));
    let cv = read_json(&run2.join("cv.json"));
    for fold in cv["per_fold"].as_array().unwrap() {
        assert_eq!(fold["train_texts"].as_u64().unwrap(), 80 + 90, "{fold}");
    }

    // An extra file with a label the data does not have is refused, naming it.
    let odd = dir.file("odd.tsv", "fine film\t1\nstrange film\t7\n").display().to_string();
    let out =
        recur(&dir.root, ["classify", "train", "--data", data.to_str().unwrap(), "--extra", odd.as_str()]);
    failure("unknown label in --extra", &out, &["odd.tsv:2", "7"]);
}

/// The task's checkpointed state (order, generator, counters) makes a second task train the
/// same next batch, word dropout included; other texts refuse it; the last batch is smaller
/// and weighs less; a skipped batch leaves the epoch's accuracy.
#[test]
fn task_state_replays_the_next_batch_and_refuses_other_texts() {
    let data = Labelled {
        seqs: (0..20).map(|i| vec![1 + (i % 6) as u32; 1 + i % 4]).collect(),
        labels: (0..20).map(|i| (i % 2) as u32).collect(),
    };
    let mut first: Classifier<f64> =
        Classifier::new(config(CellKind::Gru, 1, false, 2, 0.3), &mut Rng::new(1));
    let mut second = first.clone();
    let mut a = ClassifyTask::new(&mut first, &data, 6, Rng::new(5)).word_dropout(0.3);
    assert_eq!(a.batches_per_epoch(), 4);
    a.begin_epoch(1);
    a.train_batch(0);
    let saved = a.save_state();
    let masks = a.model.dropout_rng_mut().state();
    let expected = a.train_batch(1);
    assert_eq!(a.train_batch(3).weight, 2.0, "20 texts in batches of 6: the last holds 2");
    let accuracy = a.train_figures(0.0)["train_accuracy"];
    a.after_skipped_batch();
    let without_last = a.train_figures(0.0)["train_accuracy"];
    // Counted over 6 + 6 + 2 texts, then over 6 + 6 once the last batch is skipped.
    let (correct, kept) = (accuracy * 14.0, without_last * 12.0);
    assert!(
        (correct - correct.round()).abs() < 1e-9 && (kept - kept.round()).abs() < 1e-9,
        "{accuracy} {without_last}"
    );
    assert!((0.0..=2.0).contains(&(correct - kept).round()), "{accuracy} {without_last}");

    *second.dropout_rng_mut() = Rng::from_state(masks);
    let mut b = ClassifyTask::new(&mut second, &data, 6, Rng::new(99)).word_dropout(0.3);
    b.restore_state(&saved.json, BTreeMap::new()).unwrap();
    assert_eq!(b.train_batch(1), expected);

    let fewer = data.subset(&(0..19).collect::<Vec<_>>());
    let mut model: Classifier<f64> =
        Classifier::new(config(CellKind::Gru, 1, false, 2, 0.3), &mut Rng::new(1));
    let mut c = ClassifyTask::new(&mut model, &fewer, 6, Rng::new(5));
    let err = c.restore_state(&saved.json, BTreeMap::new()).unwrap_err().to_string();
    assert!(err.contains("not a permutation of the 19 training texts"), "{err}");
    let err =
        c.restore_state(&serde_json::json!({"batcher_cursor": 3}), BTreeMap::new()).unwrap_err().to_string();
    assert!(err.contains("not a classifier's"), "{err}");
}
