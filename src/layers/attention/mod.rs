//! Attention (the book's chapter 8): which encoder steps a decoder step reads.
//!
//! ```text
//! hs (N, S, E)  the encoder's outputs, S source steps (E = H, or 2H bidirectional)
//! h  (N, T, Q)  the decoder's outputs, T target steps (the queries)
//! mask (N, S)   true at real source steps, false at padding
//!
//! score:          e[n, t, s] = score(hs[n, s], h[n, t])              AttentionScore (score.rs)
//! weight:         a[n, t, .] = softmax over the real s of e[n, t, .]  AttentionWeight (weight.rs)
//!                 (a padded step's weight is exactly 0)
//! weighted sum:   c[n, t]    = sum_s a[n, t, s] hs[n, s]  (N, T, E)   WeightSum (weight_sum.rs)
//! ```
//!
//! Every layer works on all T decoder steps at once (the book's `TimeAttention` loops its
//! one-step `Attention` over t; the steps are independent, so one pass over (N, T, S) computes
//! the same numbers); [`crate::time::TimeAttention`] chains the two. The scores
//! ([`ScoreKind`]):
//! - `dot` (the book's, Luong's dot): `hs . h`, needs E = Q;
//! - `general` (Luong's): `hs . (W h)`, `W` (E, Q);
//! - `additive` (Bahdanau's concat): `v . tanh(W1 hs + W2 h)`, `W1` (A, E), `W2` (A, Q), `v` (A),
//!   A = Q; no biases.

pub mod score;
pub mod weight;
pub mod weight_sum;

pub use score::{AttentionScore, ScoreKind};
pub use weight::AttentionWeight;
pub use weight_sum::WeightSum;
