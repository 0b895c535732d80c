//! Running the `recur` binary from tests: scratch folders, exit codes, stdout and stderr.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

/// A fresh folder under the system temporary folder, removed on drop.
pub struct Scratch {
    pub root: PathBuf,
}

impl Scratch {
    pub fn new(test: &str) -> Self {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let root = std::env::temp_dir().join(format!("recur-cli-{}-{n}-{test}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(&root).unwrap_or_else(|e| panic!("{}: {e}", root.display()));
        Scratch { root }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.root.join(name)
    }

    /// Writes `contents` to `name` in this folder and returns its path.
    pub fn file(&self, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.path(name);
        std::fs::write(&path, contents).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        path
    }
}

impl std::ops::Deref for Scratch {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.root
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

/// Runs `recur ARGS` from the scratch folder (so a default `runs/` could never land in the
/// repository) and returns what it did.
pub fn recur<I, S>(cwd: &Path, args: I) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let args: Vec<_> = args.into_iter().map(|a| a.as_ref().to_os_string()).collect();
    Command::new(env!("CARGO_BIN_EXE_recur"))
        .args(&args)
        .current_dir(cwd)
        .output()
        .unwrap_or_else(|e| panic!("cannot run recur {args:?}: {e}"))
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).expect("stdout is UTF-8")
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8(out.stderr.clone()).expect("stderr is UTF-8")
}

/// Asserts exit code 0 (showing both streams otherwise) and returns stdout.
pub fn success(what: &str, out: &Output) -> String {
    assert!(
        out.status.success(),
        "{what}: exit {:?}\n--- stdout\n{}--- stderr\n{}",
        out.status.code(),
        stdout(out),
        stderr(out)
    );
    stdout(out)
}

/// Asserts the error contract: exit code 2, exactly one stderr line starting `error: `, no
/// panic, and the message contains every one of `needles`. Returns the message.
pub fn failure(what: &str, out: &Output, needles: &[&str]) -> String {
    let err = stderr(out);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{what}: expected exit code 2\n--- stdout\n{}--- stderr\n{err}",
        stdout(out)
    );
    assert!(!err.contains("panicked"), "{what}: panicked:\n{err}");
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 1, "{what}: expected one stderr line, got:\n{err}");
    assert!(lines[0].starts_with("error: "), "{what}: stderr does not start with `error: `: {err}");
    for needle in needles {
        assert!(lines[0].contains(needle), "{what}: the message does not name {needle:?}: {err}");
    }
    lines[0].to_string()
}

pub fn read_json(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A PTB-shaped folder with a small vocabulary, for validated runs.
pub fn tiny_ptb(s: &Scratch) -> PathBuf {
    let dir = s.path("ptb");
    std::fs::create_dir_all(&dir).unwrap();
    let words = ["the", "cat", "sat", "on", "mat", "a", "dog", "ran", "to", "<unk>", "park", "and"];
    let mut rng = recur::tensor::Rng::new(5);
    for (file, lines) in [("ptb.train.txt", 300), ("ptb.valid.txt", 80), ("ptb.test.txt", 80)] {
        let text: String = (0..lines)
            .map(|_| {
                let n = 3 + rng.below(6);
                let line: Vec<&str> = (0..n).map(|_| words[rng.below(words.len())]).collect();
                format!(" {} \n", line.join(" "))
            })
            .collect();
        std::fs::write(dir.join(file), text).unwrap();
    }
    dir
}
