//! Beam-search decoding of encoder-decoders (issue 17): exact against an exhaustive search on a
//! tiny model and vocabulary, greedy at width 1, for every decoder kind.

mod common;

use common::randomize;
use ndarray::{arr2, Array2};
use recur::data::pairs::CharVocab;
use recur::layers::attention::ScoreKind;
use recur::layers::CellKind;
use recur::models::{Seq2seq, Seq2seqConfig};
use recur::tensor::Rng;

const V: usize = 5;
const MAX_LEN: usize = 4;
const GO: u32 = CharVocab::GO;
const EOS: u32 = CharVocab::EOS;

/// log P(`tokens`, then EOS when `finished`) for `input`, teacher forced, from the mean loss.
fn log_prob(model: &mut Seq2seq<f64>, input: &Array2<u32>, tokens: &[u32], finished: bool) -> f64 {
    let mut targets = tokens.to_vec();
    if finished {
        targets.push(EOS);
    }
    let decoder_inputs: Vec<u32> =
        std::iter::once(GO).chain(tokens.iter().copied()).take(targets.len()).collect();
    let t = targets.len();
    let xs = Array2::from_shape_vec((1, t), decoder_inputs).unwrap();
    let ts = Array2::from_shape_vec((1, t), targets).unwrap();
    -model.forward(input.view(), xs.view(), ts.view()) * t as f64
}

/// The best output by trying every one: all token sequences ending in EOS within MAX_LEN steps,
/// and those of MAX_LEN tokens without it.
fn exhaustive(model: &mut Seq2seq<f64>, input: &Array2<u32>, length_norm: bool) -> (Vec<u32>, f64) {
    let mut best = (Vec::new(), f64::NEG_INFINITY, f64::NEG_INFINITY);
    for len in 0..=MAX_LEN {
        for code in 0..V.pow(len as u32) {
            let tokens: Vec<u32> = (0..len).map(|k| ((code / V.pow(k as u32)) % V) as u32).collect();
            if tokens.contains(&EOS) {
                continue;
            }
            let finished = len < MAX_LEN;
            let lp = log_prob(model, input, &tokens, finished);
            let rank = if length_norm { lp / (len + usize::from(finished)) as f64 } else { lp };
            if rank > best.2 {
                best = (tokens, lp, rank);
            }
        }
    }
    (best.0, best.1)
}

fn models() -> Vec<(String, Seq2seqConfig)> {
    let book = |cell, peeky| Seq2seqConfig::book(cell, V, 4, 3, peeky);
    vec![
        ("lstm".into(), book(CellKind::Lstm, false)),
        ("gru peeky".into(), book(CellKind::Gru, true)),
        (
            "lstm attention dot".into(),
            Seq2seqConfig { attention: Some(ScoreKind::Dot), ..book(CellKind::Lstm, false) },
        ),
        (
            "rnn attention additive, bidirectional".into(),
            Seq2seqConfig {
                attention: Some(ScoreKind::Additive),
                bidirectional: true,
                ..book(CellKind::Rnn, false)
            },
        ),
    ]
}

#[test]
fn a_wide_beam_is_the_exhaustive_best_and_width_one_is_greedy() {
    let inputs = arr2(&[[3u32, 4, 3, 4], [0, 0, 4, 3]]);
    let (mut beam_beat_greedy, mut lengths) = (0, std::collections::BTreeSet::new());
    for (seed, (name, config)) in models().into_iter().enumerate() {
        let mut rng = Rng::new(40 + seed as u64);
        let mut model: Seq2seq<f64> = Seq2seq::new(config, &mut rng);
        // Larger weights than the initialisation, so outputs differ in length and greedy errs.
        randomize(&mut model.params, &mut rng, 1.5);
        let greedy = model.greedy(inputs.view(), GO, EOS, MAX_LEN);
        let one = model.beam(inputs.view(), GO, EOS, MAX_LEN, 1, false);
        for length_norm in [false, true] {
            let wide = model.beam(inputs.view(), GO, EOS, MAX_LEN, V.pow(MAX_LEN as u32), length_norm);
            for row in 0..inputs.nrows() {
                let input = inputs.row(row).insert_axis(ndarray::Axis(0)).to_owned();
                let (best, best_lp) = exhaustive(&mut model, &input, length_norm);
                assert_eq!(wide[row].tokens, best, "{name}, input {row}, length_norm {length_norm}");
                assert!(
                    (wide[row].log_prob - best_lp).abs() < 1e-9,
                    "{name}: {} vs {best_lp}",
                    wide[row].log_prob
                );
                if !length_norm {
                    assert_eq!(one[row].tokens, greedy[row], "{name}, input {row}: width 1 is greedy");
                    let finished = one[row].finished;
                    let lp = log_prob(&mut model, &input, &greedy[row], finished);
                    assert!((one[row].log_prob - lp).abs() < 1e-9, "{name}: greedy's log-probability");
                    assert!(wide[row].log_prob >= lp - 1e-12, "{name}: the beam never scores below greedy");
                    beam_beat_greedy += usize::from(wide[row].log_prob > lp + 1e-9);
                    lengths.insert(wide[row].tokens.len());
                }
            }
        }
    }
    // Or the test would not tell a beam from greedy decoding, nor handle outputs of any length.
    assert!(beam_beat_greedy > 0 && lengths.len() > 1, "{beam_beat_greedy} wins, lengths {lengths:?}");
}

/// `seq2seq predict` and `eval` take `--beam K` (1 = the greedy output) and `--length-norm`.
#[test]
fn predict_and_eval_decode_by_beam_search() {
    use common::cli::*;
    let s = Scratch::new("s2s-beam");
    let dir = s.path("run");
    let model = dir.to_str().unwrap();
    let train = [
        "seq2seq",
        "train",
        "--addition",
        "--examples",
        "600",
        "--epochs",
        "2",
        "--hidden-size",
        "16",
        "--out",
        model,
    ];
    success("train", &recur(&s, train));
    let predict = |extra: &[&str]| {
        let mut args = vec!["seq2seq", "predict", "--model", model, "12+34", "7+8", "100+99"];
        args.extend(extra);
        success("predict", &recur(&s, &args))
    };
    let greedy = predict(&[]);
    assert_eq!(predict(&["--beam", "1"]), greedy);
    assert_eq!(predict(&["--beam", "4", "--length-norm"]).lines().count(), 3);
    let out = success("eval --beam 3", &recur(&s, ["seq2seq", "eval", "--model", model, "--beam", "3"]));
    assert!(out.contains("accuracy: "), "{out}");
    failure(
        "--beam 0",
        &recur(&s, ["seq2seq", "predict", "--model", model, "--beam", "0", "1+1"]),
        &["--beam"],
    );
    let alone = recur(&s, ["seq2seq", "predict", "--model", model, "--length-norm", "1+1"]);
    assert_eq!(alone.status.code(), Some(2), "--length-norm needs --beam");
}
