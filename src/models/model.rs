//! The one contract every network keeps: its parameter store, its mode, its tensors under
//! PyTorch's names, its summary, and the snapshots the training engine takes of the best epoch.
//!
//! The engine (`crate::train::Trainer`) and the run directory (`crate::io`) see a network only
//! through this trait, so a fifth model needs no change to either.

use super::LayerSummary;
use crate::error::Result;
use crate::params::{fold_hidden_bias, Params};
use crate::tensor::{Real, Rng};
use crate::time::RecurrentLayer;
use ndarray::ArrayD;
use std::collections::BTreeMap;

/// What every model is to the training engine and the run directory.
pub trait Model<F: Real> {
    /// The store of the model's weights and gradients.
    fn params(&self) -> &Params<F>;
    /// The same store, to update or load weights.
    fn params_mut(&mut self) -> &mut Params<F>;
    /// Training mode applies dropout; evaluation mode does not.
    fn set_training(&mut self, training: bool);
    /// The tensors to save, under PyTorch's names (with what PyTorch's layout adds, e.g. a zero
    /// `bias_hh` for one-bias cells).
    fn state_dict(&self) -> Vec<(String, ArrayD<F>)>;
    /// Sets every parameter from `tensors` (names as in `state_dict`); errors name the missing,
    /// extra or misshapen tensor.
    fn load_state_dict(&mut self, tensors: BTreeMap<String, ArrayD<F>>) -> Result<()>;
    /// Each layer with its tensors (PyTorch names and shapes) and parameter count.
    fn summary(&self) -> Vec<LayerSummary>;
    /// The generator of the dropout masks, if the model draws any (a checkpoint keeps it).
    fn dropout_rng(&mut self) -> Option<&mut Rng> {
        None
    }

    /// A copy of every parameter, in store order (the best epoch's weights).
    fn snapshot(&self) -> Vec<ArrayD<F>> {
        let params = self.params();
        params.ids().map(|id| params.value(id).to_owned()).collect()
    }

    /// Puts a [`Model::snapshot`] back.
    fn restore_snapshot(&mut self, weights: &[ArrayD<F>]) {
        let params = self.params_mut();
        let ids: Vec<_> = params.ids().collect();
        assert_eq!(
            ids.len(),
            weights.len(),
            "a snapshot of {} tensors for {} parameters",
            weights.len(),
            ids.len()
        );
        for (id, w) in ids.into_iter().zip(weights) {
            params.value_mut(id).assign(w);
        }
    }
}

/// The `bias_ih` names of the one-bias layers among `rnns` (RNN and LSTM keep one bias, the
/// book's and Keras' `b`; PyTorch has two), for [`pytorch_state_dict`] and [`load_pytorch`].
pub fn one_bias_names<'a, F: Real + 'a>(
    params: &Params<F>,
    rnns: impl IntoIterator<Item = &'a RecurrentLayer<F>>,
) -> Vec<String> {
    rnns.into_iter().filter(|r| !r.has_hidden_bias()).map(|r| params.name(r.b_ih()).to_string()).collect()
}

/// PyTorch's `bias_hh` name beside a `bias_ih` name.
fn hidden_bias_name(ih_name: &str) -> String {
    ih_name.replacen("bias_ih", "bias_hh", 1)
}

/// Every parameter under its name, and a zero `bias_hh` beside each of `one_bias` (so PyTorch's
/// strict `load_state_dict` accepts the file), sorted by name.
pub fn pytorch_state_dict<F: Real>(params: &Params<F>, one_bias: &[String]) -> Vec<(String, ArrayD<F>)> {
    let mut out: Vec<(String, ArrayD<F>)> =
        params.ids().map(|id| (params.name(id).to_string(), params.value(id).to_owned())).collect();
    for ih_name in one_bias {
        let b_ih = params.value(params.find(ih_name).expect("a one-bias layer's bias is in the store"));
        out.push((hidden_bias_name(ih_name), ArrayD::zeros(b_ih.raw_dim())));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// Sets every parameter from `tensors` (a [`pytorch_state_dict`], or PyTorch's own): each of
/// `one_bias` takes `bias_ih + bias_hh` (what PyTorch computes). Errors name the missing, extra
/// or misshapen tensor.
pub fn load_pytorch<F: Real>(
    params: &mut Params<F>,
    one_bias: &[String],
    mut tensors: BTreeMap<String, ArrayD<F>>,
) -> Result<()> {
    for ih_name in one_bias {
        fold_hidden_bias(&mut tensors, ih_name, &hidden_bias_name(ih_name))?;
    }
    params.load(tensors)
}

/// Implements [`Model`] for a model struct with a `params` field whose inherent methods of the
/// same names do the work; `dropout` when it has a `dropout_rng` field a checkpoint must keep.
#[macro_export]
#[doc(hidden)]
macro_rules! impl_model {
    ($model:ident $(, $dropout:ident)?) => {
        impl<F: $crate::tensor::Real> $crate::models::Model<F> for $model<F> {
            fn params(&self) -> &$crate::params::Params<F> {
                &self.params
            }
            fn params_mut(&mut self) -> &mut $crate::params::Params<F> {
                &mut self.params
            }
            fn set_training(&mut self, training: bool) {
                $model::set_training(self, training)
            }
            fn state_dict(&self) -> Vec<(String, ndarray::ArrayD<F>)> {
                $model::state_dict(self)
            }
            fn load_state_dict(
                &mut self,
                tensors: std::collections::BTreeMap<String, ndarray::ArrayD<F>>,
            ) -> $crate::Result<()> {
                $model::load_state_dict(self, tensors)
            }
            fn summary(&self) -> Vec<$crate::models::LayerSummary> {
                $model::summary(self)
            }
            $(
                fn dropout_rng(&mut self) -> Option<&mut $crate::tensor::Rng> {
                    let _ = stringify!($dropout);
                    Some(&mut self.dropout_rng)
                }
            )?
        }
    };
}
