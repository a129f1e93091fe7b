//! One error convention for every binary (`spec::cli`): a bad flag is a usage error, exit code
//! 2, and exactly one line on stderr, `<binary>: error: <what>`. Each binary is run as built,
//! next to `paper`.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const BINARIES: [&str; 6] = [
    "fetch",
    "shapeset",
    "train",
    "train-pack",
    "figures",
    "paper",
];

fn bin_dir() -> PathBuf {
    Path::new(env!("CARGO_BIN_EXE_paper"))
        .parent()
        .unwrap()
        .to_path_buf()
}

#[test]
fn every_binary_answers_a_bad_flag_with_one_line_and_exit_2() {
    let mut wrong = Vec::new();
    for binary in BINARIES {
        let exe = bin_dir().join(binary);
        assert!(
            exe.is_file(),
            "{} is not built (`cargo build --release --workspace --bins`)",
            exe.display()
        );
        let out = Command::new(&exe)
            .arg("--no-such-flag")
            .stdin(Stdio::null())
            .env_remove("RUST_BACKTRACE")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        let lines: Vec<&str> = stderr.lines().collect();
        let one_line = lines.len() == 1 && lines[0].starts_with(&format!("{binary}: error: "));
        if out.status.code() != Some(2) || !one_line {
            wrong.push(format!(
                "{binary}: exit {:?}, stderr {stderr:?}",
                out.status.code()
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "not the convention:\n{}",
        wrong.join("\n")
    );
}
