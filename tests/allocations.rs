//! The steady-state training loop allocates nothing: buffers are sized once per shape and reused.
//! A counting global allocator counts every allocation made while batches run, after warm-up.
//!
//! The one exception is inside the `gemm` crate, which allocates its packing buffers on every
//! product (`gemm-common`'s `MemBuffer::new`, not configurable in 0.19): those are counted
//! apart, through `recur::tensor::gemm::inside_gemm()`, and reported. (On a CPU with AVX-512
//! the f32 products go through recur's own blocked product instead, whose per-thread packing
//! buffers are allocated during warm-up, so there even that count is 0.) Every product here is
//! small enough to run on the calling thread, so no allocation hides in a worker thread.
//!
//! The loops: the language model's (`tasks::train_epoch`), the forecaster's
//! (`tasks::forecast::train_epoch`), the classifier's (`ClassifyTask` through `Trainer::fit`,
//! counted over its third epoch's batches) and the encoder-decoder's (`Seq2seqTask` through
//! `Trainer::fit`, likewise). The tests take turns, since the counters are the process's.

use ndarray::Array3;
use recur::data::pairs::{self, CharVocab, Layout as PairLayout, Padding};
use recur::layers::attention::ScoreKind;
use recur::layers::CellKind;
use recur::models::{
    Classifier, ClassifierConfig, ForecastMode, Forecaster, ForecasterConfig, Lm, LmConfig, Pool, Seq2seq,
    Seq2seqConfig,
};
use recur::optim::{LrRule, LrSchedule, Optimizer, OptimizerKind};
use recur::tasks::classify::{ClassifyTask, Labelled, Order};
use recur::tasks::forecast::train_epoch as forecast_epoch;
use recur::tasks::seq2seq::Seq2seqTask;
use recur::tasks::train_epoch;
use recur::tensor::Rng;
use recur::train::{BpttBatcher, Observer, OnNan, Outcome, Settings, TrainState, Trainer};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);
static GEMM_ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    /// Set on a test's own thread: allocations elsewhere (libtest reporting another test's end
    /// while this one runs) are not the training loop's. The pool's workers count too.
    static COUNTED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

fn count() {
    if !COUNTED.with(|c| c.get()) && rayon::current_thread_index().is_none() {
        return;
    }
    if recur::tensor::gemm::inside_gemm() {
        GEMM_ALLOCATIONS.fetch_add(1, Ordering::SeqCst);
    } else {
        ALLOCATIONS.fetch_add(1, Ordering::SeqCst);
    }
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// The counters are the process's: the tests take turns, so one never counts another's.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// (recur's, the GEMM crate's) allocations per batch after two warm-up epochs.
fn allocations_per_batch(cell: CellKind, layers: usize, optimizer: OptimizerKind) -> (f64, f64) {
    let config = LmConfig { cell, num_layers: layers, ..LmConfig::simple_rnnlm(300, 32, 48) };
    let mut rng = Rng::new(1);
    let corpus: Vec<u32> = (0..2001).map(|_| rng.below(300) as u32).collect();
    let mut model: Lm<f32> = Lm::new(config, &mut rng);
    let mut batcher = BpttBatcher::new(corpus.len(), 8, 10).unwrap();
    let mut optimizer = Optimizer::new(optimizer, 0.01, 0.9);
    let batches = batcher.iters_per_epoch(corpus.len());
    for _ in 0..2 {
        train_epoch(&mut model, &corpus, &mut batcher, &mut optimizer, Some(0.25), &mut |_, _| {});
    }
    // Counted from the end of the first batch to the end of the last: the batches themselves,
    // not the epoch's setup (two id buffers sized at its first batch).
    let (mut first, mut last) = ((0, 0), (0, 0));
    train_epoch(&mut model, &corpus, &mut batcher, &mut optimizer, Some(0.25), &mut |i, _| {
        let now = (ALLOCATIONS.load(Ordering::SeqCst), GEMM_ALLOCATIONS.load(Ordering::SeqCst));
        if i == 0 {
            first = now;
        }
        last = now;
    });
    let counted = (batches - 1) as f64;
    ((last.0 - first.0) as f64 / counted, (last.1 - first.1) as f64 / counted)
}

#[test]
fn the_steady_state_training_loop_allocates_nothing() {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    COUNTED.with(|c| c.set(true));
    for (cell, layers, optimizer) in [
        (CellKind::Rnn, 1, OptimizerKind::Sgd),
        (CellKind::Lstm, 2, OptimizerKind::Sgd),
        (CellKind::Gru, 2, OptimizerKind::Adam),
        (CellKind::Lstm, 1, OptimizerKind::Momentum),
    ] {
        let (per_batch, in_gemm) = allocations_per_batch(cell, layers, optimizer);
        println!(
            "{cell:?} x {layers}, {optimizer:?}: {per_batch} allocations a batch ({in_gemm} inside gemm)"
        );
        assert_eq!(
            per_batch, 0.0,
            "{cell:?} x {layers} with {optimizer:?} allocates {per_batch} times a batch"
        );
    }
}

/// (recur's, the GEMM crate's) allocations per batch of a forecaster after two warm-up epochs:
/// 128 windows in batches of 16, reshuffled every epoch.
fn forecaster_allocations_per_batch(
    cell: CellKind,
    mode: ForecastMode,
    optimizer: OptimizerKind,
) -> (f64, f64) {
    let config = ForecasterConfig {
        cell,
        input_size: 1,
        hidden_size: 16,
        num_layers: 2,
        horizon: 3,
        mode,
        linear_path: false,
    };
    let mut rng = Rng::new(2);
    let mut model: Forecaster<f32> = Forecaster::new(config, &mut rng);
    let (m, t, batch) = (128, 20, 16);
    let t_out = model.output_steps(t);
    let inputs = Array3::from_shape_fn((m, t, 1), |(n, i, _)| ((n + i) as f32 * 0.3).sin());
    let targets = Array3::from_shape_fn((m, t_out, 3), |(n, i, j)| ((n + i + j + 1) as f32 * 0.3).sin());
    let mut optimizer = Optimizer::new(optimizer, 0.01, 0.9);
    let mut epoch = |on_batch: &mut dyn FnMut(usize, f64)| {
        let (x, y) = (inputs.view(), targets.view());
        forecast_epoch(&mut model, x, y, batch, &mut optimizer, Some(1.0), &mut rng, on_batch)
    };
    for _ in 0..2 {
        epoch(&mut |_, _| {});
    }
    let (mut first, mut last) = ((0, 0), (0, 0));
    epoch(&mut |i, _| {
        let now = (ALLOCATIONS.load(Ordering::SeqCst), GEMM_ALLOCATIONS.load(Ordering::SeqCst));
        if i == 0 {
            first = now;
        }
        last = now;
    });
    let counted = (m / batch - 1) as f64;
    ((last.0 - first.0) as f64 / counted, (last.1 - first.1) as f64 / counted)
}

#[test]
fn the_forecasters_steady_state_training_loop_allocates_nothing() {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    COUNTED.with(|c| c.set(true));
    for (cell, mode, optimizer) in [
        (CellKind::Rnn, ForecastMode::Seq2vec, OptimizerKind::Adam),
        (CellKind::Gru, ForecastMode::Seq2seq, OptimizerKind::Adam),
        (CellKind::Lstm, ForecastMode::Seq2vec, OptimizerKind::Momentum),
    ] {
        let (per_batch, in_gemm) = forecaster_allocations_per_batch(cell, mode, optimizer);
        println!("forecaster {cell:?} {mode:?}, {optimizer:?}: {per_batch} allocations a batch ({in_gemm} inside gemm)");
        assert_eq!(
            per_batch, 0.0,
            "forecaster {cell:?} {mode:?} with {optimizer:?} allocates {per_batch} times a batch"
        );
    }
}
/// The classifier's texts: `count` texts of 1 to `longest` words over a vocabulary of 50, and
/// every `every`-th one exactly `longest` words long.
fn texts(count: usize, longest: usize, every: usize, classes: usize, rng: &mut Rng) -> Labelled {
    let mut data = Labelled::default();
    for i in 0..count {
        let len = if i % every == 0 { longest } else { 1 + rng.below(longest) };
        data.seqs.push((0..len).map(|_| 1 + rng.below(49) as u32).collect());
        data.labels.push(rng.below(classes) as u32);
    }
    data
}

/// Counts the allocations between the end of the first batch of epoch `epoch` and the end of
/// its last one.
struct CountEpoch {
    epoch: usize,
    last: usize,
    first: (usize, usize),
    end: (usize, usize),
}

impl Observer for CountEpoch {
    fn batch_done(&mut self, epoch: usize, index: usize, _loss: f64, _grad_norm: Option<f64>) {
        let now = (ALLOCATIONS.load(Ordering::SeqCst), GEMM_ALLOCATIONS.load(Ordering::SeqCst));
        if epoch == self.epoch && index == 0 {
            self.first = now;
        }
        if epoch == self.epoch && index == self.last {
            self.end = now;
        }
    }
}

/// (recur's, the GEMM crate's) allocations per batch of a classifier trained through the
/// engine (Adam, clipping, validation every epoch), counted in its third epoch.
fn classifier_allocations_per_batch(config: ClassifierConfig, train: &Labelled, order: Order) -> (f64, f64) {
    let mut rng = Rng::new(2);
    let valid = texts(12, 6, 1, config.num_classes, &mut rng);
    let mut model: Classifier<f32> = Classifier::new(config, &mut rng);
    let batch = 8;
    let mut task =
        ClassifyTask::new(&mut model, train, batch, rng).validated(&valid, 64).word_dropout(0.2).order(order);
    let batches = train.len().div_ceil(batch);
    let settings = three_epochs();
    let mut state = TrainState::new(Optimizer::new(OptimizerKind::Adam, 0.01, 0.0));
    let mut counter = CountEpoch { epoch: 3, last: batches - 1, first: (0, 0), end: (0, 0) };
    let mut trainer = Trainer { settings: &settings, run: None, stop: None, observer: &mut counter };
    let outcome = trainer.fit(&mut task, &mut state).unwrap();
    assert!(matches!(outcome, Outcome::Finished { .. }), "{outcome:?}");
    let counted = (batches - 1) as f64;
    ((counter.end.0 - counter.first.0) as f64 / counted, (counter.end.1 - counter.first.1) as f64 / counted)
}

/// A classifier trained through the engine allocates nothing a batch once its batches' shapes
/// have been seen: texts of different lengths in a batch, shuffled batches, word dropout,
/// dropout, every pooling, one and two directions, sigmoid and softmax heads. (A batch whose
/// longest text is longer or shorter than any before resizes the buffers: every batch here is
/// padded to the same length, as when texts are cut to --max-len.)
#[test]
fn the_classifiers_steady_state_training_loop_allocates_nothing() {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    COUNTED.with(|c| c.set(true));
    let config = |cell, layers, bidirectional, pool, classes| ClassifierConfig {
        cell,
        vocab_size: 50,
        embed_size: 6,
        hidden_size: 7,
        num_layers: layers,
        bidirectional,
        embed_dropout: 0.2,
        dropout: 0.3,
        num_classes: classes,
        pool,
    };
    let mut rng = Rng::new(1);
    for (cell, layers, bi, pool, classes) in [
        (CellKind::Lstm, 1, false, Pool::Last, 2),
        (CellKind::Gru, 2, true, Pool::Max, 3),
        (CellKind::Rnn, 1, false, Pool::Mean, 2),
        (CellKind::Lstm, 2, true, Pool::Last, 3),
    ] {
        // Shuffled: every text 9 words long, so every batch is (8, 9).
        let same_length = texts(64, 9, 1, classes, &mut rng);
        // In the given order: each batch of 8 starts with a 9-word text, the others are 1-9 words.
        let mixed = texts(64, 9, 8, classes, &mut rng);
        for (data, order) in [(&same_length, Order::Shuffled), (&mixed, Order::AsGiven)] {
            let (per_batch, in_gemm) =
                classifier_allocations_per_batch(config(cell, layers, bi, pool, classes), data, order);
            println!(
                "classifier {cell:?} x {layers}{}, {pool:?}, {classes} classes, {order:?}: {per_batch} allocations a batch \
                 ({in_gemm} inside gemm)",
                if bi { " (bidirectional)" } else { "" }
            );
            assert_eq!(
                per_batch, 0.0,
                "{cell:?} x {layers}, {pool:?}, {order:?} allocates {per_batch} times a batch"
            );
        }
    }
    // For the record: shuffled texts of 1-9 words, whose batches' padded lengths change from
    // batch to batch, resize buffers when they do (printed, the mean over the epoch's batches).
    let varied = texts(64, 9, 64, 2, &mut rng);
    let (per_batch, _) = classifier_allocations_per_batch(
        config(CellKind::Lstm, 1, false, Pool::Last, 2),
        &varied,
        Order::Shuffled,
    );
    println!(
        "classifier LSTM, shuffled texts of 1-9 words: {per_batch} allocations a batch (buffers resized)"
    );
    assert!(per_batch > 0.0, "the counter sees the resized buffers");
}

/// The settings of the engine-driven tests: three epochs, Adam, clipping, weight decay.
fn three_epochs() -> Settings {
    Settings {
        epochs: 3,
        lr: 0.01,
        lr_rule: LrRule { schedule: LrSchedule::Constant, factor: 1.0, decay_after: 0 },
        clip: Some(1.0),
        weight_decay: 0.01,
        patience: 0,
        on_nan: OnNan::Stop,
    }
}

/// (recur's, the GEMM crate's) allocations per batch of an encoder-decoder trained through the
/// engine on the addition task (inputs padded to the longest, the decoder's T_out + 1 steps, so
/// every batch is (8, T_in) and (8, T_out + 1); shuffled; validated by greedy decoding every
/// epoch), counted in its third epoch.
fn seq2seq_allocations_per_batch(config: Seq2seqConfig, reverse_input: bool) -> (f64, f64) {
    let mut rng = Rng::new(3);
    let data = pairs::addition(80, &mut rng, Padding::None).unwrap();
    let (train, valid) = data.split_at(64);
    let vocab = CharVocab::from_pairs(&data);
    let (max_input_len, max_output_len) = pairs::max_lengths(&data);
    let layout =
        PairLayout { max_input_len, max_output_len, reverse_input, mask_padding: false, input_eos: false };
    let config = Seq2seqConfig { vocab_size: vocab.len(), ..config };
    let mut model: Seq2seq<f32> = Seq2seq::new(config, &mut rng);
    let batch = 8;
    let mut task = Seq2seqTask::new(&mut model, &vocab, layout, train, valid, batch, rng).unwrap();
    let batches = train.len().div_ceil(batch);
    let settings = three_epochs();
    let mut state = TrainState::new(Optimizer::new(OptimizerKind::Adam, 0.01, 0.0));
    let mut counter = CountEpoch { epoch: 3, last: batches - 1, first: (0, 0), end: (0, 0) };
    let mut trainer = Trainer { settings: &settings, run: None, stop: None, observer: &mut counter };
    let outcome = trainer.fit(&mut task, &mut state).unwrap();
    assert!(matches!(outcome, Outcome::Finished { .. }), "{outcome:?}");
    let counted = (batches - 1) as f64;
    ((counter.end.0 - counter.first.0) as f64 / counted, (counter.end.1 - counter.first.1) as f64 / counted)
}

/// An encoder-decoder trained through the engine allocates nothing a batch once its batches'
/// shapes have been seen: plain and peeky decoders, one and two layers, every cell, with and
/// without dropout, inputs forwards and reversed.
#[test]
fn the_seq2seq_steady_state_training_loop_allocates_nothing() {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    COUNTED.with(|c| c.set(true));
    for (cell, layers, peeky, dropout, reverse) in [
        (CellKind::Lstm, 1, false, 0.0, false),
        (CellKind::Lstm, 2, true, 0.3, true),
        (CellKind::Gru, 2, false, 0.3, false),
        (CellKind::Rnn, 1, true, 0.2, false),
        (CellKind::Gru, 1, true, 0.0, true),
        (CellKind::Lstm, 2, false, 0.2, false),
    ] {
        let config = Seq2seqConfig {
            cell,
            vocab_size: 0, // the vocabulary's, set by the helper
            embed_size: 6,
            hidden_size: 7,
            peeky,
            num_layers: layers,
            dropout,
            attention: None,
            bidirectional: false,
            mask_padding: false,
        };
        let (per_batch, in_gemm) = seq2seq_allocations_per_batch(config, reverse);
        let kind = if peeky { "peeky" } else { "plain" };
        println!(
            "seq2seq {cell:?} x {layers}, {kind}, dropout {dropout}, reversed {reverse}: {per_batch} allocations \
             a batch ({in_gemm} inside gemm)"
        );
        assert_eq!(
            per_batch, 0.0,
            "seq2seq {cell:?} x {layers}, {kind}, dropout {dropout} allocates {per_batch} times a batch"
        );
    }
    // Attention (each score), one direction or both.
    for (cell, attention, bidirectional) in [
        (CellKind::Lstm, ScoreKind::Dot, false),
        (CellKind::Gru, ScoreKind::General, true),
        (CellKind::Lstm, ScoreKind::Additive, true),
    ] {
        let config = Seq2seqConfig {
            attention: Some(attention),
            bidirectional,
            ..Seq2seqConfig::book(cell, 0, 6, 7, false)
        };
        let (per_batch, in_gemm) = seq2seq_allocations_per_batch(config, true);
        println!("seq2seq {cell:?} attention {attention} bidirectional {bidirectional}: {per_batch} allocations a batch ({in_gemm} inside gemm)");
        assert_eq!(per_batch, 0.0, "seq2seq attention {attention} allocates {per_batch} times a batch");
    }
}
