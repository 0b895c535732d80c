//! The vocabulary: word <-> id, ids in order of first appearance. Saved as `vocab.txt`, one
//! word a line, id = line number counted from 0.

use crate::error::{Error, Result};
use crate::io::read_text;
use std::collections::HashMap;
use std::path::Path;

/// End of sentence: every line break of a corpus becomes this token.
pub const EOS: &str = "<eos>";
/// The out-of-vocabulary word (PTB has it in its text).
pub const UNK: &str = "<unk>";

/// A vocabulary: words and their ids (0..len, in order of first appearance).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Vocab {
    words: Vec<String>,
    ids: HashMap<String, u32>,
}

impl Vocab {
    /// An empty vocabulary.
    pub fn new() -> Self {
        Self::default()
    }

    /// The word's id, adding it if new.
    pub fn id_or_insert(&mut self, word: &str) -> u32 {
        if let Some(&id) = self.ids.get(word) {
            return id;
        }
        let id = self.words.len() as u32;
        self.words.push(word.to_string());
        self.ids.insert(word.to_string(), id);
        id
    }

    /// The id of `word`, None if it is not in the vocabulary.
    pub fn id(&self, word: &str) -> Option<u32> {
        self.ids.get(word).copied()
    }

    /// The word with id `id`. Panics if `id >= len()`.
    pub fn word(&self, id: u32) -> &str {
        &self.words[id as usize]
    }

    /// Number of words (V).
    pub fn len(&self) -> usize {
        self.words.len()
    }

    /// True when the vocabulary has no words.
    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    /// Keeps the first `n` words (ids 0..n).
    pub fn truncate(&mut self, n: usize) {
        for w in self.words.drain(n.min(self.words.len())..) {
            self.ids.remove(&w);
        }
    }

    /// The id of `word`, or of `<unk>` if the vocabulary has it; else an error message.
    pub fn id_or_unk(&self, word: &str) -> crate::Result<u32> {
        self.id(word).or_else(|| self.id(UNK)).ok_or_else(|| {
            Error::msg(format!(
                "the word `{word}` is not in the model's vocabulary ({} words, no {UNK})",
                self.len()
            ))
        })
    }

    /// `vocab.txt` content.
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        for w in &self.words {
            s.push_str(w);
            s.push('\n');
        }
        s
    }

    /// Reads `vocab.txt`: one word per line, no blanks, no duplicates, no spaces (or byte-order
    /// marks) inside a word; CRLF line ends and a byte-order mark at the start are accepted.
    pub fn load(path: &Path) -> Result<Self> {
        let text = read_text(path)?;
        let mut vocab = Vocab::new();
        for (i, line) in text.lines().enumerate() {
            let word = line.strip_suffix('\r').unwrap_or(line);
            if word.is_empty() {
                return Err(Error::line(
                    path,
                    i + 1,
                    "expected one word, found a blank line (ids are line numbers, so no blank lines)",
                ));
            }
            if word.contains(super::corpus::is_word_separator) {
                return Err(Error::line(
                    path,
                    i + 1,
                    format!("expected one word (no spaces or byte-order marks), found {word:?}"),
                ));
            }
            if vocab.id(word).is_some() {
                return Err(Error::line(path, i + 1, format!("the word `{word}` appears twice")));
            }
            vocab.id_or_insert(word);
        }
        if vocab.is_empty() {
            return Err(Error::file(path, "the vocabulary is empty (expected one word per line)"));
        }
        Ok(vocab)
    }
}
