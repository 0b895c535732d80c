//! Sequence pairs for encoder-decoders (`input<TAB>output`): `pairs::read_pairs`, then the
//! character vocabulary and a padded batch.
#![no_main]

use libfuzzer_sys::fuzz_target;
use recur::data::pairs::{max_lengths, read_pairs, CharVocab, Layout};
use recur_fuzz::{check_error, write};

fuzz_target!(|data: &[u8]| {
    let path = write("pairs.tsv", data);
    match read_pairs(&path) {
        Ok(pairs) => {
            assert!(!pairs.is_empty());
            let vocab = CharVocab::from_pairs(&pairs);
            let (max_input_len, max_output_len) = max_lengths(&pairs);
            let layout = Layout { max_input_len, max_output_len, reverse_input: true };
            let refs: Vec<_> = pairs.iter().take(16).collect();
            layout.encode_batch(&vocab, &refs).expect("the training pairs fit their own layout");
        }
        Err(e) => check_error(&e, &path),
    }
});
