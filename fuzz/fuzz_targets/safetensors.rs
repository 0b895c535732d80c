//! safetensors checkpoints: `checkpoint::load` as f32 and as f64. Every tensor that loads must
//! hold exactly the numbers its shape says.
#![no_main]

use libfuzzer_sys::fuzz_target;
use recur::io::checkpoint;
use recur_fuzz::{check_error, write};

fuzz_target!(|data: &[u8]| {
    let path = write("model.safetensors", data);
    match checkpoint::load::<f32>(&path) {
        Ok(tensors) => {
            for t in tensors.values() {
                assert_eq!(t.len(), t.shape().iter().product::<usize>());
                assert!(t.len() * 4 <= data.len());
            }
        }
        Err(e) => check_error(&e, &path),
    }
    if let Err(e) = checkpoint::load::<f64>(&path) {
        check_error(&e, &path);
    }
});
