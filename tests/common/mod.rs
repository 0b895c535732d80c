//! Helpers shared by the integration tests: finite-difference gradient checks and the shared
//! data folder.
#![allow(dead_code)]

pub mod cli;
pub mod guarantees;

use ndarray::{ArrayD, ArrayViewD};
use recur::params::Params;
use recur::tensor::Rng;

/// Central-difference step (f64).
pub const EPS: f64 = 1e-5;
/// An analytic and a numeric derivative agree when the relative error
/// `|a - n| / max(1e-8, |a| + |n|)` is below `REL_TOL`, or both are below `ABS_TOL` apart
/// (derivatives near zero, where the relative error measures only rounding).
pub const REL_TOL: f64 = 1e-6;
pub const ABS_TOL: f64 = 1e-9;

/// Asserts that `analytic` matches the central difference of `loss` with respect to every
/// element of `x`, perturbed through `set(x_index, value)`. Also asserts the analytic gradient is
/// not all zero, so a backward that forgets to write cannot pass.
pub fn check_elements(
    what: &str,
    x: &ArrayD<f64>,
    analytic: ArrayViewD<f64>,
    mut loss_at: impl FnMut(&ArrayD<f64>) -> f64,
) {
    assert_eq!(x.shape(), analytic.shape(), "{what}: gradient shape");
    assert!(analytic.iter().any(|g| g.abs() > 1e-12), "{what}: the analytic gradient is all zero");
    let mut probe = x.clone();
    let mut worst = 0.0f64;
    for i in 0..x.len() {
        let orig = x.as_slice().unwrap()[i];
        probe.as_slice_mut().unwrap()[i] = orig + EPS;
        let plus = loss_at(&probe);
        probe.as_slice_mut().unwrap()[i] = orig - EPS;
        let minus = loss_at(&probe);
        probe.as_slice_mut().unwrap()[i] = orig;
        let numeric = (plus - minus) / (2.0 * EPS);
        let a = analytic.iter().nth(i).copied().unwrap();
        let diff = (a - numeric).abs();
        let rel = diff / (a.abs() + numeric.abs()).max(1e-8);
        assert!(
            rel < REL_TOL || diff < ABS_TOL,
            "{what}[{i}]: analytic {a:e} vs numeric {numeric:e} (relative error {rel:e})"
        );
        worst = worst.max(if diff < ABS_TOL { 0.0 } else { rel });
    }
    eprintln!("{what}: {} elements, worst relative error {worst:.1e}", x.len());
}

/// Checks every parameter of `params` whose gradient has been accumulated by one backward pass:
/// `loss(params)` must recompute the loss from scratch (same inputs, same initial state).
pub fn check_params(what: &str, params: &mut Params<f64>, mut loss: impl FnMut(&Params<f64>) -> f64) {
    let ids: Vec<_> = params.ids().collect();
    for id in ids {
        let name = params.name(id).to_string();
        let value = params.value(id).to_owned();
        let grad = params.grad(id).to_owned();
        let mut scratch = params.clone();
        check_elements(&format!("{what}: d{name}"), &value, grad.view(), |v| {
            scratch.value_mut(id).assign(v);
            loss(&scratch)
        });
    }
}

/// Fills every parameter with `N(0, scale^2)` draws (biases too, so no symmetry hides a bug).
pub fn randomize(params: &mut Params<f64>, rng: &mut Rng, scale: f64) {
    let ids: Vec<_> = params.ids().collect();
    for id in ids {
        rng.fill_normal(params.value_mut(id), scale);
    }
}

pub fn random_array(shape: &[usize], rng: &mut Rng) -> ArrayD<f64> {
    let mut a = ArrayD::zeros(ndarray::IxDyn(shape));
    rng.fill_normal(&mut a, 1.0);
    a
}

/// The shared data folder (`RECUR_DATA`, set by `.ci/run` to `../shared/data`), or `None` after
/// printing what is missing: data-backed tests skip loudly, they never pass silently.
pub fn shared_data(test: &str, needs: &str) -> Option<std::path::PathBuf> {
    match std::env::var_os("RECUR_DATA") {
        Some(dir) if std::path::Path::new(&dir).join(needs).exists() => Some(dir.into()),
        _ => {
            eprintln!("SKIPPED {test}: needs $RECUR_DATA/{needs} (set RECUR_DATA=<path to shared/data>)");
            None
        }
    }
}
