//! Everything one audit run needs, as plain library types. The binary builds it from flags,
//! environment and `cookie-audit.toml`; tests build it directly.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::facts::{Choice, Mode};
use crate::fetch::FetchOptions;
use crate::knowledge::profiles::DEFAULT_PROFILE;
use crate::report::Format;
use crate::rules::eval::UrlIgnore;

#[derive(Debug, Clone)]
pub struct RunOptions {
    /// URLs, HTML files, folders of them, or `-` for a list on stdin.
    pub targets: Vec<String>,
    /// Files listing targets, one a line.
    pub inputs: Vec<PathBuf>,
    pub sitemap: Option<String>,
    /// At most this many URLs from the sitemap.
    pub limit: Option<usize>,
    pub mode: Mode,
    /// `--mode auto`: audit statically, and render the pages whose banner needs a browser
    /// (coverage `needs-render`) when one is found; `mode` is then `Static`.
    pub render_when_needed: bool,
    pub profile: String,
    /// A folder laid out like `rules/` whose files add to or replace the embedded knowledge.
    pub knowledge_dir: Option<PathBuf>,
    /// Filter lists in Adblock Plus syntax, on top of the cached ones.
    pub filter_lists: Vec<PathBuf>,
    /// Cookie databases in the Open Cookie Database's CSV layout, on top of the cached ones.
    pub cookie_lists: Vec<PathBuf>,
    /// Read the lists `cookie-audit lists update` cached (off in tests that must not see them).
    pub cached_lists: bool,
    pub formats: Vec<Format>,
    pub output: PathBuf,
    /// Where `rules docs` pages are published, for the reports' links to each rule.
    pub docs_url: Option<String>,
    /// Follow links from each start page to other pages of its site.
    pub crawl: Option<super::CrawlOptions>,
    pub select: Vec<String>,
    pub ignore: Vec<String>,
    pub ignore_urls: Vec<UrlIgnore>,
    /// Pages audited at once.
    pub concurrency: usize,
    pub fetch: FetchOptions,
    /// Chromium for render mode; found on PATH when not given.
    pub browser: Option<PathBuf>,
    pub browser_args: Vec<String>,
    /// How long render mode waits for a banner to appear.
    pub banner_wait: Duration,
    /// The choice render mode makes in the banner, if any.
    pub choice: Option<Choice>,
    pub baseline: Option<PathBuf>,
    pub write_baseline: Option<PathBuf>,
    /// Only shard K of N (1-based).
    pub shard: Option<(u32, u32)>,
    /// Continue from the journal of an interrupted run.
    pub resume: bool,
    /// A progress bar on a terminal.
    pub progress: bool,
}

impl RunOptions {
    /// A run that writes only `report.json` into `output`, shows no progress bar and reads no
    /// cached lists, with requests limited to `timeout`: where scripts, tests and benchmarks start.
    pub fn unattended(targets: Vec<String>, output: &Path, timeout: Duration) -> RunOptions {
        RunOptions {
            targets,
            output: output.to_path_buf(),
            formats: vec![Format::Json],
            progress: false,
            cached_lists: false,
            fetch: FetchOptions::with_timeout(timeout),
            ..RunOptions::default()
        }
    }
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            targets: Vec::new(),
            inputs: Vec::new(),
            sitemap: None,
            limit: None,
            mode: Mode::Static,
            render_when_needed: false,
            profile: DEFAULT_PROFILE.into(),
            knowledge_dir: None,
            filter_lists: Vec::new(),
            cookie_lists: Vec::new(),
            cached_lists: true,
            formats: vec![Format::Table, Format::Json],
            output: PathBuf::from("reports"),
            docs_url: None,
            crawl: None,
            select: Vec::new(),
            ignore: Vec::new(),
            ignore_urls: Vec::new(),
            concurrency: 16,
            fetch: FetchOptions::default(),
            browser: None,
            browser_args: Vec::new(),
            banner_wait: Duration::from_secs(5),
            choice: Some(Choice::Reject),
            baseline: None,
            write_baseline: None,
            shard: None,
            resume: false,
            progress: true,
        }
    }
}
