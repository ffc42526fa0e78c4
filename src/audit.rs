//! The pipeline: targets → fetch → extract → rules → report, with bounded concurrency, every
//! finished page appended to `pages.jsonl` at once, and a clean stop on SIGINT/SIGTERM.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::time::Duration;

use chrono::Utc;
use futures::StreamExt;
use indicatif::{ProgressBar, ProgressStyle};

use crate::config::AuditSettings;
use crate::extract::{coverage, error_coverage, extract};
use crate::facts::{Facts, Mode};
use crate::fetch::http::HttpFetcher;
use crate::knowledge::lists::FilterList;
use crate::knowledge::{Knowledge, Sources};
use crate::page::{ErrorKind, Page, PageError};
use crate::report::{PageReport, Report, SCHEMA, Tool};
use crate::rules::eval::{EvalError, UrlIgnore};
use crate::rules::{Engine, RuleSet};
use crate::targets::{Target, TargetList, in_shard, parse_sitemap, parse_url};

/// How long in-flight pages may finish after SIGINT/SIGTERM.
const GRACE: Duration = Duration::from_secs(5);

/// Why a run could not start: bad settings, rules or targets (exit 2).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct SetupError(pub String);

/// Knowledge and rules, loaded and validated once per run.
pub struct Loaded {
    pub knowledge: Knowledge,
    pub engine: Engine,
    pub rules_version: String,
}

pub fn load(rules_dir: Option<&Path>, profile: &str) -> Result<Loaded, SetupError> {
    let err = |e: crate::knowledge::KnowledgeError| SetupError(e.to_string());
    let sources = Sources::load(rules_dir).map_err(err)?;
    let knowledge = Knowledge::load(&sources).map_err(err)?;
    let rules = RuleSet::load(&sources, knowledge.profiles.ids()).map_err(err)?;
    let profile = knowledge.profiles.get(profile).cloned().ok_or_else(|| {
        SetupError(format!(
            "unknown profile {profile:?}; known: {}",
            knowledge.profiles.ids().collect::<Vec<_>>().join(", ")
        ))
    })?;
    Ok(Loaded {
        rules_version: sources.fingerprint(),
        engine: Engine::new(rules, profile),
        knowledge,
    })
}

pub struct Outcome {
    pub report: Report,
    /// The signal that interrupted the run, if one did (2 = SIGINT, 15 = SIGTERM).
    pub interrupted: Option<i32>,
    pub files: Vec<PathBuf>,
}

pub async fn run(settings: AuditSettings) -> Result<Outcome, SetupError> {
    let loaded = load(settings.rules_dir.as_deref(), &settings.profile)?;
    let Loaded {
        mut knowledge,
        mut engine,
        rules_version,
    } = loaded;
    // The lists `lists update` keeps, then those named on the command line.
    if let Some(dir) = crate::lists::default_dir() {
        let cached = crate::lists::cached(&dir).map_err(|e| SetupError(e.to_string()))?;
        knowledge.lists.extend(cached);
    }
    for path in &settings.filter_lists {
        let list = FilterList::read(path).map_err(|e| SetupError(e.to_string()))?;
        knowledge.lists.push(list);
    }
    let lists = knowledge.lists.iter().map(|l| l.info.clone()).collect();
    for id in settings
        .select
        .iter()
        .chain(&settings.ignore)
        .chain(settings.ignore_urls.iter().map(|i| &i.rule))
    {
        if engine.rules.get(id).is_none() {
            return Err(SetupError(format!(
                "unknown rule id {id:?} (see `cookie-audit rules list`)"
            )));
        }
    }
    engine.select = settings.select.clone();
    engine.ignore = settings.ignore.clone();
    engine.url_ignores = settings
        .ignore_urls
        .iter()
        .map(|i| {
            UrlIgnore::new(&i.rule, &i.url, &i.reason)
                .map_err(|e| SetupError(format!("ignore_url {:?}: {e}", i.url)))
        })
        .collect::<Result<_, _>>()?;

    let http = Arc::new(
        HttpFetcher::new(settings.fetch.clone())
            .map_err(|e| SetupError(format!("cannot set up HTTP: {e}")))?,
    );
    let mut targets = collect_targets(&settings, &http).await?;
    if let Some(shard) = settings.shard {
        targets.targets.retain(|t| in_shard(t, shard));
    }
    if targets.targets.is_empty() && targets.bad.is_empty() {
        return Err(SetupError(
            "no targets: give URLs, .html files, folders, -i LIST, - (stdin) or --sitemap".into(),
        ));
    }

    std::fs::create_dir_all(&settings.output)
        .map_err(|e| SetupError(format!("cannot create {}: {e}", settings.output.display())))?;
    let journal_path = settings.output.join("pages.jsonl");
    let previous = if settings.resume {
        read_journal(&journal_path)
    } else {
        Vec::new()
    };
    let journal = std::fs::OpenOptions::new()
        .create(true)
        .append(settings.resume)
        .write(true)
        .truncate(!settings.resume)
        .open(&journal_path)
        .map_err(|e| SetupError(format!("cannot write {}: {e}", journal_path.display())))?;
    let journal = Arc::new(std::sync::Mutex::new(journal));

    let started_at = Utc::now();
    let mut pages: Vec<(usize, PageReport)> = Vec::new();
    for bad in &targets.bad {
        eprintln!("warning: {}", bad.message);
        let page = error_page(
            &bad.input,
            &bad.input,
            settings.mode,
            PageError::new(ErrorKind::Io, bad.message.clone()),
        );
        append(&journal, &page);
        pages.push((usize::MAX, page));
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

    let stop = Arc::new(AtomicBool::new(false));
    let signal = Arc::new(AtomicI32::new(0));
    listen_for_signals(stop.clone(), signal.clone());

    let renderer = start_renderer(&settings).await?;
    let shared = Arc::new(Shared {
        knowledge,
        engine,
        http,
        settings: settings.clone(),
        renderer,
    });
    let progress = progress_bar(todo.len() as u64, settings.progress);
    let mut stream = futures::stream::iter(todo)
        .map(|(i, target)| {
            let shared = shared.clone();
            let stop = stop.clone();
            async move {
                if stop.load(Ordering::SeqCst) {
                    return None;
                }
                Some((i, shared.audit_target(target).await))
            }
        })
        .buffer_unordered(settings.concurrency);
    let grace = wait_then(stop.clone(), GRACE);
    tokio::pin!(grace);
    let mut rule_errors: std::collections::BTreeSet<String> = Default::default();
    loop {
        tokio::select! {
            next = stream.next() => match next {
                None => break,
                Some(None) => continue,
                Some(Some((i, (page, errors)))) => {
                    for e in errors {
                        if rule_errors.insert(e.rule.clone()) {
                            eprintln!("warning: rule {} could not be evaluated: {}", e.rule, e.message);
                        }
                    }
                    append(&journal, &page);
                    if let Some(bar) = &progress {
                        bar.inc(1);
                        if page.error.is_some() {
                            bar.set_message(format!("{} error(s)", pages.iter().filter(|(_, p)| p.error.is_some()).count() + 1));
                        }
                    }
                    pages.push((i, page));
                }
            },
            _ = &mut grace => {
                eprintln!("interrupted: pages still in flight after {}s were not finished", GRACE.as_secs());
                break;
            }
        }
    }
    drop(stream);
    if let Some(bar) = progress {
        bar.finish_and_clear();
    }
    if let Some(r) = &shared.renderer {
        r.shutdown().await;
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
        profile: settings.profile.clone(),
        started_at,
        finished_at: Utc::now(),
        summary: Default::default(),
        pages: pages.into_iter().map(|(_, p)| p).collect(),
        fixed: Vec::new(),
    };
    report.summarise();
    if let Some(path) = &settings.baseline {
        let baseline = crate::baseline::read(path).map_err(|e| SetupError(e.to_string()))?;
        crate::baseline::compare(&mut report, &baseline);
    }
    if let Some(path) = &settings.write_baseline {
        crate::baseline::write(path, &report)
            .map_err(|e| SetupError(format!("cannot write baseline: {e}")))?;
    }
    let rules = crate::report::RuleInfo::from_rules(shared.engine.active());
    let files = crate::report::write_files(&settings.output, &settings.formats, &report, &rules)
        .map_err(|e| SetupError(format!("cannot write reports: {e}")))?;
    let sig = signal.load(Ordering::SeqCst);
    Ok(Outcome {
        report,
        interrupted: (sig != 0).then_some(sig),
        files,
    })
}

struct Shared {
    knowledge: Knowledge,
    engine: Engine,
    http: Arc<HttpFetcher>,
    settings: AuditSettings,
    renderer: Option<Renderer>,
}

#[cfg(feature = "render")]
type Renderer = crate::fetch::render::Renderer;
#[cfg(not(feature = "render"))]
type Renderer = NoRenderer;

#[cfg(not(feature = "render"))]
pub struct NoRenderer;
#[cfg(not(feature = "render"))]
impl NoRenderer {
    async fn shutdown(&self) {}
}

#[cfg(feature = "render")]
async fn start_renderer(settings: &AuditSettings) -> Result<Option<Renderer>, SetupError> {
    if settings.mode != Mode::Render {
        return Ok(None);
    }
    crate::fetch::render::Renderer::start(settings)
        .await
        .map(Some)
        .map_err(|e| SetupError(e.to_string()))
}

#[cfg(not(feature = "render"))]
async fn start_renderer(settings: &AuditSettings) -> Result<Option<Renderer>, SetupError> {
    if settings.mode == Mode::Render {
        return Err(SetupError(
            "this build has no render mode: rebuild with the default `render` feature".into(),
        ));
    }
    Ok(None)
}

impl Shared {
    async fn audit_target(self: Arc<Self>, target: Target) -> (PageReport, Vec<EvalError>) {
        let mode = self.settings.mode;
        let fetched = match (&target, &self.renderer) {
            #[cfg(feature = "render")]
            (_, Some(renderer)) => renderer.render(&target, &self.knowledge).await,
            (Target::File { input, path }, _) => {
                crate::fetch::file::read_page(
                    input,
                    path,
                    self.settings.fetch.base_url.as_ref(),
                    self.settings.fetch.max_body,
                )
                .await
            }
            (Target::Url { input, url }, _) => self.http.fetch(input, url).await,
        };
        match fetched {
            Ok(page) => {
                let this = self.clone();
                let input = page.input.clone();
                let url = page.url.clone();
                match tokio::task::spawn_blocking(move || {
                    analyse(&page, &this.knowledge, &this.engine)
                })
                .await
                {
                    Ok(result) => result,
                    Err(panic) => (
                        error_page(
                            &input,
                            &url,
                            mode,
                            PageError::new(ErrorKind::Io, format!("extraction failed: {panic}")),
                        ),
                        Vec::new(),
                    ),
                }
            }
            Err(error) => {
                let url = match &target {
                    Target::Url { url, .. } => url.to_string(),
                    Target::File { path, .. } => path.display().to_string(),
                };
                (error_page(target.input(), &url, mode, error), Vec::new())
            }
        }
    }
}

/// Extraction and rules for one fetched page.
pub fn analyse(
    page: &Page,
    knowledge: &Knowledge,
    engine: &Engine,
) -> (PageReport, Vec<EvalError>) {
    let facts = extract(page, knowledge);
    let coverage = coverage(&facts, &page.html);
    let (findings, errors) = if coverage == crate::facts::Coverage::Blocked {
        (Vec::new(), Vec::new())
    } else {
        engine.evaluate(&facts, &page.url, page.mode)
    };
    let report = PageReport {
        input: page.input.clone(),
        url: page.url.clone(),
        status: page.status,
        mode: page.mode,
        error: None,
        coverage,
        fetched_at: Some(page.fetched_at),
        body_sha256: Some(page.body_sha256.clone()),
        content_language: page.content_language.clone(),
        redirects: page.redirects.clone(),
        facts,
        findings,
    };
    (report, errors)
}

pub fn error_page(input: &str, url: &str, mode: Mode, error: PageError) -> PageReport {
    PageReport {
        input: input.to_owned(),
        url: url.to_owned(),
        status: error.status,
        mode,
        coverage: error_coverage(&error),
        error: Some(error),
        fetched_at: Some(Utc::now()),
        body_sha256: None,
        content_language: None,
        redirects: Vec::new(),
        facts: Facts::default(),
        findings: Vec::new(),
    }
}

async fn collect_targets(
    settings: &AuditSettings,
    http: &HttpFetcher,
) -> Result<TargetList, SetupError> {
    let mut list = TargetList::default();
    for raw in &settings.targets {
        if raw == "-" {
            let mut text = String::new();
            std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)
                .map_err(|e| SetupError(format!("cannot read stdin: {e}")))?;
            list.add_list(&text, "stdin");
        } else {
            list.add(raw, "command line");
        }
    }
    for path in &settings.inputs {
        let text = std::fs::read_to_string(path)
            .map_err(|e| SetupError(format!("{}: cannot read target list: {e}", path.display())))?;
        list.add_list(&text, &path.display().to_string());
    }
    if let Some(sitemap) = &settings.sitemap {
        let url = parse_url(sitemap).map_err(|e| SetupError(format!("--sitemap: {e}")))?;
        let limit = settings.limit.unwrap_or(usize::MAX);
        let mut queue = vec![(url, 0)];
        let mut added = 0;
        while let Some((url, depth)) = queue.pop() {
            let xml = http
                .fetch_text(&url)
                .await
                .map_err(|e| SetupError(format!("sitemap {url}: {}", e.message)))?;
            let (is_index, locs) = parse_sitemap(&xml);
            if is_index {
                // Children are fetched in listed order; nesting deeper than 3 is a loop or a trap.
                queue.extend(
                    locs.iter()
                        .rev()
                        .filter_map(|l| parse_url(l).ok())
                        .filter(|_| depth < 3)
                        .map(|u| (u, depth + 1)),
                );
                continue;
            }
            for loc in locs {
                if added >= limit {
                    break;
                }
                list.add(&loc, &format!("sitemap {url}"));
                added += 1;
            }
        }
    }
    Ok(list)
}

fn append(journal: &std::sync::Mutex<std::fs::File>, page: &PageReport) {
    let Ok(line) = serde_json::to_string(page) else {
        return;
    };
    let mut file = journal.lock().expect("journal lock");
    // A failed journal write must not stop the run: the final reports still hold the page.
    let _ = writeln!(file, "{line}").and_then(|()| file.flush());
}

/// Finished pages of an earlier run; a line cut short by a kill is skipped.
fn read_journal(path: &Path) -> Vec<PageReport> {
    std::fs::read_to_string(path)
        .map(|text| {
            text.lines()
                .filter_map(|l| serde_json::from_str(l).ok())
                .collect()
        })
        .unwrap_or_default()
}

fn listen_for_signals(stop: Arc<AtomicBool>, signal: Arc<AtomicI32>) {
    tokio::spawn(async move {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal as unix_signal};
            let (Ok(mut int), Ok(mut term)) = (
                unix_signal(SignalKind::interrupt()),
                unix_signal(SignalKind::terminate()),
            ) else {
                return;
            };
            let which = tokio::select! { _ = int.recv() => 2, _ = term.recv() => 15 };
            signal.store(which, Ordering::SeqCst);
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
            signal.store(2, Ordering::SeqCst);
        }
        stop.store(true, Ordering::SeqCst);
    });
}

/// Resolves `grace` after `stop` is set.
async fn wait_then(stop: Arc<AtomicBool>, grace: Duration) {
    while !stop.load(Ordering::SeqCst) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(grace).await;
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
