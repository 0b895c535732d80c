//! The Penn Treebank language-modelling splits (Mikolov's `ptb.{train,valid,test}.txt`).
//!
//! As the book's loader: each line break becomes `<eos>`, ids are given in order of first
//! appearance in the training split, and the validation and test splits use that vocabulary.

use super::corpus::{encode_file, Corpus, Tokenizer};
use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

/// A PTB split.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Split {
    /// `ptb.train.txt`: builds the vocabulary.
    Train,
    /// `ptb.valid.txt`: validation.
    Valid,
    /// `ptb.test.txt`: the final test.
    Test,
}

impl Split {
    /// The split's file name (`ptb.train.txt`, ...).
    pub fn file_name(self) -> &'static str {
        match self {
            Split::Train => "ptb.train.txt",
            Split::Valid => "ptb.valid.txt",
            Split::Test => "ptb.test.txt",
        }
    }

    /// Reads `train`, `valid` (or `val`) or `test`; anything else is an error listing them.
    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "train" => Ok(Split::Train),
            "valid" | "val" => Ok(Split::Valid),
            "test" => Ok(Split::Test),
            other => Err(Error::msg(format!("unknown split `{other}`: expected train, valid or test"))),
        }
    }
}

/// PTB is already tokenised: words are split on whitespace and kept as they are.
pub const TOKENIZER: Tokenizer = Tokenizer::Whitespace;

/// The path of `split`'s file in the PTB folder `dir`.
pub fn split_path(dir: &Path, split: Split) -> PathBuf {
    dir.join(split.file_name())
}

/// The training split: ids and the vocabulary.
pub fn load_train(dir: &Path) -> Result<Corpus> {
    let path = split_path(dir, Split::Train);
    if !path.exists() {
        return Err(Error::file(
            &path,
            "not found: expected the PTB training split here (get it with `recur data fetch ptb --dir DIR`)",
        ));
    }
    Corpus::read(&path, TOKENIZER)
}

/// A split encoded with `vocab` (from the training split), unknown words as `<unk>`.
pub fn load_split(dir: &Path, split: Split, vocab: &super::Vocab) -> Result<Vec<u32>> {
    let path = split_path(dir, split);
    if !path.exists() {
        return Err(Error::file(
            &path,
            format!("not found: expected the PTB {} split here", split.file_name()),
        ));
    }
    encode_file(&path, TOKENIZER, vocab)
}
