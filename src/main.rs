use std::io::{self, Write};
use std::process::ExitCode;

use clap::Parser;
use cryocap::app::{self, AppError, Outcome};
use cryocap::cli::Cli;

fn is_broken_pipe(e: &AppError) -> bool {
    match e {
        AppError::Output(io) | AppError::Cache(cryocap::cache::CacheError::Output(io)) => {
            io.kind() == io::ErrorKind::BrokenPipe
        }
        _ => false,
    }
}

fn main() -> ExitCode {
    // clap prints usage errors itself and exits 2; --help and --version exit 0.
    let cli = Cli::parse();
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    let result = app::run(cli, &mut out).and_then(|o| {
        out.flush()?;
        Ok(o)
    });
    match result {
        Ok(Outcome::Ok) => ExitCode::SUCCESS,
        Ok(Outcome::CheckFailed) => ExitCode::from(1),
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            // Every error message already names its cause; the chain would repeat it.
            let _ = writeln!(io::stderr(), "error: {e}");
            ExitCode::from(2)
        }
    }
}
