//! Shared by the bad-input suites of every binary, included with
//! `#[path = "../../spec/tests/common/limits.rs"] mod limits;`: a case table's row, the
//! one-line error convention (`spec::cli`) as an assertion, and a small real filesystem to
//! write on, for the resource-limit cases.
#![allow(dead_code)] // each suite uses a different subset

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// One row of a bad-input table: the arguments, the exit code and a phrase of the error.
pub struct Case {
    pub args: &'static str,
    pub code: i32,
    pub message: &'static str,
}

pub const fn case(args: &'static str, code: i32, message: &'static str) -> Case {
    Case {
        args,
        code,
        message,
    }
}

/// Asserts the error convention: a non-zero exit (`code` when given), exactly one line on
/// stderr, `<binary>: error: ...`, containing `phrase`. Returns that line.
pub fn assert_one_line(
    output: &Output,
    binary: &str,
    code: Option<i32>,
    phrase: &str,
    what: &str,
) -> String {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !output.status.success(),
        "{what}: succeeded; stderr {stderr}"
    );
    // A signal (SIGXFSZ, SIGSEGV) leaves no exit code at all.
    let exit = output.status.code();
    assert!(exit.is_some(), "{what}: killed by a signal: {output:?}");
    if code.is_some() {
        assert_eq!(exit, code, "{what}: exit code; stderr: {stderr}");
    }
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{what}: stderr is not one line: {stderr}");
    let prefix = format!("{binary}: error: ");
    assert!(lines[0].starts_with(&prefix), "{what}: {stderr}");
    assert!(
        lines[0].contains(phrase),
        "{what}: {phrase:?} not in {stderr}"
    );
    lines[0].to_owned()
}

/// Every file under `dir` that a write left half done: a `store::atomic` temp file
/// (`.<name>.tmp-<writer>`), or anything in a store's `tmp/`. Recursive.
pub fn debris(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut to_visit = vec![dir.to_path_buf()];
    while let Some(next) = to_visit.pop() {
        for path in std::fs::read_dir(&next)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
        {
            let name = path.file_name().unwrap_or_default().to_string_lossy();
            let half = name.contains(".tmp-") || (name == "tmp" && !is_empty_dir(&path));
            if half {
                found.push(path);
            } else if path.is_dir() {
                to_visit.push(path);
            }
        }
    }
    found
}

fn is_empty_dir(dir: &Path) -> bool {
    std::fs::read_dir(dir).is_ok_and(|mut d| d.next().is_none())
}

/// What a [`SmallDisk`] limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// A 5 MiB tmpfs mounted on the directory: writes fail with ENOSPC.
    FullDisk,
    /// `ulimit -f` of 5 MiB on the process: writes past it raise SIGXFSZ, then fail with EFBIG.
    FileSize,
}

impl Limit {
    /// What a write past the limit fails with, as the error line says it.
    pub fn error(self) -> &'static str {
        match self {
            Limit::FullDisk => "No space left on device",
            Limit::FileSize => "File too large",
        }
    }
}

/// Runs `check` on a full disk of `bytes`, then under a file-size limit of `bytes`.
pub fn on_both_limits(bytes: u64, check: impl Fn(&SmallDisk)) {
    check(&SmallDisk::full_disk(bytes));
    check(&SmallDisk::file_size_limit(bytes));
}

/// 5 MiB: the disk of the issue that asked for these tests.
pub const FIVE_MIB: u64 = 5 << 20;

/// A directory on which a child process can write at most `bytes`: a real tmpfs of that size
/// where this process may mount one (tests run as root in CI), else a file-size limit on the
/// child ([`SmallDisk::command`]). Unmounted when dropped.
pub struct SmallDisk {
    dir: tempfile::TempDir,
    pub limit: Limit,
    bytes: u64,
}

impl SmallDisk {
    /// A full disk where one can be mounted, else a file-size limit.
    pub fn full_disk(bytes: u64) -> SmallDisk {
        let dir = tempfile::tempdir().unwrap();
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={bytes}"), "tmpfs"])
            .arg(dir.path())
            .output()
            .is_ok_and(|o| o.status.success());
        if !mounted {
            eprintln!("cannot mount a tmpfs here: using a file-size limit instead");
        }
        let limit = if mounted {
            Limit::FullDisk
        } else {
            Limit::FileSize
        };
        SmallDisk { dir, limit, bytes }
    }

    /// A plain directory; the children get a file-size limit.
    pub fn file_size_limit(bytes: u64) -> SmallDisk {
        SmallDisk {
            dir: tempfile::tempdir().unwrap(),
            limit: Limit::FileSize,
            bytes,
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// `program` to run under this limit: as is on a tmpfs, else through `sh` with
    /// `ulimit -f` (in 512-byte blocks).
    pub fn command(&self, program: impl AsRef<Path>) -> Command {
        match self.limit {
            Limit::FullDisk => Command::new(program.as_ref()),
            Limit::FileSize => {
                let mut command = Command::new("sh");
                let script = format!("ulimit -f {}; exec \"$@\"", self.bytes / 512);
                command.args(["-c", &script, "sh"]).arg(program.as_ref());
                command
            }
        }
    }

    /// Runs `command` under this limit with `RUST_BACKTRACE=1` (a shell may export it; the
    /// one line must hold with it) and asserts a clean failure: exit 1, one line `<binary>:
    /// error: ...` containing `phrase`, and nothing half-written left on this disk.
    pub fn assert_fails_cleanly(
        &self,
        command: &mut Command,
        binary: &str,
        phrase: &str,
    ) -> Output {
        command.env("RUST_BACKTRACE", "1");
        let started = std::time::Instant::now();
        let output = self.limit(command).output().unwrap();
        let what = format!("{binary} on {:?}", self.limit);
        let line = assert_one_line(&output, binary, Some(1), phrase, &what);
        println!("{what}: {line} ({:.1?})", started.elapsed());
        assert!(
            debris(self.path()).is_empty(),
            "{what}: {:?}",
            debris(self.path())
        );
        output
    }

    /// `command` (its program, arguments, environment and directory) under this limit.
    pub fn limit(&self, command: &Command) -> Command {
        let mut limited = self.command(command.get_program());
        limited.args(command.get_args());
        for (name, value) in command.get_envs() {
            match value {
                Some(value) => limited.env(name, value),
                None => limited.env_remove(name),
            };
        }
        if let Some(dir) = command.get_current_dir() {
            limited.current_dir(dir);
        }
        limited
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        if self.limit == Limit::FullDisk {
            let unmounted = Command::new("umount")
                .arg(self.dir.path())
                .status()
                .is_ok_and(|s| s.success());
            if !unmounted {
                // Something still holds it open: detach it now, the kernel frees it later.
                let _ = Command::new("umount")
                    .arg("-l")
                    .arg(self.dir.path())
                    .status();
            }
        }
    }
}
