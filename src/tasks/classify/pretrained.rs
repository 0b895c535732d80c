//! `--init-from LM_RUN`: a classifier whose embedding and recurrent layers start as those of a
//! trained language model (a `recur train` run), ULMFiT's first step (Howard and Ruder 2018).
//!
//! ```text
//! LM_RUN/config.json       the cell, D, H, L -> the classifier's (one direction: an LM reads forward)
//! LM_RUN/vocab.txt         the classifier's vocabulary: <unk> first (id 0, as word dropout needs),
//!                          then the LM's words in its order (every fold and member shares it)
//! LM_RUN/model.safetensors encoder.weight -> embedding.weight (rows in that order; <unk> gets the
//!                          LM's <unk> row, or keeps its drawn row if the LM had none);
//!                          rnn.* -> rnn.* (the same PyTorch names); the LM's decoder is not used
//! ```
//!
//! The classifier's own parts (the head) are drawn as usual, and the pretrained tensors then
//! replace the drawn ones, so the generator is consumed exactly as without `--init-from` and a
//! resumed run draws the same. Texts are cut as the LM's corpus was: `text` for an LM of words,
//! `char` for one of characters; an LM of a pre-tokenised corpus (PTB, `whitespace`) gets `text`,
//! which lowercases and splits punctuation off as PTB's own tokenisation did.

#![warn(missing_docs)]

use crate::data::corpus::Tokenizer;
use crate::data::{Vocab, UNK};
use crate::io::run_dir::{RunDir, TaskKind};
use crate::layers::CellKind;
use crate::models::{Classifier, ClassifierConfig};
use crate::{Error, Result};
use ndarray::{ArrayD, Axis};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A language model's encoder, ready to start classifiers from.
#[derive(Clone, Debug)]
pub struct PretrainedEncoder {
    /// The LM run it was read from.
    pub run: PathBuf,
    /// The classifier's vocabulary: `<unk>` at id 0, then the LM's other words in its order.
    pub vocab: Vocab,
    /// How the classifier cuts texts into tokens (see the module docs).
    pub tokenizer: Tokenizer,
    /// The LM's cell.
    pub cell: CellKind,
    /// D of the LM.
    pub embed_size: usize,
    /// H of the LM.
    pub hidden_size: usize,
    /// L of the LM.
    pub num_layers: usize,
    /// `embedding.weight` (rows in the classifier's order; row 0 absent when the LM had no
    /// `<unk>`) and the LM's `rnn.*` tensors.
    tensors: BTreeMap<String, ArrayD<f32>>,
    /// Whether the LM had an `<unk>` (else row 0 keeps the classifier's drawn vector).
    had_unk: bool,
}

impl PretrainedEncoder {
    /// Reads the language model run in `dir` (its config, vocabulary and weights, checked to agree).
    pub fn load(dir: &Path) -> Result<Self> {
        let run = RunDir::open(dir)?;
        run.expect_task(TaskKind::Lm)?;
        let lm = run.load_lm()?;
        let model = &lm.config.model;
        let mut words: Vec<&str> = vec![UNK];
        words.extend((0..lm.vocab.len() as u32).map(|id| lm.vocab.word(id)).filter(|&w| w != UNK));
        let mut vocab = Vocab::new();
        for word in &words {
            vocab.id_or_insert(word);
        }
        let mut tensors: BTreeMap<String, ArrayD<f32>> = lm
            .model
            .state_dict()
            .into_iter()
            .filter(|(name, _)| name == "encoder.weight" || name.starts_with("rnn."))
            .collect();
        let encoder = tensors
            .remove("encoder.weight")
            .ok_or_else(|| Error::file(&run.model_path(), "has no encoder.weight"))?;
        let had_unk = lm.vocab.id(UNK).is_some();
        let rows: Vec<usize> = words
            .iter()
            .skip(usize::from(!had_unk))
            .map(|w| lm.vocab.id(w).expect("every word but an added <unk> is the LM's") as usize)
            .collect();
        tensors.insert("embedding.weight".to_string(), encoder.select(Axis(0), &rows));
        let tokenizer = Self::tokenizer_for(lm.config.tokenizer);
        Ok(PretrainedEncoder {
            run: dir.to_path_buf(),
            vocab,
            tokenizer,
            cell: model.cell,
            embed_size: model.embed_size,
            hidden_size: model.hidden_size,
            num_layers: model.num_layers,
            tensors,
            had_unk,
        })
    }

    /// How a classifier cuts its texts for a language model whose corpus was cut by `lm`: as
    /// the LM's, but `text` for a pre-tokenised corpus (`whitespace`, PTB), since raw texts
    /// are not (see the module docs).
    pub fn tokenizer_for(lm: Tokenizer) -> Tokenizer {
        match lm {
            Tokenizer::Char => Tokenizer::Char,
            Tokenizer::Text | Tokenizer::Whitespace => Tokenizer::Text,
        }
    }

    /// `template` with the LM's cell and sizes and this vocabulary's size. Errors for a
    /// bidirectional template: the LM's layers read one way only.
    pub fn shape(&self, template: &ClassifierConfig) -> Result<ClassifierConfig> {
        if template.bidirectional {
            return Err(Error::msg(format!(
                "--init-from {}: a language model reads forward only; leave out --bidirectional",
                self.run.display()
            )));
        }
        Ok(ClassifierConfig {
            cell: self.cell,
            vocab_size: self.vocab.len(),
            embed_size: self.embed_size,
            hidden_size: self.hidden_size,
            num_layers: self.num_layers,
            ..template.clone()
        })
    }

    /// Replaces `model`'s embedding and recurrent weights with the LM's (a model built from
    /// [`PretrainedEncoder::shape`]).
    pub fn apply(&self, model: &mut Classifier<f32>) -> Result<()> {
        let mut state: BTreeMap<String, ArrayD<f32>> = model.state_dict().into_iter().collect();
        for (name, value) in &self.tensors {
            let slot = state.get_mut(name).ok_or_else(|| {
                Error::msg(format!("--init-from {}: the classifier has no {name}", self.run.display()))
            })?;
            if name == "embedding.weight" && !self.had_unk {
                slot.slice_axis_mut(Axis(0), (1..).into()).assign(value);
            } else {
                slot.assign(value);
            }
        }
        model.load_state_dict(state)
    }

    /// The share of `words`' tokens that are in the LM's vocabulary.
    pub fn coverage<'a>(&self, words: impl IntoIterator<Item = &'a Vec<String>>) -> f64 {
        crate::data::vectors::share_of_words(words, |w| w != UNK && self.vocab.id(w).is_some())
    }
}
