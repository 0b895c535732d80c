//! A whole run directory: `config.json`, `vocab.txt` and `model.safetensors`, read by
//! `RunDir::load_lm`, which builds the model the config describes and loads the tensors into it
//! (a checkpoint whose tensors do not match the config must be refused with a message).
//!
//! The input holds three parts: a 4-byte little-endian length and the config, a length and the
//! vocabulary, then the safetensors file (see `recur_fuzz::split_parts`, `fuzz/make_seeds.py`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use recur::io::checkpoint;
use recur::io::run_dir::{RunDir, CONFIG, MODEL, VOCAB};
use recur::models::LmConfig;
use recur_fuzz::{split_parts, temp_dir, write};

/// `load_lm` once built the model its config describes before comparing it with the file, so a
/// config with huge sizes (`"hidden_size": 1099511627776`, or 2^30 layers) aborted on allocation
/// (tests/fixtures/fuzz/run_dir/{huge-hidden-size,many-layers}). It now refuses a config whose
/// parameter count exceeds the numbers in the file first; `true` would skip such inputs again.
const SKIP_MODELS_LARGER_THAN_THE_FILE: bool = false;

fuzz_target!(|data: &[u8]| {
    let parts = split_parts(data, 3);
    write(CONFIG, parts[0]);
    write(VOCAB, parts[1]);
    write(MODEL, parts[2]);
    let run = RunDir::open(temp_dir()).expect("the temp dir exists");
    if SKIP_MODELS_LARGER_THAN_THE_FILE {
        if let (Ok(config), Ok(tensors)) = (run.read_config(), checkpoint::load::<f32>(&run.path(MODEL))) {
            let in_file: usize = tensors.values().map(|t| t.len()).sum();
            if min_param_count(&config.model).is_none_or(|n| n > in_file) {
                return;
            }
        }
    }
    match run.load_lm() {
        Ok(loaded) => {
            assert_eq!(loaded.vocab.len(), loaded.config.model.vocab_size);
            assert!(!loaded.model.state_dict().is_empty());
        }
        Err(e) => {
            let named = [CONFIG, VOCAB, MODEL]
                .iter()
                .any(|f| e.message().starts_with(&run.path(f).display().to_string()));
            assert!(named, "the error names none of the run's files: {}", e.message());
        }
    }
});

/// The patch's lower bound of the parameter count (`None` on overflow): the embedding, each
/// layer's two weight matrices, the decoder's bias and, untied, its weight.
fn min_param_count(model: &LmConfig) -> Option<usize> {
    let (v, d, h) = (model.vocab_size, model.embed_size, model.hidden_size);
    let mut n = v.checked_mul(d)?.checked_add(v)?;
    if !model.tie_weights {
        n = n.checked_add(v.checked_mul(h)?)?;
    }
    if model.num_layers > 0 {
        let first = h.checked_mul(d.checked_add(h)?)?;
        let rest = h.checked_mul(h.checked_mul(2)?)?.checked_mul(model.num_layers - 1)?;
        n = n.checked_add(first)?.checked_add(rest)?;
    }
    Some(n)
}
