//! The run directory: everything a training run leaves, and what `eval`, `score`, `summary` and
//! `generate` read back.
//!
//! ```text
//! config.json        RunConfig: the model config, the tokenizer, the training settings
//! vocab.txt          one word a line; id = line number, from 0
//! model.safetensors  the weights under PyTorch's names (atomic write)
//! metrics.jsonl      one JSON object per epoch (EpochStats)
//! perplexity.png/svg the curves (train, and validation when the run validates)
//! result.json        best epoch, its validation perplexity, the test perplexity (validated runs)
//! ```

use crate::data::lm_data::{CorpusKind, DataSource};
use crate::data::{Tokenizer, Vocab};
use crate::error::{Error, Result};
use crate::io::{atomic::write_atomic, checkpoint, read_text};
use crate::models::LmConfig;
use crate::optim::OptimizerKind;
use crate::train::{EpochStats, Settings};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// File name of the run's configuration ([`RunConfig`] or a task's own).
pub const CONFIG: &str = "config.json";
/// File name of a language model's vocabulary, one word a line, id = line number from 0.
pub const VOCAB: &str = "vocab.txt";
/// File name of the best (or last) weights, by PyTorch state_dict name.
pub const MODEL: &str = "model.safetensors";
/// File name of the per-epoch log: one [`EpochStats`] JSON object a line.
pub const METRICS: &str = "metrics.jsonl";
/// Stem of a language model's curve plot (`perplexity.png`, `perplexity.svg`).
pub const PLOT_STEM: &str = "perplexity";
/// File name of a validated run's [`RunResult`].
pub const RESULT: &str = "result.json";

/// How the model was trained (recorded for the reader and for `--resume`; not needed to
/// rebuild the model). Fields added after the first release have defaults, so older
/// `config.json` files still load.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainSettings {
    /// The `--preset` the run started from, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preset: Option<String>,
    /// The data the run read (`demo`, `ptb:DIR` or `text:FILE`).
    pub corpus: String,
    /// Training tokens kept (`--corpus-size`; 0 = all).
    pub corpus_size: usize,
    /// N: parallel streams a training batch.
    pub batch_size: usize,
    /// T: time steps a training block (truncated BPTT length).
    pub time_size: usize,
    /// The engine's settings: epochs, lr, lr_rule, clip, weight_decay, patience, on_nan.
    #[serde(flatten)]
    pub engine: Settings,
    /// Seed of every random draw of the run (initial weights, dropout).
    pub seed: u64,
    /// The update rule (runs made before the field read as SGD).
    #[serde(default = "default_optimizer")]
    pub optimizer: OptimizerKind,
    /// Momentum of the `momentum` optimizer (0 for the others).
    #[serde(default)]
    pub momentum: f64,
    /// Validation every epoch (best weights kept, test perplexity at the end).
    #[serde(default)]
    pub validate: bool,
    /// Streams and block length of validation and test (the book's 10 x 35).
    #[serde(default = "default_eval_batch")]
    pub eval_batch_size: usize,
    /// T of validation and test blocks.
    #[serde(default = "default_eval_time")]
    pub eval_time_size: usize,
    /// Text corpora: the vocabulary's cap and the fewest sightings of a kept word.
    #[serde(default)]
    pub max_vocab: usize,
    /// Fewest sightings of a kept word (text corpora; 1 = keep all).
    #[serde(default = "one")]
    pub min_count: usize,
    /// Validation and test files, and the held-out share of a text corpus.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid: Option<String>,
    /// The test text file, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test: Option<String>,
    /// Share of a text corpus's last lines held out for validation (0 = none).
    #[serde(default)]
    pub valid_share: f64,
}

impl TrainSettings {
    /// The data a run recorded (`demo`, `ptb:DIR`, `text:FILE`, its validation and test, read
    /// with the run's `tokenizer`); `data_dir` replaces the recorded PTB folder (the data moved).
    pub fn data_source(&self, tokenizer: Tokenizer, data_dir: Option<&Path>) -> Result<DataSource> {
        let (kind, place) = self.corpus.split_once(':').unwrap_or((self.corpus.as_str(), ""));
        let (corpus, data_dir, text) = match kind {
            "demo" => (CorpusKind::Demo, None, None),
            "ptb" => (
                CorpusKind::Ptb,
                Some(data_dir.map_or_else(|| PathBuf::from(place), Path::to_path_buf)),
                None,
            ),
            "text" => (CorpusKind::Text, None, Some(PathBuf::from(place))),
            _ => {
                return Err(Error::msg(format!(
                    "the run's corpus `{}` is not one recur records (demo, ptb:DIR, text:FILE)",
                    self.corpus
                )))
            }
        };
        // A word-level PTB run that validated read the whole corpus; others kept its first
        // `corpus_size` tokens.
        let chars = tokenizer == Tokenizer::Char;
        let corpus_size =
            if self.validate && corpus == CorpusKind::Ptb && !chars { 0 } else { self.corpus_size };
        Ok(DataSource {
            corpus: Some(corpus),
            data_dir,
            text,
            corpus_size,
            validate: self.validate,
            max_vocab: self.max_vocab,
            min_count: self.min_count,
            valid: self.valid.as_ref().map(PathBuf::from),
            test: self.test.as_ref().map(PathBuf::from),
            valid_share: self.valid_share,
            tokenizer: chars.then_some(Tokenizer::Char),
        })
    }
}

fn one() -> usize {
    1
}

fn default_optimizer() -> OptimizerKind {
    OptimizerKind::Sgd
}

fn default_eval_batch() -> usize {
    10
}

fn default_eval_time() -> usize {
    35
}

/// Which task a run directory holds: `config.json`'s `"task"`. Language-model runs made before
/// the field existed have none and read as `lm`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TaskKind {
    /// A language model (`recur train`).
    Lm,
    /// A text classifier (`recur classify train`).
    Classify,
    /// A time-series forecaster (`recur forecast train`).
    Forecast,
    /// An encoder-decoder (`recur seq2seq train`).
    Seq2seq,
}

impl TaskKind {
    /// The task as written in `config.json` (`lm`, `classify`, `forecast`, `seq2seq`).
    pub fn name(self) -> &'static str {
        match self {
            TaskKind::Lm => "lm",
            TaskKind::Classify => "classify",
            TaskKind::Forecast => "forecast",
            TaskKind::Seq2seq => "seq2seq",
        }
    }

    /// The command that writes a run of this task.
    pub fn train_command(self) -> &'static str {
        match self {
            TaskKind::Lm => "recur train",
            TaskKind::Classify => "recur classify train",
            TaskKind::Forecast => "recur forecast train",
            TaskKind::Seq2seq => "recur seq2seq train",
        }
    }

    /// The commands that read a run of this task.
    pub fn commands(self) -> &'static str {
        match self {
            TaskKind::Lm => "recur eval|score|generate|summary, recur train --resume",
            TaskKind::Classify => "recur classify eval|predict|summary, recur classify train --resume",
            TaskKind::Forecast => "recur forecast eval|summary, recur forecast train --resume",
            TaskKind::Seq2seq => "recur seq2seq eval|predict|summary, recur seq2seq train --resume",
        }
    }
}

fn lm_task() -> TaskKind {
    TaskKind::Lm
}

/// `config.json` of a language model's run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunConfig {
    /// Always `lm` here (absent in runs made before tasks were named).
    #[serde(default = "lm_task")]
    pub task: TaskKind,
    /// The model's shape: enough to rebuild it before loading its weights.
    pub model: LmConfig,
    /// How texts are cut into tokens (eval and generate cut the same way).
    pub tokenizer: Tokenizer,
    /// Absent in run directories made outside recur (e.g. by bench/pytorch/word_lm.py).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub train: Option<TrainSettings>,
}

/// `result.json`: the end of a validated run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunResult {
    /// The epoch (from 1) whose weights were kept.
    pub best_epoch: usize,
    /// Its validation perplexity.
    pub best_valid_ppl: f64,
    /// On the best weights, when the run has a test text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_ppl: Option<f64>,
}

/// A run directory on disk.
///
/// ```rust
/// use recur::data::Tokenizer;
/// use recur::io::run_dir::{RunConfig, RunDir, TaskKind};
/// use recur::models::LmConfig;
///
/// let root = std::env::temp_dir().join(format!("recur-doc-run-{}", std::process::id()));
/// let run = RunDir::create(&root)?;
/// let config = RunConfig {
///     task: TaskKind::Lm,
///     model: LmConfig::simple_rnnlm(3, 4, 5),
///     tokenizer: Tokenizer::Whitespace,
///     train: None,
/// };
/// run.write_config(&config)?;
/// assert_eq!(run.task()?, TaskKind::Lm);
/// assert_eq!(run.read_config()?, config);
///
/// // Any serialisable value, pretty-printed and written atomically.
/// run.write_json("notes.json", &serde_json::json!({ "epochs": 3 }))?;
/// let text = recur::io::read_text(&run.path("notes.json"))?;
/// assert_eq!(serde_json::from_str::<serde_json::Value>(&text).unwrap()["epochs"], 3);
/// std::fs::remove_dir_all(&root).unwrap();
/// # Ok::<(), recur::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct RunDir {
    /// The folder holding the run's files.
    pub root: PathBuf,
}

impl RunDir {
    /// Creates the directory if needed.
    pub fn create(root: &Path) -> Result<Self> {
        std::fs::create_dir_all(root).map_err(|e| Error::io(root, "create the run directory", e))?;
        Ok(RunDir { root: root.to_path_buf() })
    }

    /// An existing run directory (errors if it is not a directory).
    pub fn open(root: &Path) -> Result<Self> {
        if !root.is_dir() {
            return Err(Error::file(
                root,
                "not a run directory (no such folder; expected the --out folder of a `train` command)",
            ));
        }
        Ok(RunDir { root: root.to_path_buf() })
    }

    /// The path of the run's file `name`.
    pub fn path(&self, name: &str) -> PathBuf {
        self.root.join(name)
    }

    /// Removes what a run that failed before its first checkpoint wrote (recur's run files,
    /// nothing else), then the folder itself if that left it empty: a failed run leaves nothing
    /// behind, and a user's own files in the folder are never touched.
    pub fn remove_unfinished(&self) -> Result<()> {
        const WRITTEN: [&str; 16] = [
            CONFIG,
            VOCAB,
            "vocab.json",
            MODEL,
            METRICS,
            RESULT,
            "cv.json",
            "checkpoint.safetensors",
            "loss.png",
            "loss.svg",
            "perplexity.png",
            "perplexity.svg",
            "accuracy.png",
            "accuracy.svg",
            "forecast.png",
            "forecast.svg",
        ];
        for name in WRITTEN {
            let path = self.path(name);
            if path.exists() {
                std::fs::remove_file(&path)
                    .map_err(|e| Error::io(&path, "remove the failed run's file", e))?;
            }
        }
        // Fails when anything else is in the folder, which is then left as it is.
        let _ = std::fs::remove_dir(&self.root);
        Ok(())
    }

    /// Removes the files `names` of a run being replaced (`--overwrite`) where they exist, so a
    /// failed new run never leaves old weights beside a config they do not fit, nor a checkpoint
    /// another `--resume` would read.
    pub fn remove_replaced(&self, names: &[&str]) -> Result<()> {
        for name in names {
            let path = self.path(name);
            if path.exists() {
                std::fs::remove_file(&path)
                    .map_err(|e| Error::io(&path, "remove the replaced run's file", e))?;
            }
        }
        Ok(())
    }

    /// Writes `config.json`, atomically.
    pub fn write_config(&self, config: &RunConfig) -> Result<()> {
        self.write_json(CONFIG, config)
    }

    /// The task of this run (`config.json`'s `"task"`; none: a language model).
    pub fn task(&self) -> Result<TaskKind> {
        let path = self.path(CONFIG);
        let text = read_text(&path)?;
        let value: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
            Error::line(&path, e.line(), format!("{e}; expected the config.json of a recur run"))
        })?;
        match value.get("task") {
            None => Ok(TaskKind::Lm),
            Some(task) => serde_json::from_value(task.clone()).map_err(|_| {
                Error::file(
                    &path,
                    format!("`task` is {task}; expected \"lm\", \"classify\", \"forecast\" or \"seq2seq\""),
                )
            }),
        }
    }

    /// Errors unless this run is of `task`, naming the run's task and the commands that read it:
    /// `runs/x is a classify run: use recur classify eval|predict|summary, ...`.
    pub fn expect_task(&self, task: TaskKind) -> Result<()> {
        let found = self.task()?;
        if found == task {
            return Ok(());
        }
        Err(Error::msg(format!(
            "{} is a {} run: use {}",
            self.root.display(),
            found.name(),
            found.commands()
        )))
    }

    /// `config.json` of a language model's run.
    pub fn read_config(&self) -> Result<RunConfig> {
        self.read_task_config(TaskKind::Lm)
    }

    /// `config.json` of a run of `task`: one line naming the run's task and the commands that
    /// read it for another task's run, or the line that is not what `task`'s training wrote.
    pub fn read_task_config<T: DeserializeOwned>(&self, task: TaskKind) -> Result<T> {
        self.expect_task(task)?;
        let path = self.path(CONFIG);
        serde_json::from_str(&read_text(&path)?).map_err(|e| {
            let command = task.train_command();
            Error::line(&path, e.line(), format!("{e}; expected the config.json written by `{command}`"))
        })
    }

    /// Writes `value` as pretty-printed JSON (and a newline) to the run's file `name`, atomically.
    pub fn write_json<T: Serialize>(&self, name: &str, value: &T) -> Result<()> {
        let json = serde_json::to_string_pretty(value).expect("a run file always serialises");
        write_atomic(&self.path(name), format!("{json}\n").as_bytes())
    }

    /// Writes `vocab.txt`, atomically.
    pub fn write_vocab(&self, vocab: &Vocab) -> Result<()> {
        write_atomic(&self.path(VOCAB), vocab.to_text().as_bytes())
    }

    /// Writes `result.json`, atomically.
    pub fn write_result(&self, result: &RunResult) -> Result<()> {
        self.write_json(RESULT, result)
    }

    /// Reads `vocab.txt`.
    pub fn read_vocab(&self) -> Result<Vocab> {
        Vocab::load(&self.path(VOCAB))
    }

    /// The path of `model.safetensors`.
    pub fn model_path(&self) -> PathBuf {
        self.path(MODEL)
    }

    /// Rewrites `metrics.jsonl` with every epoch so far (atomic, so never half-written).
    pub fn write_metrics(&self, epochs: &[EpochStats]) -> Result<()> {
        let mut text = String::new();
        for e in epochs {
            text.push_str(&serde_json::to_string(e).expect("EpochStats always serialises"));
            text.push('\n');
        }
        write_atomic(&self.path(METRICS), text.as_bytes())
    }

    /// Reads `metrics.jsonl`; a line that is not an epoch's JSON is an error naming it.
    pub fn read_metrics(&self) -> Result<Vec<EpochStats>> {
        let path = self.path(METRICS);
        let text = read_text(&path)?;
        text.lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
            .map(|(i, line)| {
                serde_json::from_str(line).map_err(|e| {
                    Error::line(&path, i + 1, format!("{e}; expected one JSON object per epoch"))
                })
            })
            .collect()
    }

    /// Saves named tensors as `model.safetensors`.
    pub fn save_tensors<F: crate::tensor::Real>(
        &self,
        tensors: &[(String, ndarray::ArrayD<F>)],
    ) -> Result<()> {
        checkpoint::save(&self.model_path(), tensors)
    }
}

/// A trained language model read back from its run directory.
pub struct LoadedLm {
    /// The run's `config.json`.
    pub config: RunConfig,
    /// The run's vocabulary (V words).
    pub vocab: Vocab,
    /// The model with the saved weights loaded.
    pub model: crate::models::Lm<f32>,
}

impl RunDir {
    /// Reads `config.json`, `vocab.txt` and `model.safetensors`, checking that they agree.
    pub fn load_lm(&self) -> Result<LoadedLm> {
        let config = self.read_config()?;
        if let Err(message) = config.model.check() {
            return Err(Error::file(&self.path(CONFIG), message));
        }
        let vocab = self.read_vocab()?;
        if vocab.len() != config.model.vocab_size {
            return Err(Error::file(
                &self.path(VOCAB),
                format!("has {} words but {CONFIG} says vocab_size {}", vocab.len(), config.model.vocab_size),
            ));
        }
        let tensors = checkpoint::load::<f32>(&self.model_path())?;
        // A config may describe a model far larger than the file (a hostile or broken one):
        // refuse it before building, which would allocate all of it.
        let in_file: u128 = tensors.values().map(|t| t.len() as u128).sum();
        match config.model.parameter_count() {
            Some(needed) if needed <= in_file => {}
            needed => {
                return Err(Error::file(
                    &self.model_path(),
                    format!(
                        "holds {in_file} numbers but {CONFIG} describes a model of {} parameters; the file does not match {CONFIG}",
                        needed.map_or("more than 2^128".to_string(), |n| n.to_string())
                    ),
                ))
            }
        }
        // The weights are replaced below; the generator only fills the initial values.
        let mut model = crate::models::Lm::new(config.model.clone(), &mut crate::tensor::Rng::new(0));
        model.set_training(false);
        model
            .load_state_dict(tensors)
            .map_err(|m| Error::file(&self.model_path(), format!("{m}; the file does not match {CONFIG}")))?;
        Ok(LoadedLm { config, vocab, model })
    }
}
