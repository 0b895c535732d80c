//! The built-in demo corpus: an original text written for recur (about 1,500 words, one sentence
//! a line, a harbour town through the seasons), embedded in the binary so that `recur train`
//! runs with no data and no network.

use super::corpus::{Corpus, Tokenizer};

/// The demo corpus, one sentence a line.
pub const DEMO_TEXT: &str = include_str!("demo_corpus.txt");

/// The demo corpus, tokenised with [`Tokenizer::Text`].
pub fn demo_corpus() -> Corpus {
    Corpus::from_text(DEMO_TEXT, Tokenizer::Text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_corpus_has_over_a_thousand_words_and_the_seed_sentence() {
        let c = demo_corpus();
        assert!(c.ids.len() > 1000, "{} tokens", c.ids.len());
        assert!(DEMO_TEXT.to_lowercase().contains("you say goodbye and i say hello"));
        assert!(c.vocab.id("die").is_none());
    }
}
