//! The `patchsim` binary: parse arguments, run, exit with a documented code.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    patchsim::cli::run(patchsim::cli::Cli::parse())
}
