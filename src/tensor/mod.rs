//! Numbers and arrays: the [`Real`] scalar (f32 for work, f64 for gradient checks), the GEMM
//! wrapper, element-wise kernels and the seeded random generator.
//!
//! Everything in recur is generic over `F: Real` so that the same layer code runs in f32 for
//! speed and in f64 for finite-difference checks tight enough to catch an index error.

pub mod blocked;
pub mod gemm;
pub mod math;
pub mod packed;
pub mod rng;
pub mod threads;

pub use gemm::{matmul, matmul_bias, matmul_row_sums, Accumulate};
pub use packed::PackedRhs;
pub use rng::Rng;

use ndarray::{LinalgScalar, ScalarOperand};
use std::fmt::{Debug, Display};
use std::iter::Sum;
use std::ops::{AddAssign, DivAssign, MulAssign, SubAssign};

/// A floating-point element type recur computes in: `f32` or `f64`.
pub trait Real:
    LinalgScalar
    + ScalarOperand
    + num_traits::Float
    + num_traits::FromPrimitive
    + AddAssign
    + SubAssign
    + MulAssign
    + DivAssign
    + Sum
    + Debug
    + Display
    + Default
    + Send
    + Sync
    + safetensors_dtype::HasDtype
    + 'static
{
    /// Converts from f64 (constants, learning rates, random draws).
    fn of(x: f64) -> Self;
    /// Widens to f64 (losses, reports).
    fn to_f64(self) -> f64;
    /// `xs[i] = tanh(xs[i])`, fast: a polynomial kernel for f32, the exact function for f64.
    fn tanh_inplace(xs: &mut [Self]);
    /// `xs[i] = 1 / (1 + exp(-xs[i]))`.
    fn sigmoid_inplace(xs: &mut [Self]);
    /// `xs[i] = exp(xs[i] - shift)`, returning the sum of the results: a softmax row's one pass
    /// (fast for f32, exact for f64, as [`Real::tanh_inplace`]).
    fn exp_shifted_sum(xs: &mut [Self], shift: Self) -> Self;
}

impl Real for f32 {
    fn of(x: f64) -> Self {
        x as f32
    }
    fn to_f64(self) -> f64 {
        self as f64
    }
    fn tanh_inplace(xs: &mut [Self]) {
        math::tanh_f32(xs)
    }
    fn sigmoid_inplace(xs: &mut [Self]) {
        math::sigmoid_f32(xs)
    }
    fn exp_shifted_sum(xs: &mut [Self], shift: Self) -> Self {
        math::exp_shifted_sum_f32(xs, shift)
    }
}

impl Real for f64 {
    fn of(x: f64) -> Self {
        x
    }
    fn to_f64(self) -> f64 {
        self
    }
    fn tanh_inplace(xs: &mut [Self]) {
        xs.iter_mut().for_each(|x| *x = x.tanh());
    }
    fn sigmoid_inplace(xs: &mut [Self]) {
        xs.iter_mut().for_each(|x| *x = 1.0 / (1.0 + (-*x).exp()));
    }
    fn exp_shifted_sum(xs: &mut [Self], shift: Self) -> Self {
        xs.iter_mut().fold(0.0, |sum, x| {
            *x = (*x - shift).exp();
            sum + *x
        })
    }
}

/// The safetensors element type of each [`Real`], so checkpoints can be written in either.
pub mod safetensors_dtype {
    use safetensors::Dtype;

    /// Element types that safetensors can store: the dtype and the byte conversions.
    pub trait HasDtype {
        /// The safetensors dtype (`F32`, `F64`).
        const DTYPE: Dtype;
        /// Little-endian bytes of a slice of this type.
        fn to_le_bytes_vec(xs: &[Self]) -> Vec<u8>
        where
            Self: Sized;
        /// Parses little-endian bytes of `dtype` (f32 or f64) into this type.
        fn from_le_bytes_of(dtype: Dtype, bytes: &[u8]) -> Option<Vec<Self>>
        where
            Self: Sized;
    }

    macro_rules! impl_has_dtype {
        ($t:ty, $dt:expr) => {
            impl HasDtype for $t {
                const DTYPE: Dtype = $dt;
                fn to_le_bytes_vec(xs: &[Self]) -> Vec<u8> {
                    xs.iter().flat_map(|x| x.to_le_bytes()).collect()
                }
                fn from_le_bytes_of(dtype: Dtype, bytes: &[u8]) -> Option<Vec<Self>> {
                    match dtype {
                        Dtype::F32 if bytes.len() % 4 == 0 => Some(
                            bytes
                                .chunks_exact(4)
                                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]) as $t)
                                .collect(),
                        ),
                        Dtype::F64 if bytes.len() % 8 == 0 => Some(
                            bytes
                                .chunks_exact(8)
                                .map(|c| {
                                    let mut b = [0u8; 8];
                                    b.copy_from_slice(c);
                                    f64::from_le_bytes(b) as $t
                                })
                                .collect(),
                        ),
                        _ => None,
                    }
                }
            }
        };
    }
    impl_has_dtype!(f32, Dtype::F32);
    impl_has_dtype!(f64, Dtype::F64);
}

/// `dst += ` the sum of `rows`' rows (a bias gradient), without the temporary `sum_axis` makes.
pub fn add_row_sums<F: Real>(mut dst: ndarray::ArrayViewMut1<F>, rows: ndarray::ArrayView2<F>) {
    for row in rows.rows() {
        dst += &row;
    }
}

/// Makes `buf` have `shape`, reallocating only when the shape changed (buffers are sized once per
/// (N, T) and reused). Contents are unspecified afterwards: callers overwrite them. Any element
/// type with a zero: numbers, and ids (`u32`).
pub fn fit<A: Clone + num_traits::Zero, D: ndarray::Dimension>(buf: &mut ndarray::Array<A, D>, shape: D) {
    if buf.raw_dim() != shape {
        *buf = ndarray::Array::zeros(shape);
    }
}
