//! The HTML report for hundreds of pages, opened in a real headless Chromium: no script error,
//! no network request, filters and sorting that match the report, readable without script and
//! in print. Also: hostile page values never become markup.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chromiumoxide::Page;
use chromiumoxide::browser::{Browser, BrowserConfig};
use chromiumoxide::cdp::browser_protocol::emulation::SetScriptExecutionDisabledParams;
use chromiumoxide::cdp::browser_protocol::log::{EventEntryAdded, LogEntryLevel};
use chromiumoxide::cdp::browser_protocol::network::{
    EnableParams as NetworkEnable, EventRequestWillBeSent,
};
use chromiumoxide::cdp::js_protocol::runtime::{
    ConsoleApiCalledType, EventConsoleApiCalled, EventExceptionThrown,
};
use chromiumoxide::page::MediaTypeParams;
use cookie_audit::facts::{Coverage, Mode};
use cookie_audit::page::{ErrorKind, Page as Fetched, PageError};
use cookie_audit::pipeline::{self, analyse, error_page};
use cookie_audit::report::{self, Format, PageReport, Report, RuleInfo, SCHEMA, Tool};
use cookie_audit::rules::Severity;
use cookie_audit::rules::eval::EvalError;
use futures::{FutureExt, StreamExt};

const PAGES: usize = 500;
const HOSTILE_URL: &str = "https://evil.example/\"><script>alert(1)</script>";
const HOSTILE_CMP: &str = "cmp\"><script>alert(2)</script><img src=x onerror=alert(3)>";
const CHALLENGE: &str = r#"<html><head><title>Just a moment...</title></head><body><div id="cf-browser-verification">Checking your browser</div></body></html>"#;

use common::fixed_time;

fn fetched(url: &str, html: String, cookies: &[&str]) -> Fetched {
    common::fetched_page(url, url, html, cookies)
}

/// Every fixture page under `tests/fixtures/pages`, by relative path.
fn fixture_pages() -> Vec<(String, String)> {
    let root = common::fixtures().join("pages");
    let mut out = Vec::new();
    for dir in std::fs::read_dir(&root).unwrap() {
        let dir = dir.unwrap().path();
        if !dir.is_dir() {
            continue;
        }
        for file in std::fs::read_dir(&dir).unwrap() {
            let path = file.unwrap().path();
            if path.extension().is_some_and(|e| e == "html") {
                let rel = path.strip_prefix(&root).unwrap().display().to_string();
                out.push((rel, std::fs::read_to_string(&path).unwrap()));
            }
        }
    }
    out.sort();
    out
}

/// A small grey PNG with a darker band, standing for a screenshot (stored, uncompressed deflate
/// would do, but flate2 is at hand).
fn png(width: u32, height: u32) -> Vec<u8> {
    fn chunk(out: &mut Vec<u8>, kind: &[u8], data: &[u8]) {
        out.extend((data.len() as u32).to_be_bytes());
        let mut crc = flate2::Crc::new();
        crc.update(kind);
        crc.update(data);
        out.extend(kind);
        out.extend(data);
        out.extend(crc.sum().to_be_bytes());
    }
    let mut raw = Vec::new();
    for y in 0..height {
        raw.push(0u8);
        let shade = if y > height * 2 / 3 { 90 } else { 225 };
        raw.extend(std::iter::repeat_n(shade, width as usize * 3));
    }
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    z.write_all(&raw).unwrap();
    let mut header = Vec::new();
    header.extend(width.to_be_bytes());
    header.extend(height.to_be_bytes());
    header.extend([8, 2, 0, 0, 0]);
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    chunk(&mut out, b"IHDR", &header);
    chunk(&mut out, b"IDAT", &z.finish().unwrap());
    chunk(&mut out, b"IEND", &[]);
    out
}

/// 500 varied pages: every fixture page analysed once and reused under other URLs (banners of
/// many CMPs, pages without one, trackers), fetch errors of several kinds, bot challenges, pages
/// where a rule could not be evaluated, a few screenshots, and one hostile URL and CMP name.
fn big_report(dir: &Path) -> (Report, Vec<RuleInfo>) {
    let loaded = pipeline::load(None, "eu").expect("embedded rules");
    let cookie_sets: [&[&str]; 3] = [
        &[],
        &["_ga=GA1.2.3; Max-Age=63072000", "PHPSESSID=abc"],
        &["_fbp=fb.1.1.1; Max-Age=7776000"],
    ];
    let analysed: Vec<(String, PageReport)> = fixture_pages()
        .into_iter()
        .enumerate()
        .map(|(i, (rel, html))| {
            let stem = Path::new(&rel)
                .file_stem()
                .unwrap()
                .to_string_lossy()
                .into_owned();
            let page = fetched("https://x.example/", html, cookie_sets[i % 3]);
            (stem, analyse(&page, &loaded.knowledge, &loaded.engine).0)
        })
        .collect();
    assert!(analysed.len() > 100, "{} fixture pages", analysed.len());
    let challenge = analyse(
        &fetched("https://guarded.example/", CHALLENGE.into(), &[]),
        &loaded.knowledge,
        &loaded.engine,
    )
    .0;
    assert_eq!(challenge.coverage, Coverage::Blocked);
    std::fs::create_dir_all(dir.join("screenshots")).unwrap();
    std::fs::write(dir.join("screenshots/shot.png"), png(480, 300)).unwrap();

    let errors = [
        (ErrorKind::Dns, "dns error: failed to lookup address"),
        (ErrorKind::Timeout, "operation timed out after 30s"),
        (ErrorKind::HttpStatus, "HTTP 503 Service Unavailable"),
        (ErrorKind::Connect, "connection refused"),
        (ErrorKind::Tls, "invalid peer certificate: Expired"),
    ];
    let mut pages = Vec::with_capacity(PAGES);
    for i in 0..PAGES {
        let page = if i % 50 == 7 {
            let (kind, message) = errors[(i / 50) % errors.len()];
            let url = format!("https://down-{i}.example/");
            let mut e = error_page(&url, &url, Mode::Static, PageError::new(kind, message));
            e.fetched_at = Some(fixed_time());
            e
        } else if i % 23 == 3 {
            let mut p = challenge.clone();
            p.url = format!("https://guarded-{i}.example/");
            p.input = p.url.clone();
            p
        } else {
            let (stem, base) = &analysed[(i * 7) % analysed.len()];
            let mut p = base.clone();
            p.url = format!("https://www.{stem}-{i}.example/");
            p.input = p.url.clone();
            if i % 31 == 5 {
                p.rule_errors.push(EvalError {
                    rule: "reject-not-honoured".into(),
                    message: "no such key: interaction".into(),
                });
            }
            if i % 60 == 11 {
                p.facts.render = Some(
                    serde_json::from_value(
                        serde_json::json!({"screenshot": "screenshots/shot.png"}),
                    )
                    .unwrap(),
                );
            }
            p
        };
        pages.push(page);
    }
    let hostile = pages
        .iter_mut()
        .find(|p| p.facts.banner.is_some() && p.error.is_none())
        .unwrap();
    hostile.url = HOSTILE_URL.into();
    hostile.facts.banner.as_mut().unwrap().cmp = Some(HOSTILE_CMP.into());
    let mut report = Report {
        schema: SCHEMA.into(),
        tool: Tool {
            name: "cookie-audit".into(),
            version: "0.0.0-test".into(),
            rules_version: "test".into(),
            lists: Vec::new(),
        },
        profile: "eu".into(),
        started_at: fixed_time(),
        finished_at: fixed_time(),
        summary: Default::default(),
        pages,
        fixed: Vec::new(),
    };
    report.summarise();
    (report, RuleInfo::from_rules(loaded.engine.active(), None))
}

fn cmp_of(p: &PageReport) -> &str {
    p.facts
        .banner
        .as_ref()
        .and_then(|b| b.cmp.as_deref())
        .unwrap_or("")
}

fn is_unchecked(p: &PageReport) -> bool {
    p.unchecked().is_some() || !p.rule_errors.is_empty()
}

/// What the search box matches: every term in the URL or CMP, ignoring case.
fn searched(p: &PageReport, query: &str) -> bool {
    let text = format!("{} {}", p.url, cmp_of(p)).to_lowercase();
    query
        .to_lowercase()
        .split_whitespace()
        .all(|t| text.contains(t))
}

fn high(p: &PageReport) -> i64 {
    if p.unchecked().is_some() {
        -1
    } else {
        p.findings
            .iter()
            .filter(|f| f.severity == Severity::High)
            .count() as i64
    }
}

#[test]
fn hostile_values_stay_text_and_data_attributes_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let (mut report, rules) = big_report(dir.path());
    report.pages.truncate(60);
    let hostile = report.pages.iter().position(|p| p.url == HOSTILE_URL);
    let hostile = hostile.expect("the hostile page is among the first 60");
    let html = report::render(Format::Html, &report, &rules).unwrap();
    assert!(!html.contains("<script>alert") && !html.contains("<img src=x"));
    let doc = scraper::Html::parse_document(&html);
    assert!(doc.errors.is_empty(), "{:?}", doc.errors);
    let sel = |s: &str| scraper::Selector::parse(s).unwrap();
    let scripts: Vec<_> = doc.select(&sel("script")).collect();
    assert_eq!(scripts.len(), 1, "only the report's own script");
    let script = scripts[0].text().collect::<String>();
    assert!(!script.contains("alert") && script.contains("overview-table"));
    assert!(
        doc.select(&sel("img")).all(|i| i
            .value()
            .attr("src")
            .unwrap()
            .starts_with("data:image/png;base64,")),
        "images are the embedded screenshots only"
    );
    // The URL and CMP come back as the very same text from the cells the script reads.
    let row = doc
        .select(&sel("#overview-table tbody tr"))
        .nth(hostile)
        .unwrap();
    let cells: Vec<String> = row.select(&sel("td")).map(|c| c.text().collect()).collect();
    assert_eq!(cells[1], HOSTILE_URL);
    assert_eq!(cells[3], HOSTILE_CMP);
    let section = doc.select(&sel(&format!("#page-{}", hostile + 1))).next();
    assert!(section.unwrap().text().any(|t| t.contains(HOSTILE_URL)));
    // Only our own script may run: the CSP names it by hash and allows nothing else.
    let csp = doc
        .select(&sel("meta[http-equiv=Content-Security-Policy]"))
        .next()
        .unwrap()
        .value()
        .attr("content")
        .unwrap()
        .to_owned();
    assert!(csp.contains("default-src 'none'"), "{csp}");
    let script_src = csp
        .split(';')
        .map(str::trim)
        .find(|d| d.starts_with("script-src "))
        .unwrap();
    assert!(
        script_src.starts_with("script-src 'sha256-") && !script_src.contains("unsafe"),
        "{csp}"
    );
}

#[test]
fn without_script_every_row_and_section_is_in_the_markup() {
    let dir = tempfile::tempdir().unwrap();
    let (report, rules) = big_report(dir.path());
    let started = Instant::now();
    let html = report::render(Format::Html, &report, &rules).unwrap();
    let took = started.elapsed();
    eprintln!(
        "rendered {} pages into {} kB in {took:?}",
        report.pages.len(),
        html.len() / 1024
    );
    assert!(took < Duration::from_secs(20), "{took:?}");
    let doc = scraper::Html::parse_document(&html);
    let sel = |s: &str| scraper::Selector::parse(s).unwrap();
    let rows: Vec<_> = doc.select(&sel("#overview-table tbody tr")).collect();
    assert_eq!(rows.len(), PAGES);
    for (i, (row, page)) in rows.iter().zip(&report.pages).enumerate() {
        let href = row.select(&sel("a")).next().unwrap().value().attr("href");
        assert_eq!(href, Some(format!("#page-{}", i + 1).as_str()));
        assert!(
            doc.select(&sel(&format!("section#page-{}", i + 1)))
                .next()
                .is_some()
        );
        let marked = row.select(&sel(".flag")).next().is_some();
        assert_eq!(marked, is_unchecked(page), "row {}: {}", i + 1, page.url);
        if page.unchecked().is_some() {
            // A page with no rule checked shows no count that could read as "0 findings".
            let cells: Vec<String> = row.select(&sel("td")).map(|c| c.text().collect()).collect();
            assert!(cells[4..8].iter().all(|c| c == "–"), "{cells:?}");
        }
    }
    // The controls only appear once the script runs.
    let controls = doc.select(&sel("#controls")).next().unwrap();
    assert!(controls.value().attr("hidden").is_some());
    // Each page's data is written once: its banner text is not repeated for the script.
    let text = report
        .pages
        .iter()
        .filter_map(|p| p.facts.banner.as_ref())
        .map(|b| b.text.as_str())
        .find(|t| t.len() > 200)
        .expect("a long banner text");
    let uses = report
        .pages
        .iter()
        .filter(|p| p.facts.banner.as_ref().is_some_and(|b| b.text == text))
        .count();
    assert_eq!(html.matches(&escaped(text)).count(), uses);
}

/// Text as the report's escaping formatter writes it.
fn escaped(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#x27;")
        .replace('/', "&#x2f;")
}

/// The ids of the processes whose command line names `marker` (this test's browser profile).
fn chromium_processes_using(marker: &str) -> Vec<u32> {
    std::fs::read_dir("/proc")
        .map(|d| {
            d.filter_map(Result::ok)
                .filter_map(|e| {
                    let pid = e.file_name().to_str()?.parse::<u32>().ok()?;
                    let cmdline = std::fs::read(e.path().join("cmdline")).ok()?;
                    String::from_utf8_lossy(&cmdline)
                        .contains(marker)
                        .then_some(pid)
                })
                .collect()
        })
        .unwrap_or_default()
}

type Log = Arc<Mutex<Vec<String>>>;

/// Collects the page's uncaught exceptions, console errors, error log entries (CSP violations,
/// failed loads) and any request that is not to the file itself or a data URI.
async fn watch(page: &Page, problems: &Log, requests: &Log) {
    page.execute(NetworkEnable::default()).await.unwrap();
    let mut exceptions = page.event_listener::<EventExceptionThrown>().await.unwrap();
    let mut console = page
        .event_listener::<EventConsoleApiCalled>()
        .await
        .unwrap();
    let mut log = page.event_listener::<EventEntryAdded>().await.unwrap();
    let mut sent = page
        .event_listener::<EventRequestWillBeSent>()
        .await
        .unwrap();
    let p = problems.clone();
    tokio::spawn(async move {
        while let Some(e) = exceptions.next().await {
            p.lock().unwrap().push(format!(
                "exception: {}",
                serde_json::to_string(&e.exception_details).unwrap_or_default()
            ));
        }
    });
    let p = problems.clone();
    tokio::spawn(async move {
        while let Some(e) = console.next().await {
            if matches!(
                e.r#type,
                ConsoleApiCalledType::Error
                    | ConsoleApiCalledType::Warning
                    | ConsoleApiCalledType::Assert
            ) {
                p.lock().unwrap().push(format!(
                    "console {:?}: {}",
                    e.r#type,
                    serde_json::to_string(&e.args).unwrap_or_default()
                ));
            }
        }
    });
    let p = problems.clone();
    tokio::spawn(async move {
        while let Some(e) = log.next().await {
            if matches!(e.entry.level, LogEntryLevel::Error | LogEntryLevel::Warning) {
                p.lock()
                    .unwrap()
                    .push(format!("log {:?}: {}", e.entry.level, e.entry.text));
            }
        }
    });
    let r = requests.clone();
    tokio::spawn(async move {
        while let Some(e) = sent.next().await {
            r.lock().unwrap().push(e.request.url.clone());
        }
    });
    // Errors the page itself sees, CSP violations and dialogs (an injected alert would show).
    page.evaluate_on_new_document(
        "window.__problems = []; window.__alerts = [];\
         window.addEventListener('error', function (e) { window.__problems.push('error: ' + e.message); });\
         window.addEventListener('unhandledrejection', function (e) { window.__problems.push('rejection: ' + e.reason); });\
         document.addEventListener('securitypolicyviolation', function (e) { window.__problems.push('csp: ' + e.violatedDirective + ' ' + e.blockedURI); });\
         window.alert = function (m) { window.__alerts.push(String(m)); };",
    )
    .await
    .unwrap();
}

async fn eval<T: serde::de::DeserializeOwned>(page: &Page, js: &str) -> T {
    page.evaluate(js)
        .await
        .unwrap_or_else(|e| panic!("{js}: {e}"))
        .into_value()
        .unwrap_or_else(|e| panic!("{js}: {e}"))
}

const VISIBLE_ROWS: &str = "Array.from(document.querySelectorAll('#overview-table tbody tr')).filter(function (r) { return r.getClientRects().length > 0; }).length";
const VISIBLE_SECTIONS: &str = "Array.from(document.querySelectorAll('section.page')).filter(function (s) { return getComputedStyle(s).display !== 'none'; }).length";

/// Sets the filters as a person would (value, then the event the control fires) and returns
/// the visible rows, the visible sections and the counter's text.
async fn filter(
    page: &Page,
    search: &str,
    coverage: &str,
    severity: u8,
    rule: &str,
) -> (usize, usize, String) {
    let js = format!(
        "(function () {{\
           var set = function (id, value, kind) {{ var el = document.getElementById(id); el.value = value; el.dispatchEvent(new Event(kind, {{ bubbles: true }})); }};\
           set('f-search', {search}, 'input'); set('f-coverage', {coverage}, 'change');\
           set('f-severity', '{severity}', 'change'); set('f-rule', {rule}, 'change');\
           return [{VISIBLE_ROWS}, {VISIBLE_SECTIONS}, document.getElementById('shown').textContent];\
         }})()",
        search = serde_json::to_string(search).unwrap(),
        coverage = serde_json::to_string(coverage).unwrap(),
        rule = serde_json::to_string(rule).unwrap(),
    );
    eval(page, &js).await
}

/// The High column of the visible rows, top to bottom (-1 for a page not checked).
async fn high_column(page: &Page) -> Vec<i64> {
    eval(
        page,
        "Array.from(document.querySelectorAll('#overview-table tbody tr')).filter(function (r) { return r.getClientRects().length > 0; }).map(function (r) { var c = r.cells[4]; return Number(c.hasAttribute('data-value') ? c.getAttribute('data-value') : c.textContent); })",
    )
    .await
}

async fn checks(browser: &Browser, file: &Path, report: &Report) {
    let url = format!("file://{}", file.display());
    let problems: Log = Arc::default();
    let requests: Log = Arc::default();
    let page = browser.new_page("about:blank").await.unwrap();
    watch(&page, &problems, &requests).await;
    let started = Instant::now();
    page.goto(url.as_str()).await.unwrap();
    let ready: bool = eval(
        &page,
        "!document.getElementById('controls').hidden && document.readyState === 'complete'",
    )
    .await;
    eprintln!("opened and scripted in {:?}", started.elapsed());
    assert!(ready, "the script showed its controls");
    let pages = &report.pages;
    let total = pages.len();
    let shown: String = eval(&page, "document.getElementById('shown').textContent").await;
    assert_eq!(shown, format!("{total} of {total} pages shown"));
    assert_eq!(
        eval::<usize>(&page, "document.querySelectorAll('img.shot').length").await,
        pages.iter().filter(|p| p.facts.render.is_some()).count()
    );
    assert!(
        eval::<bool>(
            &page,
            "Array.from(document.querySelectorAll('img.shot')).every(function (i) { return i.complete && i.naturalWidth === 480; })"
        )
        .await,
        "the embedded screenshots load under the CSP"
    );

    // Coverage: blocked.
    let blocked = pages
        .iter()
        .filter(|p| p.coverage == Coverage::Blocked)
        .count();
    assert!(blocked > 10);
    let got = filter(&page, "", "blocked", 0, "").await;
    assert_eq!(
        got,
        (
            blocked,
            blocked,
            format!("{blocked} of {total} pages shown")
        )
    );
    // Blocked, and a URL fragment.
    let both = pages
        .iter()
        .filter(|p| p.coverage == Coverage::Blocked && searched(p, "GUARDED-1"))
        .count();
    assert!(both > 0 && both < blocked, "{both} of {blocked}");
    assert_eq!(filter(&page, "GUARDED-1", "blocked", 0, "").await.0, both);
    // A CMP name alone (it is also in some fixture names, hence in URLs: same rule as the script).
    let didomi = pages.iter().filter(|p| searched(p, "didomi")).count();
    assert!(didomi > 0 && pages.iter().any(|p| cmp_of(p) == "didomi"));
    assert_eq!(filter(&page, "didomi", "", 0, "").await.0, didomi);
    // The hostile CMP name is found as text.
    assert_eq!(filter(&page, "<script>alert(2)", "", 0, "").await.0, 1);
    // Minimum severity high, then a rule.
    let with_high = pages.iter().filter(|p| high(p) > 0).count();
    assert_eq!(filter(&page, "", "", 4, "").await.0, with_high);
    let by_rule = report.findings_by_rule();
    let (rule, _) = by_rule.iter().max_by_key(|(_, v)| v.len()).unwrap();
    let with_rule = pages
        .iter()
        .filter(|p| p.findings.iter().any(|f| f.rule == *rule))
        .count();
    assert_eq!(filter(&page, "", "", 0, rule).await.0, with_rule);
    // Every page that was not (fully) checked.
    let unchecked = pages.iter().filter(|p| is_unchecked(p)).count();
    assert_eq!(filter(&page, "", "@unchecked", 0, "").await.0, unchecked);
    assert_eq!(filter(&page, "no such page anywhere", "", 0, "").await.0, 0);
    assert!(eval::<bool>(&page, "!document.getElementById('none-shown').hidden").await);
    page.find_element("#f-reset")
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    assert_eq!(eval::<usize>(&page, VISIBLE_ROWS).await, total);

    // Sorting: a click on "High" puts the most high findings first, a second click reverses.
    let before = high_column(&page).await;
    let header = "#overview-table thead th:nth-child(5) button";
    page.find_element(header)
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let sorted = high_column(&page).await;
    assert_ne!(before, sorted, "the order changed");
    let mut expected: Vec<i64> = pages.iter().map(high).collect();
    expected.sort_by(|a, b| b.cmp(a));
    assert_eq!(sorted, expected);
    assert_eq!(
        eval::<String>(
            &page,
            "document.querySelector('#overview-table thead th:nth-child(5)').getAttribute('aria-sort')"
        )
        .await,
        "descending"
    );
    page.find_element(header)
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    expected.reverse();
    assert_eq!(high_column(&page).await, expected);
    // Filters keep working on the sorted table.
    assert_eq!(filter(&page, "", "blocked", 0, "").await.0, blocked);
    // A row's link reaches its section.
    let target: String = eval(
        &page,
        "(function () { var a = Array.from(document.querySelectorAll('#overview-table tbody tr')).filter(function (r) { return r.getClientRects().length > 0; })[0].querySelector('a'); a.click(); var s = document.querySelector(a.getAttribute('href')); var r = s.getBoundingClientRect(); return location.hash + ' ' + (r.top >= 0 && r.top < innerHeight) + ' ' + s.textContent.indexOf('bot-protection challenge') + ' ' + (s.textContent.indexOf(a.textContent) >= 0); })()",
    )
    .await;
    let parts: Vec<&str> = target.split(' ').collect();
    assert!(
        parts[0].starts_with("#page-")
            && parts[1] == "true"
            && parts[2] != "-1"
            && parts[3] == "true",
        "{target}"
    );

    // Print: no controls, every row and section, whatever the filters.
    page.emulate_media_type(MediaTypeParams::Print)
        .await
        .unwrap();
    let printed: (usize, usize, String) = eval(
        &page,
        &format!(
            "[{VISIBLE_ROWS}, {VISIBLE_SECTIONS}, getComputedStyle(document.getElementById('controls')).display]"
        ),
    )
    .await;
    assert_eq!(printed, (total, total, "none".to_owned()));
    let pdf = page
        .pdf(Default::default())
        .await
        .expect("the report prints");
    assert!(pdf.starts_with(b"%PDF"));
    page.emulate_media_type(MediaTypeParams::Screen)
        .await
        .unwrap();

    // The screenshot to look at: the top of the report, filters reset, sorted by high findings.
    page.find_element("#f-reset")
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    page.find_element(header)
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    eval::<bool>(&page, "window.scrollTo(0, 0); true").await;
    let png = page
        .screenshot(
            chromiumoxide::page::ScreenshotParams::builder()
                .full_page(false)
                .build(),
        )
        .await
        .unwrap();
    std::fs::write("/tmp/html-report.png", png).unwrap();

    let seen: Vec<String> = eval(&page, "window.__problems.concat(window.__alerts)").await;
    assert!(seen.is_empty(), "{seen:#?}");
    tokio::time::sleep(Duration::from_millis(200)).await;
    let problems = problems.lock().unwrap().clone();
    assert!(problems.is_empty(), "{problems:#?}");
    let requests = requests.lock().unwrap().clone();
    assert!(!requests.is_empty(), "requests are watched");
    let elsewhere: Vec<&String> = requests
        .iter()
        .filter(|r| !r.starts_with("data:") && **r != url && !r.starts_with(&format!("{url}#")))
        .collect();
    assert!(
        elsewhere.is_empty(),
        "the report reached out: {elsewhere:?}"
    );

    // Without JavaScript: every row and section shows, the controls stay hidden.
    let plain = browser.new_page("about:blank").await.unwrap();
    plain
        .execute(SetScriptExecutionDisabledParams::new(true))
        .await
        .unwrap();
    plain.goto(url.as_str()).await.unwrap();
    // Evaluation through the protocol still works with page scripts disabled.
    let without: (usize, usize, String) = eval(
        &plain,
        &format!(
            "[{VISIBLE_ROWS}, {VISIBLE_SECTIONS}, getComputedStyle(document.getElementById('controls')).display]"
        ),
    )
    .await;
    assert_eq!(without, (total, total, "none".to_owned()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_500_page_report_works_in_chromium() {
    let out = tempfile::tempdir().unwrap();
    let (report, rules) = big_report(out.path());
    let started = Instant::now();
    let written = report::write_files(out.path(), &[Format::Html], &report, &rules).unwrap();
    eprintln!("wrote the HTML report in {:?}", started.elapsed());
    let file: PathBuf = written.into_iter().next().unwrap();

    let profile = tempfile::Builder::new()
        .prefix("cookie-audit-html-report-")
        .tempdir()
        .unwrap();
    let marker = profile.path().display().to_string();
    let config = BrowserConfig::builder()
        .chrome_executable("/usr/bin/chromium")
        .disable_default_args()
        .no_sandbox()
        .args([
            "disable-gpu",
            "disable-background-networking",
            "disable-component-update",
            "disable-sync",
            "no-first-run",
            "no-default-browser-check",
            "disable-dev-shm-usage",
            "hide-scrollbars",
        ])
        .user_data_dir(profile.path())
        .window_size(1366, 900)
        .viewport(None)
        .launch_timeout(Duration::from_secs(30))
        .request_timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let (mut browser, mut handler) = Browser::launch(config).await.expect("Chromium starts");
    let events = tokio::spawn(async move { while handler.next().await.is_some() {} });

    let outcome = std::panic::AssertUnwindSafe(checks(&browser, &file, &report))
        .catch_unwind()
        .await;
    // The browser goes whatever the checks said.
    let _ = browser.close().await;
    let _ = tokio::time::timeout(Duration::from_secs(10), browser.wait()).await;
    let _ = browser.kill().await;
    events.abort();
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
    // Its helper processes take a moment to follow the browser out.
    let deadline = Instant::now() + Duration::from_secs(15);
    while !chromium_processes_using(&marker).is_empty() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let left = chromium_processes_using(&marker);
    for pid in &left {
        let _ = std::process::Command::new("kill")
            .arg("-9")
            .arg(pid.to_string())
            .status();
    }
    assert!(
        left.is_empty(),
        "Chromium processes outlived the test: {left:?}"
    );
}
