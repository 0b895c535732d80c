//! `recur bench`: speed of the training step (forward + backward + clip + update) of the
//! benchmark models, and the GEMM rate of the machine.
//!
//! Every model reports tokens per second (the median of `--repeats` timed runs of `--seconds`
//! after a `--warmup`), its FLOP count per token, the FLOP rate that makes, the process's
//! peak resident memory (`VmHWM`), and that FLOP rate as a share of the GEMM rate measured
//! right after the runs in the same process (2048^3, `--repeats` runs of 0.5 s). The
//! side-by-side suite against PyTorch and NumPy is `python3 bench/suite.py`, which launches
//! this command once per model (so each peak memory is that model's alone) in a rotating order
//! with the references.
//!
//! The harness (what is timed, the FLOP counts, the GEMM shapes) is `recur::bench`; this
//! command checks its flags and prints.

use clap::{Args, ValueEnum};
use recur::bench::gemm::{same_launch_gemm_rate, shape_rates, ShapeRate, SHAPES};
use recur::bench::{measure, median, status_mib, BenchModel, Timing};
use recur::{Error, Result};
use serde_json::json;

#[derive(Args, Debug)]
pub struct BenchArgs {
    #[arg(value_enum, default_value = "ch05")]
    model: BenchModel,
    /// Timed runs; the median is reported (after a model, also the number of 0.5 s runs of
    /// the 2048^3 product its share of the GEMM rate is taken of).
    #[arg(long, default_value_t = 5)]
    repeats: usize,
    /// Length of each timed run (for gemm: of each shape's run).
    #[arg(long, default_value_t = 2.0)]
    seconds: f64,
    /// Untimed steps for this long first (at least one step): caches, buffers, the thread pool.
    #[arg(long, default_value_t = 1.0)]
    warmup: f64,
    /// Threads of the GEMM's pool (0: one per core). The suite's references run on 2
    /// (`torch.set_num_threads(2)`, 2 BLAS threads).
    #[arg(long, default_value_t = 2)]
    pub(crate) threads: usize,
    /// Print one JSON line instead of text.
    #[arg(long)]
    json: bool,
}

pub fn run(args: BenchArgs) -> Result<()> {
    let positive = |x: f64| x.is_finite() && x > 0.0;
    if args.repeats == 0 || !positive(args.seconds) || !(args.warmup == 0.0 || positive(args.warmup)) {
        return Err(Error::msg("--repeats and --seconds must be positive, --warmup not negative"));
    }
    let start_rss = status_mib("VmRSS:");
    let threads = rayon::current_num_threads();
    let name = args.model.to_possible_value().expect("listed").get_name().to_string();
    let timing = Timing { warmup: args.warmup, repeats: args.repeats, seconds: args.seconds };
    if args.model == BenchModel::Gemm {
        return gemm(&args, &timing, threads, start_rss);
    }
    let mut out = measure(args.model, &timing);
    let median = median(&out.runs);
    let gflops = median * out.flops_per_token / 1e9;
    let peak = status_mib("VmHWM:");
    // After the peak is read: the product's 48 MB are not the model's.
    let gemm_gflops = same_launch_gemm_rate(args.repeats);
    if args.json {
        let obj = out.extra.as_object_mut().expect("an object");
        obj.extend([
            ("impl".into(), json!("recur")),
            ("model".into(), json!(name)),
            ("tokens_per_s".into(), json!(median)),
            ("runs".into(), json!(out.runs)),
            ("flops_per_token".into(), json!(out.flops_per_token)),
            ("gflops".into(), json!(gflops)),
            ("gemm_gflops".into(), json!(gemm_gflops)),
            ("peak_rss_mib".into(), json!(peak)),
            ("start_rss_mib".into(), json!(start_rss)),
            ("threads".into(), json!(threads)),
        ]);
        println!("{}", out.extra);
    } else {
        let peak = peak.map_or("unknown".into(), |p| format!("{p:.0} MiB"));
        println!(
            "{name} ({}): {median:.0} tokens/s (median of {}), {:.2} MFLOP/token, {gflops:.1} GFLOP/s \
             ({:.0}% of the GEMM rate measured right after, {gemm_gflops:.1}), peak memory {peak}",
            out.label,
            args.repeats,
            out.flops_per_token / 1e6,
            100.0 * gflops / gemm_gflops
        );
    }
    Ok(())
}

fn gemm(args: &BenchArgs, timing: &Timing, threads: usize, start_rss: Option<f64>) -> Result<()> {
    let mut print = |rate: &ShapeRate| {
        if !args.json {
            println!(
                "{}: {:.1} GFLOP/s (median of {}, {threads} threads)",
                rate.name, rate.gflops, args.repeats
            );
        }
    };
    let rates = shape_rates(timing, &mut print);
    if args.json {
        let rows: Vec<serde_json::Value> = rates
            .iter()
            .map(
                |r| json!({"name": r.name, "m": r.m, "k": r.k, "n": r.n, "gflops": r.gflops, "runs": r.runs}),
            )
            .collect();
        let reference = rows[0]["gflops"].clone();
        println!(
            "{}",
            json!({"impl": "recur", "model": "gemm", "gflops": reference, "reference": SHAPES[0].0,
                "shapes": rows, "threads": threads, "peak_rss_mib": status_mib("VmHWM:"),
                "start_rss_mib": start_rss})
        );
    }
    Ok(())
}
