//! Shared by the integration tests: a sandbox holding a snapshot of the repository's sources (so
//! edits elsewhere during a test cannot change tool identities), a store, a publish directory and
//! a tiny profile; and the real `paper` binary driving the real stage binaries.
#![allow(dead_code)]

use serde_json::Value;
use std::ffi::OsStr;
use std::fmt::Debug;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub mod fake;

/// The `[train]` and `[datasets]` tables of every test profile: 32-wide nets (figures draw the
/// depths `spec` says), a few hundred updates, one seed of Shapeset.
pub const TRAIN_TABLES: &str = r#"[train]
width = 32
batch_size = 10
updates = 300
probe_every = 100
seeds = [0]
[datasets]
shapeset = {}
"#;

/// The `[lr]` table of every test profile: every activation at 0.05.
const LR_TABLE: &str = r#"[lr]
sigmoid = 0.05
tanh = 0.05
softsign = 0.05
relu = 0.05
"#;

/// A test profile: `description`, the shared tables, then `tables` (`[figures]`, and any table
/// that replaces a shared one is not allowed: TOML refuses a table twice).
pub fn profile(description: &str, tables: &str) -> String {
    format!("description = {description:?}\n{TRAIN_TABLES}{LR_TABLE}{tables}")
}

/// The same with other datasets than Shapeset alone.
pub fn profile_on(description: &str, datasets: &str, tables: &str) -> String {
    profile(description, tables).replace(
        "[datasets]\nshapeset = {}\n",
        &format!("[datasets]\n{datasets}"),
    )
}

/// Three outputs drawn from two Shapeset runs (tanh, standard and normalized), a run-free one,
/// and the report.
pub fn tiny() -> String {
    profile(
        "integration tests: two tiny Shapeset runs",
        r#"[figures]
fig5   = { width = 640, height = 480 }
fig6   = { width = 640, height = 480 }
fig7   = {}
report = {}
"#,
    )
}

pub const TINY_TRAINS: [&str; 2] = [
    "train/shapeset-tanh-standard-l5-w32-s0",
    "train/shapeset-tanh-normalized-l5-w32-s0",
];

pub const TINY_STAGES: [&str; 7] = [
    "dataset/shapeset",
    "train/shapeset-tanh-standard-l5-w32-s0",
    "train/shapeset-tanh-normalized-l5-w32-s0",
    "render/fig5",
    "render/fig6",
    "render/fig7",
    "render/report",
];

/// The directory of the stage binaries, or None (saying why) when one is not built.
pub fn bin_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("XAVIER_BIN_DIR").map_or_else(
        || {
            Path::new(env!("CARGO_BIN_EXE_paper"))
                .parent()
                .unwrap()
                .to_path_buf()
        },
        PathBuf::from,
    );
    for binary in ["shapeset", "train", "figures"] {
        if !dir.join(binary).is_file() {
            eprintln!(
                "skipped: stage binary {} is not built (`cargo build --release --workspace --bins`)",
                dir.join(binary).display()
            );
            return None;
        }
    }
    Some(dir)
}

pub struct Sandbox {
    pub dir: tempfile::TempDir,
    pub bins: PathBuf,
}

impl Sandbox {
    /// A sandbox with `profile` as its profile file; None when the stage binaries are missing.
    pub fn new(profile: &str) -> Option<Sandbox> {
        Some(Sandbox::with_bins(profile, bin_dir()?))
    }

    /// A sandbox whose stage binaries are those in `bins`.
    pub fn with_bins(profile: &str, bins: PathBuf) -> Sandbox {
        let sandbox = Sandbox {
            dir: tempfile::tempdir().unwrap(),
            bins,
        };
        snapshot_repo(&real_repo(), &sandbox.repo());
        sandbox.set_profile(profile);
        sandbox
    }

    pub fn repo(&self) -> PathBuf {
        self.dir.path().join("repo")
    }
    pub fn store(&self) -> PathBuf {
        self.dir.path().join("store")
    }
    pub fn out(&self) -> PathBuf {
        self.dir.path().join("figures")
    }
    pub fn profile(&self) -> PathBuf {
        self.dir.path().join("profile.toml")
    }

    pub fn set_profile(&self, text: &str) {
        std::fs::write(self.profile(), text).unwrap();
    }

    /// `paper <args> --repo <snapshot> --store <store>`, with the stage binaries of this build.
    pub fn command<S: AsRef<OsStr>>(&self, args: impl IntoIterator<Item = S>) -> Command {
        self.command_on(&self.store(), args)
    }

    /// [`Sandbox::command`] on another store.
    pub fn command_on<S: AsRef<OsStr>>(
        &self,
        store: &Path,
        args: impl IntoIterator<Item = S>,
    ) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_paper"));
        cmd.args(args)
            .arg("--repo")
            .arg(self.repo())
            .arg("--store")
            .arg(store)
            .env("XAVIER_BIN_DIR", &self.bins)
            .env("OMP_NUM_THREADS", "1")
            .env_remove("XAVIER_STORE")
            .env_remove("CUDA_VISIBLE_DEVICES")
            // With it, errors carry their whole chain: the one-line convention is under test.
            .env_remove("RUST_BACKTRACE")
            .env_remove("PAPER_FAILPOINT")
            .stdin(Stdio::null());
        cmd
    }

    pub fn paper<S: AsRef<OsStr>>(&self, args: impl IntoIterator<Item = S>) -> Output {
        self.command(args).output().unwrap()
    }

    /// The arguments of a run of the sandbox's profile into its publish directory.
    pub fn run_args(&self) -> Vec<String> {
        let (profile, out) = (self.profile(), self.out());
        [
            "run",
            "--profile-file",
            profile.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--jobs",
            "2",
        ]
        .map(String::from)
        .to_vec()
    }

    /// A successful run; its stdout.
    pub fn run(&self) -> String {
        self.ok(self.run_args())
    }

    /// A successful run that finds all `stages` stages cached and says so last; its stdout.
    pub fn run_cached(&self, stages: usize) -> String {
        let stdout = self.run();
        assert_eq!(
            stdout.lines().last().unwrap(),
            format!("nothing to do: all {stages} stages cached"),
            "{stdout}"
        );
        stdout
    }

    /// stdout of a `paper` subcommand that must succeed.
    pub fn ok<S: AsRef<OsStr> + Debug>(&self, args: impl IntoIterator<Item = S>) -> String {
        let args: Vec<S> = args.into_iter().collect();
        succeeded(&format!("paper {args:?}"), &self.paper(&args))
    }

    /// stdout of `paper <args> --profile-file <profile> --out <out>`, which must succeed.
    pub fn ok_on_profile(&self, args: &[&str]) -> String {
        let (profile, out) = (self.profile(), self.out());
        let mut args = args.to_vec();
        args.extend(["--profile-file", profile.to_str().unwrap()]);
        args.extend(["--out", out.to_str().unwrap()]);
        self.ok(args)
    }

    pub fn manifest(&self) -> Value {
        serde_json::from_slice(&std::fs::read(self.out().join("MANIFEST.json")).unwrap()).unwrap()
    }

    /// `paper verify` exits 0 and reports no damage, no half entry and no stale leftovers.
    pub fn assert_verified(&self) {
        let out = self.ok(["verify", "--out", self.out().to_str().unwrap()]);
        for clean in [
            " 0 damaged;",
            " 0 half;",
            ", 0 differ",
            " 0 stale temp dirs",
            " 0 stale work",
        ] {
            assert!(out.contains(clean), "{clean:?} missing:\n{out}");
        }
    }

    /// Leftovers a finished paper must not leave: work dirs, pid files, temp dirs in the
    /// store, and staging dirs or temp files in the publish directory.
    pub fn orphans(&self) -> Vec<PathBuf> {
        let mut found = Vec::new();
        for dir in [self.store().join("work"), self.store().join("tmp")] {
            found.extend(list(&dir));
        }
        found.extend(list(&self.out()).into_iter().filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy();
            name.starts_with('.') || name.contains(".tmp-")
        }));
        found
    }

    /// Stored entries' directories, by key.
    pub fn entry(&self, key: &str) -> PathBuf {
        self.store().join(&key[..2]).join(key)
    }
}

/// stdout of a finished process that must have succeeded; `what` names it when it did not.
pub fn succeeded(what: &str, out: &Output) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{what} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// Stage names of the `start` lines of a paper run's stdout.
pub fn starts(stdout: &str) -> Vec<String> {
    let mut names: Vec<String> = stdout
        .lines()
        .filter_map(|l| l.strip_prefix("start   "))
        .map(|l| l.split_whitespace().next().unwrap().to_string())
        .collect();
    names.sort();
    names
}

pub fn sorted(names: &[&str]) -> Vec<String> {
    let mut names: Vec<String> = names.iter().map(ToString::to_string).collect();
    names.sort();
    names
}

pub fn real_repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// Copies what tool identities read: manifests, the lock file, crate sources and build scripts,
/// and `datasets/`.
pub fn snapshot_repo(from: &Path, to: &Path) {
    for file in ["Cargo.toml", "Cargo.lock"] {
        copy(&from.join(file), &to.join(file));
    }
    copy_tree(&from.join("datasets"), &to.join("datasets"));
    for krate in std::fs::read_dir(from.join("crates")).unwrap() {
        let krate = krate.unwrap().path();
        let name = krate.file_name().unwrap();
        let dest = to.join("crates").join(name);
        for file in ["Cargo.toml", "build.rs"] {
            if krate.join(file).is_file() {
                copy(&krate.join(file), &dest.join(file));
            }
        }
        copy_tree(&krate.join("src"), &dest.join("src"));
    }
}

fn copy(from: &Path, to: &Path) {
    std::fs::create_dir_all(to.parent().unwrap()).unwrap();
    std::fs::copy(from, to).unwrap();
}

fn copy_tree(from: &Path, to: &Path) {
    let Ok(items) = std::fs::read_dir(from) else {
        return;
    };
    for item in items {
        let path = item.unwrap().path();
        let dest = to.join(path.file_name().unwrap());
        if path.is_dir() {
            copy_tree(&path, &dest);
        } else {
            copy(&path, &dest);
        }
    }
}

/// The paths in a directory (none when it does not exist).
pub fn list(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default()
}

/// Makes a store file writable and flips one byte of it, as a disk error or a stray edit would.
pub fn flip_byte(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let mut bytes = std::fs::read(path).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    std::fs::write(path, bytes).unwrap();
}

pub fn sha256(path: &Path) -> String {
    store::atomic::sha256_file(path).unwrap()
}
