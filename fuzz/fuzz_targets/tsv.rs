//! Labelled text for classification (`text<TAB>label`): `tsv::read_labelled`, then the classes
//! and the vocabulary built from it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use recur::data::tsv::{build_vocab, read_labelled, Classes, Keep, TextEncoding};
use recur::data::Tokenizer;
use recur_fuzz::{check_error, write};

fuzz_target!(|data: &[u8]| {
    let path = write("data.tsv", data);
    match read_labelled(&path) {
        Ok(examples) => {
            assert!(!examples.is_empty());
            for e in &examples {
                assert!(!e.text.is_empty() && !e.label.is_empty() && !e.label.contains('\t'));
            }
            let classes = Classes::from_labels(examples.iter().map(|e| e.label.as_str()));
            let ids = classes.ids_of(&path, &examples).expect("every label has a class");
            assert!(ids.iter().all(|&c| (c as usize) < classes.len()));
            let enc = TextEncoding { tokenizer: Tokenizer::Text, max_len: 8, keep: Keep::Last };
            let words: Vec<Vec<String>> = examples.iter().map(|e| enc.words(&e.text)).collect();
            let vocab = build_vocab(words.iter().map(Vec::as_slice), 50, 1);
            for e in &examples {
                assert!(enc.ids(&e.text, &vocab).len() <= 8);
            }
        }
        Err(e) => check_error(&e, &path),
    }
});
