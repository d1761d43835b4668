//! The `patchsim` binary: parse arguments, run, exit with a documented code.

use std::io::{ErrorKind, Write};
use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    match patchsim::cli::Cli::try_parse() {
        Ok(cli) => patchsim::cli::run(cli),
        // Help and the version (exit 0) or a usage error (exit 2), as clap
        // gives them. A help that cannot be written (`>/dev/full`) fails
        // like any command's output (exit 1); a closed pipe does not, nor
        // does a standard error that cannot be written.
        Err(e) => match e.print() {
            Err(w) if !e.use_stderr() && w.kind() != ErrorKind::BrokenPipe => {
                let _ = writeln!(
                    std::io::stderr(),
                    "error: cannot write standard output: {w}"
                );
                ExitCode::from(1)
            }
            _ => ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(2)),
        },
    }
}
