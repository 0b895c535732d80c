//! The encoder-decoder: gradient checks of the whole model (plain and peeky, f64), greedy
//! decoding, the pair reader, the addition generator, the batch layout, and `recur seq2seq`
//! end to end on a tiny run.

mod common;

use common::cli::{failure, read_json, recur, success, Scratch};
use common::*;
use ndarray::{arr2, s, Array2, ArrayD, IxDyn};
use recur::data::pairs::{self, CharVocab, Layout, Padding, Pair, ADDITION_MAX_EXAMPLES};
use recur::layers::{CellKind, IGNORE};
use recur::models::{Seq2seq, Seq2seqConfig};
use recur::tensor::Rng;
use std::collections::HashSet;

// Tiny, pairwise different sizes: N 2, T_in 3, T_out 4, D 4, H 5, V 7.
const D: usize = 4;
const H: usize = 5;
const V: usize = 7;

fn config(cell: CellKind, peeky: bool) -> Seq2seqConfig {
    Seq2seqConfig::book(cell, V, D, H, peeky)
}

/// Every parameter of the whole model against central differences; one target ignored, so the
/// padded positions of a batch are covered. With dropout every probe starts from the model as
/// it was before the forward, so it draws the same masks.
fn check_config(config: Seq2seqConfig, seed: u64) {
    let mut rng = Rng::new(seed);
    let mut model: Seq2seq<f64> = Seq2seq::new(config.clone(), &mut rng);
    randomize(&mut model.params, &mut rng, 0.5);
    let before = model.clone();
    let inputs = arr2(&[[3u32, 4, 0], [6, 5, 3]]);
    let decoder_inputs = arr2(&[[1u32, 4, 6, 2], [1, 3, 5, 0]]);
    let targets = arr2(&[[4u32, 6, 2, 5], [3, 5, 2, IGNORE]]);
    model.forward(inputs.view(), decoder_inputs.view(), targets.view());
    model.params.zero_grad();
    model.backward();
    let what = format!(
        "seq2seq {} x {}{}{}",
        config.num_layers,
        config.cell,
        if config.peeky { " peeky" } else { "" },
        if config.dropout > 0.0 { format!(" dropout {}", config.dropout) } else { String::new() }
    );
    let mut params = model.params.clone();
    check_params(&what, &mut params, |p| {
        let mut probe = before.clone();
        probe.params = p.clone();
        probe.forward(inputs.view(), decoder_inputs.view(), targets.view())
    });
}

fn check_model(cell: CellKind, peeky: bool, seed: u64) {
    check_config(config(cell, peeky), seed);
}

#[test]
fn gradcheck_lstm_plain() {
    check_model(CellKind::Lstm, false, 41);
}

#[test]
fn gradcheck_lstm_peeky() {
    check_model(CellKind::Lstm, true, 42);
}

#[test]
fn gradcheck_gru_peeky() {
    check_model(CellKind::Gru, true, 43);
}

#[test]
fn gradcheck_rnn_plain() {
    check_model(CellKind::Rnn, false, 44);
}

#[test]
fn gradcheck_two_lstm_layers_peeky() {
    check_config(Seq2seqConfig { num_layers: 2, ..config(CellKind::Lstm, true) }, 45);
}

#[test]
fn gradcheck_three_gru_layers_with_dropout() {
    check_config(Seq2seqConfig { num_layers: 3, dropout: 0.3, ..config(CellKind::Gru, false) }, 46);
}

#[test]
fn gradcheck_two_rnn_layers_peeky_with_dropout() {
    check_config(Seq2seqConfig { num_layers: 2, dropout: 0.5, ..config(CellKind::Rnn, true) }, 47);
}

/// Dropout draws masks in training mode only: evaluation is deterministic and equals the
/// model without dropout; training differs; greedy decoding never drops.
#[test]
fn dropout_applies_in_training_only() {
    let with = Seq2seqConfig { num_layers: 2, dropout: 0.5, ..config(CellKind::Lstm, true) };
    let mut model: Seq2seq<f64> = Seq2seq::new(with.clone(), &mut Rng::new(8));
    randomize(&mut model.params, &mut Rng::new(9), 0.5);
    let mut plain: Seq2seq<f64> = Seq2seq::new(Seq2seqConfig { dropout: 0.0, ..with }, &mut Rng::new(8));
    plain.params = model.params.clone();
    let inputs = arr2(&[[3u32, 4, 0], [6, 5, 3]]);
    let dec = arr2(&[[1u32, 4, 6], [1, 3, 5]]);
    let tgt = arr2(&[[4u32, 6, 2], [3, 5, 2]]);
    let trained = model.forward(inputs.view(), dec.view(), tgt.view());
    let reference = plain.forward(inputs.view(), dec.view(), tgt.view());
    assert!((trained - reference).abs() > 1e-6, "dropout changed nothing in training");
    model.set_training(false);
    let evaluated = model.forward(inputs.view(), dec.view(), tgt.view());
    assert_eq!(evaluated, reference, "evaluation mode drops nothing");
    model.set_training(true);
    assert_eq!(model.greedy(inputs.view(), 1, 2, 4), plain.greedy(inputs.view(), 1, 2, 4));
}

/// One layer without dropout is the book's model: the weights drawn from a seed are the ones
/// drawn before layers and dropout existed (the draw order: encoder embedding, W_ih, W_hh,
/// decoder embedding, W_ih, W_hh, affine), and the generator is left where it was.
#[test]
fn one_layer_without_dropout_draws_what_the_book_model_drew() {
    let mut rng = Rng::new(11);
    let model: Seq2seq<f64> = Seq2seq::new(config(CellKind::Lstm, true), &mut rng);
    let mut expected = Rng::new(11);
    let mut draw = |shape: &[usize], scale: f64| {
        let mut a = ArrayD::<f64>::zeros(IxDyn(shape));
        expected.fill_normal(&mut a, scale);
        a
    };
    let want = [
        ("encoder.embedding.weight", draw(&[V, D], 0.01)),
        ("encoder.rnn.weight_ih_l0", draw(&[4 * H, D], 1.0 / (D as f64).sqrt())),
        ("encoder.rnn.weight_hh_l0", draw(&[4 * H, H], 1.0 / (H as f64).sqrt())),
        ("decoder.embedding.weight", draw(&[V, D], 0.01)),
        ("decoder.rnn.weight_ih_l0", draw(&[4 * H, H + D], 1.0 / ((H + D) as f64).sqrt())),
        ("decoder.rnn.weight_hh_l0", draw(&[4 * H, H], 1.0 / (H as f64).sqrt())),
        ("decoder.head.weight", draw(&[V, 2 * H], 1.0 / ((2 * H) as f64).sqrt())),
    ];
    for (name, value) in want {
        let id = model.params.find(name).unwrap();
        assert_eq!(model.params.value(id), value.view(), "{name}");
    }
    assert_eq!(rng.next_u64(), expected.next_u64(), "the generator moved on by the same draws");
}

#[test]
fn stacked_layers_are_named_like_pytorch_and_counted() {
    for (cell, peeky, layers) in
        [(CellKind::Lstm, true, 3), (CellKind::Gru, false, 2), (CellKind::Rnn, true, 1)]
    {
        let cfg = Seq2seqConfig { num_layers: layers, ..config(cell, peeky) };
        let model: Seq2seq<f32> = Seq2seq::new(cfg.clone(), &mut Rng::new(1));
        assert_eq!(cfg.parameter_count(), Some(model.params.num_elements() as u128), "{cell} {layers}");
        let rows = model.summary();
        assert_eq!(rows.iter().map(|r| r.params).sum::<usize>(), model.params.num_elements());
        let names: Vec<String> = model.state_dict().into_iter().map(|(n, _)| n).collect();
        for side in ["encoder", "decoder"] {
            for k in 0..layers {
                for tensor in ["weight_ih", "weight_hh", "bias_ih", "bias_hh"] {
                    let name = format!("{side}.rnn.{tensor}_l{k}");
                    assert!(names.contains(&name), "{name} missing from {names:?}");
                }
            }
        }
        let gates = match cell {
            CellKind::Lstm => 4,
            CellKind::Gru => 3,
            CellKind::Rnn => 1,
        };
        let dict: std::collections::BTreeMap<_, _> = model.state_dict().into_iter().collect();
        let first = if peeky { H + D } else { D };
        assert_eq!(dict["decoder.rnn.weight_ih_l0"].shape(), [gates * H, first]);
        if layers > 1 {
            assert_eq!(dict["decoder.rnn.weight_ih_l1"].shape(), [gates * H, H]);
            assert_eq!(dict["encoder.rnn.weight_ih_l1"].shape(), [gates * H, H]);
        }
    }
}

#[test]
fn parameter_names_and_shapes_are_pytorch_style() {
    let model: Seq2seq<f32> = Seq2seq::new(config(CellKind::Lstm, true), &mut Rng::new(1));
    let dict = model.state_dict();
    let shapes: Vec<(&str, Vec<usize>)> =
        dict.iter().map(|(n, a)| (n.as_str(), a.shape().to_vec())).collect();
    assert_eq!(
        shapes,
        vec![
            ("decoder.embedding.weight", vec![V, D]),
            ("decoder.head.bias", vec![V]),
            ("decoder.head.weight", vec![V, 2 * H]),
            ("decoder.rnn.bias_hh_l0", vec![4 * H]),
            ("decoder.rnn.bias_ih_l0", vec![4 * H]),
            ("decoder.rnn.weight_hh_l0", vec![4 * H, H]),
            ("decoder.rnn.weight_ih_l0", vec![4 * H, H + D]),
            ("encoder.embedding.weight", vec![V, D]),
            ("encoder.rnn.bias_hh_l0", vec![4 * H]),
            ("encoder.rnn.bias_ih_l0", vec![4 * H]),
            ("encoder.rnn.weight_hh_l0", vec![4 * H, H]),
            ("encoder.rnn.weight_ih_l0", vec![4 * H, D]),
        ]
    );
}

#[test]
fn state_dict_round_trips_and_adds_bias_hh() {
    let mut rng = Rng::new(5);
    let mut model: Seq2seq<f64> = Seq2seq::new(config(CellKind::Lstm, false), &mut rng);
    randomize(&mut model.params, &mut rng, 0.5);
    let inputs = arr2(&[[3u32, 4, 0]]);
    let dec = arr2(&[[1u32, 4]]);
    let tgt = arr2(&[[4u32, 2]]);
    let want = model.forward(inputs.view(), dec.view(), tgt.view());
    // A PyTorch-style file carries two biases; recur keeps their sum.
    let mut tensors: std::collections::BTreeMap<String, ArrayD<f64>> =
        model.state_dict().into_iter().collect();
    let half = tensors["encoder.rnn.bias_ih_l0"].mapv(|b| b / 2.0);
    tensors.insert("encoder.rnn.bias_ih_l0".into(), half.clone());
    tensors.insert("encoder.rnn.bias_hh_l0".into(), half);
    let mut loaded: Seq2seq<f64> = Seq2seq::new(config(CellKind::Lstm, false), &mut Rng::new(99));
    loaded.load_state_dict(tensors.clone()).unwrap();
    let got = loaded.forward(inputs.view(), dec.view(), tgt.view());
    assert!((got - want).abs() < 1e-12, "{got} vs {want}");

    tensors.insert("decoder.extra".into(), ArrayD::zeros(IxDyn(&[1])));
    let err = loaded.load_state_dict(tensors.clone()).unwrap_err();
    assert!(err.message().contains("decoder.extra"), "{err}");
    tensors.remove("decoder.extra");
    tensors.remove("decoder.head.bias");
    let err = loaded.load_state_dict(tensors).unwrap_err();
    assert!(err.message().contains("missing tensor `decoder.head.bias`"), "{err}");
}

/// A hand-made decoder that follows a fixed chain of symbols: RNN cell, identity embedding,
/// `W_ih` a permutation (symbol k -> hidden unit next(k)), `W_hh` zero, identity head. Greedy
/// decoding must feed each choice back and stop at `<eos>` (id 2) or after `max_len` symbols.
fn chain_model(next: [usize; V]) -> Seq2seq<f64> {
    let cfg = Seq2seqConfig::book(CellKind::Rnn, V, V, V, false);
    let mut model: Seq2seq<f64> = Seq2seq::new(cfg, &mut Rng::new(1));
    let ids: Vec<_> = model.params.ids().collect();
    for id in ids {
        model.params.value_mut(id).fill(0.0);
    }
    let eye = Array2::<f64>::eye(V).into_dyn();
    let mut perm = Array2::<f64>::zeros((V, V));
    for (k, &n) in next.iter().enumerate() {
        perm[[n, k]] = 3.0; // W_ih is (H, D): row = hidden unit, column = input symbol
    }
    let p = &mut model.params;
    p.value_mut(model.decoder.embed.inner.weight).assign(&eye);
    p.value_mut(model.decoder.rnns[0].w_ih()).assign(&perm.into_dyn());
    p.value_mut(model.decoder.head.inner.weight).assign(&(eye * 10.0));
    model
}

#[test]
fn greedy_decoding_stops_at_eos_or_max_len() {
    // <go>=1 -> 3 -> 4 -> <eos>=2
    let mut model = chain_model([0, 3, 0, 4, 2, 0, 0]);
    let inputs = arr2(&[[3u32, 4], [5, 6]]);
    assert_eq!(model.greedy(inputs.view(), 1, 2, 10), vec![vec![3, 4], vec![3, 4]]);
    assert_eq!(model.greedy(inputs.view(), 1, 2, 1), vec![vec![3], vec![3]], "max_len cuts");
    assert_eq!(model.greedy(inputs.view(), 4, 2, 10), vec![Vec::<u32>::new(); 2], "EOS first: empty");
    // No <eos> on the cycle 3 -> 4 -> 3: exactly max_len symbols.
    let mut cycling = chain_model([0, 3, 0, 4, 3, 0, 0]);
    assert_eq!(cycling.greedy(inputs.view(), 1, 2, 5), vec![vec![3, 4, 3, 4, 3]; 2]);
}

/// Step-by-step greedy decoding equals the teacher-forced pass fed its own choices (peeky: the
/// encoder's h must be given to every step the same way in both; stacked: every layer's state
/// carried from step to step; dropout: off in evaluation mode).
#[test]
fn greedy_matches_teacher_forced_scores() {
    for (cell, peeky, layers) in
        [(CellKind::Lstm, true, 1), (CellKind::Gru, false, 1), (CellKind::Lstm, true, 3)]
    {
        let mut rng = Rng::new(7);
        let cfg = Seq2seqConfig { num_layers: layers, dropout: 0.4, ..config(cell, peeky) };
        let mut model: Seq2seq<f64> = Seq2seq::new(cfg, &mut rng);
        model.set_training(false);
        randomize(&mut model.params, &mut rng, 1.0);
        let inputs = arr2(&[[3u32, 4, 0], [6, 5, 3], [2, 2, 6]]);
        // end = V: never produced, so every row runs the full 5 steps.
        let decoded = model.greedy(inputs.view(), 1, V as u32, 5);
        let mut dec = Array2::from_elem((3, 5), 1u32);
        for (n, ids) in decoded.iter().enumerate() {
            assert_eq!(ids.len(), 5);
            dec.slice_mut(s![n, 1..]).assign(&ndarray::aview1(&ids[..4]));
        }
        model.forward(inputs.view(), dec.view(), Array2::from_elem((3, 5), 0u32).view());
        let probs = model.loss.probs();
        for (n, ids) in decoded.iter().enumerate() {
            for (t, &id) in ids.iter().enumerate() {
                let row = probs.slice(s![n, t, ..]);
                let best = row.iter().enumerate().fold(0, |b, (i, &p)| if p > row[b] { i } else { b });
                assert_eq!(best as u32, id, "{cell} x {layers} peeky {peeky}: row {n} step {t}");
            }
        }
    }
}

#[test]
fn tsv_reader_reads_pairs_and_names_bad_lines() {
    let dir = Scratch::new("pairs");
    let good = dir.file("good.tsv", "16+75\t91\r\n\n52+607\t659\nsept 27, 1994\t1994-09-27\n");
    assert_eq!(
        pairs::read_pairs(&good).unwrap(),
        vec![Pair::new("16+75", "91"), Pair::new("52+607", "659"), Pair::new("sept 27, 1994", "1994-09-27")]
    );
    let numbered = pairs::read_numbered_pairs(&good).unwrap();
    assert_eq!(numbered.iter().map(|(l, _)| *l).collect::<Vec<_>>(), vec![1, 3, 4]);
    for (name, text, line, needle) in [
        ("notab.tsv", "1+1\t2\n2+2 4\n", 2, "no tab"),
        ("twotabs.tsv", "1+1\t2\t3\n", 1, "more than one tab"),
        ("noinput.tsv", "1+1\t2\n\n\t4\n", 3, "empty input"),
        ("nooutput.tsv", "1+1\t\n", 1, "empty output"),
    ] {
        let path = dir.file(name, text);
        let err = pairs::read_pairs(&path).unwrap_err().to_string();
        assert!(err.starts_with(&format!("{}:{line}: ", path.display())), "{err}");
        assert!(err.contains("input<TAB>output") && err.contains(needle), "{err}");
    }
    let empty = dir.file("empty.tsv", "\n\n");
    let err = pairs::read_pairs(&empty).unwrap_err().to_string();
    assert!(err.starts_with(&empty.display().to_string()) && err.contains("no pairs"), "{err}");
    let missing = dir.path("missing.tsv");
    assert!(pairs::read_pairs(&missing).unwrap_err().to_string().contains("missing.tsv"));
}

#[test]
fn addition_generator_is_correct_distinct_and_padded_like_the_book() {
    let data = pairs::addition(5000, &mut Rng::new(3), Padding::None).unwrap();
    assert_eq!(data.len(), 5000);
    let mut seen = HashSet::new();
    let mut one_digit = 0;
    for p in &data {
        let (a, b) = p.input.split_once('+').expect("a+b");
        let (a, b): (u32, u32) = (a.parse().unwrap(), b.parse().unwrap());
        assert!(a <= 999 && b <= 999);
        assert_eq!(p.output, (a + b).to_string(), "{p:?}");
        assert!(seen.insert((a.min(b), a.max(b))), "{p:?} repeats a question");
        one_digit += (a < 10) as usize;
    }
    // Digit counts are drawn first, so short operands are common (uniform 0..999 would give 1%).
    assert!((800..1500).contains(&one_digit), "{one_digit} one-digit first operands of 5000");
    // At the book's size the mix is the book's: 9.7% one-digit, 32.5% two-digit operands in the
    // shared addition.tsv.
    let book_size = pairs::addition(50_000, &mut Rng::new(4), Padding::None).unwrap();
    let share = |digits: usize| {
        let count = book_size.iter().filter(|p| p.input.split('+').next().unwrap().len() == digits).count();
        count as f64 / 50_000.0
    };
    assert!((share(1) - 0.097).abs() < 0.01 && (share(2) - 0.325).abs() < 0.015, "{} {}", share(1), share(2));
    assert_eq!(data, pairs::addition(5000, &mut Rng::new(3), Padding::None).unwrap(), "seeded");

    let book = pairs::addition(200, &mut Rng::new(3), Padding::Book).unwrap();
    for (p, b) in data.iter().zip(&book) {
        assert_eq!(b.input.len(), 7, "{b:?}");
        assert_eq!(b.output.len(), 4, "{b:?}");
        assert_eq!(b.input.trim_end(), p.input);
        assert_eq!(b.output.trim_end(), p.output);
    }
    assert_eq!(book[0].input, format!("{:<7}", data[0].input));
    assert!(pairs::addition(ADDITION_MAX_EXAMPLES + 1, &mut Rng::new(1), Padding::None).is_err());
    assert!(pairs::addition(0, &mut Rng::new(1), Padding::None).is_err());
}

fn reversed_layout(layout: Layout) -> Layout {
    Layout { reverse_input: true, ..layout }
}

#[test]
fn batches_pad_reverse_and_end_with_eos() {
    let data = vec![Pair::new("1+23", "24"), Pair::new("9+9", "18"), Pair::new("99+1", "100")];
    let vocab = CharVocab::from_pairs(&data);
    assert_eq!(vocab.symbols(), ["<pad>", "<go>", "<eos>", "+", "0", "1", "2", "3", "4", "8", "9"]);
    assert_eq!(pairs::max_lengths(&data), (4, 3));
    let id = |c: char| vocab.id(c).unwrap();
    let refs: Vec<&Pair> = data.iter().collect();
    let layout = Layout {
        max_input_len: 5,
        max_output_len: 3,
        reverse_input: false,
        mask_padding: false,
        input_eos: false,
    };
    let batch = layout.encode_batch(&vocab, &refs).unwrap();
    let (pad, go, eos) = (CharVocab::PAD, CharVocab::GO, CharVocab::EOS);
    assert_eq!(batch.inputs.row(0).to_vec(), vec![id('1'), id('+'), id('2'), id('3'), pad]);
    assert_eq!(batch.inputs.row(1).to_vec(), vec![id('9'), id('+'), id('9'), pad, pad]);
    assert_eq!(batch.decoder_inputs.row(0).to_vec(), vec![go, id('2'), id('4'), pad]);
    assert_eq!(batch.targets.row(0).to_vec(), vec![id('2'), id('4'), eos, IGNORE]);
    assert_eq!(batch.decoder_inputs.row(2).to_vec(), vec![go, id('1'), id('0'), id('0')]);
    assert_eq!(batch.targets.row(2).to_vec(), vec![id('1'), id('0'), id('0'), eos]);
    // Reversed: the padded input read backwards (the book's "  57+61").
    let reversed = Layout { reverse_input: true, ..layout }.encode_batch(&vocab, &refs).unwrap();
    assert_eq!(reversed.inputs.row(1).to_vec(), vec![pad, pad, id('9'), id('+'), id('9')]);
    assert_eq!(reversed.inputs.row(0).to_vec(), vec![pad, id('3'), id('2'), id('+'), id('1')]);
    assert_eq!(reversed.targets, batch.targets);
    assert_eq!(vocab.decode(&[id('2'), id('4'), eos]), "24<eos>");
    // For an encoder that masks the padding: reversed, then padded.
    let masked = Layout { reverse_input: true, mask_padding: true, ..layout };
    assert_eq!(
        masked.encode_batch(&vocab, &refs).unwrap().inputs.row(1).to_vec(),
        vec![id('9'), id('+'), id('9'), pad, pad]
    );
    // With <eos> after each input: one step more, the marker reversed with the characters.
    let ended = Layout { input_eos: true, ..layout };
    assert_eq!(ended.input_steps(), 6);
    assert_eq!(
        ended.encode_batch(&vocab, &refs).unwrap().inputs.row(1).to_vec(),
        vec![id('9'), id('+'), id('9'), eos, pad, pad]
    );
    let both = Layout { input_eos: true, reverse_input: true, ..layout };
    let row = both.encode_batch(&vocab, &refs).unwrap().inputs.row(0).to_vec();
    assert_eq!(row, vec![pad, eos, id('3'), id('2'), id('+'), id('1')]);
    // input_step finds character i of "1+23" (and i = 4, its <eos>) in every layout.
    let text = [id('1'), id('+'), id('2'), id('3'), eos];
    for l in [layout, reversed_layout(layout), masked, ended, both, Layout { mask_padding: true, ..both }] {
        let inputs = l.encode_batch(&vocab, &refs).unwrap().inputs;
        let symbols = if l.input_eos { 5 } else { 4 };
        for (i, &want) in text[..symbols].iter().enumerate() {
            assert_eq!(inputs[[0, l.input_step(i, 4)]], want, "{l:?}, symbol {i}");
        }
    }
    // Too long, unknown character: the message names the example.
    let err = Layout { max_input_len: 3, ..layout }.encode_batch(&vocab, &refs).unwrap_err();
    assert!(err.message().contains("example 1") && err.message().contains("at most 3"), "{err}");
    let err = layout.check_input(&vocab, "7+1").unwrap_err();
    assert!(err.message().contains("'7'"), "{err}");
}

#[test]
fn cli_train_and_eval_end_to_end() {
    let dir = Scratch::new("seq2seq");
    let run = dir.path("run");
    let out = recur(
        &dir.root,
        [
            "seq2seq",
            "train",
            "--addition",
            "--examples",
            "400",
            "--epochs",
            "2",
            "--hidden-size",
            "16",
            "--wordvec-size",
            "8",
            "--batch-size",
            "32",
            "--reverse-input",
            "--peeky",
            "--seed",
            "3",
            "--out",
            run.to_str().unwrap(),
        ],
    );
    let stdout = success("seq2seq train", &out);
    assert!(stdout.contains("held-out accuracy"), "{stdout}");
    for file in [
        "config.json",
        "vocab.json",
        "model.safetensors",
        "checkpoint.safetensors",
        "metrics.jsonl",
        "accuracy.png",
        "accuracy.svg",
        "loss.png",
        "loss.svg",
    ] {
        assert!(run.join(file).exists(), "{file} missing:\n{stdout}");
    }
    let config = read_json(&run.join("config.json"));
    assert_eq!(config["task"], "seq2seq");
    assert_eq!(config["model"]["peeky"], true);
    assert_eq!(config["layout"]["reverse_input"], true);
    assert_eq!(config["train"]["valid_examples"], 40);
    let metrics = std::fs::read_to_string(run.join("metrics.jsonl")).unwrap();
    let epochs: Vec<serde_json::Value> = metrics.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(epochs.len(), 2);
    let loss = |e: usize| epochs[e]["train_loss"].as_f64().unwrap();
    assert!(loss(1) < loss(0), "the training loss falls: {metrics}");
    let accuracy = |e: usize| epochs[e]["valid_accuracy"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&accuracy(1)));
    assert!(epochs[1]["valid_loss"].as_f64().unwrap().is_finite(), "{metrics}");
    let best = if accuracy(1) > accuracy(0) { 1 } else { 0 };

    // eval without --tsv remakes the held-out pairs and agrees with the best epoch (the model
    // kept).
    let stdout =
        success("seq2seq eval", &recur(&dir.root, ["seq2seq", "eval", "--model", run.to_str().unwrap()]));
    let correct = epochs[best]["valid_correct"].as_f64().unwrap();
    let want = format!("accuracy: {:.4} ({correct}/40)", accuracy(best));
    assert_eq!(stdout.lines().last().unwrap(), want, "{stdout}");

    // eval on a file; an input the model cannot read is an error naming the line.
    let tsv = dir.file("more.tsv", "1+1\t2\n12+30\t42\n");
    let stdout = success(
        "eval --tsv",
        &recur(
            &dir.root,
            ["seq2seq", "eval", "--model", run.to_str().unwrap(), "--tsv", tsv.to_str().unwrap()],
        ),
    );
    assert!(stdout.contains("2 pairs of") && stdout.contains("accuracy: "), "{stdout}");
    let bad = dir.file("bad.tsv", "1+1\t2\n1*1\t1\n");
    let out = recur(
        &dir.root,
        ["seq2seq", "eval", "--model", run.to_str().unwrap(), "--tsv", bad.to_str().unwrap()],
    );
    failure("eval unknown character", &out, &["bad.tsv:2:", "'*'"]);

    // An existing model is never replaced without --overwrite.
    let out = recur(
        &dir.root,
        [
            "seq2seq",
            "train",
            "--addition",
            "--examples",
            "100",
            "--epochs",
            "1",
            "--out",
            run.to_str().unwrap(),
        ],
    );
    failure("train over a model", &out, &["model.safetensors", "--overwrite"]);
}

#[test]
fn cli_train_on_tsv_and_bad_tsv() {
    let dir = Scratch::new("seq2seq-tsv");
    let lines: String = (0..60).map(|i| format!("{i}\t{}\n", i * 2)).collect();
    let tsv = dir.file("double.tsv", lines);
    let run = dir.path("run");
    let out = recur(
        &dir.root,
        [
            "seq2seq",
            "train",
            "--tsv",
            tsv.to_str().unwrap(),
            "--epochs",
            "1",
            "--hidden-size",
            "8",
            "--out",
            run.to_str().unwrap(),
        ],
    );
    let stdout = success("seq2seq train --tsv", &out);
    assert!(stdout.contains("54 pairs, 6 held out"), "{stdout}");
    let config = read_json(&run.join("config.json"));
    assert_eq!(config["train"]["data"]["kind"], "tsv");
    let stdout = success("eval", &recur(&dir.root, ["seq2seq", "eval", "--model", run.to_str().unwrap()]));
    assert!(stdout.contains("6 pairs of the held-out pairs"), "{stdout}");

    let bad = dir.file("bad.tsv", "1\t2\n3 4\n");
    let out = recur(
        &dir.root,
        ["seq2seq", "train", "--tsv", bad.to_str().unwrap(), "--out", dir.path("r2").to_str().unwrap()],
    );
    failure("bad tsv", &out, &["bad.tsv:2:", "input<TAB>output"]);
    let out = recur(&dir.root, ["seq2seq", "eval", "--model", dir.root.to_str().unwrap()]);
    failure("eval of a folder without a run", &out, &["config.json"]);
}
