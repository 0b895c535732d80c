//! PTB splits and plain-text corpora: `ptb::load_train`, `ptb::load_split`, `Corpus::read`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use recur::data::ptb::{self, Split};
use recur::data::{Corpus, Tokenizer, EOS};
use recur_fuzz::{check_error, temp_dir, write};

fuzz_target!(|data: &[u8]| {
    // The training split is the whole input; the validation split its second half.
    let train = write(Split::Train.file_name(), data);
    let valid = write(Split::Valid.file_name(), &data[data.len() / 2..]);
    match ptb::load_train(temp_dir()) {
        Ok(corpus) => {
            assert!(!corpus.ids.is_empty());
            assert!(corpus.ids.iter().all(|&id| (id as usize) < corpus.vocab.len()));
            match ptb::load_split(temp_dir(), Split::Valid, &corpus.vocab) {
                Ok(ids) => {
                    assert!(ids.iter().all(|&id| (id as usize) < corpus.vocab.len()));
                    assert!(ids.iter().any(|&id| corpus.vocab.word(id) != EOS));
                }
                Err(e) => check_error(&e, &valid),
            }
        }
        Err(e) => check_error(&e, &train),
    }
    match Corpus::read(&train, Tokenizer::Text) {
        Ok(corpus) => assert!(corpus.ids.iter().all(|&id| (id as usize) < corpus.vocab.len())),
        Err(e) => check_error(&e, &train),
    }
});
