//! `AttentionScore`: how well each encoder output matches each decoder output,
//! `e[n, t, s] = score(hs[n, s], h[n, t])` (N, T, S).
//!
//! ```text
//! dot       e = hs . h                                   (the book's; E = Q)
//! general   e = hs . q,  q = h W^T                       (Luong; W (E, Q): `{prefix}.W`)
//! additive  e = v . z,   z = tanh(hs W1^T + h W2^T)      (Bahdanau; W1 (A, E), W2 (A, Q), v (A),
//!                                                         A = Q: `{prefix}.W1`, `.W2`, `.v`)
//! ```
//! Backward (de (N, T, S)): dot and general: `dq[n] = de[n] hs[n]`, `dhs[n] = de[n]^T q[n]`
//! (q = h for dot), general then `dW += dq^T h`, `dh = dq W`. Additive:
//! `g = de v (1 - z^2)` (N, T, S, A), `dv += sum de z`, `dp1[n, s] = sum_t g`,
//! `dp2[n, t] = sum_s g`, `dW1 += dp1^T hs`, `dhs = dp1 W1`, `dW2 += dp2^T h`, `dh = dp2 W2`.

use crate::params::{ParamId, Params};
use crate::tensor::{fit, matmul, Accumulate, Real};
use ndarray::{Array3, Array4, ArrayView2, ArrayView3, Axis, Ix3, Ix4};

/// Which score (a seq2seq config's `"attention"`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
#[serde(rename_all = "lowercase")]
pub enum ScoreKind {
    /// `hs . h` (the book's).
    Dot,
    /// `hs . (W h)` (Luong's general).
    General,
    /// `v . tanh(W1 hs + W2 h)` (Bahdanau's).
    Additive,
}

impl ScoreKind {
    /// The kind as written in configs (`dot`, `general`, `additive`).
    pub fn name(self) -> &'static str {
        match self {
            ScoreKind::Dot => "dot",
            ScoreKind::General => "general",
            ScoreKind::Additive => "additive",
        }
    }
}

impl std::fmt::Display for ScoreKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[derive(Clone, Copy, Debug)]
enum Weights {
    Dot,
    General { w: ParamId },
    Additive { w1: ParamId, w2: ParamId, v: ParamId },
}

/// Attention scores `e[n, t, s] = score(hs[n, s], h[n, t])` of T decoder states against S source
/// states, all steps at once.
#[derive(Clone, Debug)]
pub struct AttentionScore<F: Real> {
    /// Which score function this is (decides the parameters).
    pub kind: ScoreKind,
    weights: Weights,
    hs: Array3<F>,  // (N, S, E)
    h: Array3<F>,   // (N, T, Q)
    q: Array3<F>,   // general: (N, T, E) = h W^T; additive: p1 (N, S, A) = hs W1^T
    p2: Array3<F>,  // additive: (N, T, A) = h W2^T
    z: Array4<F>,   // additive: (N, T, S, A)
    e: Array3<F>,   // (N, T, S)
    dq: Array3<F>,  // (N, T, E) general, (N, S, A) additive
    dp2: Array3<F>, // additive (N, T, A)
    dhs: Array3<F>, // (N, S, E)
    dh: Array3<F>,  // (N, T, Q)
    v: Vec<F>,      // additive: a copy of v (A), read while dv is written
    g: Vec<F>,      // additive: one (n, t, s)'s gradient of the tanh's input (A)
}

impl<F: Real> AttentionScore<F> {
    /// Adds the score's parameters (zero-filled; the model initialises them): none for dot,
    /// `{prefix}.W` (E, Q) for general, `{prefix}.W1` (Q, E), `{prefix}.W2` (Q, Q), `{prefix}.v`
    /// (Q) for additive. Panics for dot when E != Q.
    pub fn new(
        params: &mut Params<F>,
        prefix: &str,
        kind: ScoreKind,
        enc_size: usize,
        dec_size: usize,
    ) -> Self {
        let weights = match kind {
            ScoreKind::Dot => {
                assert_eq!(
                    enc_size, dec_size,
                    "dot attention needs the encoder's width {enc_size} = the decoder's {dec_size}"
                );
                Weights::Dot
            }
            ScoreKind::General => {
                Weights::General { w: params.add(&format!("{prefix}.W"), &[enc_size, dec_size]) }
            }
            ScoreKind::Additive => Weights::Additive {
                w1: params.add(&format!("{prefix}.W1"), &[dec_size, enc_size]),
                w2: params.add(&format!("{prefix}.W2"), &[dec_size, dec_size]),
                v: params.add(&format!("{prefix}.v"), &[dec_size]),
            },
        };
        let empty = || Array3::zeros((0, 0, 0));
        AttentionScore {
            kind,
            weights,
            hs: empty(),
            h: empty(),
            q: empty(),
            p2: empty(),
            z: Array4::zeros((0, 0, 0, 0)),
            e: empty(),
            dq: empty(),
            dp2: empty(),
            dhs: empty(),
            dh: empty(),
            v: Vec::new(),
            g: Vec::new(),
        }
    }

    /// The weight matrices (initialised `N(0, 1/fan_in)` by the model) and the vector `v`.
    pub fn param_ids(&self) -> Vec<ParamId> {
        match self.weights {
            Weights::Dot => vec![],
            Weights::General { w } => vec![w],
            Weights::Additive { w1, w2, v } => vec![w1, w2, v],
        }
    }

    /// hs (N, S, E), h (N, T, Q) -> e (N, T, S).
    pub fn forward(&mut self, params: &Params<F>, hs: ArrayView3<F>, h: ArrayView3<F>) -> ArrayView3<'_, F> {
        let ((n, s, e), (hn, t, q)) = (hs.dim(), h.dim());
        assert_eq!(n, hn, "AttentionScore: hs {:?} but h {:?}", hs.dim(), h.dim());
        fit(&mut self.hs, hs.raw_dim());
        self.hs.assign(&hs);
        fit(&mut self.h, h.raw_dim());
        self.h.assign(&h);
        fit(&mut self.e, Ix3(n, t, s));
        match self.weights {
            Weights::Dot => {
                for row in 0..n {
                    let (hs, h) = (self.hs.index_axis(Axis(0), row), self.h.index_axis(Axis(0), row));
                    matmul(self.e.index_axis_mut(Axis(0), row), h, hs.t(), Accumulate::Overwrite);
                }
            }
            Weights::General { w } => {
                fit(&mut self.q, Ix3(n, t, e));
                matmul(flat_mut(&mut self.q), flat(&self.h), params.mat(w).t(), Accumulate::Overwrite);
                for row in 0..n {
                    let (hs, q) = (self.hs.index_axis(Axis(0), row), self.q.index_axis(Axis(0), row));
                    matmul(self.e.index_axis_mut(Axis(0), row), q, hs.t(), Accumulate::Overwrite);
                }
            }
            Weights::Additive { w1, w2, v } => {
                fit(&mut self.q, Ix3(n, s, q));
                fit(&mut self.p2, Ix3(n, t, q));
                matmul(flat_mut(&mut self.q), flat(&self.hs), params.mat(w1).t(), Accumulate::Overwrite);
                matmul(flat_mut(&mut self.p2), flat(&self.h), params.mat(w2).t(), Accumulate::Overwrite);
                fit(&mut self.z, Ix4(n, t, s, q));
                let v = params.vec(v);
                for row in 0..n {
                    for step in 0..t {
                        let p2 = self.p2.slice(ndarray::s![row, step, ..]);
                        for source in 0..s {
                            let p1 = self.q.slice(ndarray::s![row, source, ..]);
                            let mut z = self.z.slice_mut(ndarray::s![row, step, source, ..]);
                            ndarray::Zip::from(&mut z).and(&p1).and(&p2).for_each(|z, &a, &b| *z = a + b);
                            let z = z.into_slice().expect("z rows are contiguous");
                            F::tanh_inplace(z);
                            self.e[[row, step, source]] = z.iter().zip(v.iter()).map(|(&z, &v)| z * v).sum();
                        }
                    }
                }
            }
        }
        self.e.view()
    }

    /// de (N, T, S) -> (dhs (N, S, E), dh (N, T, Q)); adds into the parameter gradients.
    pub fn backward(
        &mut self,
        params: &mut Params<F>,
        de: ArrayView3<F>,
    ) -> (ArrayView3<'_, F>, ArrayView3<'_, F>) {
        assert_eq!(de.dim(), self.e.dim(), "AttentionScore: de {:?} but e {:?}", de.dim(), self.e.dim());
        let n = de.dim().0;
        fit(&mut self.dhs, self.hs.raw_dim());
        fit(&mut self.dh, self.h.raw_dim());
        match self.weights {
            Weights::Dot => {
                for row in 0..n {
                    let (de, hs, h) = (
                        de.index_axis(Axis(0), row),
                        self.hs.index_axis(Axis(0), row),
                        self.h.index_axis(Axis(0), row),
                    );
                    matmul(self.dh.index_axis_mut(Axis(0), row), de, hs, Accumulate::Overwrite);
                    matmul(self.dhs.index_axis_mut(Axis(0), row), de.t(), h, Accumulate::Overwrite);
                }
            }
            Weights::General { w } => {
                fit(&mut self.dq, self.q.raw_dim());
                for row in 0..n {
                    let (de, hs, q) = (
                        de.index_axis(Axis(0), row),
                        self.hs.index_axis(Axis(0), row),
                        self.q.index_axis(Axis(0), row),
                    );
                    matmul(self.dq.index_axis_mut(Axis(0), row), de, hs, Accumulate::Overwrite);
                    matmul(self.dhs.index_axis_mut(Axis(0), row), de.t(), q, Accumulate::Overwrite);
                }
                matmul(params.grad_mat_mut(w), flat(&self.dq).t(), flat(&self.h), Accumulate::Add);
                matmul(flat_mut(&mut self.dh), flat(&self.dq), params.mat(w), Accumulate::Overwrite);
            }
            Weights::Additive { w1, w2, v } => {
                let (_, t, s, a) = self.z.dim();
                fit(&mut self.dq, Ix3(n, s, a));
                fit(&mut self.dp2, Ix3(n, t, a));
                self.dq.fill(F::zero());
                self.dp2.fill(F::zero());
                self.v.clear();
                self.v.extend(params.vec(v).iter().copied());
                self.g.resize(a, F::zero());
                let (vv, g) = (&self.v, &mut self.g);
                let mut dv = params.grad_vec_mut(v);
                for row in 0..n {
                    for step in 0..t {
                        for source in 0..s {
                            let d = de[[row, step, source]];
                            let z = self.z.slice(ndarray::s![row, step, source, ..]);
                            for (((g, &z), &v), dv) in
                                g.iter_mut().zip(z.iter()).zip(vv.iter()).zip(dv.iter_mut())
                            {
                                *dv += d * z;
                                *g = d * v * (F::one() - z * z);
                            }
                            let mut dp1 = self.dq.slice_mut(ndarray::s![row, source, ..]);
                            dp1.iter_mut().zip(g.iter()).for_each(|(x, &g)| *x += g);
                            let mut dp2 = self.dp2.slice_mut(ndarray::s![row, step, ..]);
                            dp2.iter_mut().zip(g.iter()).for_each(|(x, &g)| *x += g);
                        }
                    }
                }
                matmul(params.grad_mat_mut(w1), flat(&self.dq).t(), flat(&self.hs), Accumulate::Add);
                matmul(flat_mut(&mut self.dhs), flat(&self.dq), params.mat(w1), Accumulate::Overwrite);
                matmul(params.grad_mat_mut(w2), flat(&self.dp2).t(), flat(&self.h), Accumulate::Add);
                matmul(flat_mut(&mut self.dh), flat(&self.dp2), params.mat(w2), Accumulate::Overwrite);
            }
        }
        (self.dhs.view(), self.dh.view())
    }
}

/// An owned (A, B, C) buffer as (A*B, C).
fn flat<F: Real>(x: &Array3<F>) -> ArrayView2<'_, F> {
    let (a, b, c) = x.dim();
    x.view().into_shape_with_order((a * b, c)).expect("owned buffers are contiguous")
}

fn flat_mut<F: Real>(x: &mut Array3<F>) -> ndarray::ArrayViewMut2<'_, F> {
    let (a, b, c) = x.dim();
    x.view_mut().into_shape_with_order((a * b, c)).expect("owned buffers are contiguous")
}
