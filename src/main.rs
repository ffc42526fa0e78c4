//! Thin binary: parse the command line, run it on a runtime, turn the result into an exit code.

use std::process::ExitCode;

use clap::Parser;
use cookie_audit::cli::{self, Cli, exit};

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Extraction runs on the blocking pool: one thread a core is enough, and each extra thread
    // costs an allocator arena (tens of MB over a long run).
    let cores = std::thread::available_parallelism().map_or(2, usize::from);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .max_blocking_threads(cores.max(2) * 2)
        .enable_all()
        .build();
    let outcome = match runtime {
        Ok(runtime) => runtime.block_on(cli::run(cli)),
        Err(e) => Err(anyhow::anyhow!("cannot start the runtime: {e}")),
    };
    match outcome {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            // Each cause once: messages that already quote their source do not repeat it.
            let mut message = e.to_string();
            for cause in e.chain().skip(1).map(|c| c.to_string()) {
                if !message.contains(&cause) {
                    message = format!("{message}: {cause}");
                }
            }
            eprintln!("error: {message}");
            ExitCode::from(exit::USAGE)
        }
    }
}
