//! What a language model trains on: the built-in demo text, PTB, or any text file, with the
//! validation and test text that go with it.
//!
//! - PTB keeps its own splits and its own vocabulary (10,000 words with `<unk>`).
//! - A text file (`--text FILE`) is read with a vocabulary of `<unk>`, `<eos>` and its words,
//!   capped by `max_vocab` and `min_count`; every other word, and every word a later text has
//!   that training did not, is `<unk>`. Validation reads `valid` (a file) or the last
//!   `valid_share` of the file's lines (held out before the vocabulary is built); `test` is
//!   measured once at the end.
//! - The demo text is the book's chapter-5 default: its vocabulary as it comes, no `<unk>`.
//! - Any of them read as characters (`tokenizer: Some(Tokenizer::Char)`): the vocabulary is
//!   `<unk>`, `<eos>` (the line break) and the training text's characters, capped like a text's
//!   words; PTB's validation and test files are read as characters too.

use super::corpus::{encode_file_counted, Corpus, Encoded, Tokenizer};
use super::ptb::{self, Split};
use super::{demo, EOS};
use crate::error::{Error, Result};
use crate::io::read_text;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Which kind of text a language model trains on (`--corpus`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
#[serde(rename_all = "kebab-case")]
pub enum CorpusKind {
    /// The built-in demo text (no data, no network needed).
    Demo,
    /// Penn Treebank: ptb.train.txt (and ptb.valid.txt, ptb.test.txt) in --data-dir.
    Ptb,
    /// A text file of your own (--text FILE), one sentence a line.
    Text,
}

/// Where the training text comes from, and what validates and tests it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DataSource {
    /// The corpus kind (None: the caller's default).
    pub corpus: Option<CorpusKind>,
    /// PTB's folder (default: `$RECUR_DATA/ptb`, else `data/ptb`).
    pub data_dir: Option<PathBuf>,
    /// The text file read when the corpus is `text`.
    pub text: Option<PathBuf>,
    /// Keep the first N training tokens (0 = all).
    pub corpus_size: usize,
    /// Validate every epoch: PTB's validation split, `valid`, or a held-out share of a text.
    pub validate: bool,
    /// Text corpora: the largest vocabulary (`<unk>` and `<eos>` included; 0 = no cap) and the
    /// fewest times a word must be seen to be kept.
    pub max_vocab: usize,
    /// Text corpora: words seen fewer times than this become `<unk>`.
    pub min_count: usize,
    /// A validation text file (read with the training vocabulary).
    pub valid: Option<PathBuf>,
    /// A test text file (read with the training vocabulary).
    pub test: Option<PathBuf>,
    /// Text corpora: the share of the file's last lines held out for validation.
    pub valid_share: f64,
    /// `Some(Tokenizer::Char)` reads any corpus as characters (a character-level model, with
    /// `<unk>` for characters training did not see); `None` reads each corpus its own way (PTB
    /// by whitespace, the others by [`Tokenizer::Text`]).
    pub tokenizer: Option<Tokenizer>,
}

/// The training corpus, and the validation and test ids if the run has them.
pub struct LmData {
    /// The training ids and the vocabulary built from them.
    pub train: Corpus,
    /// How the texts were cut into tokens.
    pub tokenizer: Tokenizer,
    /// `demo`, `ptb:DIR` or `text:FILE` (what `config.json` records).
    pub name: String,
    /// Validation ids (training vocabulary), when the run validates.
    pub valid: Option<Vec<u32>>,
    /// Test ids (training vocabulary), when a test split or file was given.
    pub test: Option<Vec<u32>>,
    /// What a user should know: words read as `<unk>`, lines held out.
    pub notes: Vec<String>,
}

/// The share of a text's lines held out when validation is asked for and nothing else says how.
pub const DEFAULT_VALID_SHARE: f64 = 0.1;

/// Where the PTB files are: `data_dir` when given, else `$RECUR_DATA/ptb`, else `data/ptb`
/// (where `recur data fetch ptb` puts them).
pub fn ptb_dir(data_dir: Option<&Path>) -> PathBuf {
    data_dir.map(Path::to_path_buf).unwrap_or_else(|| match std::env::var_os("RECUR_DATA") {
        Some(root) => Path::new(&root).join("ptb"),
        None => PathBuf::from("data/ptb"),
    })
}

impl DataSource {
    /// The corpus read: the one named, else a text when `text` is given, else the demo.
    pub fn kind(&self) -> CorpusKind {
        self.corpus.unwrap_or(if self.text.is_some() { CorpusKind::Text } else { CorpusKind::Demo })
    }

    /// `data_dir`, else `$RECUR_DATA/ptb`, else `data/ptb`.
    pub fn ptb_dir(&self) -> PathBuf {
        ptb_dir(self.data_dir.as_deref())
    }

    /// Why these settings cannot be read together, if they cannot.
    pub fn check(&self) -> Result<()> {
        let kind = self.kind();
        if self.text.is_some() && kind != CorpusKind::Text {
            return Err(Error::msg(format!(
                "--text FILE trains on that file, but --corpus {} reads another corpus; drop --corpus (or give --corpus text)",
                kind.name()
            )));
        }
        if kind == CorpusKind::Text && self.text.is_none() {
            return Err(Error::msg("--corpus text needs --text FILE"));
        }
        if !(0.0..1.0).contains(&self.valid_share) {
            return Err(Error::msg(format!("--valid-share must be in [0, 1) (got {})", self.valid_share)));
        }
        if self.valid.is_some() && self.valid_share > 0.0 {
            return Err(Error::msg("give --valid FILE or --valid-share X, not both"));
        }
        let chars = self.tokenizer == Some(Tokenizer::Char);
        match kind {
            CorpusKind::Ptb => {
                let given = [
                    ("--max-vocab", self.max_vocab != 0 && !chars),
                    ("--min-count", self.min_count > 1 && !chars),
                    ("--valid", self.valid.is_some()),
                    ("--test", self.test.is_some()),
                    ("--valid-share", self.valid_share > 0.0),
                ];
                let clashing: Vec<&str> = given.iter().filter(|(_, g)| *g).map(|(f, _)| *f).collect();
                if !clashing.is_empty() {
                    return Err(Error::msg(format!(
                        "PTB has its own vocabulary and its own validation and test splits (--validate); {} apply \
                         to --text corpora",
                        clashing.join(", ")
                    )));
                }
                if self.validate && self.corpus_size != 0 && !chars {
                    return Err(Error::msg(
                        "--validate needs the whole PTB (--corpus ptb without --corpus-size): the valid and \
                         test splits are read with the training vocabulary; pass --validate false",
                    ));
                }
            }
            CorpusKind::Demo
                if self.valid_share > 0.0 || !chars && (self.max_vocab != 0 || self.min_count > 1) =>
            {
                return Err(Error::msg(
                    "--valid-share, --max-vocab and --min-count apply to --text corpora; the demo text keeps its \
                     own vocabulary (--valid FILE works with it)",
                ));
            }
            CorpusKind::Demo if self.validate && self.valid.is_none() => {
                return Err(Error::msg(
                    "--validate: the demo text has no validation split; give --valid FILE (or train on --text FILE, which holds out a share)",
                ));
            }
            _ => {}
        }
        Ok(())
    }

    /// Whether the run validates: asked for (`--validate`), or a validation source given.
    pub fn validates(&self) -> bool {
        self.validate || self.valid.is_some() || self.valid_share > 0.0
    }
}

impl CorpusKind {
    /// The kind as written on the command line and in `config.json`.
    pub fn name(self) -> &'static str {
        match self {
            CorpusKind::Demo => "demo",
            CorpusKind::Ptb => "ptb",
            CorpusKind::Text => "text",
        }
    }
}

/// Reads what `source` names (see the module docs).
pub fn load(source: &DataSource) -> Result<LmData> {
    source.check()?;
    let validates = source.validates();
    let mut notes = Vec::new();
    let chars = source.tokenizer == Some(Tokenizer::Char);
    let (mut train, tokenizer, name, mut valid) = match source.kind() {
        CorpusKind::Demo if chars => {
            let corpus = Corpus::from_text(demo::DEMO_TEXT, Tokenizer::Char);
            (
                corpus.with_vocab_limits(source.max_vocab, source.min_count),
                Tokenizer::Char,
                "demo".to_string(),
                None,
            )
        }
        CorpusKind::Demo => (demo::demo_corpus(), Tokenizer::Text, "demo".to_string(), None),
        CorpusKind::Ptb if chars => {
            let dir = source.ptb_dir();
            let path = ptb::split_path(&dir, Split::Train);
            if !path.exists() {
                return Err(Error::file(
                    &path,
                    "not found; download PTB with `recur data fetch ptb` or pass --data-dir DIR",
                ));
            }
            // Cut first: the vocabulary is the kept part's, and what the cut drops is `<unk>` in
            // the other splits.
            let mut train = Corpus::read(&path, Tokenizer::Char)?;
            train.truncate(source.corpus_size)?;
            let train = train.with_vocab_limits(source.max_vocab, source.min_count);
            let valid = if validates {
                let encoded =
                    encode_file_counted(&ptb::split_path(&dir, Split::Valid), Tokenizer::Char, &train.vocab)?;
                note_unknown(&mut notes, "ptb.valid.txt", &encoded);
                Some(encoded.ids)
            } else {
                None
            };
            (train, Tokenizer::Char, format!("ptb:{}", dir.display()), valid)
        }
        CorpusKind::Ptb => {
            let dir = source.ptb_dir();
            if !dir.join("ptb.train.txt").exists() && source.data_dir.is_none() {
                return Err(Error::file(
                    &dir.join("ptb.train.txt"),
                    "not found; download PTB with `recur data fetch ptb` or pass --data-dir DIR",
                ));
            }
            let train = ptb::load_train(&dir)?;
            let valid =
                if validates { Some(ptb::load_split(&dir, Split::Valid, &train.vocab)?) } else { None };
            (train, ptb::TOKENIZER, format!("ptb:{}", dir.display()), valid)
        }
        CorpusKind::Text => {
            let path = source.text.as_deref().expect("checked: a text corpus has --text");
            let text = read_text(path)?;
            let share = match (validates, &source.valid) {
                (true, None) if source.valid_share == 0.0 => DEFAULT_VALID_SHARE,
                (true, None) => source.valid_share,
                _ => 0.0,
            };
            let (train_text, held_out) = split_last_lines(&text, share);
            let tokenizer = if chars { Tokenizer::Char } else { Tokenizer::Text };
            let corpus = Corpus::from_text(train_text, tokenizer);
            if corpus.ids.iter().all(|&id| corpus.vocab.word(id) == EOS) {
                return Err(Error::file(
                    path,
                    "the corpus contains no words (expected text, one sentence per line)",
                ));
            }
            // Cut first: the vocabulary is the kept part's, and what the cut drops is `<unk>` in
            // the held-out lines.
            let mut corpus = corpus;
            corpus.truncate(source.corpus_size)?;
            let corpus = corpus.with_vocab_limits(source.max_vocab, source.min_count);
            let valid = match held_out {
                Some(held) => {
                    let lines = held.lines().filter(|l| !l.trim().is_empty()).count();
                    notes.push(format!(
                        "validating on the last {lines} lines of {} (share {share})",
                        path.display()
                    ));
                    let encoded = encode_counted(held, tokenizer, &corpus.vocab);
                    note_unknown(&mut notes, "the validation lines", &encoded);
                    Some(encoded.ids)
                }
                None => None,
            };
            (corpus, tokenizer, format!("text:{}", path.display()), valid)
        }
    };
    train.truncate(source.corpus_size)?;
    if let Some(path) = &source.valid {
        let encoded = encode_file_counted(path, tokenizer, &train.vocab)?;
        note_unknown(&mut notes, &path.display().to_string(), &encoded);
        valid = Some(encoded.ids);
    }
    let test = match (&source.test, source.kind()) {
        (Some(path), _) => {
            let encoded = encode_file_counted(path, tokenizer, &train.vocab)?;
            note_unknown(&mut notes, &path.display().to_string(), &encoded);
            Some(encoded.ids)
        }
        (None, CorpusKind::Ptb) if validates && chars => {
            let path = ptb::split_path(&source.ptb_dir(), Split::Test);
            let encoded = encode_file_counted(&path, Tokenizer::Char, &train.vocab)?;
            note_unknown(&mut notes, "ptb.test.txt", &encoded);
            Some(encoded.ids)
        }
        (None, CorpusKind::Ptb) if validates => {
            Some(ptb::load_split(&source.ptb_dir(), Split::Test, &train.vocab)?)
        }
        (None, _) => None,
    };
    Ok(LmData { train, tokenizer, name, valid, test, notes })
}

/// The text before its last `share` of lines, and those lines (None when `share` is 0).
fn split_last_lines(text: &str, share: f64) -> (&str, Option<&str>) {
    if share <= 0.0 {
        return (text, None);
    }
    let starts: Vec<usize> = std::iter::once(0)
        .chain(text.match_indices('\n').map(|(i, _)| i + 1))
        .filter(|&i| i < text.len())
        .collect();
    let held =
        ((starts.len() as f64 * share).round() as usize).clamp(1, starts.len().saturating_sub(1).max(1));
    let cut = starts[starts.len() - held];
    (&text[..cut], Some(&text[cut..]))
}

fn encode_counted(text: &str, tokenizer: Tokenizer, vocab: &super::Vocab) -> Encoded {
    let unk = vocab.id(super::UNK).expect("a text corpus's vocabulary has <unk>");
    let tokens = tokenizer.tokens(text);
    let mut unknown = 0;
    let ids = tokens
        .iter()
        .map(|w| {
            vocab.id(w).unwrap_or_else(|| {
                unknown += 1;
                unk
            })
        })
        .collect();
    Encoded { ids, unknown }
}

fn note_unknown(notes: &mut Vec<String>, what: &str, encoded: &Encoded) {
    if encoded.unknown > 0 {
        notes.push(format!(
            "{what}: {} of {} tokens are not in the vocabulary and are read as <unk>",
            encoded.unknown,
            encoded.ids.len()
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_lines_are_held_out() {
        let text = "a\nb\nc\nd\ne\nf\ng\nh\ni\nj\n";
        let (train, held) = split_last_lines(text, 0.2);
        assert_eq!((train, held), ("a\nb\nc\nd\ne\nf\ng\nh\n", Some("i\nj\n")));
        assert_eq!(split_last_lines("a\nb\n", 0.01), ("a\n", Some("b\n")), "at least one line");
        assert_eq!(split_last_lines(text, 0.0), (text, None));
    }
}
