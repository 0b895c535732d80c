//! The chapter-5 training loop of "Deep Learning from Scratch 2" (`ch05/train_custom_loop.py`),
//! written against recur's layers the way the book writes it: a `SimpleRnnlm` of four Time
//! layers (TimeEmbedding -> TimeRNN -> TimeAffine -> TimeSoftmaxWithLoss), and the explicit loop
//! over batches: build the batch from `batch_size` evenly spaced offsets, forward, backward, SGD
//! update, and the training perplexity at the end of every epoch.
//!
//! The book's settings: the first 1000 words of PTB's training split (vocabulary 418), batch 10,
//! time size 5, D = H = 100, SGD lr 0.1, 100 epochs; perplexity goes from about 400 to about 6.
//! Without `$RECUR_DATA/ptb/ptb.train.txt` it trains on the first 1000 words of recur's built-in
//! demo text instead.
//!
//! Run: `cargo run --release --example ch05_simple_rnnlm` (`--quick`: 5 epochs, for CI).
//!
//! What differs from NumPy: recur's layers keep their parameters in one store (`Params`), so
//! the model holds ids, and gradients accumulate there (`+=`), so the loop zeroes them before
//! each backward where the book's layers overwrite theirs.

mod common;

use ndarray::{Array2, ArrayView2};
use recur::data::{demo, ptb, Corpus};
use recur::optim::Sgd;
use recur::params::Params;
use recur::tensor::Rng;
use recur::time::{StateMode, TimeAffine, TimeEmbedding, TimeRnn, TimeSoftmaxWithLoss};
use std::time::Instant;

/// The book's `SimpleRnnlm` (chapter 5).
struct SimpleRnnlm {
    params: Params<f32>,
    embed: TimeEmbedding<f32>,
    rnn: TimeRnn<f32>,
    affine: TimeAffine<f32>,
    loss: TimeSoftmaxWithLoss<f32>,
}

impl SimpleRnnlm {
    /// The book's initialisation: embedding `randn / 100`, each matrix `randn / sqrt(fan_in)`,
    /// zero biases.
    fn new(vocab_size: usize, wordvec_size: usize, hidden_size: usize, rng: &mut Rng) -> Self {
        let (v, d, h) = (vocab_size, wordvec_size, hidden_size);
        let mut params = Params::new();
        let embed = TimeEmbedding::new(&mut params, "embed", v, d);
        let rnn = TimeRnn::new(&mut params, "rnn", 0, d, h, StateMode::Stateful);
        let affine = TimeAffine::new(&mut params, "affine", h, v);
        rng.fill_normal(params.value_mut(embed.inner.weight), 0.01);
        rng.fill_normal(params.value_mut(rnn.w_ih), 1.0 / (d as f64).sqrt());
        rng.fill_normal(params.value_mut(rnn.w_hh), 1.0 / (h as f64).sqrt());
        rng.fill_normal(params.value_mut(affine.inner.weight), 1.0 / (h as f64).sqrt());
        SimpleRnnlm { params, embed, rnn, affine, loss: TimeSoftmaxWithLoss::new() }
    }

    /// Mean cross-entropy of predicting `ts` (N, T) from `xs` (N, T); the RNN carries its state
    /// from the previous call (stateful, truncated BPTT).
    fn forward(&mut self, xs: ArrayView2<u32>, ts: ArrayView2<u32>) -> f32 {
        let p = &self.params;
        let vectors = self.embed.forward(p, xs); // (N, T, D)
        let hs = self.rnn.forward(p, vectors); // (N, T, H)
        let scores = self.affine.forward(p, hs); // (N, T, V)
        self.loss.forward(scores, ts)
    }

    /// Adds the gradient of the last forward's loss into `params`.
    fn backward(&mut self) {
        let dscores = self.loss.backward(1.0);
        let dhs = self.affine.backward(&mut self.params, dscores);
        let dvectors = self.rnn.backward(&mut self.params, dhs);
        self.embed.backward(&mut self.params, dvectors);
    }
}

fn main() {
    let quick = common::quick();
    let (batch_size, wordvec_size, hidden_size, time_size, lr) = (10, 100, 100, 5, 0.1);
    let max_epoch = if quick { 5 } else { 100 };
    let corpus_size = 1000;

    let (mut corpus, source) =
        match common::data_file("ptb/ptb.train.txt", "training on the built-in demo text") {
            Some(path) => (common::or_exit(ptb::load_train(path.parent().unwrap())), "PTB"),
            None => (demo::demo_corpus(), "the demo text"),
        };
    common::or_exit(corpus.truncate(corpus_size));
    let Corpus { ids: corpus, vocab } = corpus;
    let vocab_size = vocab.len();
    println!("corpus size: {corpus_size} words of {source}, vocabulary size: {vocab_size}");

    let xs = &corpus[..corpus.len() - 1]; // inputs
    let ts = &corpus[1..]; // targets: the next word
    let data_size = xs.len();
    let max_iters = data_size / (batch_size * time_size);
    let mut time_idx = 0;

    let mut model = SimpleRnnlm::new(vocab_size, wordvec_size, hidden_size, &mut Rng::new(1));
    let optimizer = Sgd::new(lr);

    // Each row of a batch reads the corpus from its own offset.
    let jump = (corpus.len() - 1) / batch_size;
    let offsets: Vec<usize> = (0..batch_size).map(|i| i * jump).collect();
    let mut batch_x = Array2::<u32>::zeros((batch_size, time_size));
    let mut batch_t = Array2::<u32>::zeros((batch_size, time_size));
    let start = Instant::now();
    let mut ppl_list = Vec::with_capacity(max_epoch);
    for epoch in 0..max_epoch {
        let (mut total_loss, mut loss_count) = (0.0f64, 0);
        for _ in 0..max_iters {
            for t in 0..time_size {
                for (i, offset) in offsets.iter().enumerate() {
                    batch_x[[i, t]] = xs[(offset + time_idx) % data_size];
                    batch_t[[i, t]] = ts[(offset + time_idx) % data_size];
                }
                time_idx += 1;
            }
            let loss = model.forward(batch_x.view(), batch_t.view());
            model.params.zero_grad();
            model.backward();
            optimizer.step(&mut model.params);
            total_loss += f64::from(loss);
            loss_count += 1;
        }
        let ppl = (total_loss / loss_count as f64).exp();
        println!("| epoch {} | perplexity {ppl:.2}", epoch + 1);
        ppl_list.push(ppl);
    }
    println!(
        "perplexity {:.2} -> {:.2} in {} epochs ({:.1} s)",
        ppl_list[0],
        ppl_list[max_epoch - 1],
        max_epoch,
        start.elapsed().as_secs_f64()
    );
}
