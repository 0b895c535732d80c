//! Sequence pairs for encoder-decoders: the `input<TAB>output` TSV reader, the built-in addition
//! task of the book's chapter 7, the character vocabulary, the padded (N, T) batches and the pairs'
//! SHA-256 (a run's record of its data).
//!
//! A batch of pairs becomes three id arrays:
//! ```text
//! inputs          (N, T_in)     the input's characters, then <pad> up to T_in; reversed as a whole
//!                               when asked (the book: "16+75  " -> "  57+61"), or, for an
//!                               encoder that masks the padding, reversed before it is padded
//!                               ("57+61<pad><pad>")
//! decoder_inputs  (N, T_out+1)  <go>, the output's characters, then <pad>
//! targets         (N, T_out+1)  the output's characters, <eos>, then IGNORE (no loss, no gradient)
//! ```
//! `T_in` and `T_out` are the longest input and output of the training data, kept in the
//! model's config, so the encoder always sees the same layout (its padding is part of what it
//! learns, as in the book). The decoder's padding costs nothing: its targets are IGNORE and a
//! recurrent layer never looks ahead.
//!
//! Invariant: the vocabulary's first three ids are `<pad>`, `<go>`, `<eos>`; the other entries are
//! single characters, in code-point order, so two runs on the same data get the same ids.

use crate::error::{Error, Result};
use crate::io::read_text;
use crate::layers::IGNORE;
use crate::tensor::Rng;
use ndarray::Array2;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::Path;

/// One example: an input string and the output string the model must produce.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pair {
    /// The text the encoder reads.
    pub input: String,
    /// The text the decoder must write.
    pub output: String,
}

impl Pair {
    /// A pair from its input and output texts.
    pub fn new(input: impl Into<String>, output: impl Into<String>) -> Self {
        Pair { input: input.into(), output: output.into() }
    }
}

/// Reads `input<TAB>output` lines (UTF-8; a trailing `\r` is dropped; blank lines are skipped).
/// Errors name the file and the line: no tab, more than one tab, an empty side, no pairs at all.
pub fn read_pairs(path: &Path) -> Result<Vec<Pair>> {
    Ok(read_numbered_pairs(path)?.into_iter().map(|(_, pair)| pair).collect())
}

/// Like [`read_pairs`], each pair with its line number (from 1), for errors found later.
pub fn read_numbered_pairs(path: &Path) -> Result<Vec<(usize, Pair)>> {
    let text = read_text(path)?;
    let mut pairs = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.trim().is_empty() {
            continue;
        }
        let expected = "expected `input<TAB>output` (one tab, both sides non-empty)";
        let mut fields = line.split('\t');
        let (input, output) = match (fields.next(), fields.next(), fields.next()) {
            (Some(input), Some(output), None) => (input, output),
            (_, None, _) => {
                return Err(Error::line(path, i + 1, format!("{expected}, found no tab in {line:?}")))
            }
            _ => return Err(Error::line(path, i + 1, format!("{expected}, found more than one tab"))),
        };
        if input.is_empty() || output.is_empty() {
            let side = if input.is_empty() { "input" } else { "output" };
            return Err(Error::line(path, i + 1, format!("{expected}, found an empty {side}")));
        }
        pairs.push((i + 1, Pair::new(input, output)));
    }
    if pairs.is_empty() {
        return Err(Error::file(path, "no pairs (expected lines `input<TAB>output`)"));
    }
    Ok(pairs)
}

/// How the addition generator writes its strings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Padding {
    /// `16+75` and `91`: what `seq2seq/addition.tsv` holds; the model pads and ends with `<eos>`.
    None,
    /// The book's `addition.txt`: the question left-justified to 7 characters and the answer to 4
    /// with spaces (`"16+75  "`, `"91  "`; the book's start symbol `_` is the model's `<go>`).
    Book,
}

/// The most distinct questions [`addition`] can make: unordered pairs {a, b} of 0..=999.
pub const ADDITION_MAX_EXAMPLES: usize = 1000 * 1001 / 2;

/// The book's addition task (its `addition.txt`, made like Keras' `addition_rnn` example):
/// `count` distinct questions `a+b` with their sums. Each number has 1 to 3 digits (the count
/// uniform), each digit uniform, so small numbers are common (the shared `addition.tsv` has 10%
/// one-digit, 32% two-digit operands); `a+b` and `b+a` count as one question. Errors if `count`
/// exceeds [`ADDITION_MAX_EXAMPLES`].
pub fn addition(count: usize, rng: &mut Rng, padding: Padding) -> Result<Vec<Pair>> {
    if count == 0 || count > ADDITION_MAX_EXAMPLES {
        return Err(Error::msg(format!(
            "the addition task has 1 to {ADDITION_MAX_EXAMPLES} distinct questions (asked for {count})"
        )));
    }
    let number =
        |rng: &mut Rng| -> u32 { (0..1 + rng.below(3)).fold(0, |n, _| n * 10 + rng.below(10) as u32) };
    let mut seen = HashSet::with_capacity(count);
    let mut pairs = Vec::with_capacity(count);
    // Past about half of all questions, drawing digit counts rarely hits the missing ones: fall
    // back to uniform operands then (only reached when asking for very many examples).
    let mut misses = 0usize;
    while pairs.len() < count {
        let (a, b) = if misses < 1000 {
            (number(rng), number(rng))
        } else {
            (rng.below(1000) as u32, rng.below(1000) as u32)
        };
        if !seen.insert((a.min(b), a.max(b))) {
            misses += 1;
            continue;
        }
        misses = 0;
        let (question, answer) = (format!("{a}+{b}"), (a + b).to_string());
        pairs.push(match padding {
            Padding::None => Pair::new(question, answer),
            Padding::Book => Pair::new(format!("{question:<7}"), format!("{answer:<4}")),
        });
    }
    Ok(pairs)
}

/// Shuffles `pairs` with `rng` and splits off the last `share` of them (rounded down, at least one
/// when `share > 0` and there are two pairs or more): `(train, held_out)`.
pub fn shuffle_split(mut pairs: Vec<Pair>, share: f64, rng: &mut Rng) -> (Vec<Pair>, Vec<Pair>) {
    for i in (1..pairs.len()).rev() {
        pairs.swap(i, rng.below(i + 1));
    }
    let mut held = (pairs.len() as f64 * share).floor() as usize;
    if share > 0.0 && held == 0 && pairs.len() >= 2 {
        held = 1;
    }
    let valid = pairs.split_off(pairs.len() - held);
    (pairs, valid)
}

/// Character vocabulary with the three special symbols first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CharVocab {
    symbols: Vec<String>,
    /// The id of each character (a search of `symbols` made encoding quadratic in the number of
    /// distinct characters: 6 s for 60,000 characters of a 20,000-character vocabulary).
    ids: HashMap<char, u32>,
}

impl CharVocab {
    /// Id of `<pad>`: fills a sequence up to its batch's length.
    pub const PAD: u32 = 0;
    /// Id of `<go>`: the decoder's first input.
    pub const GO: u32 = 1;
    /// Id of `<eos>`: the decoder's last target (and, when asked, the input's last step).
    pub const EOS: u32 = 2;
    /// The special symbols, in id order: they are the first three entries of every vocabulary.
    pub const SPECIAL: [&'static str; 3] = ["<pad>", "<go>", "<eos>"];

    /// Every character of every input and output, in code-point order, after the specials.
    pub fn from_pairs(pairs: &[Pair]) -> Self {
        let chars: BTreeSet<char> =
            pairs.iter().flat_map(|p| p.input.chars().chain(p.output.chars())).collect();
        let symbols =
            Self::SPECIAL.iter().map(|s| s.to_string()).chain(chars.iter().map(|c| c.to_string())).collect();
        CharVocab::with_ids(symbols)
    }

    /// From a saved list; errors (plain messages) if the specials are not first or an entry is
    /// not one character.
    pub fn from_symbols(symbols: Vec<String>) -> crate::Result<Self> {
        if symbols.len() < 3 || symbols[..3] != Self::SPECIAL {
            return Err(Error::msg(format!("expected the list to start with {:?}", Self::SPECIAL)));
        }
        let mut seen = HashSet::new();
        for s in &symbols[3..] {
            if s.chars().count() != 1 {
                return Err(Error::msg(format!(
                    "expected single characters after the specials, found {s:?}"
                )));
            }
            if !seen.insert(s.clone()) {
                return Err(Error::msg(format!("the character {s:?} appears twice")));
            }
        }
        Ok(CharVocab::with_ids(symbols))
    }

    /// `symbols` (the specials, then single characters) with the index of their ids.
    fn with_ids(symbols: Vec<String>) -> Self {
        let ids = symbols[Self::SPECIAL.len()..]
            .iter()
            .enumerate()
            .filter_map(|(i, s)| Some((s.chars().next()?, (i + Self::SPECIAL.len()) as u32)))
            .collect();
        CharVocab { symbols, ids }
    }

    /// Every symbol in id order: the specials, then one character each.
    pub fn symbols(&self) -> &[String] {
        &self.symbols
    }

    /// Number of symbols (V), specials included.
    pub fn len(&self) -> usize {
        self.symbols.len()
    }

    /// True when there are no symbols (never for a vocabulary built here).
    pub fn is_empty(&self) -> bool {
        self.symbols.is_empty()
    }

    /// The id of a character, None if the vocabulary lacks it.
    pub fn id(&self, c: char) -> Option<u32> {
        self.ids.get(&c).copied()
    }

    /// The ids of `text`'s characters; the error names the first unknown character.
    pub fn encode(&self, text: &str) -> crate::Result<Vec<u32>> {
        text.chars()
            .map(|c| {
                self.id(c).ok_or_else(|| {
                    Error::msg(format!("the character {c:?} is not in the model's vocabulary"))
                })
            })
            .collect()
    }

    /// The characters of `ids`; special symbols are written as their names (`<eos>`).
    pub fn decode(&self, ids: &[u32]) -> String {
        ids.iter().map(|&id| self.symbols[id as usize].as_str()).collect()
    }
}

/// The longest input and output (in characters) of `pairs`.
pub fn max_lengths(pairs: &[Pair]) -> (usize, usize) {
    pairs.iter().fold((0, 0), |(i, o), p| (i.max(p.input.chars().count()), o.max(p.output.chars().count())))
}

/// SHA-256 (hex) of the pairs in order (`train`, then `valid`), each `input\toutput\n`: what a
/// run records of its data, so that resuming it can tell the data is still the same.
pub fn data_hash(train: &[Pair], valid: &[Pair]) -> String {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    for pair in train.iter().chain(valid) {
        hasher.update(pair.input.as_bytes());
        hasher.update(b"\t");
        hasher.update(pair.output.as_bytes());
        hasher.update(b"\n");
    }
    hasher.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// How pairs become id arrays (saved in the run's config).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Layout {
    /// T_in: inputs are padded to this many characters.
    pub max_input_len: usize,
    /// T_out: the longest output; the decoder runs T_out + 1 steps (the last one for `<eos>`).
    pub max_output_len: usize,
    /// Feed the input to the encoder backwards.
    pub reverse_input: bool,
    /// The padding goes after the characters, also when they are reversed (`"16+75"` ->
    /// `"57+61<pad><pad>"`), for an encoder that skips it (the model's `mask_padding`). Off: the
    /// padded input is reversed as a whole, padding first (the book's layout; runs made before
    /// this field).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub mask_padding: bool,
    /// Every input ends with `<eos>` (as in PyTorch's translation tutorial and fairseq), placed
    /// before the padding and reversed with the characters: the encoder then reads the same
    /// marker where each input begins or ends, whatever its length (the book's layout has none,
    /// so its longest inputs, which have no padding, start from a state the others never see).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub input_eos: bool,
}

/// One padded batch (see the module header).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Batch {
    /// Encoder input ids, (N, T_in), padded (and reversed when asked).
    pub inputs: Array2<u32>, // (N, T_in)
    /// Decoder input ids, (N, T_out + 1): `<go>`, the output, then `<pad>`.
    pub decoder_inputs: Array2<u32>, // (N, T_out + 1)
    /// Decoder targets, (N, T_out + 1): the output, `<eos>`, then `IGNORE`.
    pub targets: Array2<u32>, // (N, T_out + 1)
}

impl Layout {
    /// T_in: the encoder's steps, the longest input and its `<eos>` if any.
    pub fn input_steps(&self) -> usize {
        self.max_input_len + usize::from(self.input_eos)
    }

    /// How the input is written, for reports: "", ", reversed input", then ", `<eos>` ended" and
    /// ", padding masked" when they apply.
    pub fn describe(&self) -> String {
        let mut out = String::new();
        for (on, what) in [
            (self.reverse_input, ", reversed input"),
            (self.input_eos, ", <eos> ended"),
            (self.mask_padding, ", padding masked"),
        ] {
            if on {
                out.push_str(what);
            }
        }
        out
    }

    /// The encoder step at which symbol `i` of an input of `len` characters sits (`i = len`: its
    /// `<eos>`, with `input_eos`).
    pub fn input_step(&self, i: usize, len: usize) -> usize {
        let written = len + usize::from(self.input_eos);
        match (self.reverse_input, self.mask_padding) {
            (false, _) => i,
            (true, true) => written - 1 - i,
            (true, false) => self.input_steps() - 1 - i,
        }
    }

    /// The encoder's ids for each input (N, T_in). Errors (plain message) on an unknown
    /// character or an input longer than `max_input_len`, naming the example's index.
    pub fn encode_inputs<'a>(
        &self,
        vocab: &CharVocab,
        inputs: impl ExactSizeIterator<Item = &'a str>,
    ) -> crate::Result<Array2<u32>> {
        let mut out = Array2::from_elem((inputs.len(), self.input_steps()), CharVocab::PAD);
        for (n, text) in inputs.enumerate() {
            let mut ids =
                self.check_input(vocab, text).map_err(|m| Error::msg(format!("example {}: {m}", n + 1)))?;
            if self.input_eos {
                ids.push(CharVocab::EOS);
            }
            let row = out.row_mut(n).into_slice().expect("rows are contiguous");
            row[..ids.len()].copy_from_slice(&ids);
            if self.reverse_input {
                let reversed = if self.mask_padding { &mut row[..ids.len()] } else { row };
                reversed.reverse();
            }
        }
        Ok(out)
    }

    /// The ids of one input, unpadded; errors (plain message) on an unknown character or an
    /// input longer than `max_input_len`.
    pub fn check_input(&self, vocab: &CharVocab, text: &str) -> crate::Result<Vec<u32>> {
        let ids = vocab.encode(text).map_err(|m| Error::msg(format!("input {text:?}: {m}")))?;
        if ids.len() > self.max_input_len {
            return Err(Error::msg(format!(
                "input {text:?} has {} characters, the model reads at most {}",
                ids.len(),
                self.max_input_len
            )));
        }
        Ok(ids)
    }

    /// Inputs, teacher-forced decoder inputs and targets for `pairs`.
    pub fn encode_batch(&self, vocab: &CharVocab, pairs: &[&Pair]) -> crate::Result<Batch> {
        let inputs = self.encode_inputs(vocab, pairs.iter().map(|p| p.input.as_str()))?;
        let steps = self.max_output_len + 1;
        let mut decoder_inputs = Array2::from_elem((pairs.len(), steps), CharVocab::PAD);
        let mut targets = Array2::from_elem((pairs.len(), steps), IGNORE);
        for (n, pair) in pairs.iter().enumerate() {
            let ids = vocab
                .encode(&pair.output)
                .map_err(|m| Error::msg(format!("example {}: output {:?}: {m}", n + 1, pair.output)))?;
            if ids.len() > self.max_output_len {
                return Err(Error::msg(format!(
                    "example {}: output {:?} has {} characters, the model writes at most {}",
                    n + 1,
                    pair.output,
                    ids.len(),
                    self.max_output_len
                )));
            }
            decoder_inputs[[n, 0]] = CharVocab::GO;
            for (t, &id) in ids.iter().enumerate() {
                decoder_inputs[[n, t + 1]] = id;
                targets[[n, t]] = id;
            }
            targets[[n, ids.len()]] = CharVocab::EOS;
        }
        Ok(Batch { inputs, decoder_inputs, targets })
    }
}
