//! One error convention for every binary: a failure ends in exactly one line on stderr,
//! `<binary>: error: <what>`, and a non-zero exit: 2 when the command line was wrong, 1 for
//! everything else. The full chain (and a panic's location and backtrace) is shown only with
//! `-v` / `--verbose` on the command line; `RUST_BACKTRACE` alone changes nothing, so a shell
//! that exports it still gets one line.
//!
//! Resource limits end the same way: a write past `ulimit -f` would kill the process with
//! SIGXFSZ (no message, a core dump), so [`main`] catches that signal and the write fails with
//! EFBIG instead, which the writer reports like a full disk.

use clap::error::ErrorKind;
use clap::Parser;
use std::fmt;
use std::panic::{self, AssertUnwindSafe};
use std::process::ExitCode;

/// Exit code of a failure.
pub const EXIT_FAILURE: u8 = 1;
/// Exit code of a usage error (as clap's own).
pub const EXIT_USAGE: u8 = 2;

/// An error in how the binary was called: a missing or contradictory flag that clap cannot
/// see. It exits with [`EXIT_USAGE`] wherever it sits in an error chain.
#[derive(Debug)]
pub struct UsageError(pub String);

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

/// A usage error as an `anyhow::Error`: `return Err(usage("--data is required for mnist"))`.
pub fn usage(message: impl Into<String>) -> anyhow::Error {
    UsageError(message.into()).into()
}

/// Parses the command line, runs `body` and turns its outcome (an error or a panic) into
/// the convention above. Every binary's `main` is `spec::cli::main("name", body)`.
pub fn main<C: Parser>(binary: &str, body: impl FnOnce(C) -> anyhow::Result<()>) -> ExitCode {
    let verbose = verbose(std::env::args());
    if !verbose {
        // Read later by std itself: a failed allocation would print its backtrace. Removed
        // first thing, while this process has one thread.
        std::env::remove_var("RUST_BACKTRACE");
    }
    if let Err(err) = file_size_limit_is_an_error() {
        eprintln!("{binary}: error: {}", one_line(&err));
        return ExitCode::from(EXIT_FAILURE);
    }
    let cli = match C::try_parse() {
        Ok(cli) => cli,
        Err(err) => return clap_exit(binary, &err),
    };
    if !verbose {
        // The message is printed once, below, as one line.
        panic::set_hook(Box::new(|_| {}));
    }
    match panic::catch_unwind(AssertUnwindSafe(|| body(cli))) {
        Ok(Ok(())) => ExitCode::SUCCESS,
        Ok(Err(err)) => {
            if verbose {
                eprintln!("{binary}: error: {err:?}");
            } else {
                eprintln!("{binary}: error: {}", one_line(&err));
            }
            ExitCode::from(exit_code(&err))
        }
        Err(payload) => {
            let message = payload
                .downcast_ref::<&str>()
                .map(|s| (*s).to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            if is_out_of_memory(&message) {
                eprintln!("{binary}: error: {}", out_of_memory_line(&message));
                return ExitCode::from(EXIT_OUT_OF_MEMORY);
            }
            eprintln!("{binary}: error: internal error: {}", first_line(&message));
            ExitCode::from(EXIT_FAILURE)
        }
    }
}

/// The exit code an error calls for.
pub fn exit_code(err: &anyhow::Error) -> u8 {
    if err.chain().any(<dyn std::error::Error>::is::<UsageError>) {
        EXIT_USAGE
    } else if err.chain().any(<dyn std::error::Error>::is::<CannotResume>) {
        EXIT_CANNOT_RESUME
    } else if is_out_of_memory(&one_line(err)) {
        EXIT_OUT_OF_MEMORY
    } else {
        EXIT_FAILURE
    }
}

/// Exit code of a trainer that ran out of device memory (libtorch's "CUDA out of memory",
/// as an error or a panic): a smaller pack may fit, and `paper` retries the pack in halves.
/// The caller reads the code, never the message.
pub const EXIT_OUT_OF_MEMORY: u8 = 4;

/// Whether libtorch's message says the device ran out of memory.
pub fn is_out_of_memory(message: &str) -> bool {
    message.contains("CUDA out of memory") || message.contains("CUDA error: out of memory")
}

/// The one line an out-of-memory failure prints: what libtorch said, and the fix.
fn out_of_memory_line(message: &str) -> String {
    let said = message
        .lines()
        .map(str::trim)
        .find(|l| is_out_of_memory(l))
        .unwrap_or("CUDA out of memory");
    let said: String = said.chars().take(160).collect();
    format!(
        "out of device memory ({said}): a pack of fewer models needs less; `paper` retries a \
         pack in halves, and `paper --pack-size K` sets K by hand"
    )
}

/// Exit code of a trainer asked to `--resume` from checkpoints that are missing, damaged or
/// another run's: it trained nothing, and `paper` starts the stage over. The caller reads
/// the code, never the message.
pub const EXIT_CANNOT_RESUME: u8 = 3;

/// Why a `--resume` could not start; it exits with [`EXIT_CANNOT_RESUME`] wherever it sits
/// in an error chain.
#[derive(Debug)]
pub struct CannotResume(pub String);

impl fmt::Display for CannotResume {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for CannotResume {}

/// Marks `err` (a failure to load checkpoints) as a resume that could not start, in one line.
pub fn cannot_resume(err: &anyhow::Error) -> anyhow::Error {
    CannotResume(format!("cannot resume: {}", one_line(err))).into()
}

/// The error chain on one line: the first line of each cause, joined by ": ", with causes
/// that repeat their successor's text dropped. Library errors (libtorch's above all) carry
/// multi-line traces; their first line says what went wrong.
pub fn one_line(err: &anyhow::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    for cause in err.chain() {
        let line = first_line(&cause.to_string());
        if !line.is_empty() && !parts.iter().any(|p| p.contains(&line)) {
            parts.push(line);
        }
    }
    parts.join(": ")
}

fn first_line(text: &str) -> String {
    text.lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("")
        .to_string()
}

/// `-v` or `--verbose` among the arguments; `RUST_BACKTRACE` is not consulted.
fn verbose(mut args: impl Iterator<Item = String>) -> bool {
    args.any(|a| a == "-v" || a == "--verbose")
}

/// Catches SIGXFSZ (a write past the file-size limit), so that the write returns EFBIG and
/// fails as an error instead of killing the process. A caught signal's handler is reset by
/// `exec`, so children that are not ours keep the default.
fn file_size_limit_is_an_error() -> anyhow::Result<()> {
    use anyhow::Context;
    let caught = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    signal_hook::flag::register(signal_hook::consts::SIGXFSZ, caught)
        .context("cannot install the SIGXFSZ handler")?;
    Ok(())
}

/// Help and version go to stdout with exit 0; a usage error becomes one line and exit 2.
fn clap_exit(binary: &str, err: &clap::Error) -> ExitCode {
    if matches!(
        err.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        let _ = err.print();
        return ExitCode::from(u8::try_from(err.exit_code()).unwrap_or(EXIT_USAGE));
    }
    eprintln!("{binary}: error: {}", clap_line(&err.render().to_string()));
    ExitCode::from(EXIT_USAGE)
}

/// clap's first line without its `error: ` prefix, plus what it lists under it: the missing
/// arguments after a line ending in ':', or the possible values.
fn clap_line(rendered: &str) -> String {
    let mut lines = rendered.lines().map(str::trim);
    let head = lines.next().unwrap_or("");
    let head = head.strip_prefix("error: ").unwrap_or(head).to_string();
    let rest: Vec<&str> = lines.take_while(|l| !l.is_empty()).collect();
    if head.ends_with(':') && !rest.is_empty() {
        return format!("{head} {}", rest.join(", "));
    }
    match rest.iter().find(|l| l.starts_with("[possible values:")) {
        Some(values) => format!("{head} {values}"),
        None => head,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::Context;

    #[test]
    fn chains_become_one_line_and_usage_errors_exit_2() {
        let torch = anyhow::anyhow!(
            "Expected all tensors\nException raised from foo at bar.cpp:1\nframe #0"
        );
        let err = torch.context("loading checkpoint").context("resuming run");
        assert_eq!(
            one_line(&err),
            "resuming run: loading checkpoint: Expected all tensors"
        );
        assert_eq!(exit_code(&err), EXIT_FAILURE);
        let err = usage("--data is required for mnist").context("train");
        assert_eq!(exit_code(&err), EXIT_USAGE);
    }

    #[test]
    fn clap_errors_keep_their_possible_values() {
        let rendered = "error: invalid value 'gelu' for '--activation <ACTIVATION>'\n  [possible values: sigmoid, tanh]\n\nFor more information, try '--help'.\n";
        assert_eq!(
            clap_line(rendered),
            "invalid value 'gelu' for '--activation <ACTIVATION>' [possible values: sigmoid, tanh]"
        );
    }

    #[test]
    fn missing_arguments_are_named() {
        let rendered = "error: the following required arguments were not provided:\n  --dataset <DATASET>\n  --init <INIT>\n\nUsage: train --dataset <DATASET>\n";
        assert_eq!(
            clap_line(rendered),
            "the following required arguments were not provided: --dataset <DATASET>, --init <INIT>"
        );
    }

    #[test]
    fn only_the_flag_asks_for_the_chain() {
        let args = |list: &[&str]| list.iter().map(ToString::to_string).collect::<Vec<_>>();
        // RUST_BACKTRACE is set in this test's environment by many shells and CI runners;
        // `verbose` must not read it.
        assert!(!verbose(args(&["train", "--lr", "0.1"]).into_iter()));
        assert!(verbose(args(&["train", "-v"]).into_iter()));
        assert!(verbose(args(&["paper", "verify", "--verbose"]).into_iter()));
        assert!(!verbose(args(&["fetch", "--verbose-ish"]).into_iter()));
    }

    #[test]
    fn duplicate_causes_are_dropped() {
        let err = anyhow::Error::msg("disk full").context("disk full");
        assert_eq!(one_line(&err), "disk full");
        let io: anyhow::Result<()> = Err(std::io::Error::other(
            "No space left on device (os error 28)",
        ))
        .context("writing run.h5");
        assert_eq!(
            one_line(&io.unwrap_err()),
            "writing run.h5: No space left on device (os error 28)"
        );
    }

    #[test]
    fn libtorch_out_of_memory_gets_its_own_code_and_line() {
        let torch = "CUDA out of memory. Tried to allocate 2.00 GiB (GPU 0; 79.11 GiB total \
                     capacity; 77.02 GiB already allocated)\nException raised from malloc at ...";
        assert!(is_out_of_memory(torch));
        assert!(!is_out_of_memory("cannot read /data/x.h5"));
        let err = anyhow::anyhow!("{torch}").context("training the pack");
        assert_eq!(exit_code(&err), EXIT_OUT_OF_MEMORY);
        let line = out_of_memory_line(torch);
        assert!(
            !line.contains('\n') && line.contains("--pack-size"),
            "{line}"
        );
        assert!(
            line.starts_with("out of device memory (CUDA out of memory. Tried"),
            "{line}"
        );
    }
}
