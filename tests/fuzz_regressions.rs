//! Hostile and broken files: every file reader on inputs that are not UTF-8, have CRLF line ends
//! or blank lines, safetensors headers that lie, files larger than the memory allowed, and the
//! inputs the fuzz targets (`fuzz/`, docs/fuzzing.md) found, kept under tests/fixtures/fuzz/.
//! Bad input must give an error naming the file (and the line, where there is one), never a panic.

use recur::data::csv::read_column;
use recur::data::pairs::{read_pairs, CharVocab, Pair};
use recur::data::ptb::{self, Split};
use recur::data::tsv::{read_labelled, Classes};
use recur::data::{Corpus, Tokenizer, Vocab, EOS};
use recur::error::Error;
use recur::io::run_dir::{RunDir, CONFIG, METRICS, MODEL, VOCAB};
use recur::io::{check_fits, checkpoint, read_bytes_within, read_text};
use std::path::{Path, PathBuf};

mod common;

/// A fresh directory for one test, removed when the test ends.
fn scratch(test: &str) -> common::cli::Scratch {
    common::cli::Scratch::new(&format!("fuzz-regressions-{test}"))
}

fn write(dir: &Path, name: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// Asserts that `err` is about `path` at `line` (`None`: the whole file) and says `what`.
#[track_caller]
fn assert_error(err: &Error, path: &Path, line: Option<usize>, what: &str) {
    let prefix = match line {
        Some(n) => format!("{}:{n}: ", path.display()),
        None => format!("{}: ", path.display()),
    };
    let m = err.message();
    assert!(m.starts_with(&prefix), "expected the error to start with `{prefix}`: {m}");
    assert!(m.contains(what), "expected the error to say `{what}`: {m}");
}

/// A reader, with what it read printed (`{:?}`) so results can be compared.
type Reader = Box<dyn Fn(&Path) -> recur::Result<String>>;

/// Every text reader of the library.
fn text_readers() -> Vec<(&'static str, Reader)> {
    vec![
        ("ptb train", Box::new(|p: &Path| ptb_train(p).map(|c| format!("{:?}", c.ids)))),
        ("corpus", Box::new(|p: &Path| Corpus::read(p, Tokenizer::Text).map(|c| format!("{:?}", c.ids)))),
        ("ptb valid", Box::new(|p: &Path| ptb_valid(p).map(|ids| format!("{ids:?}")))),
        ("vocab", Box::new(|p: &Path| Vocab::load(p).map(|v| v.to_text()))),
        ("tsv", Box::new(|p: &Path| read_labelled(p).map(|e| format!("{e:?}")))),
        ("csv", Box::new(|p: &Path| read_column(p, None).map(|c| format!("{c:?}")))),
        ("pairs", Box::new(|p: &Path| read_pairs(p).map(|e| format!("{e:?}")))),
        ("config.json", Box::new(|p: &Path| run_file(p, CONFIG).read_config().map(|c| format!("{c:?}")))),
        ("metrics.jsonl", Box::new(|p: &Path| run_file(p, METRICS).read_metrics().map(|m| format!("{m:?}")))),
    ]
}

/// `ptb::load_train` on the file at `path` (which must be called ptb.train.txt).
fn ptb_train(path: &Path) -> recur::Result<Corpus> {
    assert_eq!(path.file_name().unwrap(), Split::Train.file_name());
    ptb::load_train(path.parent().unwrap())
}

/// `ptb::load_split` of the file at `path` (ptb.valid.txt) with a vocabulary of its own words.
fn ptb_valid(path: &Path) -> recur::Result<Vec<u32>> {
    assert_eq!(path.file_name().unwrap(), Split::Valid.file_name());
    let mut vocab = Vocab::new();
    for w in ["<unk>", EOS, "a", "b", "c", "x"] {
        vocab.id_or_insert(w);
    }
    ptb::load_split(path.parent().unwrap(), Split::Valid, &vocab)
}

fn run_file(path: &Path, name: &str) -> RunDir {
    assert_eq!(path.file_name().unwrap(), name);
    RunDir::open(path.parent().unwrap()).unwrap()
}

/// The file name each reader reads, and a valid file for it whose line 2 can be damaged.
fn valid_file(reader: &str) -> (&'static str, String) {
    match reader {
        "ptb train" | "corpus" => ("ptb.train.txt", "a b c\nb c a\nc a b\n".into()),
        "ptb valid" => ("ptb.valid.txt", "a b\nc x\nb a\n".into()),
        "vocab" => ("vocab.txt", "one\ntwo\nsix\n".into()),
        "tsv" => ("data.tsv", "good film\tpos\nbad film\tneg\nfine\tpos\n".into()),
        "csv" => ("series.csv", "date,value\n1981-01-01,20.7\n1981-01-02,17.9\n".into()),
        "pairs" => ("pairs.tsv", "1+1\t2\n2+2\t4\n3+3\t6\n".into()),
        "config.json" => (
            CONFIG,
            "{\"model\": {\"cell\": \"rnn\", \"vocab_size\": 3, \"embed_size\": 2, \"hidden_size\": 2,\n\
             \"num_layers\": 1, \"init\": \"book\"}, \"tokenizer\": \"text\"}\n"
                .into(),
        ),
        "metrics.jsonl" => (
            METRICS,
            "{\"epoch\":1,\"train_loss\":5.7,\"train_ppl\":300.5,\"seconds\":0.1,\"tokens_per_s\":1000.0,\"lr\":0.1}\n\
             {\"epoch\":2,\"train_loss\":5.3,\"train_ppl\":200.5,\"seconds\":0.1,\"tokens_per_s\":1000.0,\"lr\":0.1}\n"
                .into(),
        ),
        other => panic!("no valid file for {other}"),
    }
}

#[test]
fn every_text_reader_reads_its_valid_file() {
    let dir = scratch("valid");
    for (reader, read) in text_readers() {
        let (name, text) = valid_file(reader);
        let path = write(&dir, name, &text);
        read(&path).unwrap_or_else(|e| panic!("{reader}: {e}"));
    }
}

#[test]
fn bytes_that_are_not_utf8_are_refused_naming_the_file_line_and_byte() {
    let dir = scratch("not-utf8");
    for (reader, read) in text_readers() {
        let (name, text) = valid_file(reader);
        // A Latin-1 `é` (0xE9) in the second line, third byte.
        let mut lines: Vec<Vec<u8>> = text.lines().map(|l| l.as_bytes().to_vec()).collect();
        lines[1].insert(2, 0xE9);
        let path = write(&dir, name, lines.join(&b'\n'));
        let err = read(&path).expect_err(reader);
        assert_error(&err, &path, Some(2), "not valid UTF-8 text (byte 3 of the line, 0xE9); expected UTF-8");
    }
}

#[test]
fn utf16_text_is_refused_as_utf16() {
    let dir = scratch("utf16");
    let mut bytes = vec![0xFF, 0xFE];
    bytes.extend("a\nb\n".encode_utf16().flat_map(u16::to_le_bytes));
    let path = write(&dir, "vocab.txt", bytes);
    let err = Vocab::load(&path).unwrap_err();
    assert_error(&err, &path, None, "is UTF-16 text");
}

#[test]
fn crlf_line_ends_read_like_lf() {
    let dir = scratch("crlf");
    for (reader, read) in text_readers() {
        let (name, text) = valid_file(reader);
        let lf = read(&write(&dir, name, &text)).unwrap();
        let crlf = read(&write(&dir, name, text.replace('\n', "\r\n")))
            .unwrap_or_else(|e| panic!("{reader} refuses CRLF line ends: {e}"));
        assert_eq!(lf, crlf, "{reader}: CRLF reads differently from LF");
    }
}

#[test]
fn a_byte_order_mark_is_not_part_of_the_text() {
    let dir = scratch("bom");
    for (reader, read) in text_readers() {
        let (name, text) = valid_file(reader);
        let plain = read(&write(&dir, name, &text)).unwrap();
        let bom = read(&write(&dir, name, format!("\u{feff}{text}")))
            .unwrap_or_else(|e| panic!("{reader} refuses a byte-order mark: {e}"));
        assert_eq!(plain, bom, "{reader}: a byte-order mark changes what is read");
    }
}

#[test]
fn blank_lines_are_skipped_where_lines_are_records() {
    let dir = scratch("blank");
    // Records keep the line numbers of the file, so later errors point at the right line.
    let path = write(&dir, "data.tsv", "\ngood film\tpos\n\n  \r\nbad film\tneg\n\n");
    let lines: Vec<usize> = read_labelled(&path).unwrap().iter().map(|e| e.line).collect();
    assert_eq!(lines, [2, 5]);
    let path = write(&dir, "pairs.tsv", "1+1\t2\n\n\r\n2+2\t4\n");
    assert_eq!(read_pairs(&path).unwrap().len(), 2);
    let path = write(&dir, "series.csv", "\n\ndate,value\n\n1,2.5\n \n2,3.5\n\n");
    assert_eq!(read_column(&path, None).unwrap().values, [2.5, 3.5]);
    let (_, metrics) = valid_file("metrics.jsonl");
    let path = write(&dir, METRICS, metrics.replace('\n', "\n\n"));
    assert_eq!(run_file(&path, METRICS).read_metrics().unwrap().len(), 2);
}

#[test]
fn blank_lines_of_a_corpus_are_sentence_ends() {
    // The book's PTB loader: every line break is `<eos>`, blank lines included.
    let dir = scratch("blank-corpus");
    let path = write(&dir, "ptb.train.txt", "a b\n\n\nc\n");
    let c = ptb_train(&path).unwrap();
    let words: Vec<&str> = c.ids.iter().map(|&i| c.vocab.word(i)).collect();
    assert_eq!(words, ["a", "b", EOS, EOS, EOS, "c", EOS]);
    // Only blank lines: no words, refused.
    let path = write(&dir, "ptb.train.txt", "\n \n\r\n");
    let err = ptb_train(&path).unwrap_err();
    assert_error(&err, &path, None, "contains no words");
}

#[test]
fn a_blank_line_in_a_vocabulary_is_refused_with_its_line() {
    // Ids are line numbers, so a blank line cannot be skipped.
    let dir = scratch("blank-vocab");
    let path = write(&dir, "vocab.txt", "a\nb\n\nc\n");
    let err = Vocab::load(&path).unwrap_err();
    assert_error(&err, &path, Some(3), "blank line");
    let path = write(&dir, "vocab.txt", "a\r\n \r\n");
    let err = Vocab::load(&path).unwrap_err();
    assert_error(&err, &path, Some(2), "expected one word");
}

/// A safetensors file: the 8-byte header length, the JSON header, the data.
fn safetensors_bytes(header: &str, data: &[u8]) -> Vec<u8> {
    let mut out = (header.len() as u64).to_le_bytes().to_vec();
    out.extend(header.as_bytes());
    out.extend(data);
    out
}

#[test]
fn safetensors_headers_that_lie_are_refused() {
    let dir = scratch("safetensors");
    let data = [0u8; 8];
    let cases = [
        // Offsets past the end of the file.
        (r#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,1099511627776]}}"#, "not a valid safetensors"),
        // Offsets that leave a gap before the tensor.
        (r#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, "not a valid safetensors"),
        // A shape of 2^40 x 2^40 over 8 bytes: the element count overflows.
        (
            r#"{"a":{"dtype":"F32","shape":[1099511627776,1099511627776],"data_offsets":[0,8]}}"#,
            "not a valid safetensors",
        ),
        // A shape that does not match its 8 bytes.
        (r#"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, "not a valid safetensors"),
        // A dtype recur does not read.
        (r#"{"a":{"dtype":"I32","shape":[2],"data_offsets":[0,8]}}"#, "expected F32 or F64"),
    ];
    for (header, what) in cases {
        let path = write(&dir, MODEL, safetensors_bytes(header, &data));
        let err = checkpoint::load::<f32>(&path).expect_err(header);
        assert_error(&err, &path, None, what);
    }
    // A header length larger than the file.
    let mut bytes = (1u64 << 62).to_le_bytes().to_vec();
    bytes.extend(b"{}");
    let path = write(&dir, MODEL, bytes);
    assert_error(&checkpoint::load::<f32>(&path).unwrap_err(), &path, None, "not a valid safetensors");
}

#[test]
fn a_huge_shape_without_data_is_refused() {
    // Zero elements pass the safetensors checks, but 2^40 x 2^40 elements cannot be indexed.
    let dir = scratch("huge-empty");
    let header = r#"{"a":{"dtype":"F32","shape":[1099511627776,0,1099511627776],"data_offsets":[0,0]}}"#;
    let path = write(&dir, MODEL, safetensors_bytes(header, &[]));
    let err = checkpoint::load::<f32>(&path).unwrap_err();
    assert_error(&err, &path, None, "tensor `a`");
}

#[test]
fn files_larger_than_the_memory_are_refused_before_reading() {
    let dir = scratch("memory");
    let path = write(&dir, "big.txt", [b'a'; 100]);
    let err = read_bytes_within(&path, Some(99)).unwrap_err();
    assert_error(&err, &path, None, "is 100 bytes but only 99 bytes of memory is available");
    assert_eq!(read_bytes_within(&path, Some(100)).unwrap().len(), 100);
    assert_eq!(read_bytes_within(&path, None).unwrap().len(), 100);
    let err = check_fits(&path, 5 << 30, Some(3 << 30)).unwrap_err();
    assert_error(&err, &path, None, "is 5368709120 bytes (5.0 GiB) but only 3221225472 bytes (3.0 GiB)");
    // What the readers use: the memory this machine has available.
    assert!(read_text(&path).is_ok());
    if cfg!(target_os = "linux") {
        assert!(recur::io::memory_available().is_some_and(|m| m > 0));
    }
}

#[test]
fn a_file_that_never_ends_is_cut_at_the_limit() {
    // A device reports size 0 and never ends: reading stops one byte past the limit.
    let zero = Path::new("/dev/zero");
    if !zero.exists() {
        eprintln!("SKIPPED: no /dev/zero");
        return;
    }
    let err = read_bytes_within(zero, Some(1000)).unwrap_err();
    assert_error(&err, zero, None, "is 1001 bytes but only 1000 bytes of memory is available");
}

#[test]
fn a_directory_is_not_a_file() {
    let dir = scratch("dir");
    let err = read_text(&dir).unwrap_err();
    assert_error(&err, &dir, None, "is a directory");
    let err = checkpoint::load::<f32>(&dir).unwrap_err();
    assert_error(&err, &dir, None, "is a directory");
    // A run directory whose vocab.txt is a folder.
    std::fs::create_dir(dir.join(VOCAB)).unwrap();
    let err = RunDir::open(&dir).unwrap().read_vocab().unwrap_err();
    assert_error(&err, &dir.join(VOCAB), None, "is a directory");
}

// --- Work that grew with the square of the file -----------------------------------------------
// Before, each label and each character was searched for in a list: a TSV file with a different
// label on each of its 100,000 lines took 40 s to map to class ids, and 100,000 characters of a
// 20,000-character vocabulary 11 s to encode (release build). Both are now looked up in a map
// (milliseconds, even in a debug build); the limits below leave a margin of hundreds of times.

#[test]
fn class_ids_of_a_file_with_a_label_per_line_take_linear_time() {
    let dir = scratch("many-labels");
    let text: String = (0..100_000).map(|i| format!("text\tlabel{i}\n")).collect();
    let path = write(&dir, "data.tsv", text);
    let start = std::time::Instant::now();
    let examples = read_labelled(&path).unwrap();
    let classes = Classes::from_labels(examples.iter().map(|e| e.label.as_str()));
    let ids = classes.ids_of(&path, &examples).unwrap();
    assert_eq!((classes.len(), ids[99_999]), (100_000, classes.id("label99999").unwrap()));
    let took = start.elapsed();
    assert!(took.as_secs_f64() < 5.0, "mapping 100,000 labels took {took:?}");
}

#[test]
fn encoding_with_a_large_character_vocabulary_takes_linear_time() {
    let chars: String = (0..100_000u32).map(|i| char::from_u32(0x4E00 + i % 20_000).unwrap()).collect();
    let vocab = CharVocab::from_pairs(&[Pair::new(chars.clone(), "a")]);
    let start = std::time::Instant::now();
    let ids = vocab.encode(&chars).unwrap();
    let took = start.elapsed();
    assert_eq!((vocab.len(), ids.len(), ids[20_000]), (3 + 20_001, 100_000, ids[0]));
    assert!(took.as_secs_f64() < 2.0, "encoding 100,000 characters took {took:?}");
}

// --- Inputs the fuzz targets found -----------------------------------------------------------

/// Every file and folder under tests/fixtures/fuzz/<target>/, each tested below.
const FOUND: &[&str] =
    &["run_dir/huge-hidden-size", "run_dir/many-layers", "run_dir/valid", "vocab/two-byte-order-marks"];

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/fuzz").join(name)
}

#[test]
fn every_input_found_by_fuzzing_is_tested() {
    let root = fixture("");
    let mut on_disk = Vec::new();
    for target in std::fs::read_dir(&root).unwrap() {
        let target = target.unwrap();
        for entry in std::fs::read_dir(target.path()).unwrap() {
            let entry = entry.unwrap();
            on_disk.push(format!(
                "{}/{}",
                target.file_name().to_string_lossy(),
                entry.file_name().to_string_lossy()
            ));
        }
    }
    on_disk.sort();
    assert_eq!(on_disk, FOUND, "add the new inputs under tests/fixtures/fuzz to FOUND and test them");
}

#[test]
fn vocab_two_byte_order_marks() {
    // The first mark is dropped; the second was kept in the first word, which a save and load
    // then lost (the vocabulary changed on a round trip). A mark inside a word is refused.
    let path = fixture("vocab/two-byte-order-marks");
    let err = Vocab::load(&path).unwrap_err();
    assert_error(&err, &path, Some(1), "expected one word (no spaces or byte-order marks)");
}

#[test]
fn run_dir_valid_loads_and_a_mismatched_config_is_refused() {
    let dir = fixture("run_dir/valid");
    let loaded = RunDir::open(&dir).unwrap().load_lm().unwrap();
    assert_eq!((loaded.vocab.len(), loaded.config.model.hidden_size), (3, 2));
    // The same files with a config that wants hidden_size 3: the tensors do not match it.
    let copy = scratch("mismatch");
    for f in [CONFIG, VOCAB, MODEL] {
        std::fs::copy(dir.join(f), copy.join(f)).unwrap();
    }
    let config = read_text(&copy.join(CONFIG)).unwrap().replace("\"hidden_size\": 2", "\"hidden_size\": 3");
    write(&copy, CONFIG, config);
    let err = RunDir::open(&copy).unwrap().load_lm().err().expect("a mismatched config is refused");
    assert_error(&err, &copy.join(MODEL), None, "; the file does not match config.json");
}

/// `load_lm` on a run whose config describes a model far larger than its checkpoint.
fn assert_model_larger_than_file_is_refused(dir: &Path) {
    let err = RunDir::open(dir).unwrap().load_lm().err().expect("refused");
    assert_error(&err, &dir.join(MODEL), None, "the file does not match config.json");
}

#[test]
fn run_dir_huge_hidden_size() {
    assert_model_larger_than_file_is_refused(&fixture("run_dir/huge-hidden-size"));
}

#[test]
fn run_dir_many_layers() {
    assert_model_larger_than_file_is_refused(&fixture("run_dir/many-layers"));
}

/// The count `load_lm` checks a file against is the count of the model it would build.
#[test]
fn parameter_count_from_sizes_equals_the_built_model() {
    use recur::layers::CellKind;
    use recur::models::{Lm, LmConfig};
    for cell in [CellKind::Rnn, CellKind::Lstm, CellKind::Gru] {
        for (layers, tied) in [(1, false), (2, true), (3, false)] {
            let config = LmConfig {
                cell,
                num_layers: layers,
                tie_weights: tied,
                ..LmConfig::simple_rnnlm(11, 6, if tied { 6 } else { 5 })
            };
            let model: Lm<f32> = Lm::new(config.clone(), &mut recur::tensor::Rng::new(1));
            assert_eq!(config.parameter_count(), Some(model.params.num_elements() as u128), "{config:?}");
        }
    }
}
