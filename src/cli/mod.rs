//! The binary's concern: the command line, the settings file, the subcommands and the exit
//! codes. Nothing below this module knows about it.

pub mod commands;
pub mod exit;
pub mod manual;
pub mod settings;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::report::Format;
pub use settings::AuditSettings;

#[derive(Parser, Debug)]
#[command(
    name = "cookie-audit",
    version,
    about = "Audit cookie-consent banners against the GDPR and the ePrivacy rules",
    long_about = "Audit cookie-consent banners against the GDPR and the ePrivacy rules.\n\n\
        cookie-audit fetches pages (or reads saved HTML), finds the consent banner and its CMP, reads its \
        buttons, choices, links and wording in 26 European languages, records the cookies and trackers that \
        come before any consent, and checks all of it against declarative rules with legal references.",
    after_help = "Examples:\n  cookie-audit audit example.com\n  cookie-audit audit -i sites.txt --format table,json,sarif -o reports\n  \
        cookie-audit audit https://www.example.fr --profile fr-cnil --lang fr\n  cookie-audit rules show no-reject-first-layer"
)]
pub struct Cli {
    /// Settings file (default: ./cookie-audit.toml when present).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Audit URLs, HTML files or folders of them.
    Audit(Box<AuditSettings>),
    /// List, explain and test the rules.
    #[command(subcommand)]
    Rules(RulesCommand),
    /// Combine reports (e.g. from shards) into one.
    Merge(MergeArgs),
    /// Render a saved report.json again in other formats, without fetching.
    Report(ReportArgs),
    /// Print the JSON Schema of report.json (schema cookie-audit/report/v1).
    Schema,
    /// Download or show the filter lists (EasyList Cookie List, EasyPrivacy, EasyList) that every
    /// audit uses when present.
    #[command(subcommand)]
    Lists(ListsCommand),
    /// Print a completion script for a shell, e.g. `cookie-audit completions bash >
    /// /etc/bash_completion.d/cookie-audit`.
    Completions { shell: clap_complete::Shell },
    /// Print the man page (roff), e.g. `cookie-audit man > cookie-audit.1`; with --dir, write one
    /// page per command into DIR.
    Man {
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
}

#[derive(Subcommand, Debug)]
pub enum ListsCommand {
    /// Fetch the lists into the cache folder (only what changed; a failed download keeps the old copy).
    Update {
        /// Lists to fetch instead of the default ones, as NAME=URL; repeatable.
        #[arg(long = "list", value_name = "NAME=URL")]
        lists: Vec<String>,
        #[command(flatten)]
        dir: ListsDirArg,
    },
    /// The cached lists: name, version, checksum, rules.
    Show(ListsDirArg),
}

#[derive(Args, Debug, Default)]
pub struct ListsDirArg {
    /// Cache folder [default: $COOKIE_AUDIT_LISTS, or $XDG_CACHE_HOME/cookie-audit/lists, or ~/.cache/cookie-audit/lists].
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

#[derive(Subcommand, Debug)]
pub enum RulesCommand {
    /// A table of every rule: id, severity, title, profiles.
    List(RulesDirArg),
    /// The full explanation of a rule, with its legal references.
    Show {
        id: String,
        #[command(flatten)]
        dir: RulesDirArg,
    },
    /// Write one Markdown page per rule (what, why, how to fix, legal references, examples) and
    /// an index into DIR; publish them and point `--docs-url` at them.
    Docs {
        #[arg(
            short = 'o',
            long = "output",
            value_name = "DIR",
            default_value = "rule-docs"
        )]
        output: PathBuf,
        #[command(flatten)]
        dir: RulesDirArg,
    },
    /// Run every rule's own examples; exits non-zero on a failure.
    Test {
        /// A folder laid out like `rules/` to test on top of the embedded knowledge.
        dir: Option<PathBuf>,
    },
}

#[derive(Args, Debug, Default)]
pub struct RulesDirArg {
    /// A folder laid out like `rules/` whose files add to or replace the embedded knowledge.
    #[arg(long, alias = "rules", value_name = "DIR")]
    pub knowledge: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct MergeArgs {
    /// Reports to combine.
    #[arg(required = true)]
    pub reports: Vec<PathBuf>,
    /// Output file for the merged report.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: PathBuf,
}

#[derive(Args, Debug)]
pub struct ReportArgs {
    /// A report.json written by `audit`.
    pub report: PathBuf,
    /// Formats to render, comma-separated.
    #[arg(long, value_delimiter = ',', value_parser = settings::format_parser(), default_value = "table")]
    pub format: Vec<Format>,
    /// Folder for report files.
    #[arg(
        short = 'o',
        long = "output",
        value_name = "DIR",
        default_value = "reports"
    )]
    pub output: PathBuf,
    #[command(flatten)]
    pub rules: RulesDirArg,
    /// Where `rules docs` pages are published (see `audit --docs-url`).
    #[arg(long, value_name = "URL", env = "COOKIE_AUDIT_DOCS_URL")]
    pub docs_url: Option<String>,
}

/// Runs a parsed command line; the exit code, or the error that is exit code 2.
pub async fn run(cli: Cli) -> anyhow::Result<u8> {
    use commands::*;
    let (out, ok) = match cli.command {
        Command::Audit(flags) => return audit(*flags, cli.config.as_deref()).await,
        Command::Rules(RulesCommand::List(dir)) => (rules_list(dir.knowledge.as_deref())?, true),
        Command::Rules(RulesCommand::Show { id, dir }) => {
            (rules_show(&id, dir.knowledge.as_deref())?, true)
        }
        Command::Rules(RulesCommand::Test { dir }) => rules_test(dir.as_deref())?,
        Command::Rules(RulesCommand::Docs { output, dir }) => {
            (rules_docs(&output, dir.knowledge.as_deref())?, true)
        }
        Command::Merge(args) => (merge_into(&args.reports, &args.output)?, true),
        Command::Schema => (crate::report::json::schema(), true),
        Command::Completions { shell } => (manual::completions(shell), true),
        Command::Man { dir: None } => (manual::man_page()?, true),
        Command::Man { dir: Some(dir) } => (manual::man_pages(&dir)?, true),
        Command::Lists(ListsCommand::Show(dir)) => {
            (crate::lists::show(&lists_dir(dir.dir)?)?, true)
        }
        Command::Lists(ListsCommand::Update { lists, dir }) => {
            (update_lists(&lists_dir(dir.dir)?, &lists).await?, true)
        }
        Command::Report(args) => {
            let mut report = read_report(&args.report)?;
            report.move_folder(folder_of(&args.report), &args.output);
            let out = rerender(
                &report,
                &args.format,
                &args.output,
                args.rules.knowledge.as_deref(),
                args.docs_url.as_deref(),
            )?;
            (out, true)
        }
    };
    print!("{out}");
    Ok(if ok { 0 } else { exit::FINDINGS })
}

/// `audit`: settings layered, the run, the table on stdout, the summary on stderr.
async fn audit(flags: AuditSettings, config: Option<&std::path::Path>) -> anyhow::Result<u8> {
    use std::io::IsTerminal;
    let file = AuditSettings::from_file(config)?;
    let settings::Resolved { run, fail_on } = flags.over(file)?.resolve()?;
    let show_table = run.formats.contains(&Format::Table);
    let counts_only_new = run.baseline.is_some();
    let outcome = crate::pipeline::run(run).await?;
    if show_table {
        println!(
            "{}",
            crate::report::table::render(&outcome.report, std::io::stdout().is_terminal())
        );
    }
    let (code, why) = exit::of_audit(&outcome, fail_on, counts_only_new);
    eprintln!("{}", exit::summary_line(&outcome, code, &why));
    for f in &outcome.files {
        eprintln!("wrote {}", f.display());
    }
    Ok(code)
}
