//! Attention (the book's chapter 8): finite-difference checks (f64) of `AttentionWeight` with each
//! score, `WeightSum`, `TimeAttention`, masking (padded source steps get weight exactly 0 and no
//! gradient), the whole attention encoder-decoder (every parameter, one direction and both),
//! greedy decoding with its weights, and configs written before attention.

mod common;

use common::*;
use ndarray::{arr2, Array2, Array3, ArrayD, Ix3};
use recur::layers::attention::{AttentionWeight, ScoreKind, WeightSum};
use recur::layers::{CellKind, IGNORE};
use recur::models::{Seq2seq, Seq2seqConfig};
use recur::params::Params;
use recur::tensor::Rng;
use recur::time::TimeAttention;

// N 2, T 3 decoder steps, S 4 source steps, E = Q = 5.
const N: usize = 2;
const T: usize = 3;
const S: usize = 4;
const E: usize = 5;

/// Row 0 has every step real, row 1 its first step padded (reversed input: padding first).
fn mask() -> Array2<bool> {
    arr2(&[[true, true, true, true], [false, true, true, true]])
}

fn random3(shape: (usize, usize, usize), rng: &mut Rng) -> Array3<f64> {
    random_array(&[shape.0, shape.1, shape.2], rng).into_dimensionality::<Ix3>().unwrap()
}

/// loss = sum(out * probe) for a fixed random probe: its gradient with respect to out is probe.
fn weighted(out: ndarray::ArrayView3<f64>, probe: &Array3<f64>) -> f64 {
    (&out * probe).sum()
}

fn check_attention_weight(kind: ScoreKind, seed: u64) {
    let mut rng = Rng::new(seed);
    let mut params = Params::new();
    let mut layer = AttentionWeight::new(&mut params, "attention", kind, E, E);
    randomize(&mut params, &mut rng, 0.5);
    let (hs, h) = (random3((N, S, E), &mut rng), random3((N, T, E), &mut rng));
    let probe = random3((N, T, S), &mut rng);
    let m = mask();
    let a = layer.forward(&params, hs.view(), h.view(), Some(m.view())).to_owned();
    for t in 0..T {
        assert_eq!(a[[1, t, 0]], 0.0, "{kind}: a padded step's weight is exactly 0");
        let sum: f64 = (0..S).map(|s| a[[1, t, s]]).sum();
        assert!((sum - 1.0).abs() < 1e-12, "{kind}: weights sum to {sum}");
    }
    params.zero_grad();
    let (dhs, dh) = layer.backward(&mut params, probe.view());
    let (dhs, dh) = (dhs.to_owned(), dh.to_owned());
    assert!(
        dhs.slice(ndarray::s![1, 0, ..]).iter().all(|&g| g == 0.0),
        "{kind}: a padded step gets no gradient"
    );
    let what = format!("AttentionWeight({kind})");
    let mut probe_layer = layer.clone();
    let mut loss = |p: &Params<f64>, hs: &Array3<f64>, h: &Array3<f64>| {
        weighted(probe_layer.forward(p, hs.view(), h.view(), Some(m.view())), &probe)
    };
    check_elements(&format!("{what}: dhs"), &hs.clone().into_dyn(), dhs.view().into_dyn(), |x| {
        loss(&params, &x.clone().into_dimensionality().unwrap(), &h)
    });
    check_elements(&format!("{what}: dh"), &h.clone().into_dyn(), dh.view().into_dyn(), |x| {
        loss(&params, &hs, &x.clone().into_dimensionality().unwrap())
    });
    if kind != ScoreKind::Dot {
        let mut p = params.clone();
        check_params(&what, &mut p, |p| loss(p, &hs, &h));
    }
}

#[test]
fn attention_weight_dot() {
    check_attention_weight(ScoreKind::Dot, 1);
}

#[test]
fn attention_weight_general() {
    check_attention_weight(ScoreKind::General, 2);
}

#[test]
fn attention_weight_additive() {
    check_attention_weight(ScoreKind::Additive, 3);
}

#[test]
fn weight_sum() {
    let mut rng = Rng::new(4);
    let (hs, a) = (random3((N, S, E), &mut rng), random3((N, T, S), &mut rng));
    let probe = random3((N, T, E), &mut rng);
    let mut layer = WeightSum::new();
    let c = layer.forward(hs.view(), a.view()).to_owned();
    let expected: f64 = (0..S).map(|s| a[[1, 2, s]] * hs[[1, s, 3]]).sum();
    assert!((c[[1, 2, 3]] - expected).abs() < 1e-12, "c = sum_s a_s hs_s");
    let (dhs, da) = layer.backward(probe.view());
    let (dhs, da) = (dhs.to_owned(), da.to_owned());
    let mut probe_layer = WeightSum::new();
    check_elements("WeightSum: dhs", &hs.clone().into_dyn(), dhs.view().into_dyn(), |x| {
        weighted(probe_layer.forward(x.view().into_dimensionality().unwrap(), a.view()), &probe)
    });
    check_elements("WeightSum: da", &a.clone().into_dyn(), da.view().into_dyn(), |x| {
        weighted(probe_layer.forward(hs.view(), x.view().into_dimensionality().unwrap()), &probe)
    });
}

/// The Time layer (weights then sum) with each score: hs gets both paths' gradients.
#[test]
fn time_attention_each_score_with_a_mask() {
    for (seed, kind) in [ScoreKind::Dot, ScoreKind::General, ScoreKind::Additive].into_iter().enumerate() {
        let mut rng = Rng::new(10 + seed as u64);
        let mut params = Params::new();
        let mut layer = TimeAttention::new(&mut params, "attention", kind, E, E);
        randomize(&mut params, &mut rng, 0.5);
        let (hs, h) = (random3((N, S, E), &mut rng), random3((N, T, E), &mut rng));
        let probe = random3((N, T, E), &mut rng);
        let m = mask();
        layer.forward(&params, hs.view(), h.view(), Some(m.view()));
        params.zero_grad();
        let (dhs, dh) = layer.backward(&mut params, probe.view());
        let (dhs, dh) = (dhs.to_owned(), dh.to_owned());
        assert!(
            dhs.slice(ndarray::s![1, 0, ..]).iter().all(|&g| g == 0.0),
            "{kind}: padded step, no gradient"
        );
        let mut probe_layer = layer.clone();
        let mut loss = |p: &Params<f64>, hs: &Array3<f64>, h: &Array3<f64>| {
            weighted(probe_layer.forward(p, hs.view(), h.view(), Some(m.view())), &probe)
        };
        let what = format!("TimeAttention({kind})");
        check_elements(&format!("{what}: dhs"), &hs.clone().into_dyn(), dhs.view().into_dyn(), |x| {
            loss(&params, &x.clone().into_dimensionality().unwrap(), &h)
        });
        check_elements(&format!("{what}: dh"), &h.clone().into_dyn(), dh.view().into_dyn(), |x| {
            loss(&params, &hs, &x.clone().into_dimensionality().unwrap())
        });
        if kind != ScoreKind::Dot {
            let mut p = params.clone();
            check_params(&what, &mut p, |p| loss(p, &hs, &h));
        }
    }
}

/// What a padded step holds changes nothing: not the weights, not the context.
#[test]
fn a_padded_step_changes_nothing() {
    let mut rng = Rng::new(20);
    let mut params = Params::new();
    let mut layer = TimeAttention::new(&mut params, "attention", ScoreKind::Additive, E, E);
    randomize(&mut params, &mut rng, 0.5);
    let (mut hs, h) = (random3((N, S, E), &mut rng), random3((N, T, E), &mut rng));
    let m = mask();
    let before = layer.forward(&params, hs.view(), h.view(), Some(m.view())).to_owned();
    hs.slice_mut(ndarray::s![1, 0, ..]).fill(1e3);
    let after = layer.forward(&params, hs.view(), h.view(), Some(m.view())).to_owned();
    assert_eq!(before, after);
}

// The whole model: V 8 (id 0 is <pad>), D 4, H 3, T_in 4, T_out 4.
const V: usize = 8;

fn config(cell: CellKind, kind: ScoreKind) -> Seq2seqConfig {
    Seq2seqConfig { attention: Some(kind), ..Seq2seqConfig::book(cell, V, 4, 3, false) }
}

/// Every parameter of the whole attention model against central differences; the second input
/// starts with padding (masked), one target is ignored.
fn check_model(config: Seq2seqConfig, seed: u64) {
    // The encoder that masks the padding finds it after the characters.
    let inputs =
        if config.mask_padding { [[3u32, 4, 7, 5], [5, 3, 0, 0]] } else { [[3, 4, 7, 5], [0, 0, 5, 3]] };
    check_model_on(config, seed, arr2(&inputs));
}

fn check_model_on(config: Seq2seqConfig, seed: u64, inputs: Array2<u32>) {
    let mut rng = Rng::new(seed);
    let mut model: Seq2seq<f64> = Seq2seq::new(config.clone(), &mut rng);
    randomize(&mut model.params, &mut rng, 0.5);
    let before = model.clone();
    let decoder_inputs = arr2(&[[1u32, 4, 6, 2], [1, 3, 5, 0]]);
    let targets = arr2(&[[4u32, 6, 2, 5], [3, 5, 2, IGNORE]]);
    model.forward(inputs.view(), decoder_inputs.view(), targets.view());
    model.params.zero_grad();
    model.backward();
    let what = format!("seq2seq {} x {}{}", config.num_layers, config.cell, config.variant());
    let mut params = model.params.clone();
    check_params(&what, &mut params, |p| {
        let mut probe = before.clone();
        probe.params = p.clone();
        probe.forward(inputs.view(), decoder_inputs.view(), targets.view())
    });
}

#[test]
fn gradcheck_lstm_attention_dot() {
    check_model(config(CellKind::Lstm, ScoreKind::Dot), 31);
}

#[test]
fn gradcheck_gru_attention_general() {
    check_model(config(CellKind::Gru, ScoreKind::General), 32);
}

#[test]
fn gradcheck_rnn_attention_additive() {
    check_model(config(CellKind::Rnn, ScoreKind::Additive), 33);
}

#[test]
fn gradcheck_bidirectional_encoder_attention() {
    check_model(Seq2seqConfig { bidirectional: true, ..config(CellKind::Lstm, ScoreKind::Dot) }, 34);
    check_model(Seq2seqConfig { bidirectional: true, ..config(CellKind::Gru, ScoreKind::Additive) }, 35);
}

#[test]
fn gradcheck_bidirectional_without_attention() {
    check_model(
        Seq2seqConfig { bidirectional: true, attention: None, ..config(CellKind::Lstm, ScoreKind::Dot) },
        36,
    );
}

#[test]
fn gradcheck_two_layers_with_dropout_and_attention() {
    let cfg = Seq2seqConfig {
        num_layers: 2,
        dropout: 0.3,
        bidirectional: true,
        ..config(CellKind::Lstm, ScoreKind::General)
    };
    check_model(cfg, 37);
}

#[test]
fn gradcheck_encoder_that_masks_the_padding() {
    let masked = |c: Seq2seqConfig| Seq2seqConfig { mask_padding: true, ..c };
    check_model(masked(config(CellKind::Lstm, ScoreKind::Dot)), 38);
    check_model(masked(Seq2seqConfig { attention: None, ..config(CellKind::Gru, ScoreKind::Dot) }), 39);
    check_model(
        masked(Seq2seqConfig { bidirectional: true, ..config(CellKind::Lstm, ScoreKind::Additive) }),
        40,
    );
    let two = Seq2seqConfig {
        num_layers: 2,
        peeky: true,
        attention: None,
        ..config(CellKind::Lstm, ScoreKind::Dot)
    };
    check_model(masked(two), 41);
}

/// With `mask_padding` an input's loss does not depend on how much padding follows it (without,
/// the encoder reads the padding and it does).
#[test]
fn a_masked_encoder_ignores_the_padding_length() {
    for (mask_padding, bidirectional) in [(true, false), (true, true), (false, false)] {
        let cfg = Seq2seqConfig { mask_padding, bidirectional, ..config(CellKind::Lstm, ScoreKind::General) };
        let mut model: Seq2seq<f64> = Seq2seq::new(cfg, &mut Rng::new(5));
        randomize(&mut model.params, &mut Rng::new(6), 0.5);
        let (decoder_inputs, targets) = (arr2(&[[1u32, 4, 6]]), arr2(&[[4u32, 6, 2]]));
        let mut loss =
            |inputs: Array2<u32>| model.forward(inputs.view(), decoder_inputs.view(), targets.view());
        let short = loss(arr2(&[[3u32, 4, 7]]));
        let padded = loss(arr2(&[[3u32, 4, 7, 0, 0]]));
        if mask_padding {
            assert!((short - padded).abs() < 1e-12, "bidirectional {bidirectional}: {short} vs {padded}");
        } else {
            assert!(
                (short - padded).abs() > 1e-6,
                "the book's encoder reads the padding: {short} vs {padded}"
            );
        }
    }
}

#[test]
fn greedy_with_attention_gives_each_output_its_weights() {
    let mut model: Seq2seq<f64> = Seq2seq::new(config(CellKind::Lstm, ScoreKind::Dot), &mut Rng::new(5));
    randomize(&mut model.params, &mut Rng::new(6), 1.0);
    let inputs = arr2(&[[3u32, 4, 7, 5], [0, 0, 5, 3]]);
    let decoded = model.greedy_with_attention(inputs.view(), 1, 2, 6);
    assert_eq!(
        decoded.iter().map(|(ids, _)| ids.clone()).collect::<Vec<_>>(),
        model.greedy(inputs.view(), 1, 2, 6)
    );
    for (row, (ids, weights)) in decoded.iter().enumerate() {
        let steps = if ids.len() == 6 { 6 } else { ids.len() + 1 }; // cut by max_len, or ended
        assert_eq!(weights.dim(), (steps, 4), "each output and the end symbol");
        for step in weights.rows() {
            assert!((step.sum() - 1.0).abs() < 1e-12);
            if row == 1 {
                assert_eq!((step[0], step[1]), (0.0, 0.0), "padding gets no attention");
            }
        }
    }
    assert!(decoded.iter().any(|(ids, _)| !ids.is_empty()), "something decoded");
}

#[test]
fn attention_state_dict_names_and_old_configs() {
    let cfg = Seq2seqConfig { bidirectional: true, ..config(CellKind::Gru, ScoreKind::Additive) };
    let model: Seq2seq<f64> = Seq2seq::new(cfg.clone(), &mut Rng::new(1));
    let names: Vec<String> = model.state_dict().into_iter().map(|(name, _)| name).collect();
    for name in [
        "decoder.attention.W1",
        "decoder.attention.W2",
        "decoder.attention.v",
        "encoder.rnn.weight_ih_l0_reverse",
    ] {
        assert!(names.iter().any(|n| n == name), "{name} in {names:?}");
    }
    let shapes: std::collections::BTreeMap<String, Vec<usize>> =
        model.state_dict().into_iter().map(|(n, a): (String, ArrayD<f64>)| (n, a.shape().to_vec())).collect();
    assert_eq!(shapes["decoder.head.weight"], vec![V, 12], "[context | h], each 2H");
    assert_eq!(shapes["decoder.rnn.weight_hh_l0"], vec![3 * 6, 6], "the decoder is 2H wide");
    let total: usize = shapes.values().map(|s| s.iter().product::<usize>()).sum();
    assert_eq!(cfg.parameter_count(), Some(total as u128));
    let mut loaded: Seq2seq<f64> = Seq2seq::new(cfg.clone(), &mut Rng::new(2));
    loaded.load_state_dict(model.state_dict().into_iter().collect()).unwrap();
    assert_eq!(
        loaded.params.value(loaded.params.ids().next().unwrap()),
        model.params.value(model.params.ids().next().unwrap())
    );
    // A config written before attention: no attention, one direction; and none is written back.
    let old = r#"{"cell":"lstm","vocab_size":8,"embed_size":4,"hidden_size":3,"peeky":true}"#;
    let read: Seq2seqConfig = serde_json::from_str(old).unwrap();
    assert_eq!((read.attention, read.bidirectional), (None, false));
    let written = serde_json::to_string(&read).unwrap();
    assert!(!written.contains("attention") && !written.contains("bidirectional"), "{written}");
    let json = serde_json::to_string(&cfg).unwrap();
    assert!(json.contains(r#""attention":"additive""#) && json.contains(r#""bidirectional":true"#), "{json}");
    let peeky_and_attention = Seq2seqConfig { peeky: true, ..cfg };
    assert!(peeky_and_attention.check().is_err());
}
