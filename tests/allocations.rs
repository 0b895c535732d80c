//! The steady-state training loop allocates nothing: buffers are sized once per shape and reused.
//! A counting global allocator counts every allocation made while batches run, after warm-up.
//!
//! The one exception is inside the `gemm` crate, which allocates its packing buffers on every
//! product (`gemm-common`'s `MemBuffer::new`, not configurable in 0.19): those are counted
//! apart, through `recur::tensor::gemm::inside_gemm()`, and reported. (On a CPU with AVX-512
//! the f32 products go through recur's own blocked product instead, whose per-thread packing
//! buffers are allocated during warm-up, so there even that count is 0.) Every product here is
//! small enough to run on the calling thread, so no allocation hides in a worker thread.

use ndarray::Array3;
use recur::layers::CellKind;
use recur::models::{ForecastMode, Forecaster, ForecasterConfig, Lm, LmConfig};
use recur::optim::{Optimizer, OptimizerKind};
use recur::tasks::forecast::train_epoch as forecast_epoch;
use recur::tasks::train_epoch;
use recur::tensor::Rng;
use recur::train::BpttBatcher;
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);
static GEMM_ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

fn count() {
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

/// The counters are the process's: the tests take turns, so none counts another's allocations.
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
    let config = ForecasterConfig { cell, input_size: 1, hidden_size: 16, num_layers: 2, horizon: 3, mode };
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
