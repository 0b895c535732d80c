//! Text to token ids. Every line break becomes `<eos>` (the book's PTB loader); ids are given in
//! order of first appearance.

use super::vocab::{Vocab, EOS, UNK};
use crate::error::{Error, Result};
use crate::io::read_text;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// How a line is cut into words (recorded in `config.json`, so scoring a sentence cuts it the
/// way the training text was cut).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Tokenizer {
    /// Split on whitespace, words as they are (PTB is already tokenised and lowercased).
    Whitespace,
    /// Lowercase, and split `.`, `,`, `?`, `!`, `;`, `:`, `"`, `(`, `)` off as words of their own
    /// (the book's `preprocess`, extended to more punctuation).
    Text,
    /// Every character a token, as it is (case and punctuation kept, as char-rnn does); the line
    /// break is `<eos>`. A white-space character is written as a name (`<sp>`, `<tab>`, or
    /// `<U+00A0>`), so a vocabulary of characters is one name a line like any other.
    Char,
}

/// The token of one character under [`Tokenizer::Char`].
fn char_token(c: char) -> String {
    match c {
        ' ' => "<sp>".to_string(),
        '\t' => "<tab>".to_string(),
        c if is_word_separator(c) => format!("<U+{:04X}>", c as u32),
        c => c.to_string(),
    }
}

/// The character a [`Tokenizer::Char`] token stands for (`<eos>` is the line break).
fn token_char(token: &str) -> Option<char> {
    match token {
        "<sp>" => Some(' '),
        "<tab>" => Some('\t'),
        EOS => Some('\n'),
        t if t.starts_with("<U+") && t.ends_with('>') => {
            u32::from_str_radix(&t[3..t.len() - 1], 16).ok().and_then(char::from_u32)
        }
        t => {
            let mut chars = t.chars();
            match (chars.next(), chars.next()) {
                (Some(c), None) => Some(c),
                _ => None,
            }
        }
    }
}

/// What separates words: whitespace, and U+FEFF (a byte-order mark, found inside text made by
/// joining files), which is never part of a word: `vocab.txt` drops it at the start of the file.
pub fn is_word_separator(c: char) -> bool {
    c.is_whitespace() || c == '\u{feff}'
}

fn split_words(text: &str) -> impl Iterator<Item = &str> {
    text.split(is_word_separator).filter(|w| !w.is_empty())
}

impl Tokenizer {
    /// The words of one line (without `<eos>`).
    pub fn words(self, line: &str) -> Vec<String> {
        match self {
            Tokenizer::Whitespace => split_words(line).map(str::to_string).collect(),
            Tokenizer::Text => {
                let mut spaced = String::with_capacity(line.len() + 8);
                for c in line.chars().flat_map(char::to_lowercase) {
                    if matches!(c, '.' | ',' | '?' | '!' | ';' | ':' | '"' | '(' | ')') {
                        spaced.push(' ');
                        spaced.push(c);
                        spaced.push(' ');
                    } else {
                        spaced.push(c);
                    }
                }
                split_words(&spaced).map(str::to_string).collect()
            }
            // A CRLF file's `\r` belongs to the line break, not to the text.
            Tokenizer::Char => line.strip_suffix('\r').unwrap_or(line).chars().map(char_token).collect(),
        }
    }

    /// Whether a token is a character (a character model: bits per character are its measure).
    pub fn is_char(self) -> bool {
        self == Tokenizer::Char
    }

    /// Text from tokens, as a reader wants it: words joined by spaces, characters joined as they
    /// are; `<eos>` is a line break. A token with no character (`<unk>`) is written as it is.
    pub fn join<'a>(self, tokens: impl IntoIterator<Item = &'a str>) -> String {
        let mut text = String::new();
        for token in tokens {
            match self {
                Tokenizer::Char => match token_char(token) {
                    Some(c) => text.push(c),
                    None => text.push_str(token),
                },
                _ if token == EOS => text.push('\n'),
                _ => {
                    if !(text.is_empty() || text.ends_with('\n')) {
                        text.push(' ');
                    }
                    text.push_str(token);
                }
            }
        }
        text
    }

    /// The tokens of a whole text: each line's words, then `<eos>` for each line break.
    pub fn tokens(self, text: &str) -> Vec<String> {
        let mut out = Vec::new();
        let mut rest = text;
        while let Some(end) = rest.find('\n') {
            out.extend(self.words(&rest[..end]));
            out.push(EOS.to_string());
            rest = &rest[end + 1..];
        }
        out.extend(self.words(rest));
        out
    }
}

/// Token ids and the vocabulary they index.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Corpus {
    /// The text's tokens as vocabulary ids, in order (`<eos>` at each line break).
    pub ids: Vec<u32>,
    /// The word <-> id map the ids index.
    pub vocab: Vocab,
}

impl Corpus {
    /// Builds the vocabulary from the text itself (a training split).
    pub fn from_text(text: &str, tokenizer: Tokenizer) -> Self {
        let mut vocab = Vocab::new();
        let ids = tokenizer.tokens(text).iter().map(|w| vocab.id_or_insert(w)).collect();
        Corpus { ids, vocab }
    }

    /// Reads a training text file. Errors: unreadable, not UTF-8, no words.
    pub fn read(path: &Path, tokenizer: Tokenizer) -> Result<Self> {
        let corpus = Corpus::from_text(&read_text(path)?, tokenizer);
        if corpus.vocab.len() <= 1 && corpus.ids.iter().all(|&id| corpus.vocab.word(id) == EOS) {
            return Err(Error::file(
                path,
                "the corpus contains no words (expected text, one sentence per line)",
            ));
        }
        Ok(corpus)
    }

    /// Keeps the first `n` tokens and the vocabulary they use (the book's `corpus[:1000]`, with
    /// `vocab_size = max(corpus) + 1`). `n = 0` keeps everything.
    pub fn truncate(&mut self, n: usize) -> Result<()> {
        if n == 0 {
            return Ok(());
        }
        if n > self.ids.len() {
            return Err(Error::msg(format!(
                "--corpus-size {n} is larger than the corpus ({} tokens)",
                self.ids.len()
            )));
        }
        self.ids.truncate(n);
        let used = self.ids.iter().max().map_or(0, |&m| m as usize + 1);
        self.vocab.truncate(used);
        Ok(())
    }
}

impl Corpus {
    /// The same text over a vocabulary of `<unk>` (id 0), `<eos>` and the words seen at least
    /// `min_count` times, most frequent first (ties in order of first appearance), at most
    /// `max_size` entries in all (0 = no cap); every other word becomes `<unk>`. Text corpora are
    /// read this way, so a model trained on them reads new text: its unknown words are `<unk>`.
    pub fn with_vocab_limits(&self, max_size: usize, min_count: usize) -> Corpus {
        let mut counts = vec![0usize; self.vocab.len()];
        for &id in &self.ids {
            counts[id as usize] += 1;
        }
        let eos = self.vocab.id(EOS);
        let unk_word = self.vocab.id(UNK);
        // Ids are in order of first appearance, so a stable sort by count keeps that order in ties.
        let mut ranked: Vec<u32> = (0..self.vocab.len() as u32)
            .filter(|&id| Some(id) != eos && Some(id) != unk_word && counts[id as usize] >= min_count.max(1))
            .collect();
        ranked.sort_by(|a, b| counts[*b as usize].cmp(&counts[*a as usize]));
        let fixed = 1 + usize::from(eos.is_some());
        if max_size > 0 {
            ranked.truncate(max_size.saturating_sub(fixed));
        }
        let mut vocab = Vocab::new();
        let unk = vocab.id_or_insert(UNK);
        let mut new_id = vec![unk; self.vocab.len()];
        if let Some(eos) = eos {
            new_id[eos as usize] = vocab.id_or_insert(EOS);
        }
        for id in ranked {
            new_id[id as usize] = vocab.id_or_insert(self.vocab.word(id));
        }
        Corpus { ids: self.ids.iter().map(|&id| new_id[id as usize]).collect(), vocab }
    }
}

/// Maps a text file's tokens to ids of an existing vocabulary (validation and test splits,
/// `eval --text`): unknown words become `<unk>` if the vocabulary has it, else an error naming
/// the file, the line and the word.
pub fn encode_file(path: &Path, tokenizer: Tokenizer, vocab: &Vocab) -> Result<Vec<u32>> {
    Ok(encode_file_counted(path, tokenizer, vocab)?.ids)
}

/// Token ids of a text, and how many of its words the vocabulary lacked (read as `<unk>`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Encoded {
    /// The text's tokens as ids, unknown words as `<unk>`'s id.
    pub ids: Vec<u32>,
    /// How many tokens were not in the vocabulary.
    pub unknown: usize,
}

/// [`encode_file`], counting the words read as `<unk>`.
pub fn encode_file_counted(path: &Path, tokenizer: Tokenizer, vocab: &Vocab) -> Result<Encoded> {
    let text = read_text(path)?;
    let mut out = Encoded { ids: Vec::new(), unknown: 0 };
    for (i, line) in text.split_inclusive('\n').enumerate() {
        let (body, has_newline) = match line.strip_suffix('\n') {
            Some(b) => (b, true),
            None => (line, false),
        };
        for w in tokenizer.words(body) {
            out.unknown += usize::from(vocab.id(&w).is_none());
            out.ids.push(vocab.id_or_unk(&w).map_err(|m| Error::line(path, i + 1, m))?);
        }
        if has_newline {
            out.ids.push(vocab.id_or_unk(EOS).map_err(|m| Error::line(path, i + 1, m))?);
        }
    }
    if out.ids.iter().all(|&id| vocab.word(id) == EOS) {
        return Err(Error::file(path, "contains no words (expected text, one sentence per line)"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_breaks_become_eos_and_ids_follow_first_appearance() {
        let c = Corpus::from_text(" you say goodbye \n and i say hello \n", Tokenizer::Whitespace);
        let words: Vec<&str> = c.ids.iter().map(|&i| c.vocab.word(i)).collect();
        assert_eq!(words, ["you", "say", "goodbye", "<eos>", "and", "i", "say", "hello", "<eos>"]);
        assert_eq!(c.ids, [0, 1, 2, 3, 4, 5, 1, 6, 3]);
    }

    #[test]
    fn the_char_tokenizer_keeps_every_character_and_joins_back() {
        let text = "Hi, you\tsay\u{a0}\"bye\"\r\nok \u{fffd}\n";
        let tokens = Tokenizer::Char.tokens(text);
        assert_eq!(tokens[..9], ["H", "i", ",", "<sp>", "y", "o", "u", "<tab>", "s"].map(String::from));
        assert!(tokens.contains(&"<U+00A0>".to_string()));
        assert_eq!(tokens.iter().filter(|t| *t == EOS).count(), 2);
        let back = Tokenizer::Char.join(tokens.iter().map(String::as_str));
        assert_eq!(back, text.replace("\r\n", "\n"));
        // A vocabulary of characters is written and read back as one name a line.
        let corpus = Corpus::from_text(text, Tokenizer::Char);
        let path = std::env::temp_dir().join(format!("recur-char-vocab-{}.txt", std::process::id()));
        std::fs::write(&path, corpus.vocab.to_text()).unwrap();
        let read = Vocab::load(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        assert_eq!(read, corpus.vocab);
        assert_eq!(Tokenizer::Char.join([UNK, "a"]), "<unk>a");
        assert_eq!(Tokenizer::Text.join(["a", "b", EOS, "c"]), "a b\nc");
    }

    #[test]
    fn text_tokenizer_lowercases_and_splits_punctuation() {
        let words = Tokenizer::Text.words("You say goodbye, and I say hello.");
        assert_eq!(words, ["you", "say", "goodbye", ",", "and", "i", "say", "hello", "."]);
        // CRLF line ends: the \r is whitespace and disappears.
        assert_eq!(Tokenizer::Text.tokens("a b\r\nc"), ["a", "b", "<eos>", "c"]);
        // A byte-order mark inside the text (files joined) separates words.
        assert_eq!(Tokenizer::Whitespace.words("a\u{feff}b \u{feff}"), ["a", "b"]);
    }

    #[test]
    fn vocabulary_limits_keep_the_frequent_words_and_map_the_rest_to_unk() {
        let c = Corpus::from_text("a b b c c c\nd c b\n", Tokenizer::Whitespace);
        let capped = c.with_vocab_limits(4, 1);
        let words: Vec<&str> = (0..capped.vocab.len() as u32).map(|i| capped.vocab.word(i)).collect();
        assert_eq!(words, ["<unk>", "<eos>", "c", "b"]);
        let text: Vec<&str> = capped.ids.iter().map(|&i| capped.vocab.word(i)).collect();
        assert_eq!(text, ["<unk>", "b", "b", "c", "c", "c", "<eos>", "<unk>", "c", "b", "<eos>"]);
        let min2 = c.with_vocab_limits(0, 2);
        assert_eq!(min2.vocab.len(), 4, "a and d are seen once");
        assert_eq!(c.with_vocab_limits(0, 1).vocab.len(), 6, "every word and <unk>");
    }

    #[test]
    fn truncate_keeps_the_vocabulary_of_the_prefix() {
        let mut c = Corpus::from_text("a b c a d e\n", Tokenizer::Whitespace);
        c.truncate(4).unwrap();
        assert_eq!(c.ids, [0, 1, 2, 0]);
        assert_eq!(c.vocab.len(), 3);
        assert!(c.truncate(100).unwrap_err().message().contains("larger than the corpus"));
    }
}
