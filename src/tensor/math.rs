//! Fast f32 element-wise kernels: exp, tanh, sigmoid.
//!
//! std's `f32::tanh` costs about 17 ns an element here and calls into libm per element, which the
//! compiler cannot vectorise. These kernels are branch-free arithmetic that LLVM turns into AVX2
//! code (about 1 ns an element). Accuracy: exp within ~2e-7 relative; tanh and sigmoid within
//! ~2e-7 absolute, which is the f32 rounding step near 1 (tested below against f64).
//!
//! exp(x) = 2^n * exp(r) with n = round(x / ln 2) and r = x - n ln 2 in [-ln2/2, ln2/2]; exp(r)
//! is its Taylor polynomial of degree 7 (truncation error r^8/8! < 6e-9), and 2^n is built
//! directly in the float's exponent bits.

const LOG2_E: f32 = std::f32::consts::LOG2_E;
// ln 2 split in a part exact in f32 and a remainder, so that n * LN2_HI has no rounding error.
const LN2_HI: f32 = 0.693_359_4;
const LN2_LO: f32 = -2.121_944_4e-4;
// Below this exp underflows to 0 and above it overflows; clamping keeps the bit trick valid.
const EXP_MIN: f32 = -87.0;
const EXP_MAX: f32 = 88.0;

/// exp of one value, written so that a loop over it vectorises.
#[inline(always)]
pub fn exp_approx(x: f32) -> f32 {
    let x = x.clamp(EXP_MIN, EXP_MAX);
    let n = (x * LOG2_E + 0.5).floor();
    let r = (-n).mul_add(LN2_LO, (-n).mul_add(LN2_HI, x));
    // Horner form of sum_{k=0}^{7} r^k / k!
    // (`mul_add` is one FMA instruction inside `on_widest_vectors`; a plain `p * r + c` is two.)
    let mut p: f32 = 1.0 / 5040.0;
    p = p.mul_add(r, 1.0 / 720.0);
    p = p.mul_add(r, 1.0 / 120.0);
    p = p.mul_add(r, 1.0 / 24.0);
    p = p.mul_add(r, 1.0 / 6.0);
    p = p.mul_add(r, 0.5);
    p = p.mul_add(r, 1.0);
    p = p.mul_add(r, 1.0);
    // The checked `n as i32` (saturating, NaN to 0) compiles to a scalar conversion and two
    // conditional moves per element, which kept every loop over this function from vectorising.
    // After the clamp n lies in [-126, 127] unless x is NaN; `max` maps NaN to a bound (p is
    // NaN then, so NaN still comes out).
    // SAFETY: the argument is finite and within i32 range.
    #[allow(clippy::manual_clamp)] // clamp would keep NaN, which the conversion must not see
    let n = unsafe { n.max(-126.0).min(127.0).to_int_unchecked::<i32>() };
    let scale = f32::from_bits(((n + 127) as u32) << 23);
    p * scale
}

/// tanh(x) = 1 - 2 / (exp(2x) + 1); exact limits ±1 for large |x| because exp saturates.
#[inline(always)]
pub fn tanh_approx(x: f32) -> f32 {
    // tanh(9) rounds to 1 in f32; clamping avoids exp overflow to inf and inf/inf.
    let x = x.clamp(-9.0, 9.0);
    1.0 - 2.0 / (exp_approx(2.0 * x) + 1.0)
}

/// sigmoid(x) = 1 / (1 + exp(-x)).
#[inline(always)]
pub fn sigmoid_approx(x: f32) -> f32 {
    1.0 / (1.0 + exp_approx(-x))
}

/// `tanh` in place over a slice ([`tanh_approx`]; AVX-512 where the CPU has it).
pub fn tanh_f32(xs: &mut [f32]) {
    on_widest_vectors!(xs.iter_mut().for_each(|x| *x = tanh_approx(*x)))
}

/// `sigmoid` in place over a slice ([`sigmoid_approx`]; AVX-512 where the CPU has it).
pub fn sigmoid_f32(xs: &mut [f32]) {
    on_widest_vectors!(xs.iter_mut().for_each(|x| *x = sigmoid_approx(*x)))
}

/// Runs `body` (an expression; the variables it names are captured as a closure's) compiled for
/// the widest vectors the CPU has, chosen at run time: AVX-512 where present, else AVX2 with FMA
/// (every x86-64 CPU of the last decade), else as the crate was built (x86-64's SSE2, or another
/// architecture's own vectors). There is no global `target-cpu`, so a plain `cargo build` of a
/// program that depends on recur runs these kernels as fast as a build for the machine.
///
/// A macro, not a function taking a closure: each of the three paths gets its own closure, called
/// once, which the compiler then inlines into its target-feature function (with the small
/// `#[inline]` functions it calls). One closure called from three places stays a function of its
/// own, compiled for the baseline, and its `mul_add`s become library calls (measured: ch06 at
/// 0.27x of the AVX2 build). AVX-512 over AVX2: sigmoid and tanh 1.9x, one GRU step's forward cell
/// 23 -> 16 us (20 x 650, one thread). Every path does the same arithmetic per element (no
/// reassociation, `mul_add` always fused), so the results are the same to the bit on every CPU.
macro_rules! on_widest_vectors {
    ($body:expr) => {{
        use $crate::tensor::math::Vectors;
        match $crate::tensor::math::widest_vectors() {
            #[cfg(target_arch = "x86_64")]
            // SAFETY: `widest_vectors` found AVX-512F (and so AVX2 and FMA) on this CPU.
            Vectors::Avx512 => unsafe { $crate::tensor::math::x86_vectors::with_avx512(|| $body) },
            #[cfg(target_arch = "x86_64")]
            // SAFETY: `widest_vectors` found AVX2 and FMA on this CPU.
            Vectors::Avx2 => unsafe { $crate::tensor::math::x86_vectors::with_avx2(|| $body) },
            Vectors::AsBuilt => $body,
        }
    }};
}
pub(crate) use on_widest_vectors;

/// The vectors the crate's `on_widest_vectors!` macro compiles for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Vectors {
    /// AVX-512F (x86-64).
    #[cfg(target_arch = "x86_64")]
    Avx512,
    /// AVX2 and FMA (x86-64).
    #[cfg(target_arch = "x86_64")]
    Avx2,
    /// What the crate was built for.
    AsBuilt,
}

/// The widest vectors this CPU has that recur compiles kernels for (detected once: std caches
/// the CPU's features).
#[inline(always)]
pub fn widest_vectors() -> Vectors {
    #[cfg(target_arch = "x86_64")]
    {
        if std::is_x86_feature_detected!("avx512f") {
            return Vectors::Avx512;
        }
        if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
            return Vectors::Avx2;
        }
    }
    Vectors::AsBuilt
}

/// The x86-64 functions the crate's `on_widest_vectors!` macro runs its closures in.
#[cfg(target_arch = "x86_64")]
#[doc(hidden)]
pub mod x86_vectors {
    /// Calls `kernel`, inlined here and so compiled for AVX-512F, AVX2 and FMA.
    ///
    /// # Safety
    /// The CPU must have AVX-512F.
    #[target_feature(enable = "avx512f,avx2,fma")]
    pub unsafe fn with_avx512<R>(kernel: impl FnOnce() -> R) -> R {
        kernel()
    }

    /// Calls `kernel`, inlined here and so compiled for AVX2 and FMA.
    ///
    /// # Safety
    /// The CPU must have AVX2 and FMA.
    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn with_avx2<R>(kernel: impl FnOnce() -> R) -> R {
        kernel()
    }
}

/// `xs[i] = exp(xs[i] - shift)`; returns their sum. Eight partial sums, one per AVX2 lane, so
/// that the loop vectorises (a single running sum would be a serial chain of additions).
pub fn exp_shifted_sum_f32(xs: &mut [f32], shift: f32) -> f32 {
    on_widest_vectors!(exp_shifted_sum_lanes(xs, shift))
}

#[inline(always)]
fn exp_shifted_sum_lanes(xs: &mut [f32], shift: f32) -> f32 {
    let mut lanes = [0.0f32; LANES];
    let mut chunks = xs.chunks_exact_mut(LANES);
    for chunk in &mut chunks {
        for (x, lane) in chunk.iter_mut().zip(&mut lanes) {
            *x = exp_approx(*x - shift);
            *lane += *x;
        }
    }
    let mut sum = 0.0;
    for x in chunks.into_remainder() {
        *x = exp_approx(*x - shift);
        sum += *x;
    }
    sum + lanes.iter().sum::<f32>()
}

/// The largest element (negative infinity for an empty slice; NaNs are passed over), in lanes
/// like [`exp_shifted_sum_f32`].
#[inline]
pub fn max_of<F: crate::tensor::Real>(xs: &[F]) -> F {
    let mut lanes = [F::neg_infinity(); LANES];
    let chunks = xs.chunks_exact(LANES);
    let rest = chunks.remainder();
    for chunk in chunks {
        for (&x, lane) in chunk.iter().zip(&mut lanes) {
            *lane = if x > *lane { x } else { *lane };
        }
    }
    rest.iter().chain(&lanes).fold(F::neg_infinity(), |m, &x| if x > m { x } else { m })
}

/// The sum of squares in f64, in lanes like [`exp_shifted_sum_f32`] (a gradient norm over
/// millions of weights: a single f64 running sum would wait on every addition's latency).
pub fn sum_of_squares<F: crate::tensor::Real>(xs: &[F]) -> f64 {
    on_widest_vectors!(sum_of_squares_lanes(xs))
}

#[inline(always)]
fn sum_of_squares_lanes<F: crate::tensor::Real>(xs: &[F]) -> f64 {
    let mut lanes = [0.0f64; LANES];
    let chunks = xs.chunks_exact(LANES);
    let rest = chunks.remainder();
    for chunk in chunks {
        for (&x, lane) in chunk.iter().zip(&mut lanes) {
            let x = x.to_f64();
            *lane += x * x;
        }
    }
    rest.iter().map(|&x| x.to_f64() * x.to_f64()).sum::<f64>() + lanes.iter().sum::<f64>()
}

/// Passes over every weight (zeroing the gradients, their norm, the optimizer's update) are
/// split between the pool's threads for arrays of at least this many values (the book's ch05
/// has none that large). Measured: classify's Adam update 1.06x; medium's SGD passes, bound by
/// memory bandwidth, 1.00-1.01x (bench/README.md).
pub const PARALLEL_MIN_VALUES: usize = 1 << 16;
/// Values per piece of such a split (pieces are what threads take; a multiple of the lanes).
pub const PIECE: usize = 1 << 14;

/// [`sum_of_squares`], halves of a long slice on two threads. The halving depends on the length
/// only, so the result (the order of its additions) is the same on any number of threads.
pub fn sum_of_squares_split<F: crate::tensor::Real>(xs: &[F]) -> f64 {
    if xs.len() < PARALLEL_MIN_VALUES {
        return sum_of_squares(xs);
    }
    let (low, high) = xs.split_at(xs.len() / 2);
    let (a, b) = rayon::join(|| sum_of_squares_split(low), || sum_of_squares_split(high));
    a + b
}

/// `f` on matching pieces of `a` and `b` (the same length), the pieces split over the pool's
/// threads when the slices are long (an element-wise pass: the result does not depend on it).
pub fn zip_pieces<A: Send, B: Sync>(a: &mut [A], b: &[B], f: impl Fn(&mut [A], &[B]) + Sync) {
    assert_eq!(a.len(), b.len(), "zip_pieces: slices of different lengths");
    if a.len() < PARALLEL_MIN_VALUES {
        return on_widest_vectors!(f(a, b));
    }
    use rayon::prelude::*;
    a.par_chunks_mut(PIECE).zip(b.par_chunks(PIECE)).for_each(|(a, b)| on_widest_vectors!(f(a, b)));
}

/// Fills `xs` with `value`, pieces on the pool's threads when long.
pub fn fill_pieces<F: Copy + Send + Sync>(xs: &mut [F], value: F) {
    if xs.len() < PARALLEL_MIN_VALUES {
        return xs.fill(value);
    }
    use rayon::prelude::*;
    xs.par_chunks_mut(PIECE).for_each(|piece| piece.fill(value));
}

/// The sum, in lanes like [`exp_shifted_sum_f32`].
pub fn sum_f32(xs: &[f32]) -> f32 {
    let mut lanes = [0.0f32; LANES];
    let chunks = xs.chunks_exact(LANES);
    let rest = chunks.remainder();
    for chunk in chunks {
        lanes.iter_mut().zip(chunk).for_each(|(lane, &x)| *lane += x);
    }
    rest.iter().sum::<f32>() + lanes.iter().sum::<f32>()
}

/// f32 values in one AVX2 register.
const LANES: usize = 8;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_passes_give_the_same_numbers_on_any_number_of_threads() {
        use crate::tensor::threads::on_pool;
        // Longer than the split threshold and not a multiple of a piece.
        let n = PARALLEL_MIN_VALUES * 3 + 77;
        let xs: Vec<f32> = (0..n).map(|i| ((i * 7919) % 1000) as f32 * 1e-3 - 0.5).collect();
        let exact: f64 = xs.iter().map(|&x| x as f64 * x as f64).sum();
        let one = on_pool(1, || sum_of_squares_split(&xs)).unwrap();
        let two = on_pool(2, || sum_of_squares_split(&xs)).unwrap();
        assert_eq!(one.to_bits(), two.to_bits(), "{one} on one thread, {two} on two");
        assert!((one - exact).abs() < 1e-9 * exact, "{one} vs {exact}");

        let mut ws = vec![1.0f32; n];
        on_pool(2, || zip_pieces(&mut ws, &xs, |w, x| w.iter_mut().zip(x).for_each(|(w, &x)| *w -= 0.5 * x)))
            .unwrap();
        assert!(ws.iter().zip(&xs).all(|(&w, &x)| w == 1.0 - 0.5 * x), "every element updated once");
        on_pool(2, || fill_pieces(&mut ws, 0.0)).unwrap();
        assert!(ws.iter().all(|&w| w == 0.0));
    }

    fn grid() -> impl Iterator<Item = f32> {
        (-200_000..=200_000).map(|i| i as f32 * 1e-4)
    }

    #[test]
    fn exp_is_within_3e7_relative_over_its_range() {
        let worst = (-86_990..87_990) // inside the clamp: below -87 the result is exp(-87) ~ 1.6e-38, i.e. zero
            .map(|i| i as f32 * 1e-3)
            .map(|x| {
                let want = (x as f64).exp();
                (((exp_approx(x) as f64 - want) / want).abs(), x)
            })
            .fold((0.0, 0.0), |a, b| if b.0 > a.0 { b } else { a });
        assert!(worst.0 < 3e-7, "worst relative error {} at x = {}", worst.0, worst.1);
    }

    #[test]
    fn tanh_and_sigmoid_are_within_3e7_absolute() {
        let mut worst_tanh = 0.0f64;
        let mut worst_sigmoid = 0.0f64;
        for x in grid() {
            let xd = x as f64;
            worst_tanh = worst_tanh.max((tanh_approx(x) as f64 - xd.tanh()).abs());
            worst_sigmoid = worst_sigmoid.max((sigmoid_approx(x) as f64 - 1.0 / (1.0 + (-xd).exp())).abs());
        }
        assert!(worst_tanh < 3e-7, "tanh worst absolute error {worst_tanh}");
        assert!(worst_sigmoid < 3e-7, "sigmoid worst absolute error {worst_sigmoid}");
    }

    #[test]
    fn shifted_exp_sum_and_max_match_the_plain_loops() {
        for len in [0usize, 1, 7, 8, 9, 100, 10_001] {
            let xs: Vec<f32> = (0..len).map(|i| ((i * 37 % 101) as f32 - 50.0) * 0.1).collect();
            let max = max_of(&xs);
            assert_eq!(max, xs.iter().fold(f32::NEG_INFINITY, |m, &x| m.max(x)));
            let mut ys = xs.clone();
            let sum = exp_shifted_sum_f32(&mut ys, max);
            let want: f64 = xs.iter().map(|&x| ((x - max) as f64).exp()).sum();
            assert!((sum as f64 - want).abs() <= 1e-6 * want.max(1.0), "len {len}: {sum} vs {want}");
            for (y, x) in ys.iter().zip(&xs) {
                assert!((*y as f64 - ((x - max) as f64).exp()).abs() < 1e-6);
            }
        }
        assert_eq!(max_of(&[1.0f32, f32::NAN, 3.0]), 3.0);
    }

    #[test]
    fn saturates_without_nan() {
        for x in [-1e30f32, -100.0, 100.0, 1e30, f32::MAX, f32::MIN] {
            assert!(tanh_approx(x).abs() <= 1.0 && !tanh_approx(x).is_nan());
            assert!((0.0..=1.0).contains(&sigmoid_approx(x)));
            assert!(exp_approx(x).is_finite());
        }
        assert_eq!(tanh_approx(0.0), 0.0);
        // A diverged run must still show NaN, not a plausible number.
        assert!(
            exp_approx(f32::NAN).is_nan()
                && tanh_approx(f32::NAN).is_nan()
                && sigmoid_approx(f32::NAN).is_nan()
        );
        let mut row = [1.0f32, f32::NAN, 2.0];
        assert!(exp_shifted_sum_f32(&mut row, 2.0).is_nan());
    }
}
