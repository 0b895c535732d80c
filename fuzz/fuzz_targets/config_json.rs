//! A run's `config.json` and `metrics.jsonl`: `RunDir::read_config`, `RunDir::read_metrics`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use recur::io::run_dir::{RunDir, CONFIG, METRICS};
use recur_fuzz::{check_error, temp_dir, write};

fuzz_target!(|data: &[u8]| {
    let run = RunDir::open(temp_dir()).expect("the temp dir exists");
    let config = write(CONFIG, data);
    match run.read_config() {
        Ok(c) => {
            let _ = c.model.check();
        }
        Err(e) => check_error(&e, &config),
    }
    let metrics = write(METRICS, data);
    if let Err(e) = run.read_metrics() {
        check_error(&e, &metrics);
    }
});
