//! The command line. Every `audit` flag has a twin key in `cookie-audit.toml`; flags win.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::report::Format;
use crate::rules::Severity;

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
    Audit(Box<AuditArgs>),
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
    /// Run every rule's own examples; exits non-zero on a failure.
    Test {
        /// A folder of rule files to test on top of the embedded ones.
        dir: Option<PathBuf>,
    },
}

#[derive(Args, Debug, Default)]
pub struct RulesDirArg {
    /// A folder laid out like `rules/` whose files add to or replace the embedded ones.
    #[arg(long, value_name = "DIR")]
    pub rules: Option<PathBuf>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ModeArg {
    Static,
    Render,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FailOn {
    High,
    Medium,
    Low,
    Info,
    Never,
}

impl FailOn {
    pub fn threshold(self) -> Option<Severity> {
        match self {
            FailOn::High => Some(Severity::High),
            FailOn::Medium => Some(Severity::Medium),
            FailOn::Low => Some(Severity::Low),
            FailOn::Info => Some(Severity::Info),
            FailOn::Never => None,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Interact {
    Reject,
    Accept,
    None,
}

#[derive(Args, Debug, Default)]
pub struct AuditArgs {
    /// URLs (no scheme means https), .html files, folders of them, or - for a list on stdin.
    pub targets: Vec<String>,
    /// A file listing targets, one a line (# comments and blank lines skipped).
    #[arg(short = 'i', long = "input", value_name = "LIST")]
    pub input: Vec<PathBuf>,
    /// Audit the URLs of a sitemap or sitemap index.
    #[arg(long, value_name = "URL")]
    pub sitemap: Option<String>,
    /// At most this many URLs from the sitemap.
    #[arg(long, value_name = "N")]
    pub limit: Option<usize>,
    /// static: the HTML as served; render: a real headless Chromium [default: static].
    #[arg(long, value_enum)]
    pub mode: Option<ModeArg>,
    /// Jurisdiction profile: eu, fr-cnil, de, uk-ico, it, es, nl [default: eu].
    #[arg(long)]
    pub profile: Option<String>,
    /// A folder laid out like `rules/` whose files add to or replace the embedded ones.
    #[arg(long, value_name = "DIR")]
    pub rules: Option<PathBuf>,
    /// A filter list in Adblock Plus syntax (e.g. the EasyList Cookie List) whose element-hiding
    /// rules name consent banners; repeatable.
    #[arg(long = "filter-list", value_name = "FILE")]
    pub filter_lists: Vec<PathBuf>,
    /// Output formats, comma-separated [default: table,json].
    #[arg(long, value_enum, value_delimiter = ',')]
    pub format: Vec<Format>,
    /// Folder for report files [default: reports].
    #[arg(short = 'o', long = "output", value_name = "DIR")]
    pub output: Option<PathBuf>,
    /// Exit 1 when a finding at or above this severity exists [default: high].
    #[arg(long, value_enum)]
    pub fail_on: Option<FailOn>,
    /// Run only these rules (comma-separated ids).
    #[arg(long, value_delimiter = ',')]
    pub select: Vec<String>,
    /// Skip these rules (comma-separated ids).
    #[arg(long, value_delimiter = ',')]
    pub ignore: Vec<String>,
    /// Pages audited at once [default: 16].
    #[arg(long)]
    pub concurrency: Option<usize>,
    /// Requests at once to one host [default: 2].
    #[arg(long)]
    pub per_host: Option<usize>,
    /// Seconds a request may take [default: 30].
    #[arg(long, value_name = "SECS")]
    pub timeout: Option<f64>,
    /// Retries on connection errors, 5xx and 429 [default: 2].
    #[arg(long)]
    pub retries: Option<u32>,
    /// Extra request header 'Name: value' (repeatable); never written to reports.
    #[arg(long = "header", value_name = "'K: V'")]
    pub headers: Vec<String>,
    /// Cookie header to send (e.g. a staging session); never written to reports.
    #[arg(long)]
    pub cookie: Option<String>,
    /// User-Agent (default: a desktop Chrome).
    #[arg(long)]
    pub user_agent: Option<String>,
    /// Language to ask for (Accept-Language and the browser locale); banners are localised [default: en].
    #[arg(long)]
    pub lang: Option<String>,
    /// Redirects followed at most [default: 10].
    #[arg(long)]
    pub max_redirects: Option<usize>,
    /// Accept invalid TLS certificates (staging sites).
    #[arg(long)]
    pub insecure: bool,
    /// Base URL for resolving links of local HTML files.
    #[arg(long, value_name = "URL")]
    pub base_url: Option<String>,
    /// Largest body read, in bytes [default: 10485760].
    #[arg(long, value_name = "BYTES")]
    pub max_body: Option<usize>,
    /// Compare with a baseline: only new findings count for --fail-on.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Record today's findings as a baseline.
    #[arg(long, value_name = "FILE")]
    pub write_baseline: Option<PathBuf>,
    /// Audit only shard K of N (deterministic by URL).
    #[arg(long, value_name = "K/N")]
    pub shard: Option<String>,
    /// Continue an interrupted run from OUTPUT/pages.jsonl.
    #[arg(long)]
    pub resume: bool,
    /// Chromium or Chrome binary for --mode render.
    #[arg(long, value_name = "PATH")]
    pub chrome: Option<PathBuf>,
    /// Extra Chromium flag for --mode render (repeatable).
    #[arg(long = "chrome-arg", value_name = "ARG", allow_hyphen_values = true)]
    pub chrome_args: Vec<String>,
    /// Seconds to wait for a banner to appear in render mode [default: 5].
    #[arg(long, value_name = "SECS")]
    pub banner_wait: Option<f64>,
    /// In render mode, click reject or accept after the first look [default: reject].
    #[arg(long, value_enum)]
    pub interact: Option<Interact>,
    /// No progress bar even on a terminal.
    #[arg(long)]
    pub quiet: bool,
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
    #[arg(long, value_enum, value_delimiter = ',', default_value = "table")]
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
}
