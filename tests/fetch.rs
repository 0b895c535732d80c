//! `recur::data::fetch` against a tiny HTTP/1.1 server on 127.0.0.1 (never the internet):
//! downloads are verified, kept when already present, and a wrong download never reaches the disk.

use recur::data::fetch::{fetch, RemoteFile, PTB_FILES};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

/// What the server answers for one path.
struct Route {
    body: Vec<u8>,
    /// Send a `Content-Length` header (otherwise the body ends when the connection closes).
    content_length: bool,
}

/// A one-request-per-connection HTTP/1.1 server serving `routes` (404 for anything else),
/// stopped when dropped.
struct Server {
    port: u16,
    requests: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Server {
    fn start(routes: HashMap<String, Route>) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let port = listener.local_addr().unwrap().port();
        let requests = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (count, halt) = (requests.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            for stream in listener.incoming() {
                if halt.load(Ordering::SeqCst) {
                    break;
                }
                if let Ok(stream) = stream {
                    // A client that hangs up early (a refused oversize body) is not an error here.
                    let _ = serve(stream, &routes, &count);
                }
            }
        });
        Server { port, requests, stop, thread: Some(thread) }
    }

    fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}/", self.port)
    }

    fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn serve(mut stream: TcpStream, routes: &HashMap<String, Route>, count: &AtomicUsize) -> std::io::Result<()> {
    let mut request = Vec::new();
    let mut buf = [0u8; 1024];
    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut buf)?;
        if n == 0 {
            return Ok(()); // the wake-up connection from Drop, or a client that gave up
        }
        request.extend_from_slice(&buf[..n]);
    }
    count.fetch_add(1, Ordering::SeqCst);
    let request = String::from_utf8_lossy(&request);
    let path = request.split_whitespace().nth(1).unwrap_or("").to_string();
    match routes.get(&path) {
        Some(route) => {
            let mut head = String::from("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n");
            if route.content_length {
                head.push_str(&format!("Content-Length: {}\r\n", route.body.len()));
            }
            head.push_str("Connection: close\r\n\r\n");
            stream.write_all(head.as_bytes())?;
            stream.write_all(&route.body)?;
        }
        None => {
            let body = b"not found\n";
            let head = format!(
                "HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\
                 Connection: close\r\n\r\n",
                body.len()
            );
            stream.write_all(head.as_bytes())?;
            stream.write_all(body)?;
        }
    }
    stream.flush()
}

fn route(body: &[u8]) -> Route {
    Route { body: body.to_vec(), content_length: true }
}

/// A folder under the system temp dir with a unique name, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
        let dir = std::env::temp_dir().join(format!(
            "recur-fetch-test-{tag}-{}-{}-{nanos}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::SeqCst)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// A `RemoteFile` for synthetic content (the tests need `&'static str`; leaking a few strings in a
/// test is fine).
fn remote(name: &str, content: &[u8]) -> RemoteFile {
    RemoteFile {
        name: Box::leak(name.to_string().into_boxed_str()),
        sha256: Box::leak(sha256_hex(content).into_boxed_str()),
        bytes: content.len() as u64,
    }
}

/// Deterministic pseudo-random text of `len` bytes.
fn synthetic(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    (0..len)
        .map(|i| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            if i % 60 == 59 {
                b'\n'
            } else {
                b"abcdefghij <unk> "[(x % 17) as usize]
            }
        })
        .collect()
}

fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn fetch_quiet(dir: &Path, base_url: &str, files: &[RemoteFile]) -> recur::error::Result<Vec<PathBuf>> {
    fetch(dir, base_url, files, &mut |_| {})
}

#[test]
fn fetch_downloads_verifies_and_then_keeps_files() {
    let contents = [synthetic(1, 10_000), synthetic(2, 1), synthetic(3, 70_001)];
    let names = ["a.train.txt", "a.valid.txt", "a.test.txt"];
    let files: Vec<RemoteFile> = names.iter().zip(&contents).map(|(n, c)| remote(n, c)).collect();
    let routes = names.iter().zip(&contents).map(|(n, c)| (format!("/data/{n}"), route(c))).collect();
    let server = Server::start(routes);
    let tmp = TempDir::new("ok");
    let dir = tmp.0.join("nested/ptb"); // created by fetch
    let base = format!("{}data", server.base_url()); // no trailing slash: fetch adds it

    let mut lines = Vec::new();
    let paths = fetch(&dir, &base, &files, &mut |line| lines.push(line.to_string())).unwrap();
    assert_eq!(paths, names.iter().map(|n| dir.join(n)).collect::<Vec<_>>());
    for (path, content) in paths.iter().zip(&contents) {
        assert_eq!(&std::fs::read(path).unwrap(), content);
    }
    assert_eq!(server.requests(), 3);
    assert_eq!(lines.len(), 3, "one line per file: {lines:?}");
    assert!(lines[0].contains("downloaded") && lines[0].contains("a.train.txt"), "{lines:?}");
    let mut sorted = names.map(String::from).to_vec();
    sorted.sort();
    assert_eq!(entries(&dir), sorted, "no temporary files left");

    // Second run: everything is present and verified, nothing is downloaded.
    lines.clear();
    let again = fetch(&dir, &base, &files, &mut |line| lines.push(line.to_string())).unwrap();
    assert_eq!(again, paths);
    assert_eq!(server.requests(), 3, "second fetch must not download");
    assert_eq!(lines.len(), 3);
    assert!(lines.iter().all(|l| l.contains("already present")), "{lines:?}");
}

#[test]
fn wrong_file_already_present_is_replaced() {
    let content = synthetic(4, 5_000);
    let file = remote("b.txt", &content);
    let server = Server::start(HashMap::from([("/b.txt".to_string(), route(&content))]));
    let tmp = TempDir::new("replace");
    let path = tmp.0.join("b.txt");

    // Same size, different bytes: only the checksum tells.
    let mut stale = content.clone();
    stale[100] ^= 1;
    std::fs::write(&path, &stale).unwrap();
    let mut lines = Vec::new();
    fetch(&tmp.0, &server.base_url(), &[file], &mut |l| lines.push(l.to_string())).unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), content);
    assert_eq!(server.requests(), 1);
    assert!(lines[0].contains("replaced") && lines[0].contains("sha256"), "{lines:?}");

    // Wrong size.
    std::fs::write(&path, b"short").unwrap();
    fetch_quiet(&tmp.0, &server.base_url(), &[file]).unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), content);
    assert_eq!(server.requests(), 2);
    assert_eq!(entries(&tmp.0), ["b.txt"]);
}

#[test]
fn corrupt_body_is_refused_and_nothing_is_written() {
    let content = synthetic(5, 20_000);
    let file = remote("c.valid.txt", &content);
    let mut corrupt = content.clone();
    corrupt[12_345] ^= 0x20; // same size, one bit off
    let server = Server::start(HashMap::from([("/c.valid.txt".to_string(), route(&corrupt))]));
    let tmp = TempDir::new("corrupt");

    let err = fetch_quiet(&tmp.0, &server.base_url(), &[file]).unwrap_err().to_string();
    let url = format!("{}c.valid.txt", server.base_url());
    assert!(err.starts_with(&format!("{url}: checksum mismatch: expected sha256 {}", file.sha256)), "{err}");
    assert!(err.contains(&format!("got {}", sha256_hex(&corrupt))), "{err}");
    assert!(err.contains("nothing was written"), "{err}");
    assert!(entries(&tmp.0).is_empty(), "no file and no temp file: {:?}", entries(&tmp.0));
}

#[test]
fn oversize_body_is_refused() {
    let content = synthetic(6, 1_000);
    let file = remote("d.txt", &content);
    let big = synthetic(7, 200_000);
    let routes = HashMap::from([
        ("/announced/d.txt".to_string(), route(&big)),
        ("/unannounced/d.txt".to_string(), Route { body: big.clone(), content_length: false }),
        ("/short/d.txt".to_string(), Route { body: content[..999].to_vec(), content_length: false }),
    ]);
    let server = Server::start(routes);
    let tmp = TempDir::new("oversize");

    for (prefix, expect) in [
        ("announced", "size mismatch: expected 1000 bytes, the server announces 200000"),
        ("unannounced", "size mismatch: expected 1000 bytes, the server sent more"),
        ("short", "size mismatch: expected 1000 bytes, got 999"),
    ] {
        let base = format!("{}{prefix}/", server.base_url());
        let err = fetch_quiet(&tmp.0, &base, &[file]).unwrap_err().to_string();
        assert!(err.starts_with(&format!("{base}d.txt: {expect}")), "{prefix}: {err}");
        assert!(entries(&tmp.0).is_empty(), "{prefix}: {:?}", entries(&tmp.0));
    }
}

#[test]
fn missing_file_gives_http_status_error() {
    let present = synthetic(8, 100);
    let files = [remote("e.train.txt", &present), remote("e.valid.txt", b"never served")];
    let server = Server::start(HashMap::from([("/e.train.txt".to_string(), route(&present))]));
    let tmp = TempDir::new("404");

    let err = fetch_quiet(&tmp.0, &server.base_url(), &files).unwrap_err().to_string();
    let url = format!("{}e.valid.txt", server.base_url());
    assert!(err.starts_with(&format!("{url}: HTTP status 404 Not Found")), "{err}");
    // The first file was verified and stays; the missing one is not there.
    assert_eq!(entries(&tmp.0), ["e.train.txt"]);
}

#[test]
fn connection_refused_names_the_url() {
    let port = {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    }; // closed again: nothing listens there now
    let tmp = TempDir::new("refused");
    let base = format!("http://127.0.0.1:{port}/");
    let file = remote("f.txt", b"x");
    let err = fetch_quiet(&tmp.0, &base, &[file]).unwrap_err().to_string();
    assert!(err.starts_with(&format!("{base}f.txt: cannot download:")), "{err}");
    assert!(entries(&tmp.0).is_empty());
}

#[test]
fn bad_entries_are_refused_before_any_download() {
    let server = Server::start(HashMap::new());
    let tmp = TempDir::new("bad");
    let dir = tmp.0.join("out");
    let bad_name = RemoteFile { name: "../escape.txt", sha256: PTB_FILES[0].sha256, bytes: 1 };
    let bad_sha = RemoteFile { name: "g.txt", sha256: "abc", bytes: 1 };
    for bad in [bad_name, bad_sha] {
        assert!(fetch_quiet(&dir, &server.base_url(), &[bad]).is_err());
    }
    assert_eq!(server.requests(), 0);
    assert!(!dir.exists());
}

#[test]
fn ptb_file_table_is_well_formed() {
    let names: Vec<&str> = PTB_FILES.iter().map(|f| f.name).collect();
    assert_eq!(names, ["ptb.train.txt", "ptb.valid.txt", "ptb.test.txt"]);
    for f in &PTB_FILES {
        assert_eq!(f.sha256.len(), 64);
        assert!(f.sha256.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')));
        assert!(f.bytes > 100_000);
    }
}

#[test]
fn real_ptb_files_fetch_and_verify() {
    let Some(data) = std::env::var_os("RECUR_DATA") else {
        println!("skipped: set RECUR_DATA=<path to shared/data> to run");
        return;
    };
    let src = Path::new(&data).join("ptb");
    let routes = PTB_FILES
        .iter()
        .map(|f| {
            let body = std::fs::read(src.join(f.name)).unwrap_or_else(|e| {
                panic!("{}: {e} (RECUR_DATA must hold ptb/)", src.join(f.name).display())
            });
            (format!("/lstm/data/{}", f.name), route(&body))
        })
        .collect();
    let server = Server::start(routes);
    let tmp = TempDir::new("ptb");
    let dir = tmp.0.join("ptb");
    let base = format!("{}lstm/data/", server.base_url());

    let paths = fetch_quiet(&dir, &base, &PTB_FILES).unwrap();
    for (path, f) in paths.iter().zip(&PTB_FILES) {
        assert_eq!(std::fs::read(path).unwrap(), std::fs::read(src.join(f.name)).unwrap());
    }
    assert_eq!(server.requests(), 3);
    fetch_quiet(&dir, &base, &PTB_FILES).unwrap();
    assert_eq!(server.requests(), 3, "second fetch must not download");
}
