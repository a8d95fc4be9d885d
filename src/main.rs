use std::ffi::OsString;
use std::io::{self, Write};
use std::process::ExitCode;

use cryocap::cli;
use cryocap::commands::{self, CommandError, Outcome};

fn main() -> ExitCode {
    // Before any file is made: a signal then removes whatever scratch is
    // registered at that moment.
    cryocap::interrupt::install();
    let argv: Vec<OsString> = std::env::args_os().collect();
    let parsed = match cli::parse_from(cli::deprecated::rewrite(&argv)) {
        Ok(c) => c,
        // --help and --version go to stdout and exit 0.
        Err(e) if !e.use_stderr() => {
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            let _ = writeln!(
                io::stderr(),
                "{}",
                cryocap::text::printable(&cli::one_line_of(&e, &argv))
            );
            return ExitCode::from(2);
        }
    };
    for notice in cli::deprecated::notices(&parsed.command.path(), &argv) {
        let _ = writeln!(io::stderr(), "{}", cryocap::text::printable(&notice));
    }
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    let result = commands::run(parsed, &mut out).and_then(|o| {
        out.flush()
            .map_err(|e| CommandError::Write(cryocap::report::writer::WriteError::Stdout(e)))?;
        Ok(o)
    });
    // Stopped by SIGINT, SIGTERM or SIGHUP: the command removed its
    // scratch on the way out; the status says which signal.
    if let Some(code) = cryocap::interrupt::exit_code() {
        let why = match &result {
            Err(e) => format!("{e}"),
            Ok(_) => "the work had ended; its outputs were written".into(),
        };
        let _ = writeln!(
            io::stderr(),
            "error: stopped by {}: {}",
            cryocap::interrupt::signal_name(),
            cryocap::text::printable(&why)
        );
        return ExitCode::from(code);
    }
    match result {
        Ok(Outcome::Ok) => ExitCode::SUCCESS,
        Ok(Outcome::CheckFailed) => ExitCode::from(1),
        Ok(Outcome::Status(code)) => ExitCode::from(code),
        Err(e) if e.is_broken_pipe() => ExitCode::SUCCESS,
        Err(e) => {
            // Every error message already names its cause; the chain would repeat it.
            let _ = writeln!(
                io::stderr(),
                "error: {}",
                cryocap::text::printable(&e.to_string())
            );
            ExitCode::from(2)
        }
    }
}
