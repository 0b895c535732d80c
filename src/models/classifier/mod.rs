//! The text classifier: an embedding, stacked recurrent layers (optionally bidirectional), a
//! dense head on the last layer's final state, and a sigmoid (2 classes) or softmax (more) loss.
//!
//! ```text
//! ids (N, T), lengths (N)          padded to the batch's longest text; padding is never read
//!   -> Embedding -> [Dropout(embed_dropout)]                          (N, T, D)
//!   -> (RecurrentLayer | Bidirectional) x L, every layer given the lengths:
//!        layers 0..L-1 return every step -> [Dropout(dropout)]       (N, T, H or 2H)
//!        layer L-1 returns its final state's h                         (N, H) or (N, 2H) = [fwd | rev]
//!   -> [Dropout(dropout)] -> Affine                                    (N, 1) or (N, C)
//!   -> SigmoidWithLoss (C = 2: one output, p(class 1)) | SoftmaxWithLoss (C > 2)
//! ```
//!
//! With `pool: Max | Mean` (`--pool`) the head reads the last layer's outputs instead, pooled
//! over each text's real steps (max: the gradient goes to the step each feature came from).
//!
//! The primer's stacking: inner layers hand every step to the next layer, the last hands on only
//! its final state. For row n that is the state after its last real step `lengths[n] - 1` (a
//! reverse direction: after reading `x[n, 0]`), whatever the padding holds. For LSTM the head
//! reads `h` of the state `[h | c]`.
//!
//! Backward is the forward in reverse: the loss's gradient through the head gives `dh_final`,
//! which enters the last layer through `backward_from_final` (with a zero `dc` for LSTM and zero
//! gradients for its per-step outputs, which nothing read); the inner layers run their plain
//! `backward`; the embedding scatters last.
//!
//! Names (PyTorch's): `embedding.weight` (V, D), `rnn.weight_ih_l{k}[_reverse]`,
//! `rnn.weight_hh_l{k}[_reverse]`, `rnn.bias_ih_l{k}[_reverse]` (and `bias_hh` for GRU),
//! `fc.weight` (O, H or 2H), `fc.bias` (O). The saved file also carries a zero `bias_hh` for
//! one-bias cells, as the language model's does. Initialisation is Keras' (what the primer
//! trains with): embedding uniform in [-0.05, 0.05], input weights Glorot-uniform, recurrent
//! weights orthogonal, biases zero except the LSTM forget gate's (1), head Glorot-uniform.
//!
//! Batches, training (through the engine, `crate::train::Trainer`) and evaluation are the
//! classify task's: `crate::tasks::classify`.

mod stack;

use super::model::{load_pytorch, one_bias_names, pytorch_state_dict};
use super::{init, LayerSummary};
use crate::layers::softmax_loss::softmax_rows_inplace;
use crate::layers::{Affine, CellKind, Dropout, SigmoidWithLoss, SoftmaxWithLoss};
use crate::params::{ParamId, Params};
use crate::tensor::{fit, Real, Rng};
use crate::time::{Bidirectional, RecurrentLayer, StateMode, TimeEmbedding};
use crate::Error;
use ndarray::{s, Array1, Array2, Array3, ArrayD, ArrayView2, ArrayView3, Axis, Ix2, Ix3};
use serde::{Deserialize, Serialize};
pub use stack::StackLayer;
use std::collections::BTreeMap;

/// Everything needed to rebuild a classifier (a classify run's `config.json` `"model"`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClassifierConfig {
    /// The recurrent cell of every layer.
    pub cell: CellKind,
    /// V: vocabulary size (`<unk>` included).
    pub vocab_size: usize,
    /// D: word-vector width.
    pub embed_size: usize,
    /// H: hidden width of each direction.
    pub hidden_size: usize,
    /// L: stacked recurrent layers.
    pub num_layers: usize,
    /// Each layer reads both ways; its output and final state are `[fwd | rev]`, 2H wide.
    #[serde(default)]
    pub bidirectional: bool,
    /// Dropout on the word vectors (0 = none).
    #[serde(default)]
    pub embed_dropout: f64,
    /// Dropout between recurrent layers and on the final state before the head (0 = none).
    #[serde(default)]
    pub dropout: f64,
    /// C: classes (2: one sigmoid output; more: softmax).
    pub num_classes: usize,
    /// What the head reads of the last layer: its final state (the primer's stacking, the
    /// default) or its outputs pooled over each text's real steps.
    #[serde(default)]
    pub pool: Pool,
}

/// What the head reads of the last recurrent layer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
#[serde(rename_all = "kebab-case")]
pub enum Pool {
    /// The final state's h (for a bidirectional layer `[fwd final | rev final]`).
    #[default]
    Last,
    /// The element-wise maximum of the outputs over the real steps (InferSent's BiLSTM-max).
    Max,
    /// The mean of the outputs over the real steps.
    Mean,
}

/// The output layer and its loss.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Head {
    /// One output, `p(class 1) = sigmoid(score)`, binary cross-entropy (2 classes).
    Sigmoid,
    /// C outputs, softmax cross-entropy (more than 2 classes).
    Softmax,
}

impl ClassifierConfig {
    /// Why this config cannot be built, if it cannot.
    pub fn check(&self) -> crate::Result<()> {
        if self.vocab_size == 0 || self.embed_size == 0 || self.hidden_size == 0 || self.num_layers == 0 {
            return Err(Error::msg(format!(
                "vocab_size, embed_size, hidden_size and num_layers must be at least 1 (got {}, {}, {}, {})",
                self.vocab_size, self.embed_size, self.hidden_size, self.num_layers
            )));
        }
        if self.num_classes < 2 {
            return Err(Error::msg(format!(
                "a classifier needs at least 2 classes (got {})",
                self.num_classes
            )));
        }
        for (name, p) in [("embed_dropout", self.embed_dropout), ("dropout", self.dropout)] {
            if !(0.0..1.0).contains(&p) {
                return Err(Error::msg(format!("{name} must be in [0, 1) (got {p})")));
            }
        }
        Ok(())
    }

    /// The output head: sigmoid for two classes, softmax for more.
    pub fn head(&self) -> Head {
        if self.num_classes == 2 {
            Head::Sigmoid
        } else {
            Head::Softmax
        }
    }

    /// O: outputs of the head (1 for two classes, else C).
    pub fn outputs(&self) -> usize {
        match self.head() {
            Head::Sigmoid => 1,
            Head::Softmax => self.num_classes,
        }
    }

    /// Width of what each layer hands on: H, or 2H when bidirectional.
    pub fn layer_output_size(&self) -> usize {
        if self.bidirectional {
            2 * self.hidden_size
        } else {
            self.hidden_size
        }
    }
}

/// A text classifier (see the module docs).
#[derive(Clone, Debug)]
pub struct Classifier<F: Real> {
    /// The sizes it was built from (saved as the run's `"model"`).
    pub config: ClassifierConfig,
    /// Every weight and gradient of the model.
    pub params: Params<F>,
    /// Word ids (N, T) -> vectors (N, T, D).
    pub embed: TimeEmbedding<F>,
    /// The L recurrent layers, each (N, T, D or H or 2H) -> (N, T, H or 2H).
    pub layers: Vec<StackLayer<F>>,
    /// Final state (N, H or 2H) -> scores (N, O).
    pub head: Affine<F>,
    embed_drop: Dropout<F>,
    /// After each inner layer (L - 1 of them).
    inner_drops: Vec<Dropout<F>>,
    /// On the final state, before the head.
    final_drop: Dropout<F>,
    sigmoid: SigmoidWithLoss<F>,
    softmax: SoftmaxWithLoss<F>,
    targets: Array1<F>,     // (N) labels as numbers, for the sigmoid loss
    features: Array2<F>,    // (N, H or 2H) the last layer's final h
    logits: Array2<F>,      // (N, O) the head's output
    dhs_last: Array3<F>,    // (N, T, H or 2H) gradient of the last layer's outputs (0 for Last)
    lengths: Vec<usize>,    // (N) of the last forward
    argmax: Array2<usize>,  // (N, H or 2H) Pool::Max: the step each feature came from
    dfinal: [Array2<F>; 2], // (N, S*H) per direction: dh from the head, dc = 0
    dropout_rng: Rng,
    training: bool,
    /// Whether the last forward applied dropout (backward replays the same masks).
    dropped: bool,
}

impl<F: Real> Classifier<F> {
    /// Builds the layers and draws the weights (then the dropout generator's seed) from `rng`.
    /// Panics on a config that [`ClassifierConfig::check`] rejects.
    pub fn new(config: ClassifierConfig, rng: &mut Rng) -> Self {
        if let Err(message) = config.check() {
            panic!("invalid ClassifierConfig: {message}");
        }
        let (v, d, h) = (config.vocab_size, config.embed_size, config.hidden_size);
        let mut params = Params::new();
        let embed = TimeEmbedding::new(&mut params, "embedding", v, d);
        let layers = (0..config.num_layers)
            .map(|k| {
                let input = if k == 0 { d } else { config.layer_output_size() };
                let mode = StateMode::Stateless;
                if config.bidirectional {
                    StackLayer::Bi(Bidirectional::new(config.cell, &mut params, "rnn", k, input, h, mode))
                } else {
                    StackLayer::Uni(RecurrentLayer::new(config.cell, &mut params, "rnn", k, input, h, mode))
                }
            })
            .collect();
        let head = Affine::new(&mut params, "fc", config.layer_output_size(), config.outputs());
        let e2 = || Array2::zeros((0, 0));
        let mut model = Classifier {
            embed_drop: Dropout::new(config.embed_dropout),
            inner_drops: (1..config.num_layers).map(|_| Dropout::new(config.dropout)).collect(),
            final_drop: Dropout::new(config.dropout),
            config,
            params,
            embed,
            layers,
            head,
            sigmoid: SigmoidWithLoss::new(),
            softmax: SoftmaxWithLoss::new(),
            targets: Array1::zeros(0),
            features: e2(),
            logits: e2(),
            dhs_last: Array3::zeros((0, 0, 0)),
            lengths: Vec::new(),
            argmax: Array2::zeros((0, 0)),
            dfinal: [e2(), e2()],
            dropout_rng: Rng::new(0),
            training: true,
            dropped: false,
        };
        model.init_weights(rng);
        model.dropout_rng = Rng::new(rng.next_u64());
        model
    }

    /// Keras' initialisers (see the module docs).
    fn init_weights(&mut self, rng: &mut Rng) {
        rng.fill_uniform(self.params.value_mut(self.embed.inner.weight), 0.05);
        for layer in &self.layers {
            for rnn in layer.directions() {
                init::keras_recurrent(&mut self.params, rnn, rng);
            }
        }
        init::glorot_uniform(&mut self.params, self.head.weight, rng);
    }

    /// Training mode applies dropout; evaluation mode does not. Models start in training mode.
    pub fn set_training(&mut self, training: bool) {
        self.training = training;
    }

    /// Whether the model is in training mode (dropout applied).
    pub fn is_training(&self) -> bool {
        self.training
    }

    /// The generator of the dropout masks (tests rewind it to replay a forward's masks).
    pub fn dropout_rng_mut(&mut self) -> &mut Rng {
        &mut self.dropout_rng
    }

    /// Head outputs (N, O) for the padded batch `ids` (N, T) whose row n is `lengths[n]` words
    /// long (ids past that are never read). O = 1 (the logit of class 1) or C.
    pub fn scores(&mut self, ids: ArrayView2<u32>, lengths: &[usize]) -> ArrayView2<'_, F> {
        self.run(ids, lengths);
        self.logits.view()
    }

    /// Mean cross-entropy of the classes `labels` (N) for the batch.
    pub fn forward(&mut self, ids: ArrayView2<u32>, lengths: &[usize], labels: &[u32]) -> F {
        let n = ids.nrows();
        assert_eq!(labels.len(), n, "Classifier: {} labels for a batch of {n}", labels.len());
        let c = self.config.num_classes;
        if let Some(&bad) = labels.iter().find(|&&l| l as usize >= c) {
            panic!("Classifier: label {bad} but the model has {c} classes");
        }
        self.run(ids, lengths);
        match self.config.head() {
            Head::Sigmoid => {
                fit(&mut self.targets, ndarray::Ix1(n));
                self.targets.iter_mut().zip(labels).for_each(|(t, &l)| *t = F::of(l as f64));
                self.sigmoid.forward(self.logits.column(0), self.targets.view())
            }
            Head::Softmax => self.softmax.forward(self.logits.view(), labels),
        }
    }

    /// The forward chain up to the head's output, kept in `self.logits`.
    fn run(&mut self, ids: ArrayView2<u32>, lengths: &[usize]) {
        let (n, t) = ids.dim();
        assert_eq!(lengths.len(), n, "Classifier: {} lengths for a batch of {n}", lengths.len());
        self.dropped = self.training && (self.config.dropout > 0.0 || self.config.embed_dropout > 0.0);
        let dropped = self.dropped;
        let rng = &mut self.dropout_rng;
        let mut hs = self.embed.forward(&self.params, ids);
        if dropped && self.embed_drop.is_active() {
            hs = as3(self.embed_drop.forward(hs.into_dyn(), rng));
        }
        let last = self.layers.len() - 1;
        let mut drops = self.inner_drops.iter_mut();
        for (k, layer) in self.layers.iter_mut().enumerate() {
            hs = layer.forward(&self.params, hs, lengths);
            if k < last {
                let drop = drops.next().expect("one dropout after each inner layer");
                if dropped && drop.is_active() {
                    hs = as3(drop.forward(hs.into_dyn(), rng));
                }
            }
        }
        let width = self.config.layer_output_size();
        fit(&mut self.features, Ix2(n, width));
        self.lengths.clear();
        self.lengths.extend_from_slice(lengths);
        match self.config.pool {
            Pool::Last => self.layers[last].final_h(self.features.view_mut()),
            Pool::Max => {
                // A text of length 0 has no step to take a maximum over: its features are 0.
                self.features.fill(F::zero());
                if self.argmax.dim() != (n, width) {
                    self.argmax = Array2::zeros((n, width));
                }
                for (row, &len) in lengths.iter().enumerate().filter(|&(_, &len)| len > 0) {
                    for j in 0..width {
                        let steps = hs.slice(s![row, ..len, j]);
                        let best = (1..len).fold(0, |b, t| if steps[t] > steps[b] { t } else { b });
                        self.argmax[[row, j]] = best;
                        self.features[[row, j]] = steps[best];
                    }
                }
            }
            Pool::Mean => {
                for (row, &len) in lengths.iter().enumerate() {
                    let mut f = self.features.row_mut(row);
                    f.fill(F::zero());
                    if len > 0 {
                        // Summed step by step into the row (no temporary), then divided.
                        for step in hs.slice(s![row, ..len, ..]).outer_iter() {
                            f.zip_mut_with(&step, |a, &b| *a += b);
                        }
                        f.mapv_inplace(|v| v / F::of(len as f64));
                    }
                }
            }
        }
        let mut features = self.features.view();
        if dropped && self.final_drop.is_active() {
            features = as2(self.final_drop.forward(features.into_dyn(), rng));
        }
        let logits = self.head.forward(&self.params, features);
        fit(&mut self.logits, logits.raw_dim());
        self.logits.assign(&logits);
        fit(&mut self.dhs_last, Ix3(n, t, width));
    }

    /// Adds the gradient of the last `forward`'s loss into `params`' gradients.
    pub fn backward(&mut self) {
        let one = F::one();
        let dscores = match self.config.head() {
            Head::Sigmoid => self.sigmoid.backward(one).insert_axis(Axis(1)), // (N, 1)
            Head::Softmax => self.softmax.backward(one),                      // (N, C)
        };
        let mut dfeatures = self.head.backward(&mut self.params, dscores);
        if self.dropped && self.final_drop.is_active() {
            dfeatures = as2(self.final_drop.backward(dfeatures.into_dyn()));
        }

        // The last layer: with Pool::Last its final h feeds the head and its per-step outputs
        // feed nothing; pooled, its outputs feed the head and its final state nothing.
        let n = dfeatures.nrows();
        let top = self.layers.len() - 1;
        let (inner, last) = self.layers.split_at_mut(top);
        self.dhs_last.fill(F::zero());
        let [dfinal_fwd, dfinal_rev] = &mut self.dfinal;
        let pool = self.config.pool;
        for (row, &len) in self.lengths.iter().enumerate().filter(|&(_, &len)| len > 0 && pool != Pool::Last)
        {
            for (j, &g) in dfeatures.row(row).iter().enumerate() {
                match pool {
                    Pool::Max => self.dhs_last[[row, self.argmax[[row, j]], j]] = g,
                    _ => self.dhs_last.slice_mut(s![row, ..len, j]).fill(g / F::of(len as f64)),
                }
            }
        }
        let mut dhs = match &mut last[0] {
            layer if pool != Pool::Last => layer.backward(&mut self.params, self.dhs_last.view()),
            StackLayer::Uni(l) => {
                let h = l.hidden_size();
                fit(dfinal_fwd, Ix2(n, l.state_size()));
                dfinal_fwd.fill(F::zero());
                dfinal_fwd.slice_mut(s![.., ..h]).assign(&dfeatures);
                l.backward_from_final(&mut self.params, self.dhs_last.view(), dfinal_fwd.view())
            }
            StackLayer::Bi(b) => {
                let h = b.hidden_size();
                let state = b.fwd.state_size();
                for (dfinal, part) in [(&mut *dfinal_fwd, s![.., ..h]), (&mut *dfinal_rev, s![.., h..])] {
                    fit(dfinal, Ix2(n, state));
                    dfinal.fill(F::zero());
                    dfinal.slice_mut(s![.., ..h]).assign(&dfeatures.slice(part));
                }
                b.backward_from_final(
                    &mut self.params,
                    self.dhs_last.view(),
                    dfinal_fwd.view(),
                    dfinal_rev.view(),
                )
            }
        };

        let mut drops = self.inner_drops.iter_mut().rev();
        for layer in inner.iter_mut().rev() {
            let drop = drops.next().expect("one dropout after each inner layer");
            if self.dropped && drop.is_active() {
                dhs = as3(drop.backward(dhs.into_dyn()));
            }
            dhs = layer.backward(&mut self.params, dhs);
        }
        if self.dropped && self.embed_drop.is_active() {
            dhs = as3(self.embed_drop.backward(dhs.into_dyn()));
        }
        self.embed.backward(&mut self.params, dhs);
    }

    /// How many rows of the last forward [`Classifier::predicted`] gets right against
    /// `labels` (N), without allocating.
    pub fn count_correct(&self, labels: &[u32]) -> usize {
        assert_eq!(labels.len(), self.logits.nrows(), "Classifier: labels for another batch");
        (self.logits.rows().into_iter().zip(labels))
            .filter(|(row, &label)| self.class_of(row.view()) == label)
            .count()
    }

    /// The predicted class of one row of logits.
    fn class_of(&self, row: ndarray::ArrayView1<F>) -> u32 {
        match self.config.head() {
            Head::Sigmoid => u32::from(row[0] > F::zero()),
            Head::Softmax => {
                let mut best = 0;
                for (j, &v) in row.iter().enumerate() {
                    if v > row[best] {
                        best = j;
                    }
                }
                best as u32
            }
        }
    }

    /// The predicted class of each row of the last forward (argmax; logit > 0 for sigmoid).
    pub fn predicted(&self) -> Vec<u32> {
        self.logits.rows().into_iter().map(|row| self.class_of(row)).collect()
    }

    /// Class probabilities (N, C) of the last forward: `[1 - p, p]` for two classes.
    pub fn probabilities(&self) -> Array2<f64> {
        let n = self.logits.nrows();
        let c = self.config.num_classes;
        let mut out = Array2::zeros((n, c));
        match self.config.head() {
            Head::Sigmoid => {
                for (mut row, &x) in out.rows_mut().into_iter().zip(self.logits.column(0)) {
                    let x = x.to_f64();
                    // sigmoid, stable for either sign
                    let p = if x >= 0.0 { 1.0 / (1.0 + (-x).exp()) } else { x.exp() / (1.0 + x.exp()) };
                    row[0] = 1.0 - p;
                    row[1] = p;
                }
            }
            Head::Softmax => {
                out.assign(&self.logits.mapv(|x| x.to_f64()));
                softmax_rows_inplace(&mut out);
            }
        }
        out
    }

    /// Each layer with its tensors (PyTorch names and shapes) and parameter count. A recurrent
    /// layer counts `W_ih` + `W_hh` + biases per direction: with 4 inputs and 3 RNN units,
    /// 12 + 9 + 3 = 24.
    pub fn summary(&self) -> Vec<LayerSummary> {
        let entry = |layer: String, ids: Vec<ParamId>| LayerSummary::of(&self.params, layer, &ids);
        let mut rows = vec![entry("TimeEmbedding".into(), vec![self.embed.inner.weight])];
        if self.config.embed_dropout > 0.0 {
            rows.push(entry(format!("TimeDropout({})", self.config.embed_dropout), vec![]));
        }
        let p = self.config.dropout;
        let last = self.layers.len() - 1;
        let pooled = match self.config.pool {
            Pool::Last => None,
            Pool::Max => Some("max over steps"),
            Pool::Mean => Some("mean over steps"),
        };
        for (k, layer) in self.layers.iter().enumerate() {
            let cell = format!("Time{}", self.config.cell.name().to_uppercase());
            let name = match layer {
                StackLayer::Uni(_) => format!("{cell}[{k}]"),
                StackLayer::Bi(_) => format!("Bidirectional({cell})[{k}]"),
            };
            rows.push(entry(name, layer.param_ids()));
            if let Some(pooled) = pooled.filter(|_| k == last) {
                rows.push(entry(format!("Pool ({pooled})"), vec![]));
            }
            if p > 0.0 {
                let what = if k < last { "TimeDropout" } else { "Dropout" };
                rows.push(entry(format!("{what}({p})"), vec![]));
            }
        }
        let head = match self.config.head() {
            Head::Sigmoid => "Affine (sigmoid)",
            Head::Softmax => "Affine (softmax)",
        };
        rows.push(entry(head.into(), vec![self.head.weight, self.head.bias]));
        rows
    }

    /// The tensors to save, under PyTorch's names, plus a zero `bias_hh` for one-bias cells.
    pub fn state_dict(&self) -> Vec<(String, ArrayD<F>)> {
        pytorch_state_dict(&self.params, &self.one_bias())
    }

    /// Sets every parameter from `tensors` (names as in [`Classifier::state_dict`]); a one-bias
    /// cell takes `bias_ih + bias_hh`. Errors name the missing, extra or misshapen tensor.
    pub fn load_state_dict(&mut self, tensors: BTreeMap<String, ArrayD<F>>) -> crate::Result<()> {
        let one_bias = self.one_bias();
        load_pytorch(&mut self.params, &one_bias, tensors)
    }

    fn one_bias(&self) -> Vec<String> {
        one_bias_names(&self.params, self.layers.iter().flat_map(|l| l.directions()))
    }
}

crate::impl_model!(Classifier, dropout);

fn as3<F: Real>(a: ndarray::ArrayViewD<'_, F>) -> ArrayView3<'_, F> {
    a.into_dimensionality::<Ix3>().expect("dropout keeps the (N, T, H) shape")
}

fn as2<F: Real>(a: ndarray::ArrayViewD<'_, F>) -> ArrayView2<'_, F> {
    a.into_dimensionality::<Ix2>().expect("dropout keeps the (N, H) shape")
}
