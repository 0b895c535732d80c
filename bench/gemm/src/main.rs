//! f32 GEMM benchmark for choosing recur's matmul backend.
//!
//! Times C = A*B (row-major C, overwritten) through gemm, matrixmultiply, faer
//! and OpenBLAS (cblas), at 1 and 2 threads, on the shapes recur runs.
//!
//! Usage:
//!   gemm-bench                   driver: runs every (crate, threads) in its own
//!                                child process, BENCH_RUNS times (default 3),
//!                                and prints a markdown table of medians
//!   gemm-bench child CRATE T     one crate at T threads, tab-separated rows
//!
//! Why one process per (crate, threads): matrixmultiply reads MATMUL_NUM_THREADS
//! once, on first use, so it can't switch thread counts in-process; and
//! OpenBLAS's pthread workers busy-wait after a call, which would steal a core
//! from whichever crate is timed next. Separate processes keep runs independent.

// Referenced so that libopenblas gets linked (cblas-sys only declares symbols).
use openblas_src as _;
use std::process::Command;
use std::time::{Duration, Instant};

const CRATES: [&str; 4] = ["gemm", "matrixmultiply", "faer", "openblas"];

/// (label, M, K, N, A transposed in memory, B transposed in memory).
/// "A^T" means A is stored K x M and read through strides (rs=1, cs=M), i.e.
/// the X^T*dY of a weight gradient; "B^T" means B is stored N x K, i.e. the
/// dY*W^T of an input gradient. No copies are made.
const SHAPES: [(&str, usize, usize, usize, bool, bool); 11] = [
    ("10x100x100 (RNN step, batch 10)", 10, 100, 100, false, false),
    ("50x100x418 (ch5 affine, N*T rows)", 50, 100, 418, false, false),
    ("50x100x418 A^T*B", 50, 100, 418, true, false),
    ("50x100x418 A*B^T", 50, 100, 418, false, true),
    ("20x200x800", 20, 200, 800, false, false),
    ("20x650x2600 (LSTM step, batch 20)", 20, 650, 2600, false, false),
    ("20x650x2600 A*B^T (W stored 4H x D)", 20, 650, 2600, false, true),
    ("700x650x2600 (input proj., all steps)", 700, 650, 2600, false, false),
    ("700x650x2600 A^T*B", 700, 650, 2600, true, false),
    ("700x650x2600 A*B^T", 700, 650, 2600, false, true),
    ("700x650x10000 (softmax proj.)", 700, 650, 10000, false, false),
];

/// One problem: strided views of A (M x K) and B (K x N), row-major C (M x N).
struct Problem {
    m: usize,
    k: usize,
    n: usize,
    a: Vec<f32>,
    a_rs: isize,
    a_cs: isize,
    b: Vec<f32>,
    b_rs: isize,
    b_cs: isize,
    c: Vec<f32>,
}

impl Problem {
    fn new(m: usize, k: usize, n: usize, at: bool, bt: bool) -> Self {
        // Deterministic data in [-1, 1): values don't matter for speed, but
        // non-trivial ones let us check the result.
        let mut s = 0x2545_f491_4f6c_dd1du64;
        let mut rnd = |len: usize| -> Vec<f32> {
            (0..len)
                .map(|_| {
                    s ^= s << 13;
                    s ^= s >> 7;
                    s ^= s << 17;
                    (s >> 40) as f32 / (1u64 << 23) as f32 - 1.0
                })
                .collect()
        };
        let (a_rs, a_cs) = if at { (1, m as isize) } else { (k as isize, 1) };
        let (b_rs, b_cs) = if bt { (1, k as isize) } else { (n as isize, 1) };
        Problem { m, k, n, a: rnd(m * k), a_rs, a_cs, b: rnd(k * n), b_rs, b_cs, c: vec![f32::NAN; m * n] }
    }

    /// Checks 64 entries of C against an f64 dot product.
    fn check(&self) -> Result<(), String> {
        for t in 0..64usize {
            let i = (t * 7919) % self.m;
            let j = (t * 104_729) % self.n;
            let want: f64 = (0..self.k)
                .map(|p| {
                    let a = self.a[i * self.a_rs as usize + p * self.a_cs as usize] as f64;
                    a * self.b[p * self.b_rs as usize + j * self.b_cs as usize] as f64
                })
                .sum();
            let got = self.c[i * self.n + j] as f64;
            if !((got - want).abs() <= 1e-3 * (1.0 + want.abs())) {
                return Err(format!("C[{i},{j}] = {got}, expected {want}"));
            }
        }
        Ok(())
    }
}

extern "C" {
    // Exported by libopenblas; the env var is read at load time, this works any time.
    fn openblas_set_num_threads(n: std::os::raw::c_int);
}

/// One call of C = A*B through `krate` with `threads` threads.
fn run(krate: &str, threads: usize, p: &mut Problem) {
    let (m, k, n) = (p.m, p.k, p.n);
    let (a, b, c) = (p.a.as_ptr(), p.b.as_ptr(), p.c.as_mut_ptr());
    unsafe {
        match krate {
            "gemm" => {
                let par = if threads == 1 { gemm::Parallelism::None } else { gemm::Parallelism::Rayon(threads) };
                // gemm computes dst = alpha*dst + beta*lhs*rhs (alpha/beta swapped
                // against BLAS); read_dst=false means dst is overwritten.
                gemm::gemm(
                    m, n, k, c, 1, n as isize, false, a, p.a_cs, p.a_rs, b, p.b_cs, p.b_rs,
                    0.0f32, 1.0f32, false, false, false, par,
                );
            }
            // Thread count comes from MATMUL_NUM_THREADS, set in child().
            "matrixmultiply" => matrixmultiply::sgemm(
                m, k, n, 1.0, a, p.a_rs, p.a_cs, b, p.b_rs, p.b_cs, 0.0, c, n as isize, 1,
            ),
            "faer" => {
                use faer::{Accum, MatMut, MatRef, Par};
                let par = if threads == 1 { Par::Seq } else { Par::rayon(threads) };
                let lhs = MatRef::<f32>::from_raw_parts(a, m, k, p.a_rs, p.a_cs);
                let rhs = MatRef::<f32>::from_raw_parts(b, k, n, p.b_rs, p.b_cs);
                let dst = MatMut::<f32>::from_raw_parts_mut(c, m, n, n as isize, 1);
                faer::linalg::matmul::matmul(dst, Accum::Replace, lhs, rhs, 1.0f32, par);
            }
            "openblas" => {
                use cblas_sys::*;
                // Row-major cblas: a unit column stride is "no transpose" with
                // ld = row stride; a unit row stride is "transpose" with ld = col stride.
                let (ta, lda) = if p.a_cs == 1 { (CblasNoTrans, p.a_rs) } else { (CblasTrans, p.a_cs) };
                let (tb, ldb) = if p.b_cs == 1 { (CblasNoTrans, p.b_rs) } else { (CblasTrans, p.b_cs) };
                cblas_sgemm(
                    CblasRowMajor, ta, tb, m as i32, n as i32, k as i32, 1.0, a, lda as i32, b,
                    ldb as i32, 0.0, c, n as i32,
                );
            }
            _ => panic!("unknown crate {krate}"),
        }
    }
}

/// Median seconds per call. Each sample repeats the call until >= 50 ms have
/// passed (so timer resolution and call overhead average out on tiny shapes);
/// 11 samples after a 200 ms warm-up, median taken to shrug off the other
/// work sharing this 2-core machine.
fn time(krate: &str, threads: usize, p: &mut Problem) -> f64 {
    let warm = Instant::now();
    while warm.elapsed() < Duration::from_millis(200) {
        run(krate, threads, p);
    }
    let mut samples: Vec<f64> = (0..11)
        .map(|_| {
            let (t0, mut calls) = (Instant::now(), 0u32);
            while calls == 0 || t0.elapsed() < Duration::from_millis(50) {
                run(krate, threads, p);
                calls += 1;
            }
            t0.elapsed().as_secs_f64() / calls as f64
        })
        .collect();
    samples.sort_by(|x, y| x.partial_cmp(y).unwrap());
    samples[samples.len() / 2]
}

/// Child mode: print "shape<TAB>GFLOP/s" for one crate at one thread count.
fn child(krate: &str, threads: usize) {
    // Must happen before matrixmultiply's first call (it reads the var once).
    std::env::set_var("MATMUL_NUM_THREADS", threads.to_string());
    if krate == "openblas" {
        unsafe { openblas_set_num_threads(threads as i32) };
    }
    for &(label, m, k, n, at, bt) in SHAPES.iter() {
        let mut p = Problem::new(m, k, n, at, bt);
        run(krate, threads, &mut p);
        if let Err(e) = p.check() {
            eprintln!("{krate} {label}: WRONG RESULT {e}");
            std::process::exit(1);
        }
        let secs = time(krate, threads, &mut p);
        println!("{label}\t{:.2}", 2.0 * (m * k * n) as f64 / secs / 1e9);
    }
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|x, y| x.partial_cmp(y).unwrap());
    let h = v.len() / 2;
    if v.len() % 2 == 1 { v[h] } else { (v[h - 1] + v[h]) / 2.0 }
}

/// Driver mode: run all children BENCH_RUNS times, print medians across runs
/// with the min-max range so the noise is visible.
fn driver() {
    let runs: usize = std::env::var("BENCH_RUNS").ok().and_then(|s| s.parse().ok()).unwrap_or(3);
    let exe = std::env::current_exe().unwrap();
    // results[crate][threads-1][shape] = GFLOP/s of each run
    let mut res = vec![vec![vec![Vec::<f64>::new(); SHAPES.len()]; 2]; CRATES.len()];
    for r in 0..runs {
        // Runs interleave crates so slow drift in background load hits all alike.
        for (ci, krate) in CRATES.iter().enumerate() {
            for threads in 1..=2 {
                // Log the load average: on a shared machine it explains outliers.
                let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
                eprintln!("run {}/{runs}: {krate} x{threads}  loadavg {}", r + 1, load.trim());
                let out = Command::new(&exe)
                    .args(["child", krate, &threads.to_string()])
                    .output()
                    .expect("spawn child");
                if !out.status.success() {
                    eprintln!("{krate} x{threads} failed: {}", String::from_utf8_lossy(&out.stderr));
                    continue;
                }
                for (si, line) in String::from_utf8_lossy(&out.stdout).lines().enumerate() {
                    let g: f64 = line.split('\t').nth(1).unwrap().parse().unwrap();
                    res[ci][threads - 1][si].push(g);
                }
            }
        }
    }
    println!("GFLOP/s, median of {runs} runs (min-max across runs in brackets)\n");
    print!("| shape M x K x N | threads |");
    for krate in CRATES {
        print!(" {krate} |");
    }
    println!("\n|---|---|{}", "---|".repeat(CRATES.len()));
    for (si, shape) in SHAPES.iter().enumerate() {
        for t in 0..2 {
            print!("| {} | {} |", shape.0, t + 1);
            for ci in 0..CRATES.len() {
                let v = &mut res[ci][t][si];
                if v.is_empty() {
                    print!(" n/a |");
                } else {
                    let (lo, hi) = (v.iter().cloned().fold(f64::MAX, f64::min), v.iter().cloned().fold(0.0, f64::max));
                    print!(" {:.1} [{:.1}-{:.1}] |", median(v), lo, hi);
                }
            }
            println!();
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("child") => child(&args[2], args[3].parse().expect("threads")),
        _ => driver(),
    }
}
