//! Labelled text for classification: one example a line, `text<TAB>label` (the UCI sentiment
//! files, Keras' and scikit-learn's usual TSV layout).
//!
//! ```text
//! read_labelled(FILE)  -> examples (line, text, label), blank lines skipped
//! Classes::from_labels -> label <-> class id (numeric labels in numeric order, else sorted)
//! build_vocab          -> `<unk>` (id 0), then the training words by count (ties: first seen)
//! TextEncoding::ids    -> tokenise, map to ids (unknown words -> `<unk>`), keep at most max_len
//! stratified_folds / stratified_split -> seeded, each class spread evenly
//! ```
//!
//! Padding is not a word: a batch of sequences is padded by the model and the lengths say where
//! each one ends, so no `<pad>` id exists and no id is ever fed for a padded step.

use super::corpus::Tokenizer;
use super::vocab::{Vocab, UNK};
use crate::error::{Error, Result};
use crate::io::read_text;
use crate::tensor::Rng;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::Path;

/// One labelled line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Example {
    /// Line number in the file, from 1 (for error messages).
    pub line: usize,
    /// The text, as in the file (before tokenising).
    pub text: String,
    /// The class label: what follows the line's last tab.
    pub label: String,
}

/// Reads `text<TAB>label` lines. The label is what follows the last tab (trimmed); the text is
/// everything before it. Blank lines are skipped. Errors name the file, the line and what was
/// expected: a line without a tab, with no text before it, or with no label after it; a file
/// with no examples.
pub fn read_labelled(path: &Path) -> Result<Vec<Example>> {
    let text = read_text(path)?;
    let mut out = Vec::new();
    for (i, line) in text.split('\n').enumerate() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.trim().is_empty() {
            continue;
        }
        let (body, label) = line
            .rsplit_once('\t')
            .ok_or_else(|| Error::line(path, i + 1, "expected `text<TAB>label`, found no tab"))?;
        let (body, label) = (body.trim(), label.trim());
        if body.is_empty() {
            return Err(Error::line(path, i + 1, "expected text before the tab, found none"));
        }
        if label.is_empty() {
            return Err(Error::line(path, i + 1, "expected a label after the tab, found none"));
        }
        out.push(Example { line: i + 1, text: body.to_string(), label: label.to_string() });
    }
    if out.is_empty() {
        return Err(Error::file(path, "contains no examples (expected `text<TAB>label` lines)"));
    }
    Ok(out)
}

/// The class names; class id = position. Numeric labels sort as numbers (`2` before `10`),
/// others as strings, so the same label set always gets the same ids.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Classes {
    names: Vec<String>,
}

impl Classes {
    /// The distinct labels, in order (see the type's docs).
    pub fn from_labels<'a>(labels: impl IntoIterator<Item = &'a str>) -> Self {
        let mut names: Vec<String> = labels.into_iter().map(str::to_string).collect();
        names.sort();
        names.dedup();
        if names.iter().all(|n| n.parse::<i64>().is_ok()) {
            names.sort_by_key(|n| n.parse::<i64>().expect("checked above"));
        }
        Classes { names }
    }

    /// The classes of a training file: at least two, and few enough to be classes. A file
    /// whose labels are nearly all different (`label<TAB>text` read as `text<TAB>label`) is
    /// refused with a line that says so, not accepted as thousands of classes.
    pub fn for_training(path: &Path, examples: &[Example]) -> Result<Self> {
        let classes = Classes::from_labels(examples.iter().map(|e| e.label.as_str()));
        if classes.len() < 2 {
            return Err(Error::file(
                path,
                format!("every line has the label `{}`; expected at least two classes", classes.name(0)),
            ));
        }
        let lines = examples.len();
        if classes.len() > MAX_CLASSES || (classes.len() > 20 && 2 * classes.len() > lines) {
            let first = &examples[0];
            return Err(Error::file(
                path,
                format!(
                    "{} different labels in {lines} lines (line {}: `{}`); a label is what follows the last tab: are \
                     the columns swapped? recur reads `text<TAB>label`",
                    classes.len(),
                    first.line,
                    shorten(&first.label, 40)
                ),
            ));
        }
        Ok(classes)
    }

    /// Classes from their names, id = position in `names`.
    pub fn new(names: Vec<String>) -> Self {
        Classes { names }
    }

    /// The names for a message: all of them, or the first ten and how many more.
    pub fn listed(&self) -> String {
        let shown: Vec<String> = self.names.iter().take(10).map(|n| shorten(n, 40)).collect();
        match self.names.len() {
            n if n > 10 => format!("{} and {} more", shown.join(", "), n - 10),
            _ => shown.join(", "),
        }
    }

    /// Number of classes.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// True when there are no classes.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// The class names in id order.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// The name of class `id`. Panics if `id` is out of range.
    pub fn name(&self, id: u32) -> &str {
        &self.names[id as usize]
    }

    /// The id of a label, None if it is not a known class.
    pub fn id(&self, label: &str) -> Option<u32> {
        self.names.iter().position(|n| n == label).map(|i| i as u32)
    }

    /// The class ids of `examples` read from `path`; an unknown label is an error naming the
    /// file, the line and the known labels. Linear in the number of examples (a file with a
    /// different label on each of its 100,000 lines took 40 s when each label was searched for).
    pub fn ids_of(&self, path: &Path, examples: &[Example]) -> Result<Vec<u32>> {
        let ids: HashMap<&str, u32> =
            self.names.iter().enumerate().rev().map(|(i, n)| (n.as_str(), i as u32)).collect();
        examples
            .iter()
            .map(|e| {
                ids.get(e.label.as_str()).copied().ok_or_else(|| {
                    Error::line(
                        path,
                        e.line,
                        format!(
                            "unknown label `{}` (expected one of: {})",
                            shorten(&e.label, 40),
                            self.listed()
                        ),
                    )
                })
            })
            .collect()
    }
}

/// More classes than this is not a classification a recurrent classifier is trained for here.
pub const MAX_CLASSES: usize = 1000;

/// `text` cut to `max` characters, with `...` when cut.
fn shorten(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((at, _)) => format!("{}...", &text[..at]),
        None => text.to_string(),
    }
}

/// Which words a sequence longer than `max_len` keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
#[serde(rename_all = "kebab-case")]
pub enum Keep {
    /// The first `max_len` words.
    First,
    /// The last `max_len` words (Keras' `pad_sequences` default): a forward layer's final state
    /// is computed right after them.
    Last,
}

/// How a text becomes ids (saved in a run's `config.json`, so `eval` and `predict` cut text
/// the way training did).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TextEncoding {
    /// How a text is cut into tokens.
    pub tokenizer: Tokenizer,
    /// At most this many words per text (longer texts are truncated).
    pub max_len: usize,
    /// Which words a text longer than `max_len` keeps.
    pub keep: Keep,
}

impl TextEncoding {
    /// The words of `text`, after truncation.
    pub fn words(&self, text: &str) -> Vec<String> {
        let mut words = self.tokenizer.words(text);
        if words.len() > self.max_len {
            match self.keep {
                Keep::First => words.truncate(self.max_len),
                Keep::Last => {
                    words.drain(..words.len() - self.max_len);
                }
            }
        }
        words
    }

    /// The ids of `text` (unknown words -> `<unk>`), at most `max_len` of them. Panics if the
    /// vocabulary has no `<unk>` (every vocabulary from [`build_vocab`] has it at id 0).
    pub fn ids(&self, text: &str, vocab: &Vocab) -> Vec<u32> {
        word_ids(&self.words(text), vocab)
    }
}

/// The ids of `words`, unknown words as `<unk>`. Panics if the vocabulary has no `<unk>`.
pub fn word_ids(words: &[String], vocab: &Vocab) -> Vec<u32> {
    let unk = vocab.id(UNK).expect("a classifier's vocabulary has <unk>");
    words.iter().map(|w| vocab.id(w).unwrap_or(unk)).collect()
}

/// A vocabulary of `<unk>` (id 0) and the words of `texts` seen at least `min_count` times, most
/// frequent first (ties in order of first appearance), at most `max_size` entries in all
/// (`<unk>` included; 0 = no cap). Every other word maps to `<unk>`.
pub fn build_vocab<'a>(
    texts: impl IntoIterator<Item = &'a [String]>,
    max_size: usize,
    min_count: usize,
) -> Vocab {
    build_vocab_keeping(texts, max_size, min_count, |_| false)
}

/// [`build_vocab`], but a word for which `keep` is true needs to be seen only once (a word with
/// a pretrained vector is worth a row even when rare).
pub fn build_vocab_keeping<'a>(
    texts: impl IntoIterator<Item = &'a [String]>,
    max_size: usize,
    min_count: usize,
    keep: impl Fn(&str) -> bool,
) -> Vocab {
    let mut counts: HashMap<&str, (usize, usize)> = HashMap::new(); // word -> (count, first seen)
    let mut seen = 0;
    for words in texts {
        for w in words.iter().filter(|w| w.as_str() != UNK) {
            let entry = counts.entry(w.as_str()).or_insert((0, seen));
            entry.0 += 1;
            seen += 1;
        }
    }
    let mut ranked: Vec<(&str, usize, usize)> = counts
        .into_iter()
        .filter(|(w, (c, _))| *c >= min_count.max(1) || keep(w))
        .map(|(w, (c, f))| (w, c, f))
        .collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.2.cmp(&b.2)));
    if max_size > 0 {
        ranked.truncate(max_size.saturating_sub(1));
    }
    let mut vocab = Vocab::new();
    vocab.id_or_insert(UNK);
    for (w, _, _) in ranked {
        vocab.id_or_insert(w);
    }
    vocab
}

/// Fisher-Yates shuffle with the given generator.
pub fn shuffle<T>(items: &mut [T], rng: &mut Rng) {
    for i in (1..items.len()).rev() {
        items.swap(i, rng.below(i + 1));
    }
}

/// The fold (0..k) of each example: each class's examples are shuffled and dealt round-robin,
/// continuing from class to class, so every fold has about 1/k of each class and the fold sizes
/// differ by at most one.
pub fn stratified_folds(labels: &[u32], k: usize, rng: &mut Rng) -> Vec<usize> {
    assert!(k >= 1, "stratified_folds: k = 0");
    let classes = labels.iter().max().map_or(0, |&m| m as usize + 1);
    let mut fold = vec![0; labels.len()];
    let mut next = 0;
    for c in 0..classes as u32 {
        let mut members: Vec<usize> = (0..labels.len()).filter(|&i| labels[i] == c).collect();
        shuffle(&mut members, rng);
        for i in members {
            fold[i] = next % k;
            next += 1;
        }
    }
    fold
}

/// Splits `indices` into (kept, held out): from each class, `round(fraction * its count)`
/// examples, drawn at random, are held out. Both lists come back in the order of `indices`.
pub fn stratified_split(
    indices: &[usize],
    labels: &[u32],
    fraction: f64,
    rng: &mut Rng,
) -> (Vec<usize>, Vec<usize>) {
    let classes = indices.iter().map(|&i| labels[i]).max().map_or(0, |m| m as usize + 1);
    let mut held = vec![false; labels.len()];
    for c in 0..classes as u32 {
        let mut members: Vec<usize> = indices.iter().copied().filter(|&i| labels[i] == c).collect();
        shuffle(&mut members, rng);
        let take = (fraction * members.len() as f64).round() as usize;
        for &i in &members[..take.min(members.len())] {
            held[i] = true;
        }
    }
    indices.iter().copied().partition(|&i| !held[i])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_labels_sort_as_numbers() {
        let c = Classes::from_labels(["10", "2", "1", "2"]);
        assert_eq!(c.names(), ["1", "2", "10"]);
        let c = Classes::from_labels(["pos", "neg", "neutral"]);
        assert_eq!(c.names(), ["neg", "neutral", "pos"]);
    }

    #[test]
    fn swapped_columns_are_named_not_taken_for_classes() {
        let path = Path::new("reviews.txt");
        let example = |i: usize, text: &str, label: &str| Example {
            line: i + 1,
            text: text.into(),
            label: label.into(),
        };
        let swapped: Vec<Example> =
            (0..60).map(|i| example(i, "1", &format!("review number {i} was fine"))).collect();
        let err = Classes::for_training(path, &swapped).unwrap_err();
        assert!(err.message().contains("60 different labels in 60 lines"), "{err}");
        assert!(err.message().contains("columns swapped"), "{err}");
        let one: Vec<Example> = (0..5).map(|i| example(i, "text", "pos")).collect();
        assert!(Classes::for_training(path, &one).unwrap_err().message().contains("at least two classes"));
        let fine: Vec<Example> = (0..60).map(|i| example(i, "text", ["pos", "neg"][i % 2])).collect();
        assert_eq!(Classes::for_training(path, &fine).unwrap().len(), 2);
        let many = Classes::new((0..30).map(|i| i.to_string()).collect());
        assert!(many.listed().ends_with("and 20 more"), "{}", many.listed());
    }

    #[test]
    fn vocabulary_ranks_by_count_and_caps() {
        let texts: Vec<Vec<String>> =
            ["b a c a", "c a d"].iter().map(|t| t.split(' ').map(str::to_string).collect()).collect();
        let v = build_vocab(texts.iter().map(Vec::as_slice), 0, 1);
        let words: Vec<&str> = (0..v.len() as u32).map(|i| v.word(i)).collect();
        assert_eq!(words, [UNK, "a", "c", "b", "d"]);
        let v = build_vocab(texts.iter().map(Vec::as_slice), 3, 1);
        assert_eq!(v.len(), 3);
        let v = build_vocab(texts.iter().map(Vec::as_slice), 0, 2);
        assert_eq!(v.len(), 3); // <unk>, a, c
    }

    #[test]
    fn encoding_truncates_at_either_end_and_maps_unknown_words() {
        let v = build_vocab([["a".to_string(), "b".to_string()].as_slice()], 0, 1);
        let first = TextEncoding { tokenizer: Tokenizer::Text, max_len: 3, keep: Keep::First };
        assert_eq!(first.ids("A b z b.", &v), [1, 2, 0]);
        let last = TextEncoding { keep: Keep::Last, ..first };
        assert_eq!(last.ids("A b z b.", &v), [0, 2, 0]); // z b .
    }

    #[test]
    fn folds_and_splits_are_stratified() {
        let labels: Vec<u32> = (0..100).map(|i| u32::from(i % 4 == 0)).collect(); // 25 ones
        let folds = stratified_folds(&labels, 5, &mut Rng::new(1));
        for f in 0..5 {
            let members: Vec<usize> = (0..100).filter(|&i| folds[i] == f).collect();
            assert_eq!(members.len(), 20);
            assert_eq!(members.iter().filter(|&&i| labels[i] == 1).count(), 5);
        }
        let all: Vec<usize> = (0..100).collect();
        let (kept, held) = stratified_split(&all, &labels, 0.2, &mut Rng::new(2));
        assert_eq!((kept.len(), held.len()), (80, 20));
        assert_eq!(held.iter().filter(|&&i| labels[i] == 1).count(), 5);
    }
}
