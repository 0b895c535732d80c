//! The parameter store: every weight of a model, its gradient and its name, in one place.
//!
//! Layers hold [`ParamId`]s, not arrays. Optimizers, gradient clipping and checkpoints walk the
//! store and never know the layers. Weight tying is two layers holding the same id: both add
//! their gradient into the one slot, so nothing has to be detected by comparing values.
//!
//! Invariant: gradients only accumulate (`+=`) during a backward pass; [`Params::zero_grad`] is
//! the one place that clears them, once per step.

use crate::tensor::{math, Real};
use crate::Error;
use ndarray::{ArrayD, ArrayView1, ArrayView2, ArrayViewD, ArrayViewMut1, ArrayViewMut2, IxDyn};
use std::collections::BTreeMap;

/// Index of a parameter in its [`Params`] store.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ParamId(usize);

/// Values, gradients and names of a model's parameters (names follow PyTorch's state_dict).
///
/// ```rust
/// use recur::params::Params;
///
/// let mut params = Params::<f32>::new();
/// let w = params.add("fc.weight", &[2, 3]); // (O, D), zero-filled
/// assert_eq!(params.find("fc.weight"), Some(w));
/// assert_eq!((params.len(), params.num_elements()), (1, 6));
///
/// params.value_mut(w).fill(0.5);
/// assert_eq!(params.mat(w)[[1, 2]], 0.5);
///
/// // Backward passes add into the gradient; `zero_grad` is the one place that clears it.
/// params.grad_mat_mut(w)[[0, 1]] += 2.0;
/// params.grad_mat_mut(w)[[0, 1]] += 1.0;
/// assert_eq!(params.grad(w)[[0, 1]], 3.0);
/// params.zero_grad();
/// assert!(params.grad(w).iter().all(|&g| g == 0.0));
/// ```
#[derive(Clone, Debug, Default)]
pub struct Params<F: Real> {
    names: Vec<String>,
    values: Vec<ArrayD<F>>,
    grads: Vec<ArrayD<F>>,
}

impl<F: Real> Params<F> {
    /// An empty store.
    pub fn new() -> Self {
        Params { names: Vec::new(), values: Vec::new(), grads: Vec::new() }
    }

    /// Adds a zero-filled parameter of `shape`; panics if the name is taken (a bug in a model).
    pub fn add(&mut self, name: &str, shape: &[usize]) -> ParamId {
        assert!(self.find(name).is_none(), "parameter `{name}` added twice");
        self.names.push(name.to_string());
        self.values.push(ArrayD::zeros(IxDyn(shape)));
        self.grads.push(ArrayD::zeros(IxDyn(shape)));
        ParamId(self.names.len() - 1)
    }

    /// The id of the parameter called `name`, None if there is none.
    pub fn find(&self, name: &str) -> Option<ParamId> {
        self.names.iter().position(|n| n == name).map(ParamId)
    }

    /// Number of parameters (tensors, not numbers: see [`Params::num_elements`]).
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// True when the store holds no parameter.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// Every id, in the order the parameters were added.
    pub fn ids(&self) -> impl Iterator<Item = ParamId> {
        (0..self.names.len()).map(ParamId)
    }

    /// The parameter's PyTorch state_dict name (`rnn.weight_ih_l0`).
    pub fn name(&self, id: ParamId) -> &str {
        &self.names[id.0]
    }

    /// Total number of scalar parameters.
    pub fn num_elements(&self) -> usize {
        self.values.iter().map(|v| v.len()).sum()
    }

    /// The parameter's value, in the shape it was added with.
    pub fn value(&self, id: ParamId) -> ArrayViewD<'_, F> {
        self.values[id.0].view()
    }

    /// Sets every parameter from `tensors` by name; errors name a missing, misshapen or extra
    /// tensor (and nothing is checked twice: a model's `load_state_dict` folds and drops the
    /// tensors it does not store first).
    pub fn load(&mut self, mut tensors: BTreeMap<String, ArrayD<F>>) -> crate::Result<()> {
        let ids: Vec<_> = self.ids().collect();
        for id in ids {
            let name = self.name(id).to_string();
            let value =
                tensors.remove(&name).ok_or_else(|| Error::msg(format!("missing tensor `{name}`")))?;
            let want = self.value(id).shape().to_vec();
            if value.shape() != want.as_slice() {
                return Err(Error::msg(format!(
                    "tensor `{name}` has shape {:?}, the config needs {want:?}",
                    value.shape()
                )));
            }
            self.value_mut(id).assign(&value);
        }
        if let Some(extra) = tensors.keys().next() {
            return Err(Error::msg(format!(
                "unexpected tensor `{extra}` (the config describes no such layer)"
            )));
        }
        Ok(())
    }

    /// The parameter's value, to set (initialisers, loading, optimizers).
    pub fn value_mut(&mut self, id: ParamId) -> &mut ArrayD<F> {
        &mut self.values[id.0]
    }

    /// The parameter's gradient, the shape of its value (zero after [`Params::zero_grad`]).
    pub fn grad(&self, id: ParamId) -> ArrayViewD<'_, F> {
        self.grads[id.0].view()
    }

    /// The parameter's gradient, to add into (backward passes) or rescale.
    pub fn grad_mut(&mut self, id: ParamId) -> &mut ArrayD<F> {
        &mut self.grads[id.0]
    }

    /// A 2-D parameter's value (weights).
    pub fn mat(&self, id: ParamId) -> ArrayView2<'_, F> {
        as2(self.values[id.0].view(), &self.names[id.0])
    }

    /// A 1-D parameter's value (biases).
    pub fn vec(&self, id: ParamId) -> ArrayView1<'_, F> {
        as1(self.values[id.0].view(), &self.names[id.0])
    }

    /// A 2-D parameter's gradient, to add into; panics if the parameter is not 2-D.
    pub fn grad_mat_mut(&mut self, id: ParamId) -> ArrayViewMut2<'_, F> {
        let name = &self.names[id.0];
        self.grads[id.0]
            .view_mut()
            .into_dimensionality()
            .unwrap_or_else(|_| panic!("parameter `{name}` is not 2-D"))
    }

    /// A 1-D parameter's gradient, to add into; panics if the parameter is not 1-D.
    pub fn grad_vec_mut(&mut self, id: ParamId) -> ArrayViewMut1<'_, F> {
        let name = &self.names[id.0];
        self.grads[id.0]
            .view_mut()
            .into_dimensionality()
            .unwrap_or_else(|_| panic!("parameter `{name}` is not 1-D"))
    }

    /// A weight's value and its gradient together (for products that read one, write the other).
    pub fn mat_and_grad_mut(&mut self, id: ParamId) -> (ArrayView2<'_, F>, ArrayViewMut2<'_, F>) {
        let name = &self.names[id.0];
        let value = as2(self.values[id.0].view(), name);
        let grad = self.grads[id.0]
            .view_mut()
            .into_dimensionality()
            .unwrap_or_else(|_| panic!("parameter `{name}` is not 2-D"));
        (value, grad)
    }

    /// A weight's and a bias's gradients together (for a product that forms both at once).
    /// Panics if they are the same parameter.
    pub fn weight_and_bias_grads_mut(
        &mut self,
        weight: ParamId,
        bias: ParamId,
    ) -> (ArrayViewMut2<'_, F>, ArrayViewMut1<'_, F>) {
        assert_ne!(
            weight, bias,
            "weight_and_bias_grads_mut: one parameter `{}` asked for twice",
            self.names[weight.0]
        );
        let (w_name, b_name) = (&self.names[weight.0], &self.names[bias.0]);
        let (w, b) = if weight.0 < bias.0 {
            let (low, high) = self.grads.split_at_mut(bias.0);
            (&mut low[weight.0], &mut high[0])
        } else {
            let (low, high) = self.grads.split_at_mut(weight.0);
            (&mut high[0], &mut low[bias.0])
        };
        let w =
            w.view_mut().into_dimensionality().unwrap_or_else(|_| panic!("parameter `{w_name}` is not 2-D"));
        let b =
            b.view_mut().into_dimensionality().unwrap_or_else(|_| panic!("parameter `{b_name}` is not 1-D"));
        (w, b)
    }

    /// Sets every gradient to zero (the start of each training step).
    pub fn zero_grad(&mut self) {
        for grad in &mut self.grads {
            math::fill_pieces(grad.as_slice_mut().expect("gradients are contiguous"), F::zero());
        }
    }

    /// Each parameter's value (mutable) with its gradient: what an optimizer walks.
    pub fn values_and_grads_mut(&mut self) -> impl Iterator<Item = (&mut ArrayD<F>, &ArrayD<F>)> {
        self.values.iter_mut().zip(self.grads.iter())
    }

    /// Every gradient, mutable (for clipping).
    pub fn grads_mut(&mut self) -> impl Iterator<Item = &mut ArrayD<F>> {
        self.grads.iter_mut()
    }
}

fn as2<'a, F: Real>(v: ArrayViewD<'a, F>, name: &str) -> ArrayView2<'a, F> {
    v.into_dimensionality().unwrap_or_else(|_| panic!("parameter `{name}` is not 2-D"))
}

fn as1<'a, F: Real>(v: ArrayViewD<'a, F>, name: &str) -> ArrayView1<'a, F> {
    v.into_dimensionality().unwrap_or_else(|_| panic!("parameter `{name}` is not 1-D"))
}

/// Folds a one-bias cell's two PyTorch biases into one: `tensors[ih_name] += tensors[hh_name]`,
/// removing `hh_name` (what PyTorch computes; recur's RNN and LSTM keep one bias).
pub fn fold_hidden_bias<F: Real>(
    tensors: &mut BTreeMap<String, ArrayD<F>>,
    ih_name: &str,
    hh_name: &str,
) -> crate::Result<()> {
    let b_hh = tensors.remove(hh_name).ok_or_else(|| Error::msg(format!("missing tensor `{hh_name}`")))?;
    let b_ih = tensors.get_mut(ih_name).ok_or_else(|| Error::msg(format!("missing tensor `{ih_name}`")))?;
    if b_ih.shape() != b_hh.shape() {
        return Err(Error::msg(format!(
            "`{hh_name}` has shape {:?} but `{ih_name}` has {:?}",
            b_hh.shape(),
            b_ih.shape()
        )));
    }
    *b_ih += &b_hh;
    Ok(())
}
