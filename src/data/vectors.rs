//! Pretrained word vectors in the text format of GloVe and word2vec: one word a line, then its
//! D numbers, separated by spaces (`the 0.418 0.24968 -0.41242 ...`). A first line of exactly
//! two whole numbers is word2vec's header (words, D) and is checked, not read as a word.
//!
//! recur has such vectors built in ([`WordVectors::builtin`]): the 50,000 most frequent words
//! of GloVe 6B (Pennington, Socher and Manning 2014; Wikipedia and Gigaword, lowercased), 50
//! numbers each, stored in half precision in `assets/` (`assets/make_glove.py` makes them).
//!
//! The words keep the file's order, which for GloVe and word2vec is most frequent first: a
//! vocabulary filled up from the file (`classify train --vectors`) takes the common words first.
//! A word listed twice keeps its first vector. Words are matched exactly, so a file of
//! lowercased words (GloVe's 6B) suits the `text` tokenizer, which lowercases.

#![warn(missing_docs)]

use crate::data::Vocab;
use crate::{Error, Result};
use ndarray::Array2;
use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

/// Word vectors read from a file.
#[derive(Clone, Debug)]
pub struct WordVectors {
    /// The file they were read from.
    pub path: PathBuf,
    /// D, the width of every vector.
    pub dim: usize,
    words: Vec<String>,
    index: HashMap<String, usize>,
    /// (words, D), row-major: word `i`'s vector is `values[i D .. (i + 1) D]`.
    values: Vec<f32>,
}

/// The rows of an embedding (V, D) that a vocabulary's words with a vector start from.
#[derive(Clone, Debug, PartialEq)]
pub struct VectorRows {
    /// The vocabulary ids that have a vector, ascending.
    pub ids: Vec<usize>,
    /// Their vectors, (ids, D).
    pub values: Array2<f32>,
}

/// What `--vectors` and `config.json` call the built-in vectors.
pub const BUILTIN: &str = "builtin";
/// Their width.
pub const BUILTIN_DIM: usize = 50;
const BUILTIN_WORDS: &str = include_str!("../../assets/glove.6B.50d.50k.words");
const BUILTIN_VALUES: &[u8] = include_bytes!("../../assets/glove.6B.50d.50k.f16");

/// The f32 of an IEEE 754 half-precision number's bits.
pub fn f16_to_f32(bits: u16) -> f32 {
    let sign = if bits & 0x8000 != 0 { -1.0 } else { 1.0 };
    let exponent = i32::from((bits >> 10) & 0x1f);
    let fraction = f32::from(bits & 0x3ff);
    sign * match exponent {
        0 => fraction * 2f32.powi(-24), // subnormal: 0.fraction x 2^-14
        31 if fraction == 0.0 => f32::INFINITY,
        31 => f32::NAN,
        _ => (1.0 + fraction / 1024.0) * 2f32.powi(exponent - 15),
    }
}

impl WordVectors {
    /// The built-in vectors (see the module docs), `path` `builtin`.
    pub fn builtin() -> Self {
        let words: Vec<String> = BUILTIN_WORDS.lines().map(str::to_string).collect();
        assert_eq!(
            BUILTIN_VALUES.len(),
            words.len() * BUILTIN_DIM * 2,
            "the built-in vectors' two files agree"
        );
        let values =
            BUILTIN_VALUES.chunks_exact(2).map(|b| f16_to_f32(u16::from_le_bytes([b[0], b[1]]))).collect();
        let index = words.iter().enumerate().map(|(i, w)| (w.clone(), i)).collect();
        WordVectors { path: PathBuf::from(BUILTIN), dim: BUILTIN_DIM, words, index, values }
    }

    /// The built-in vectors for `builtin`, else the file `source` names.
    pub fn load(source: &str) -> Result<Self> {
        match source {
            BUILTIN => Ok(Self::builtin()),
            path => Self::read(Path::new(path)),
        }
    }

    /// Reads `path` (see the module docs).
    pub fn read(path: &Path) -> Result<Self> {
        let file = std::fs::File::open(path).map_err(|e| Error::io(path, "open", e))?;
        Self::parse(path, BufReader::with_capacity(1 << 20, file))
    }

    /// Reads the vectors from `reader`; errors name `path` and the line.
    pub fn parse(path: &Path, reader: impl BufRead) -> Result<Self> {
        let mut vectors = WordVectors {
            path: path.to_path_buf(),
            dim: 0,
            words: Vec::new(),
            index: HashMap::new(),
            values: Vec::new(),
        };
        let mut header: Option<(usize, usize)> = None;
        for (i, line) in reader.lines().enumerate() {
            let number = i + 1;
            let line = line.map_err(|e| Error::io(path, "read", e))?;
            let line = line.trim_end();
            if line.is_empty() {
                continue;
            }
            let mut fields = line.split(' ');
            let word = fields.next().expect("a non-empty line has a first field");
            let numbers: Vec<&str> = fields.filter(|f| !f.is_empty()).collect();
            if number == 1 && numbers.len() == 1 {
                if let (Ok(count), Ok(dim)) = (word.parse::<usize>(), numbers[0].parse::<usize>()) {
                    if dim == 0 {
                        return Err(Error::line(path, number, "word2vec header gives a width of 0"));
                    }
                    header = Some((count, dim));
                    vectors.dim = dim;
                    continue;
                }
            }
            if vectors.dim == 0 {
                if numbers.is_empty() {
                    return Err(Error::line(
                        path,
                        number,
                        format!("`{word}` has no numbers; expected `word x1 x2 ...`"),
                    ));
                }
                vectors.dim = numbers.len();
            }
            if numbers.len() != vectors.dim {
                return Err(Error::line(
                    path,
                    number,
                    format!(
                        "`{word}` has {} numbers; expected {} like the lines before",
                        numbers.len(),
                        vectors.dim
                    ),
                ));
            }
            let start = vectors.values.len();
            for field in numbers {
                match field.parse::<f32>() {
                    Ok(x) if x.is_finite() => vectors.values.push(x),
                    _ => {
                        vectors.values.truncate(start);
                        return Err(Error::line(
                            path,
                            number,
                            format!("`{field}` of `{word}` is not a finite number"),
                        ));
                    }
                }
            }
            if vectors.index.contains_key(word) {
                vectors.values.truncate(start);
                continue;
            }
            vectors.index.insert(word.to_string(), vectors.words.len());
            vectors.words.push(word.to_string());
        }
        if vectors.words.is_empty() {
            return Err(Error::file(path, "holds no word vectors; expected `word x1 x2 ...` a line"));
        }
        if let Some((count, _)) = header {
            // A repeated word is dropped, so a file may hold fewer words than its header says.
            if vectors.words.len() > count {
                return Err(Error::line(
                    path,
                    1,
                    format!("says {count} words; the file has {}", vectors.words.len()),
                ));
            }
        }
        Ok(vectors)
    }

    /// What they are, for a line of output: `the built-in word vectors (GloVe 6B, 50000 words of
    /// width 50)` or `the 400000 word vectors of width 50 in FILE`.
    pub fn describe(&self) -> String {
        if self.path == Path::new(BUILTIN) {
            format!("the built-in word vectors (GloVe 6B, {} words of width {})", self.len(), self.dim)
        } else {
            format!("the {} word vectors of width {} in {}", self.len(), self.dim, self.path.display())
        }
    }

    /// The number of words.
    pub fn len(&self) -> usize {
        self.words.len()
    }

    /// Whether there are none (never, for vectors read from a file).
    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    /// The words, in the file's order.
    pub fn words(&self) -> impl Iterator<Item = &str> {
        self.words.iter().map(String::as_str)
    }

    /// `word`'s vector, if it has one.
    pub fn get(&self, word: &str) -> Option<&[f32]> {
        self.index.get(word).map(|&i| &self.values[i * self.dim..(i + 1) * self.dim])
    }

    /// Whether `word` has a vector.
    pub fn contains(&self, word: &str) -> bool {
        self.index.contains_key(word)
    }

    /// The rows of `vocab` that have a vector, with those vectors.
    pub fn rows_of(&self, vocab: &Vocab) -> VectorRows {
        let mut ids = Vec::new();
        let mut values = Vec::new();
        for id in 0..vocab.len() {
            if let Some(v) = self.get(vocab.word(id as u32)) {
                ids.push(id);
                values.extend_from_slice(v);
            }
        }
        let values = Array2::from_shape_vec((ids.len(), self.dim), values).expect("D numbers a row");
        VectorRows { ids, values }
    }

    /// The share of `texts`' words that have a vector.
    pub fn coverage<'a>(&self, texts: impl IntoIterator<Item = &'a Vec<String>>) -> f64 {
        share_of_words(texts, |w| self.contains(w))
    }
}

/// The share of `texts`' words for which `known` holds (0 for no words): how much of a text a
/// pretrained vocabulary covers.
pub fn share_of_words<'a>(
    texts: impl IntoIterator<Item = &'a Vec<String>>,
    known: impl Fn(&str) -> bool,
) -> f64 {
    let (mut hits, mut total) = (0usize, 0usize);
    for words in texts {
        total += words.len();
        hits += words.iter().filter(|w| known(w)).count();
    }
    hits as f64 / total.max(1) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<WordVectors> {
        WordVectors::parse(Path::new("vectors.txt"), text.as_bytes())
    }

    #[test]
    fn reads_glove_lines_in_order_and_keeps_a_repeated_words_first_vector() {
        let v = parse("the 0.5 -1\ngood 2 3e-1\n\nthe 9 9\n").unwrap();
        assert_eq!((v.dim, v.len()), (2, 2));
        assert_eq!(v.words().collect::<Vec<_>>(), ["the", "good"]);
        assert_eq!(v.get("the"), Some(&[0.5, -1.0][..]));
        assert_eq!(v.get("good"), Some(&[2.0, 0.3][..]));
        assert_eq!(v.get("bad"), None);
    }

    #[test]
    fn reads_and_checks_a_word2vec_header() {
        let v = parse("2 3\na 1 2 3\nb 4 5 6\n").unwrap();
        assert_eq!((v.dim, v.len()), (3, 2));
        let err = parse("2 3\na 1 2\n").unwrap_err().to_string();
        assert!(err.contains("vectors.txt:2:") && err.contains("expected 3"), "{err}");
        let err = parse("1 2\na 1 2\nb 3 4\n").unwrap_err().to_string();
        assert!(err.contains("vectors.txt:1:") && err.contains("says 1 words"), "{err}");
    }

    #[test]
    fn bad_lines_are_named() {
        let err = parse("a 1 2\nb 1\n").unwrap_err().to_string();
        assert!(err.contains("vectors.txt:2:") && err.contains("`b` has 1 numbers; expected 2"), "{err}");
        let err = parse("a 1 x\n").unwrap_err().to_string();
        assert!(err.contains("vectors.txt:1:") && err.contains("`x` of `a` is not a finite number"), "{err}");
        let err = parse("a 1 nan\n").unwrap_err().to_string();
        assert!(err.contains("not a finite number"), "{err}");
        let err = parse("lonely\n").unwrap_err().to_string();
        assert!(err.contains("has no numbers"), "{err}");
        let err = parse("\n\n").unwrap_err().to_string();
        assert!(err.contains("holds no word vectors"), "{err}");
    }

    #[test]
    fn half_precision_decodes_exactly() {
        assert_eq!(f16_to_f32(0x0000), 0.0);
        assert_eq!(f16_to_f32(0x3c00), 1.0);
        assert_eq!(f16_to_f32(0xc000), -2.0);
        assert_eq!(f16_to_f32(0x3555), 0.333_251_95); // 1/3 rounded to 10 bits
        assert_eq!(f16_to_f32(0x7bff), 65504.0); // the largest
        assert_eq!(f16_to_f32(0x0001), 2f32.powi(-24)); // the smallest subnormal
        assert_eq!(f16_to_f32(0x7c00), f32::INFINITY);
        assert!(f16_to_f32(0x7e00).is_nan());
    }

    #[test]
    fn the_builtin_vectors_are_glove_6b_50d_in_half_precision() {
        let v = WordVectors::builtin();
        assert_eq!((v.len(), v.dim), (50_000, 50));
        assert_eq!(v.words().take(3).collect::<Vec<_>>(), ["the", ",", "."]);
        // GloVe 6B 50d's first numbers for "the": 0.418 0.24968 -0.41242.
        let the = v.get("the").unwrap();
        for (got, want) in the.iter().zip([0.418f32, 0.24968, -0.41242]) {
            assert!((got - want).abs() <= want.abs() / 1024.0, "{got} vs {want}");
        }
        assert!(v.contains("good") && v.contains("awful") && !v.contains("Good"));
        assert_eq!(WordVectors::load(BUILTIN).unwrap().len(), 50_000);
    }

    #[test]
    fn rows_of_a_vocabulary_are_its_words_with_a_vector() {
        let v = parse("good 1 2\nbad 3 4\nfine 5 6\n").unwrap();
        let mut vocab = Vocab::new();
        for w in ["<unk>", "bad", "zzz", "good"] {
            vocab.id_or_insert(w);
        }
        let rows = v.rows_of(&vocab);
        assert_eq!(rows.ids, [1, 3]);
        assert_eq!(rows.values, ndarray::arr2(&[[3.0, 4.0], [1.0, 2.0]]));
        let texts = vec![vec!["good".to_string(), "zzz".to_string()]];
        assert_eq!(v.coverage(&texts), 0.5);
    }
}
