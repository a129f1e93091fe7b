//! A stage binary as a child process: its environment, one log per attempt, its last stdout
//! line, and a failure that says why in one line.

use super::Context;
use anyhow::{ensure, Context as _, Result};
use std::ffi::OsString;
use std::fs::File;
use std::io::Read;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};
use store::Key;

/// What a finished child left: its last stdout line, its command line and how long it took.
pub(super) struct Child {
    pub last_line: String,
    pub command: Vec<String>,
    pub seconds: f64,
}

/// Lines of a child's stderr echoed after it ends (the rest stay in its log).
const ECHOED_LINES: usize = 20;

/// Variables that size a child's thread pools: each child gets its share of the cores.
const THREAD_VARS: [&str; 4] = [
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "RAYON_NUM_THREADS",
    "POLARS_MAX_THREADS",
];

impl Context {
    /// Runs `binary args` with stderr to a fresh log; fails with the child's last stderr line.
    pub(super) fn run_child(
        &self,
        stage: &str,
        key: &Key,
        binary: &str,
        args: &[OsString],
        env: &[(&str, String)],
        pid_file: Option<&Path>,
    ) -> Result<Child> {
        let exe = self.bin_dir.join(binary);
        ensure!(
            exe.is_file(),
            "stage binary {} not found: build it (`cargo build --release --workspace --bins`) or set XAVIER_BIN_DIR",
            exe.display()
        );
        let (log, log_path) = new_log(&self.store.root().join("logs"), key)?;
        let mut command = Command::new(&exe);
        command
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log);
        for var in THREAD_VARS {
            command.env(var, self.threads.to_string());
        }
        command.envs(env.iter().map(|(k, v)| (k, v)));
        let started = Instant::now();
        let mut child = command
            .spawn()
            .with_context(|| format!("cannot start {}", exe.display()))?;
        super::interrupt::started(child.id());
        let waited = wait_for(&mut child, pid_file);
        super::interrupt::ended(child.id());
        let (status, stdout) = waited?;
        let stdout = stdout.with_context(|| format!("reading {binary}'s output"))?;
        let seconds = started.elapsed().as_secs_f64();
        echo_and_check(stage, binary, status, &log_path)?;
        let last_line = stdout
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or_default()
            .trim()
            .to_string();
        ensure!(!last_line.is_empty(), "{binary} printed nothing on stdout");
        let mut argv = vec![exe.to_string_lossy().into_owned()];
        argv.extend(args.iter().map(|a| a.to_string_lossy().into_owned()));
        Ok(Child {
            last_line,
            command: argv,
            seconds,
        })
    }
}

/// Records the child's pid in `pid_file`, then reads its stdout and waits for it.
fn wait_for(
    child: &mut std::process::Child,
    pid_file: Option<&Path>,
) -> Result<(ExitStatus, std::io::Result<String>)> {
    if let Some(pid_file) = pid_file {
        store::atomic::write_atomic(pid_file, child.id().to_string().as_bytes())?;
    }
    let mut stdout = String::new();
    let read = child
        .stdout
        .take()
        .expect("piped stdout")
        .read_to_string(&mut stdout);
    Ok((child.wait()?, read.map(|_| stdout)))
}

/// `<logs>/<key>.<attempt>.log`, a new file per attempt: a retry must not overwrite the log
/// that says why the previous attempt failed.
fn new_log(logs: &Path, key: &Key) -> Result<(File, PathBuf)> {
    std::fs::create_dir_all(logs).with_context(|| format!("cannot create {}", logs.display()))?;
    for attempt in 1.. {
        let path = logs.join(format!("{key}.{attempt}.log"));
        match File::create_new(&path) {
            Ok(file) => return Ok((file, path)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e).with_context(|| format!("cannot create {}", path.display())),
        }
    }
    unreachable!("attempts are unbounded")
}

/// Echoes the child's stderr (its tail) and turns a failure into one line: how it ended and
/// the last thing it said.
fn echo_and_check(stage: &str, binary: &str, status: ExitStatus, log: &Path) -> Result<()> {
    let stderr = std::fs::read_to_string(log).unwrap_or_default();
    let mut lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    // A failure's last line goes into the error; the lines before it give context.
    let last = if status.success() { None } else { lines.pop() };
    if lines.len() > ECHOED_LINES {
        println!(
            "        {stage} | ... {} earlier lines in {}",
            lines.len() - ECHOED_LINES,
            log.display()
        );
    }
    for line in &lines[lines.len().saturating_sub(ECHOED_LINES)..] {
        println!("        {stage} | {line}");
    }
    if status.success() {
        return Ok(());
    }
    let said = match last.map(str::trim) {
        // Every binary ends a failure with `<binary>: error: <what>`; the prefix is noise here.
        Some(line) => line
            .strip_prefix(&format!("{binary}: error: "))
            .unwrap_or(line)
            .to_string(),
        None => "it printed nothing on stderr".into(),
    };
    Err(ChildFailed {
        code: status.code(),
        message: format!(
            "{binary} {}: {said} (log: {})",
            how_it_ended(status),
            log.display()
        ),
    }
    .into())
}

/// A stage binary that ended in failure: its exit code (None when a signal ended it) is
/// what the caller acts on, the message what it shows.
#[derive(Debug)]
pub(super) struct ChildFailed {
    pub code: Option<i32>,
    message: String,
}

impl std::fmt::Display for ChildFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ChildFailed {}

/// Whether `err` is a trainer's refusal to `--resume` (`spec::cli::EXIT_CANNOT_RESUME`): it
/// trained nothing, and the stage can start over.
pub(super) fn refused_resume(err: &anyhow::Error) -> bool {
    let code = Some(i32::from(spec::cli::EXIT_CANNOT_RESUME));
    err.chain()
        .filter_map(|e| e.downcast_ref::<ChildFailed>())
        .any(|c| c.code == code)
}

/// Whether `err` is a trainer that ran out of device memory (`spec::cli::EXIT_OUT_OF_MEMORY`):
/// a smaller pack may fit.
pub(super) fn ran_out_of_memory(err: &anyhow::Error) -> bool {
    let code = Some(i32::from(spec::cli::EXIT_OUT_OF_MEMORY));
    err.chain()
        .filter_map(|e| e.downcast_ref::<ChildFailed>())
        .any(|c| c.code == code)
}

/// `failed (exit status 1)` or `was killed by SIGABRT (signal 6)`.
pub(super) fn how_it_ended(status: ExitStatus) -> String {
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("failed (exit status {code})"),
        (None, Some(signal)) => {
            let name = match signal {
                2 => "SIGINT",
                6 => "SIGABRT",
                7 => "SIGBUS",
                9 => "SIGKILL (out of memory, or killed by hand?)",
                11 => "SIGSEGV",
                15 => "SIGTERM",
                _ => "a signal",
            };
            format!("was killed by {name} (signal {signal})")
        }
        (None, None) => format!("failed ({status})"),
    }
}

/// Kills a `train` left running by a `paper` that was killed: it would keep writing into the
/// work directory the next attempt resumes from. Only a process whose command line names that
/// directory is touched.
pub(super) fn stop_orphan(pid_file: &Path, work: &Path) -> Result<()> {
    let Ok(pid) = std::fs::read_to_string(pid_file) else {
        return Ok(());
    };
    let pid = pid.trim();
    let names_work = |pid: &str| {
        std::fs::read(format!("/proc/{pid}/cmdline"))
            .is_ok_and(|cmd| String::from_utf8_lossy(&cmd).contains(&*work.to_string_lossy()))
    };
    if names_work(pid) {
        println!("        stopping the train process {pid} a killed paper left behind");
        let _ = Command::new("kill").args(["-KILL", pid]).status();
        let deadline = Instant::now() + Duration::from_secs(30);
        while names_work(pid) {
            ensure!(
                Instant::now() < deadline,
                "process {pid} still writes into {}",
                work.display()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    std::fs::remove_file(pid_file).with_context(|| format!("cannot remove {}", pid_file.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logs_are_one_per_attempt() {
        let dir = tempfile::tempdir().unwrap();
        let key: Key = "e".repeat(64).parse().unwrap();
        let (_, first) = new_log(dir.path(), &key).unwrap();
        let (_, second) = new_log(dir.path(), &key).unwrap();
        assert!(first.ends_with(format!("{key}.1.log")));
        assert!(second.ends_with(format!("{key}.2.log")));
    }

    #[test]
    fn endings_are_named() {
        let signal = ExitStatus::from_raw(6);
        assert_eq!(how_it_ended(signal), "was killed by SIGABRT (signal 6)");
        let exit = ExitStatus::from_raw(1 << 8);
        assert_eq!(how_it_ended(exit), "failed (exit status 1)");
    }
}
