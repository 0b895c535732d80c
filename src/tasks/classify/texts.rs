//! The texts of a classify run: read and tokenised, split for early stopping, and the
//! vocabulary of the training texts.

#![warn(missing_docs)]

use super::pretrained::PretrainedEncoder;
use super::run::{ClassifyRunConfig, TrainSettings};
use super::Labelled;
use crate::data::tsv::{build_vocab_keeping, read_labelled, stratified_split, Classes, TextEncoding};
use crate::data::vectors::WordVectors;
use crate::data::Vocab;
use crate::io::run_dir::{RunDir, VOCAB};
use crate::tensor::Rng;
use crate::{Error, Result};
use std::path::Path;

/// Tokenised texts with their class ids.
#[derive(Clone, Debug, Default)]
pub struct Texts {
    /// Each text's words.
    pub words: Vec<Vec<String>>,
    /// Each text's class id.
    pub labels: Vec<u32>,
}

impl Texts {
    /// Reads a labelled file; its labels must be among `classes`.
    pub fn read(path: &Path, encoding: &TextEncoding, classes: &Classes) -> Result<Self> {
        let examples = read_labelled(path)?;
        let labels = classes.ids_of(path, &examples)?;
        let words = examples.iter().map(|e| encoding.words(&e.text)).collect();
        Ok(Texts { words, labels })
    }

    /// The number of texts.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether there are no texts.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// These texts followed by `more`'s.
    pub fn with(mut self, more: &Texts) -> Texts {
        self.words.extend(more.words.iter().cloned());
        self.labels.extend(&more.labels);
        self
    }

    /// The texts at `rows`, in that order.
    pub fn subset(&self, rows: &[usize]) -> Texts {
        Texts {
            words: rows.iter().map(|&i| self.words[i].clone()).collect(),
            labels: rows.iter().map(|&i| self.labels[i]).collect(),
        }
    }

    /// The texts as word ids of `vocab`, with their labels.
    pub fn encode(&self, vocab: &Vocab) -> Labelled {
        Labelled {
            seqs: self.words.iter().map(|w| crate::data::tsv::word_ids(w, vocab)).collect(),
            labels: self.labels.clone(),
        }
    }
}

/// The run's files read and split: every text of `--data`, the `--valid`, `--test` and
/// `--extra` files.
pub struct Sources {
    /// Every text of `--data`.
    pub all: Texts,
    /// The `--valid` file's texts.
    pub valid: Option<Texts>,
    /// The `--test` file's texts.
    pub test: Option<Texts>,
    /// The `--extra` files' texts, in order.
    pub extra: Texts,
    /// The `--init-from` language model's encoder and vocabulary.
    pub encoder: Option<PretrainedEncoder>,
    /// The `--vectors` file's word vectors.
    pub vectors: Option<WordVectors>,
}

impl Sources {
    /// Reads the files `settings` names, each label one of `classes`, the `--init-from`
    /// language model run and the `--vectors` file.
    pub fn read(settings: &TrainSettings, encoding: &TextEncoding, classes: &Classes) -> Result<Self> {
        let encoder =
            settings.init_from.as_deref().map(|dir| PretrainedEncoder::load(Path::new(dir))).transpose()?;
        if let Some(encoder) = &encoder {
            if encoder.tokenizer != encoding.tokenizer {
                return Err(Error::msg(format!(
                    "--init-from {}: its texts are cut as {:?}, this run's as {:?}: the language model changed",
                    encoder.run.display(),
                    encoder.tokenizer,
                    encoding.tokenizer
                )));
            }
        }
        let read = |p: &str| Texts::read(Path::new(p), encoding, classes);
        let mut extra = Texts::default();
        for path in &settings.extra {
            extra = extra.with(&read(path)?);
        }
        Ok(Sources {
            all: read(&settings.data)?,
            valid: settings.valid.as_deref().map(read).transpose()?,
            test: settings.test.as_deref().map(read).transpose()?,
            extra,
            encoder,
            vectors: settings.vectors.as_deref().map(WordVectors::load).transpose()?,
        })
    }

    /// The vocabulary of a model trained on `fit`: the language model's with `--init-from`,
    /// else that of the texts (the run's cap and minimum count; see [`vocabulary`] for
    /// `--vectors`).
    pub fn vocabulary(&self, fit: &Texts, settings: &TrainSettings) -> Vocab {
        match &self.encoder {
            Some(encoder) => encoder.vocab.clone(),
            None => vocabulary(fit, settings, self.vectors.as_ref()),
        }
    }
}

/// What the saved model trains on: its texts (`--extra` included), its validation texts (empty
/// when each member holds out its own) and its vocabulary (the language model's with
/// `--init-from`).
pub struct Plan {
    /// Training texts (`--extra` included).
    pub fit: Texts,
    /// Validation texts (empty when each member holds out its own).
    pub valid: Texts,
    /// Whether each ensemble member holds out its own split.
    pub per_member: bool,
    /// The vocabulary of the training texts (or of the `--init-from` language model).
    pub vocab: Vocab,
}

impl Plan {
    /// The final split (drawn from `seeds` after the cross-validation's draws).
    pub fn new(settings: &TrainSettings, sources: &Sources, seeds: &mut Rng) -> Result<Self> {
        let all = &sources.all;
        let per_member = settings.split_per_member && sources.valid.is_none();
        let rows: Vec<usize> = (0..all.len()).collect();
        let (fit, valid) = match &sources.valid {
            Some(valid) => (all.clone(), valid.clone()),
            None if per_member => {
                let (_, held) =
                    stratified_split(&rows, &all.labels, settings.valid_split, &mut seeds.clone());
                check_split(all, &all.subset(&held), settings)?;
                (all.clone(), Texts::default())
            }
            None => {
                let (kept, held) = stratified_split(&rows, &all.labels, settings.valid_split, seeds);
                (all.subset(&kept), all.subset(&held))
            }
        };
        if !per_member {
            check_split(&fit, &valid, settings)?;
        }
        let fit = fit.with(&sources.extra);
        let vocab = sources.vocabulary(&fit, settings);
        Ok(Plan { fit, valid, per_member, vocab })
    }
}

/// Errors unless the split leaves texts both to train on and to validate on.
pub fn check_split(fit: &Texts, valid: &Texts, settings: &TrainSettings) -> Result<()> {
    if fit.is_empty() || valid.is_empty() {
        return Err(Error::msg(format!(
            "{}: too few texts to hold out --valid-split {} and still train (got {} for training, {} for validation)",
            settings.data,
            settings.valid_split,
            fit.len(),
            valid.len()
        )));
    }
    Ok(())
}

/// The vocabulary of `texts` with the run's cap and minimum count (`<unk>` first). With word
/// `vectors`, a training word that has a vector needs to be seen only once, and the room left
/// under the cap (all of the file with no cap) goes to the file's other words in its order, most
/// frequent first: a word never seen in training then still reads as its pretrained vector,
/// not as `<unk>`. Such rows get no gradient from the training texts and keep their vectors
/// (unless `--weight-decay` shrinks them, as it does every weight matrix).
pub fn vocabulary(texts: &Texts, settings: &TrainSettings, vectors: Option<&WordVectors>) -> Vocab {
    let (cap, words) = (settings.max_vocab, texts.words.iter().map(Vec::as_slice));
    let Some(vectors) = vectors else {
        return build_vocab_keeping(words, cap, settings.min_count, |_| false);
    };
    let mut vocab = build_vocab_keeping(words, cap, settings.min_count, |w| vectors.contains(w));
    for word in vectors.words() {
        if cap > 0 && vocab.len() >= cap {
            break;
        }
        vocab.id_or_insert(word);
    }
    vocab
}

/// The texts of a single-model run going on from its checkpoint, read again with the seed's
/// splits: its sources, the final split and vocabulary, and the generator (which then draws the
/// model). Errors when the data's classes or vocabulary are no longer the run's.
pub fn recorded_texts(run: &RunDir, config: &ClassifyRunConfig) -> Result<(Sources, Plan, Rng)> {
    let settings = &config.train;
    let sources = Sources::read(settings, &config.text, &config.classes)?;
    let data_classes = Classes::from_labels(
        read_labelled(Path::new(&settings.data))?.iter().map(|e| e.label.as_str()).collect::<Vec<_>>(),
    );
    if data_classes != config.classes {
        return Err(Error::file(
            Path::new(&settings.data),
            format!(
                "has the classes {}; the run was trained on {}: the data changed since the run started",
                data_classes.names().join(", "),
                config.classes.names().join(", ")
            ),
        ));
    }
    let mut seeds = Rng::new(settings.seed);
    let plan = Plan::new(settings, &sources, &mut seeds)?;
    if run.read_vocab()? != plan.vocab {
        return Err(Error::file(
            &run.path(VOCAB),
            format!(
                "differs from the vocabulary of {}: the data changed since the run started",
                settings.data
            ),
        ));
    }
    Ok((sources, plan, seeds))
}
