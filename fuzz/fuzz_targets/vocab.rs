//! `vocab.txt`: `Vocab::load`; what loads must survive a save and load unchanged.
#![no_main]

use libfuzzer_sys::fuzz_target;
use recur::data::Vocab;
use recur_fuzz::{check_error, write};

fuzz_target!(|data: &[u8]| {
    let path = write("vocab.txt", data);
    match Vocab::load(&path) {
        Ok(vocab) => {
            assert!(!vocab.is_empty());
            let again = write("vocab2.txt", vocab.to_text().as_bytes());
            assert_eq!(Vocab::load(&again).expect("a saved vocabulary loads"), vocab);
        }
        Err(e) => check_error(&e, &path),
    }
});
