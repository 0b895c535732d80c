//! The one contract every network keeps: its parameter store, its mode, its tensors under
//! PyTorch's names, its summary, and the snapshots the training engine takes of the best epoch.
//!
//! The engine (`crate::train::Trainer`) and the run directory (`crate::io`) see a network only
//! through this trait, so a fifth model needs no change to either.

use super::LayerSummary;
use crate::error::Result;
use crate::params::Params;
use crate::tensor::{Real, Rng};
use ndarray::ArrayD;
use std::collections::BTreeMap;

/// What every model is to the training engine and the run directory.
pub trait Model<F: Real> {
    fn params(&self) -> &Params<F>;
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
