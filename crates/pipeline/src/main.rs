//! `paper`: rebuild the paper's figures and Table 1 from hashed inputs, running only the stages
//! whose inputs changed. The command line is `pipeline::cli`, each subcommand `pipeline::cmd`.

use std::process::ExitCode;

fn main() -> ExitCode {
    spec::cli::main("paper", pipeline::cmd::dispatch)
}
