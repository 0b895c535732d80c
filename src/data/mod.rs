//! Corpora and vocabularies: PTB, plain text, the built-in demo corpus.

pub mod corpus;
pub mod csv;
pub mod dates;
pub mod demo;
#[cfg(feature = "fetch")]
pub mod fetch;
pub mod fill;
pub mod lm_data;
pub mod pairs;
pub mod ptb;
pub mod series;
pub mod tsv;
pub mod vectors;
pub mod vocab;

pub use corpus::{Corpus, Tokenizer};
pub use vocab::{Vocab, EOS, UNK};
