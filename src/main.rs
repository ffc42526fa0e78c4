//! Thin binary: parse the command line, call the library, map the outcome to an exit code.

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;
use cookie_audit::cli::{Cli, Command, ListsCommand, RulesCommand};
use cookie_audit::{audit, commands, config, lists};

/// Exit codes (DESIGN.md): 0 fine, 1 findings at or above --fail-on, 2 usage/config/rule error,
/// 3 no target could be audited; 130/143 after SIGINT/SIGTERM.
const USAGE: u8 = 2;

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Extraction runs on the blocking pool: one thread a core is enough, and each extra thread
    // costs an allocator arena (tens of MB over a long run).
    let cores = std::thread::available_parallelism().map_or(2, usize::from);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .max_blocking_threads(cores.max(2) * 2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return fail(&format!("cannot start the runtime: {e}"), USAGE),
    };
    let result = match cli.command {
        Command::Audit(args) => return runtime.block_on(run_audit(*args, cli.config.as_deref())),
        Command::Rules(RulesCommand::List(dir)) => {
            commands::rules_list(dir.rules.as_deref()).map(|s| (s, true))
        }
        Command::Rules(RulesCommand::Show { id, dir }) => {
            commands::rules_show(&id, dir.rules.as_deref()).map(|s| (s, true))
        }
        Command::Rules(RulesCommand::Test { dir }) => commands::rules_test(dir.as_deref()),
        Command::Merge(args) => commands::merge(&args.reports).and_then(|report| {
            let json = cookie_audit::report::json::render(&report)
                .map_err(|e| audit::SetupError(e.to_string()))?;
            cookie_audit::report::write_atomically(&args.output, json.as_bytes())
                .map_err(|e| audit::SetupError(format!("{}: {e}", args.output.display())))?;
            Ok((
                format!(
                    "merged {} page(s) into {}\n",
                    report.pages.len(),
                    args.output.display()
                ),
                true,
            ))
        }),
        Command::Schema => Ok((cookie_audit::report::json::schema(), true)),
        Command::Lists(ListsCommand::Show(dir)) => lists_dir(dir.dir).and_then(|dir| {
            lists::show(&dir)
                .map(|s| (s, true))
                .map_err(|e| audit::SetupError(e.to_string()))
        }),
        Command::Lists(ListsCommand::Update { lists, dir }) => {
            lists_dir(dir.dir).and_then(|dir| runtime.block_on(update_lists(&dir, &lists)))
        }
        Command::Report(args) => commands::read_report(&args.report)
            .and_then(|report| {
                commands::rerender(
                    &report,
                    &args.format,
                    &args.output,
                    args.rules.rules.as_deref(),
                )
            })
            .map(|s| (s, true)),
    };
    match result {
        Ok((out, ok)) => {
            print!("{out}");
            if ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Err(e) => fail(&e.0, USAGE),
    }
}

fn lists_dir(given: Option<std::path::PathBuf>) -> Result<std::path::PathBuf, audit::SetupError> {
    given.or_else(lists::default_dir).ok_or_else(|| {
        audit::SetupError(
            "no cache folder: set HOME, XDG_CACHE_HOME or COOKIE_AUDIT_LISTS, or give --dir".into(),
        )
    })
}

async fn update_lists(
    dir: &std::path::Path,
    named: &[String],
) -> Result<(String, bool), audit::SetupError> {
    let sources: Vec<(String, String)> = if named.is_empty() {
        lists::DEFAULT_SOURCES
            .iter()
            .map(|(n, u, _)| ((*n).to_owned(), (*u).to_owned()))
            .collect()
    } else {
        named
            .iter()
            .map(|s| {
                s.split_once('=')
                    .map(|(n, u)| (n.trim().to_owned(), u.trim().to_owned()))
                    .filter(|(n, u)| !n.is_empty() && !u.is_empty())
                    .ok_or_else(|| audit::SetupError(format!("--list {s:?}: expected NAME=URL")))
            })
            .collect::<Result<_, _>>()?
    };
    let mut out = String::new();
    let mut failed = Vec::new();
    for (name, outcome) in lists::update(dir, &sources).await {
        match outcome {
            lists::Updated::Downloaded { bytes } => {
                out.push_str(&format!("{name}: downloaded ({bytes} bytes)\n"))
            }
            lists::Updated::Unchanged => out.push_str(&format!("{name}: unchanged\n")),
            lists::Updated::Failed(why) => failed.push(format!("{name}: {why}")),
        }
    }
    if failed.is_empty() {
        out.push_str(&format!("lists are in {}\n", dir.display()));
        Ok((out, true))
    } else {
        print!("{out}");
        Err(audit::SetupError(failed.join("\n")))
    }
}

async fn run_audit(
    args: cookie_audit::cli::AuditArgs,
    config_path: Option<&std::path::Path>,
) -> ExitCode {
    let file = match config::load(config_path) {
        Ok(f) => f,
        Err(e) => return fail(&e, USAGE),
    };
    let settings = match config::AuditSettings::resolve(args, file) {
        Ok(s) => s,
        Err(e) => return fail(&e, USAGE),
    };
    let fail_on = settings.fail_on;
    let show_table = settings
        .formats
        .contains(&cookie_audit::report::Format::Table);
    let counts_only_new = settings.baseline.is_some();
    let outcome = match audit::run(settings).await {
        Ok(o) => o,
        Err(e) => return fail(&e.0, USAGE),
    };
    let report = &outcome.report;
    if show_table {
        println!(
            "{}",
            cookie_audit::report::table::render(report, std::io::stdout().is_terminal())
        );
    }
    let failing = fail_on.threshold().map_or(0, |t| {
        report
            .pages
            .iter()
            .flat_map(|p| &p.findings)
            .filter(|f| {
                f.severity >= t && (!counts_only_new || f.baseline.as_deref() == Some("new"))
            })
            .count()
    });
    let (code, why) = if let Some(sig) = outcome.interrupted {
        (
            128 + sig as u8,
            format!("interrupted by signal {sig}; finished pages are in the reports"),
        )
    } else if report.summary.audited == 0 {
        (3, "no target could be audited".to_owned())
    } else if failing > 0 {
        (
            1,
            format!("{failing} finding(s) at or above --fail-on {fail_on:?}").to_lowercase(),
        )
    } else {
        (0, "no finding at or above --fail-on".to_owned())
    };
    let s = &report.summary;
    eprintln!(
        "{} target(s): {} audited, {} error(s); findings: {} high, {} medium, {} low, {} info{} → exit {code} ({why})",
        s.targets,
        s.audited,
        s.errors,
        s.findings.high,
        s.findings.medium,
        s.findings.low,
        s.findings.info,
        if report.fixed.is_empty() {
            String::new()
        } else {
            format!("; {} fixed since the baseline", report.fixed.len())
        },
    );
    for f in &outcome.files {
        eprintln!("wrote {}", f.display());
    }
    ExitCode::from(code)
}

fn fail(message: &str, code: u8) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(code)
}
