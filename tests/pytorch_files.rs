//! Run directories move between recur and PyTorch: `model.safetensors` holds PyTorch's
//! `RNNModel.state_dict()` names, shapes and dtype.
//!
//! The fixtures in tests/fixtures/pytorch_runs/{lstm,gru,lstm_tied}/ are run directories written
//! by PyTorch (`tests/fixtures/make_run_fixtures.py`, with bench/pytorch/word_lm.py's RNNModel,
//! trained a few SGD steps), each with an `expected.json`: token ids and PyTorch's mean
//! cross-entropy of them by the book's evaluation (batch 2, time 7, dropout off). Checked here:
//!
//! - PyTorch -> recur: `RunDir::load_lm` reads the directory and `eval_perplexity` gives
//!   ln(ppl) equal to PyTorch's float32 loss to 1e-5 relative; `recur eval --text` prints the
//!   same perplexity.
//! - recur -> PyTorch: `Lm::state_dict` saved with `checkpoint::save` has exactly PyTorch's key
//!   set, shapes and dtype F32 (what PyTorch's strict `load_state_dict` needs), and reloading it
//!   into a fresh model gives the same loss, for the loaded model and for one with every weight
//!   moved (values PyTorch never saw). With `RECUR_KEEP_RUNS=DIR` the moved model is kept as a run
//!   directory DIR/<case>/ with its loss in `recur_loss.json`, for
//!   `tests/fixtures/check_recur_file.py` to load into PyTorch (see tests/fixtures/README.md).

mod common;

use common::cli::{recur, success, Scratch};
use recur::io::checkpoint;
use recur::io::run_dir::{RunConfig, RunDir};
use recur::models::Lm;
use recur::tasks::eval_perplexity;
use recur::tensor::Rng;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

const CASES: [&str; 3] = ["lstm", "gru", "lstm_tied"];
const RTOL: f64 = 1e-5;

fn fixture_dir(case: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/pytorch_runs").join(case)
}

/// What `expected.json` records.
struct Expected {
    batch_size: usize,
    time_size: usize,
    text: String,
    ids: Vec<u32>,
    loss_f32: f64,
    loss_f64: f64,
    /// name -> (shape, dtype) of every tensor of PyTorch's state_dict.
    state_dict: BTreeMap<String, (Vec<usize>, String)>,
}

fn expected(case: &str) -> Expected {
    let path = fixture_dir(case).join("expected.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!("{}: {e}; regenerate with python3 tests/fixtures/make_run_fixtures.py", path.display())
    });
    let v: Value = serde_json::from_str(&text).expect("expected.json is JSON");
    let usize_of = |x: &Value| x.as_u64().expect("a whole number") as usize;
    Expected {
        batch_size: usize_of(&v["batch_size"]),
        time_size: usize_of(&v["time_size"]),
        text: v["text"].as_str().expect("text").to_string(),
        ids: v["ids"].as_array().unwrap().iter().map(|x| usize_of(x) as u32).collect(),
        loss_f32: v["loss_f32"].as_f64().unwrap(),
        loss_f64: v["loss_f64"].as_f64().unwrap(),
        state_dict: v["state_dict"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                let shape = e["shape"].as_array().unwrap().iter().map(usize_of).collect();
                (e["name"].as_str().unwrap().to_string(), (shape, e["dtype"].as_str().unwrap().to_string()))
            })
            .collect(),
    }
}

/// name -> (shape, dtype) of every tensor in a safetensors file, read from its header.
fn header(path: &Path) -> BTreeMap<String, (Vec<usize>, String)> {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let file = safetensors::SafeTensors::deserialize(&bytes).expect("a safetensors file");
    file.tensors()
        .into_iter()
        .map(|(name, view)| (name, (view.shape().to_vec(), format!("{:?}", view.dtype()))))
        .collect()
}

/// recur's mean block loss, ln(ppl), by the book's evaluation at the fixture's batch x time.
fn loss(model: &mut Lm<f32>, ex: &Expected) -> f64 {
    eval_perplexity(model, &ex.ids, ex.batch_size, ex.time_size).expect("the text fills a batch").ln()
}

fn assert_rel(what: &str, ours: f64, theirs: f64, rtol: f64) {
    let rel = (ours - theirs).abs() / theirs.abs();
    assert!(
        rel <= rtol,
        "{what}: recur {ours:.9} vs {theirs:.9}: relative difference {rel:.1e} > {rtol:.0e}"
    );
}

/// Moves every weight by a deterministic amount (up to 0.3), so the model is one PyTorch never saw.
fn perturb(model: &mut Lm<f32>) {
    let ids: Vec<_> = model.params.ids().collect();
    for (j, id) in ids.into_iter().enumerate() {
        for (k, v) in model.params.value_mut(id).iter_mut().enumerate() {
            *v += 0.3 * ((k as f32) * 0.7 + j as f32).sin();
        }
    }
}

#[test]
fn recur_evaluates_pytorch_run_directories() {
    for case in CASES {
        let ex = expected(case);
        let dir = fixture_dir(case);
        // The fixture itself holds PyTorch's state_dict, in float32.
        assert_eq!(header(&dir.join("model.safetensors")), ex.state_dict, "{case}: fixture header");
        assert!(ex.state_dict.values().all(|(_, dtype)| dtype == "F32"), "{case}: fixture dtype");

        let mut loaded = RunDir::open(&dir).unwrap().load_lm().unwrap_or_else(|e| panic!("{case}: {e}"));
        assert!(loaded.config.train.is_none(), "{case}: a PyTorch run has no training section");
        // The text encodes to the ids PyTorch evaluated (what `recur eval --text` reads).
        let text = Scratch::new(&format!("pt-files-encode-{case}"));
        let text_path = text.file("text.txt", &ex.text);
        let encoded =
            recur::data::corpus::encode_file(&text_path, loaded.config.tokenizer, &loaded.vocab).unwrap();
        assert_eq!(encoded, ex.ids, "{case}: the text does not encode to the fixture's ids");

        let ours = loss(&mut loaded.model, &ex);
        eprintln!(
            "{case}: recur f32 loss {ours:.9}, PyTorch f32 {:.9} f64 {:.9} (rel. diff to f32 {:.1e})",
            ex.loss_f32,
            ex.loss_f64,
            (ours - ex.loss_f32).abs() / ex.loss_f32
        );
        assert_rel(&format!("{case}: loss against PyTorch's f32 loss"), ours, ex.loss_f32, RTOL);
        assert_rel(&format!("{case}: loss against PyTorch's f64 loss"), ours, ex.loss_f64, RTOL);
    }
}

#[test]
fn recur_files_have_pytorch_names_shapes_and_dtype() {
    let keep = std::env::var_os("RECUR_KEEP_RUNS").map(PathBuf::from);
    let scratch = Scratch::new("pt-files-save");
    for case in CASES {
        let ex = expected(case);
        let loaded = RunDir::open(&fixture_dir(case)).unwrap().load_lm().unwrap();
        let mut moved = loaded.model.clone();
        perturb(&mut moved);
        for (label, mut model) in [("as loaded", loaded.model.clone()), ("moved", moved)] {
            let what = format!("{case} ({label})");
            let before = loss(&mut model, &ex);
            if label == "as loaded" {
                assert_rel(&format!("{what}: loss"), before, ex.loss_f32, RTOL);
            } else {
                assert!(
                    (before - ex.loss_f32).abs() > 1e-2,
                    "{what}: perturb changed nothing ({before} vs {})",
                    ex.loss_f32
                );
            }

            // A full run directory: recur's config and vocab, the weights by checkpoint::save.
            let root = match (&keep, label) {
                (Some(keep), "moved") => keep.join(case),
                _ => scratch.path(&format!("{case}-{}", label.replace(' ', "-"))),
            };
            let run = RunDir::create(&root).unwrap();
            run.write_config(&RunConfig { train: None, ..loaded.config.clone() }).unwrap();
            run.write_vocab(&loaded.vocab).unwrap();
            checkpoint::save(&run.model_path(), &model.state_dict()).unwrap();

            // Exactly PyTorch's keys, shapes and dtype: strict load_state_dict accepts it.
            assert_eq!(header(&run.model_path()), ex.state_dict, "{what}: saved header");

            // Into a fresh model (other initial weights) through checkpoint::load.
            let tensors = checkpoint::load::<f32>(&run.model_path()).unwrap();
            if loaded.config.model.tie_weights {
                assert_eq!(tensors["decoder.weight"], tensors["encoder.weight"], "{what}: tied copy");
            }
            let mut fresh = Lm::<f32>::new(loaded.config.model.clone(), &mut Rng::new(99));
            fresh.set_training(false);
            fresh.load_state_dict(tensors).unwrap_or_else(|e| panic!("{what}: {e}"));
            let after = loss(&mut fresh, &ex);
            assert_rel(&format!("{what}: loss after the round trip"), after, before, 1e-7);
            eprintln!("{what}: loss {before:.9} before saving, {after:.9} after reloading");

            if keep.is_some() && label == "moved" {
                let note = serde_json::json!({
                    "loss": before,
                    "batch_size": ex.batch_size,
                    "time_size": ex.time_size,
                    "expected": fixture_dir(case).join("expected.json"),
                });
                std::fs::write(root.join("recur_loss.json"), format!("{note:#}\n")).unwrap();
                eprintln!("{what}: kept in {}", root.display());
            }
        }
    }
}

#[test]
fn recur_eval_prints_pytorchs_perplexity() {
    let case = "lstm";
    let ex = expected(case);
    let s = Scratch::new("pt-files-eval");
    let text = s.file("text.txt", &ex.text);
    let (b, t) = (ex.batch_size.to_string(), ex.time_size.to_string());
    let dir = fixture_dir(case);
    let out = recur(
        &s.root,
        [
            "eval".as_ref(),
            "--model".as_ref(),
            dir.as_os_str(),
            "--text".as_ref(),
            text.as_os_str(),
            "--batch-size".as_ref(),
            b.as_ref(),
            "--time-size".as_ref(),
            t.as_ref(),
        ] as [&std::ffi::OsStr; 9],
    );
    let out = success("recur eval --model <PyTorch run> --text", &out);
    let mut lines = out.lines();
    assert_eq!(lines.next(), Some(format!("{} tokens, batch {b} x {t}", ex.ids.len()).as_str()), "{out}");
    let ppl: f64 = lines
        .next()
        .and_then(|l| l.strip_prefix("text perplexity: "))
        .unwrap_or_else(|| panic!("no perplexity line in:\n{out}"))
        .parse()
        .unwrap();
    // Printed with two decimals.
    let theirs = ex.loss_f32.exp();
    assert!((ppl - theirs).abs() <= 0.005 + 1e-9 + RTOL * theirs, "recur eval {ppl} vs PyTorch {theirs:.4}");
}
