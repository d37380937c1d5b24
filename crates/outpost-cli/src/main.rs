//! `outpost`: the command-line front end. Parses arguments ([`args`]),
//! calls `outpost-core` ([`run`]), prints text for people or JSON
//! (`--json`) for scripts ([`output`]). No rule of Outpost's lives here.

mod args;
mod input;
mod output;
mod run;

use clap::Parser;

fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("OUTPOST_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(outpost_core::LOG_FILTER)),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = args::Cli::parse();
    match run::run(cli) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            run::report(&e);
            std::process::ExitCode::FAILURE
        }
    }
}
