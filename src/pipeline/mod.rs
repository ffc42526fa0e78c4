//! The pipeline: targets → fetch → extract → rules → report, with bounded concurrency, every
//! finished page appended to `pages.jsonl` at once, and a clean stop on SIGINT/SIGTERM.

mod analyse;
mod collect;
mod crawl;
mod interrupt;
mod journal;
mod options;
#[cfg(feature = "render")]
pub mod render;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use futures::StreamExt;
use indicatif::{ProgressBar, ProgressStyle};
use tokio::sync::OnceCell;

pub use analyse::{Loaded, analyse, error_page, load};
pub use crawl::CrawlOptions;
pub use options::RunOptions;

use crate::facts::{Coverage, Mode};
use crate::fetch::http::HttpFetcher;
use crate::knowledge::cookie_db::CookieDatabase;
use crate::knowledge::lists::{FilterList, ListError, ListInfo};
use crate::knowledge::{Knowledge, KnowledgeError};
use crate::page::{ErrorKind, PageError};
use crate::report::{PageReport, Report, SCHEMA, Tool};
use crate::rules::Engine;
use crate::rules::eval::EvalError;
use crate::targets::{Target, in_shard};
use interrupt::Interrupt;
use journal::Journal;

/// How long in-flight pages may finish after SIGINT/SIGTERM.
const GRACE: Duration = Duration::from_secs(5);

/// Why a run could not start or finish: bad settings, knowledge, targets or output (exit 2).
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error(transparent)]
    Knowledge(#[from] KnowledgeError),
    #[error(transparent)]
    List(#[from] ListError),
    #[error("unknown profile {name:?}; known: {known}")]
    UnknownProfile { name: String, known: String },
    #[error("unknown rule id {0:?} (see `cookie-audit rules list`)")]
    UnknownRule(String),
    #[error("no targets: give URLs, .html files, folders, -i LIST, - (stdin) or --sitemap")]
    NoTargets,
    #[error("sitemap {url}: {reason}")]
    Sitemap { url: String, reason: String },
    #[error("cannot read {what}: {source}")]
    Read {
        what: String,
        source: std::io::Error,
    },
    #[error("cannot write {what}: {source}")]
    Write {
        what: String,
        source: std::io::Error,
    },
    #[error("cannot set up HTTP: {0}")]
    Http(#[from] crate::fetch::http::ClientError),
    #[cfg(feature = "render")]
    #[error(transparent)]
    Render(#[from] crate::fetch::render::RenderError),
    #[error("this build has no render mode: rebuild with the default `render` feature")]
    NoRenderMode,
    #[error(transparent)]
    Baseline(#[from] crate::report::baseline::BaselineError),
}

impl SetupError {
    pub fn read(what: &str, source: std::io::Error) -> SetupError {
        SetupError::Read {
            what: what.to_owned(),
            source,
        }
    }

    pub fn write(what: &std::path::Path, source: std::io::Error) -> SetupError {
        SetupError::Write {
            what: what.display().to_string(),
            source,
        }
    }
}

pub struct RunOutcome {
    pub report: Report,
    /// The signal that interrupted the run, if one did (2 = SIGINT, 15 = SIGTERM).
    pub interrupted: Option<i32>,
    pub files: Vec<PathBuf>,
    /// Why the reports (or the new baseline) could not be written after the run; every
    /// audited page is still in `pages.jsonl`.
    pub unwritten: Option<String>,
}

pub async fn run(options: RunOptions) -> Result<RunOutcome, SetupError> {
    let Loaded {
        mut knowledge,
        mut engine,
        rules_version,
    } = load(options.knowledge_dir.as_deref(), &options.profile)?;
    let lists = add_lists(&mut knowledge, &options)?;
    select_rules(&mut engine, &options)?;

    // A baseline that cannot be read fails the run before the first fetch, not after the last.
    let baseline = options
        .baseline
        .as_deref()
        .map(crate::report::baseline::read)
        .transpose()?;
    let http = Arc::new(HttpFetcher::new(options.fetch.clone())?);
    let mut targets = collect::collect_targets(&options, &http).await?;
    if targets.targets.is_empty() && targets.bad.is_empty() {
        return Err(SetupError::NoTargets);
    }
    // A shard may hold no target (its report is empty, not an error); the targets that could
    // not be read are reported once, by the first shard.
    if let Some(shard) = options.shard {
        targets.targets.retain(|t| in_shard(t, shard));
        if shard.0 != 1 {
            targets.bad.clear();
        }
    }

    std::fs::create_dir_all(&options.output).map_err(|e| SetupError::write(&options.output, e))?;
    check_outputs(&options)?;
    let judge = journal::Judge {
        profile: options.profile.clone(),
        mode: options.mode,
        render_when_needed: options.render_when_needed,
        rules_version: rules_version.clone(),
    };
    let (journal, previous) = Journal::open(&options.output, options.resume, &judge)
        .map_err(|e| SetupError::write(&Journal::path(&options.output), e))?;

    let started_at = Utc::now();
    let mut pages: Vec<(usize, PageReport)> = Vec::new();
    for bad in &targets.bad {
        eprintln!("warning: {}", bad.message);
        let page = error_page(
            &bad.input,
            &bad.input,
            options.mode,
            PageError::new(ErrorKind::Io, bad.message.clone()),
        );
        journal.append(&page);
        pages.push((usize::MAX, page));
    }
    // Pages an earlier run found by crawling are no target of this one: kept, after the targets.
    if options.crawl.is_some() {
        let named: std::collections::HashSet<&str> =
            targets.targets.iter().map(Target::input).collect();
        let crawled = previous
            .iter()
            .filter(|p| !named.contains(p.input.as_str()));
        pages.extend(crawled.map(|p| (usize::MAX - 1, p.clone())));
    }
    let todo: Vec<(usize, Target)> = targets
        .targets
        .into_iter()
        .enumerate()
        .filter(
            |(i, t)| match previous.iter().find(|p| p.input == t.input()) {
                Some(done) => {
                    pages.push((*i, done.clone()));
                    false
                }
                None => true,
            },
        )
        .collect();

    let interrupt = Interrupt::listen();
    let shared = Arc::new(Shared {
        browser: browser_at_start(&options).await?,
        knowledge,
        engine,
        http,
        options: options.clone(),
    });
    audit_all(&shared, todo, &interrupt, &journal, &mut pages).await;
    #[cfg(feature = "render")]
    if let Some(Some(browser)) = shared.browser.get() {
        browser.shutdown().await;
    }
    pages.sort_by_key(|(i, _)| *i);
    let mut report = Report {
        schema: SCHEMA.into(),
        tool: Tool {
            name: "cookie-audit".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            rules_version,
            lists,
        },
        profile: options.profile.clone(),
        started_at,
        finished_at: Utc::now(),
        summary: Default::default(),
        pages: pages.into_iter().map(|(_, p)| p).collect(),
        fixed: Vec::new(),
    };
    report.summarise();
    if let Some(baseline) = &baseline {
        crate::report::baseline::compare(&mut report, baseline);
    }
    // The reports first: a baseline that cannot be written must not cost the run its reports.
    let rules =
        crate::report::RuleInfo::from_rules(shared.engine.active(), options.docs_url.as_deref());
    let written = crate::report::write_files(&options.output, &options.formats, &report, &rules)
        .map_err(|e| format!("cannot write reports: {e}"))
        .and_then(|files| match &options.write_baseline {
            Some(path) => crate::report::baseline::write(path, &report)
                .map(|()| files)
                .map_err(|e| e.to_string()),
            None => Ok(files),
        });
    let (files, unwritten) = match written {
        Ok(files) => (files, None),
        Err(why) => (Vec::new(), Some(why)),
    };
    Ok(RunOutcome {
        report,
        interrupted: interrupt.signal(),
        files,
        unwritten,
    })
}

/// Every file the run will write can be written: checked before the first fetch, so that a
/// wrong path costs nothing, by creating and removing the temporary file each is written through.
fn check_outputs(options: &RunOptions) -> Result<(), SetupError> {
    let reports = options
        .formats
        .iter()
        .filter_map(|f| f.file_name())
        .map(|name| options.output.join(name));
    for path in reports.chain(options.write_baseline.clone()) {
        let probe = crate::atomic::temporary(&path);
        let fails = |e| SetupError::write(&path, e);
        if path.is_dir() {
            return Err(fails(std::io::Error::other("it is a folder")));
        }
        std::fs::File::create(&probe).map_err(fails)?;
        std::fs::remove_file(&probe).map_err(fails)?;
    }
    Ok(())
}

/// A panic while analysing a page: the tool's fault, reported on that page alone.
fn crashed(panic: &tokio::task::JoinError) -> PageError {
    PageError::new(
        ErrorKind::Internal,
        format!("cookie-audit failed on this page (please report it): {panic}"),
    )
}

/// The lists `lists update` keeps, then those named in the options; the report names them all.
fn add_lists(knowledge: &mut Knowledge, options: &RunOptions) -> Result<Vec<ListInfo>, SetupError> {
    if options.cached_lists
        && let Some(dir) = crate::lists::default_dir()
    {
        let cached = crate::lists::cached(&dir)?;
        knowledge.lists.extend(cached.filters);
        for db in cached.cookies {
            knowledge.cookies.add_database(db);
        }
    }
    for path in &options.filter_lists {
        knowledge.lists.push(FilterList::read(path)?);
    }
    for path in &options.cookie_lists {
        knowledge.cookies.add_database(CookieDatabase::read(path)?);
    }
    let filters = knowledge.lists.iter().map(|l| l.info.clone());
    let databases = knowledge.cookies.databases().map(|db| db.info.clone());
    Ok(filters.chain(databases).collect())
}

fn select_rules(engine: &mut Engine, options: &RunOptions) -> Result<(), SetupError> {
    let named = options
        .select
        .iter()
        .chain(&options.ignore)
        .chain(options.ignore_urls.iter().map(|i| &i.rule));
    if let Some(unknown) = named.into_iter().find(|id| engine.rules.get(id).is_none()) {
        return Err(SetupError::UnknownRule(unknown.clone()));
    }
    engine.select = options.select.clone();
    engine.ignore = options.ignore.clone();
    engine.url_ignores = options.ignore_urls.clone();
    Ok(())
}

/// One page to audit: its place in the report, and for a crawl, the start page it was found
/// from and how many links away.
struct Job {
    index: usize,
    target: Target,
    start: usize,
    depth: u32,
}

/// A finished page and the links to follow from it.
struct Audited {
    page: PageReport,
    errors: Vec<EvalError>,
    links: Vec<url::Url>,
}

/// Audits the pages `options.concurrency` at a time until done or interrupted; with a crawl,
/// each finished page adds the links it offers to the queue, breadth first.
async fn audit_all(
    shared: &Arc<Shared>,
    todo: Vec<(usize, Target)>,
    interrupt: &Interrupt,
    journal: &Journal,
    pages: &mut Vec<(usize, PageReport)>,
) {
    let crawl = shared.options.crawl;
    let mut frontier = crawl::Frontier::default();
    let mut robots = crawl::Robots::default();
    let mut sites = std::collections::HashMap::new();
    // Crawled pages come after every target in the report.
    let mut next_index = todo
        .iter()
        .map(|(i, _)| *i)
        .chain(
            pages
                .iter()
                .map(|(i, _)| *i)
                .filter(|i| *i < usize::MAX - 1),
        )
        .max()
        .map_or(0, |i| i + 1);
    let mut queue: std::collections::VecDeque<Job> = todo
        .into_iter()
        .map(|(index, target)| {
            if let Target::Url { url, .. } = &target {
                frontier.start(index, url);
                sites.insert(
                    index,
                    url.host_str().map(crate::extract::cookies::registrable),
                );
            }
            Job {
                index,
                target,
                start: index,
                depth: 0,
            }
        })
        .collect();
    let progress = progress_bar(queue.len() as u64, shared.options.progress);
    let mut running = futures::stream::FuturesUnordered::new();
    let grace = interrupt.grace_over(GRACE);
    tokio::pin!(grace);
    let mut rule_errors: std::collections::BTreeSet<String> = Default::default();
    let (mut errors, mut robots_skipped) = (0, 0);
    loop {
        while running.len() < shared.options.concurrency && !interrupt.stopped() {
            let Some(job) = queue.pop_front() else { break };
            let follow = crawl.is_some_and(|c| job.depth < c.depth);
            let shared = shared.clone();
            running.push(async move {
                let audited = shared.audit_target(job.target.clone(), follow).await;
                (job, audited)
            });
        }
        if running.is_empty() {
            break;
        }
        tokio::select! {
            Some((job, audited)) = running.next() => {
                for e in &audited.errors {
                    if rule_errors.insert(e.rule.clone()) {
                        eprintln!("warning: rule {} could not be evaluated: {}", e.rule, e.message);
                    }
                }
                journal.append(&audited.page);
                if let Some(bar) = &progress {
                    bar.inc(1);
                    if audited.page.error.is_some() {
                        errors += 1;
                        bar.set_message(format!("{errors} error(s)"));
                    }
                }
                pages.push((job.index, audited.page));
                let (Some(options), Some(Some(site))) = (crawl, sites.get(&job.start).cloned()) else {
                    continue;
                };
                for link in audited.links {
                    if !frontier.admit(job.start, &site, &link, options.max_pages) {
                        continue;
                    }
                    if !options.ignore_robots && !robots.allows(&shared.http, &link).await {
                        robots_skipped += 1;
                        continue;
                    }
                    queue.push_back(Job {
                        index: next_index,
                        target: Target::Url { input: link.to_string(), url: link },
                        start: job.start,
                        depth: job.depth + 1,
                    });
                    next_index += 1;
                    if let Some(bar) = &progress {
                        bar.inc_length(1);
                    }
                }
            },
            _ = &mut grace => {
                eprintln!("interrupted: pages still in flight after {}s were not finished", GRACE.as_secs());
                break;
            }
        }
    }
    if let Some(bar) = progress {
        bar.finish_and_clear();
    }
    if robots_skipped > 0 {
        eprintln!(
            "note: {robots_skipped} linked page(s) were not crawled: robots.txt disallows them (--ignore-robots to crawl them)"
        );
    }
}

struct Shared {
    knowledge: Knowledge,
    engine: Engine,
    http: Arc<HttpFetcher>,
    options: RunOptions,
    browser: OnceCell<Option<Browser>>,
}

#[cfg(feature = "render")]
type Browser = crate::fetch::render::Renderer;
#[cfg(not(feature = "render"))]
type Browser = std::convert::Infallible;

/// The browser when render mode is asked for: started with the run (a missing browser stops it
/// before any fetch), left for the first page that needs it in auto mode, none in static mode.
async fn browser_at_start(options: &RunOptions) -> Result<OnceCell<Option<Browser>>, SetupError> {
    if options.mode == Mode::Render {
        return Ok(OnceCell::new_with(Some(Some(
            start_browser(options).await?,
        ))));
    }
    if options.render_when_needed {
        return Ok(OnceCell::new());
    }
    Ok(OnceCell::new_with(Some(None)))
}

#[cfg(feature = "render")]
async fn start_browser(options: &RunOptions) -> Result<Browser, SetupError> {
    use crate::fetch::render::BrowserOptions;
    let browser = BrowserOptions {
        executable: options.browser.clone(),
        args: options.browser_args.clone(),
        tabs: options.concurrency,
        screenshots: Some(options.output.join(render::SCREENSHOTS)),
    };
    Ok(Browser::start(options.fetch.clone(), browser).await?)
}

#[cfg(not(feature = "render"))]
async fn start_browser(_: &RunOptions) -> Result<Browser, SetupError> {
    Err(SetupError::NoRenderMode)
}

impl Shared {
    /// The browser; in auto mode the first page that needs one starts it, and a missing one is
    /// said once while the run goes on statically.
    async fn browser(&self) -> Option<&Browser> {
        let start = || async {
            start_browser(&self.options)
                .await
                .inspect_err(|e| eprintln!("note: --mode auto audits statically only: {e}"))
                .ok()
        };
        self.browser.get_or_init(start).await.as_ref()
    }

    /// Fetches and judges one target; with `follow`, also the links it offers to other pages.
    /// `--mode auto` looks statically first and renders only a page whose banner needs a browser,
    /// keeping the rendered verdict when it settles the page.
    async fn audit_target(self: Arc<Self>, target: Target, follow: bool) -> Audited {
        let render_first = self.options.mode == Mode::Render;
        let first = self.clone().judge(&target, render_first, follow).await;
        let needs_browser = !render_first && first.page.coverage == Coverage::NeedsRender;
        if needs_browser && self.browser().await.is_some() {
            let rendered = self.judge(&target, true, follow).await;
            // A browser that could not show the banner either settles nothing: the static
            // verdict, which says a browser is needed, stays.
            if rendered.page.coverage != Coverage::NeedsRender {
                return rendered;
            }
        }
        first
    }

    async fn judge(self: Arc<Self>, target: &Target, in_browser: bool, follow: bool) -> Audited {
        let mode = if in_browser {
            Mode::Render
        } else {
            Mode::Static
        };
        let fetched = self.fetch(target, in_browser).await;
        let page = match fetched {
            Ok(page) => page,
            Err(error) => {
                let url = match target {
                    Target::Url { url, .. } => url.to_string(),
                    Target::File { path, .. } => path.display().to_string(),
                };
                return Audited {
                    page: error_page(target.input(), &url, mode, error),
                    errors: Vec::new(),
                    links: Vec::new(),
                };
            }
        };
        let this = self.clone();
        let (input, url) = (page.input.clone(), page.url.clone());
        let judged = tokio::task::spawn_blocking(move || {
            let (page_report, errors) = analyse(&page, &this.knowledge, &this.engine);
            let links = match url::Url::parse(&page.url) {
                Ok(base) if follow => crawl::links(&page.html, &base),
                _ => Vec::new(),
            };
            Audited {
                page: page_report,
                errors,
                links,
            }
        });
        judged.await.unwrap_or_else(|panic| Audited {
            page: error_page(&input, &url, mode, crashed(&panic)),
            errors: Vec::new(),
            links: Vec::new(),
        })
    }

    async fn fetch(
        &self,
        target: &Target,
        in_browser: bool,
    ) -> Result<crate::page::Page, PageError> {
        #[cfg(not(feature = "render"))]
        let _ = in_browser;
        #[cfg(feature = "render")]
        if in_browser && let Some(renderer) = self.browser().await {
            // A browser visit counts against --per-host like a fetch does.
            let _slot = match target {
                Target::Url { url, .. } => Some(self.http.host_slot(url).await),
                Target::File { .. } => None,
            };
            let plan = render::VisitPlan {
                banner_wait: self.options.banner_wait,
                choice: self.options.choice,
            };
            return render::render(renderer, target, &self.knowledge, plan).await;
        }
        match target {
            Target::File { input, path } => {
                crate::fetch::file::read_page(
                    input,
                    path,
                    self.options.fetch.base_url.as_ref(),
                    self.options.fetch.max_body,
                )
                .await
            }
            Target::Url { input, url } => self.http.fetch(input, url).await,
        }
    }
}

fn progress_bar(len: u64, wanted: bool) -> Option<ProgressBar> {
    use std::io::IsTerminal;
    if !wanted || !std::io::stderr().is_terminal() || len < 2 {
        return None;
    }
    let bar = ProgressBar::new(len);
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} pages · {per_sec} · {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    Some(bar)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_panic_while_analysing_is_the_tools_fault_not_io() {
        let panic = tokio::task::spawn_blocking(|| panic!("index out of bounds"))
            .await
            .unwrap_err();
        let error = crashed(&panic);
        assert_eq!(error.kind, ErrorKind::Internal);
        assert!(
            error.message.contains("index out of bounds"),
            "{}",
            error.message
        );
    }
}
