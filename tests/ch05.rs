//! Chapter 5 of "Deep Learning from Scratch 2" on PTB: SimpleRnnlm on the first 1000 words
//! (vocabulary 418), batch 10, time 5, D = H = 100, SGD lr 0.1, 100 epochs.
//!
//! Two checks, both needing `$RECUR_DATA/ptb/ptb.train.txt` (skipped, loudly, without it):
//! 1. Same start, same path: from the NumPy reference's initial weights
//!    (`tests/fixtures/ch05_numpy_seed1_init.safetensors`, written by
//!    `OPENBLAS_NUM_THREADS=1 python3 bench/numpy_ch05.py train --seed 1 --save-init FILE`),
//!    recur's per-epoch perplexity follows the NumPy run's (`ch05_numpy_seed1_ppl.txt`) to 0.5%
//!    through epoch 80. Later the curve oscillates by several percent from one epoch to the next
//!    (NumPy's epochs 98-100: 5.32, 5.41, 5.04) and float rounding differences (BLAS vs gemm
//!    summation order, recur's exp polynomial) shift the phase of that oscillation, as two NumPy
//!    thread counts do: each of epochs 81-100 must agree within 10%, and the mean of epochs
//!    91-100 within 1% (measured 2026-11-23: 0.21%, the largest single epoch 5.2%).
//! 2. recur's own seeds land where the book's runs land: epoch 1 in 360-415 and epoch 100 in
//!    4.5-7.5 (the book's code, 8 runs: 367-407 and 5.1-7.5; NumPy reference seeds 1-3: epoch 100
//!    4.93-6.20; the spread over seeds is that wide).

mod common;

use recur::data::ptb;
use recur::io::checkpoint;
use recur::models::{LmConfig, SimpleRnnlm};
use recur::optim::{Optimizer, OptimizerKind};
use recur::tasks::train_epoch;
use recur::tensor::Rng;
use recur::train::BpttBatcher;
use std::path::Path;

fn train_ch05(data: &Path, seed: u64, init: Option<&Path>) -> Vec<f64> {
    let mut corpus = ptb::load_train(&data.join("ptb")).expect("PTB train split");
    corpus.truncate(1000).unwrap();
    assert_eq!(corpus.vocab.len(), 418, "the book's vocabulary size for the first 1000 words");
    let mut model: SimpleRnnlm<f32> =
        SimpleRnnlm::new(LmConfig::simple_rnnlm(corpus.vocab.len(), 100, 100), &mut Rng::new(seed));
    if let Some(init) = init {
        model.load_state_dict(checkpoint::load(init).unwrap()).unwrap();
    }
    let mut batcher = BpttBatcher::new(corpus.ids.len(), 10, 5).unwrap();
    let mut sgd = Optimizer::new(OptimizerKind::Sgd, 0.1, 0.0);
    (0..100)
        .map(|_| train_epoch(&mut model, &corpus.ids, &mut batcher, &mut sgd, None, &mut |_, _| {}).exp())
        .collect()
}

#[test]
fn from_the_numpy_reference_init_recur_follows_its_perplexity_curve() {
    let Some(data) = common::shared_data("ch05 shared init", "ptb/ptb.train.txt") else { return };
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let ours = train_ch05(&data, 0, Some(&fixtures.join("ch05_numpy_seed1_init.safetensors")));
    let theirs: Vec<f64> = std::fs::read_to_string(fixtures.join("ch05_numpy_seed1_ppl.txt"))
        .unwrap()
        .lines()
        .map(|l| l.split_whitespace().nth(1).unwrap().parse().unwrap())
        .collect();
    assert_eq!(theirs.len(), 100);
    for (epoch, (a, b)) in ours.iter().zip(&theirs).enumerate() {
        let tolerance = if epoch < 80 { 0.005 } else { 0.10 };
        assert!(
            (a - b).abs() <= tolerance * b,
            "epoch {}: recur perplexity {a:.3}, NumPy reference {b:.3} (tolerance {}%)",
            epoch + 1,
            tolerance * 100.0
        );
    }
    let mean = |xs: &[f64]| xs.iter().sum::<f64>() / xs.len() as f64;
    let (late_ours, late_theirs) = (mean(&ours[90..]), mean(&theirs[90..]));
    assert!(
        (late_ours - late_theirs).abs() <= 0.01 * late_theirs,
        "mean perplexity of epochs 91-100: recur {late_ours:.3}, NumPy reference {late_theirs:.3} (tolerance 1%)"
    );
    eprintln!(
        "epoch 1: recur {:.2} NumPy {:.2}; epoch 100: recur {:.2} NumPy {:.2}",
        ours[0], theirs[0], ours[99], theirs[99]
    );
}

#[test]
fn three_seeds_land_in_the_books_bands() {
    let Some(data) = common::shared_data("ch05 seeds", "ptb/ptb.train.txt") else { return };
    for seed in 1..=3 {
        let ppl = train_ch05(&data, seed, None);
        eprintln!("seed {seed}: epoch 1 {:.2}, epoch 100 {:.2}", ppl[0], ppl[99]);
        assert!((360.0..=415.0).contains(&ppl[0]), "seed {seed}: epoch-1 perplexity {:.2}", ppl[0]);
        assert!((4.5..=7.5).contains(&ppl[99]), "seed {seed}: epoch-100 perplexity {:.2}", ppl[99]);
    }
}
