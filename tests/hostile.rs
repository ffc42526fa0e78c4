//! Hostile sites: every one ends as a clear per-page outcome, in bounded time and memory,
//! without disturbing the other pages of the run. The server is raw TCP (tests/hostile_server).

mod hostile_server;

use std::future::Future;
use std::path::Path;
use std::time::{Duration, Instant};

use cookie_audit::facts::{Coverage, Role};
use cookie_audit::fetch::FetchOptions;
use cookie_audit::fetch::http::HttpFetcher;
use cookie_audit::page::{ErrorKind, Page, PageError};
use cookie_audit::pipeline::{self, RunOptions};
use cookie_audit::report::{Format, PageReport};
use hostile_server::Hostile;

/// No hostile case may hold a page longer than this, with a 2 s timeout.
const BOUND: Duration = Duration::from_secs(15);

fn fetcher(adjust: impl FnOnce(&mut FetchOptions)) -> HttpFetcher {
    let mut options = FetchOptions {
        timeout: Duration::from_secs(2),
        retries: 0,
        ..FetchOptions::default()
    };
    adjust(&mut options);
    HttpFetcher::new(options).expect("client")
}

/// Runs `work`, failing the test if it takes longer than the bound (a hang fails too).
async fn bounded<T>(what: &str, work: impl Future<Output = T>) -> T {
    let start = Instant::now();
    let out = tokio::time::timeout(BOUND, work)
        .await
        .unwrap_or_else(|_| panic!("{what} took over {BOUND:?}"));
    eprintln!("{what}: {:?}", start.elapsed());
    out
}

async fn fetch(server: &Hostile, path: &str, f: &HttpFetcher) -> Result<Page, PageError> {
    let url = url::Url::parse(&server.url(path)).unwrap();
    bounded(path, f.fetch(path, &url)).await
}

async fn fetch_err(server: &Hostile, path: &str, f: &HttpFetcher) -> PageError {
    match fetch(server, path, f).await {
        Ok(page) => panic!("{path} loaded: {} bytes", page.html.len()),
        Err(e) => e,
    }
}

fn settings(targets: Vec<String>, out: &Path, adjust: impl FnOnce(&mut RunOptions)) -> RunOptions {
    let mut options = RunOptions::unattended(targets, out, Duration::from_secs(2));
    options.fetch.retries = 0;
    adjust(&mut options);
    options
}

/// One full run (fetch, extraction, rules, reports) of the given targets.
async fn run(targets: Vec<String>, adjust: impl FnOnce(&mut RunOptions)) -> Vec<PageReport> {
    let out = tempfile::tempdir().unwrap();
    let s = settings(targets, out.path(), adjust);
    bounded("audit run", pipeline::run(s))
        .await
        .expect("run")
        .report
        .pages
}

fn page<'a>(pages: &'a [PageReport], input: &str) -> &'a PageReport {
    pages
        .iter()
        .find(|p| p.input == input)
        .unwrap_or_else(|| panic!("no page {input}"))
}

fn assert_banner_audited(p: &PageReport) {
    assert!(p.error.is_none(), "{}: {:?}", p.input, p.error);
    assert_eq!(p.coverage, Coverage::BannerFound, "{}", p.input);
    let banner = p.facts.banner.as_ref().expect("banner");
    let roles: Vec<_> = banner.buttons.iter().map(|b| b.role).collect();
    assert!(roles.contains(&Role::Reject), "{}: {roles:?}", p.input);
}

#[tokio::test]
async fn headers_trickled_a_byte_a_second_time_out() {
    let server = hostile_server::start().await;
    let err = fetch_err(&server, "/slowloris", &fetcher(|o| o.retries = 1)).await;
    assert_eq!(err.kind, ErrorKind::Timeout, "{}", err.message);
    assert_eq!(server.requests_to("/slowloris").len(), 2, "one retry");
}

#[tokio::test]
async fn a_body_that_never_ends_times_out_or_hits_the_cap() {
    let server = hostile_server::start().await;
    let f = fetcher(|_| {});
    let slow = fetch_err(&server, "/slow-body", &f).await;
    assert_eq!(slow.kind, ErrorKind::Timeout, "{}", slow.message);
    let fast = fetch_err(&server, "/endless", &f).await;
    assert_eq!(fast.kind, ErrorKind::TooLarge, "{}", fast.message);
}

#[tokio::test]
async fn a_gzip_bomb_stops_at_the_body_cap() {
    let server = hostile_server::start().await;
    let cap = 10 * 1024 * 1024;
    // Compressed, the bomb fits under the cap: only counting inflated bytes stops it.
    assert!(hostile_server::gzip_bomb_bytes().len() < cap);
    let err = fetch_err(&server, "/gzip-bomb", &fetcher(|o| o.max_body = cap)).await;
    assert_eq!(err.kind, ErrorKind::TooLarge, "{}", err.message);
}

#[tokio::test]
async fn long_redirect_chains_and_loops_are_stopped() {
    let server = hostile_server::start().await;
    let err = fetch_err(&server, "/hop/0", &fetcher(|o| o.max_redirects = 10)).await;
    assert_eq!(err.kind, ErrorKind::RedirectLoop, "{}", err.message);
    assert!(
        err.message.contains("more than 10 redirects"),
        "{}",
        err.message
    );
    assert!(
        server.requests_to("/hop/12").is_empty(),
        "followed past the limit"
    );
    let long = fetch(&server, "/hop/0", &fetcher(|o| o.max_redirects = 60))
        .await
        .expect("50 hops are fine under a limit of 60");
    assert_eq!(long.redirects.len(), 50);
    let err = fetch_err(&server, "/loop-a", &fetcher(|_| {})).await;
    assert_eq!(err.kind, ErrorKind::RedirectLoop, "{}", err.message);
    assert!(err.message.contains("loop"), "{}", err.message);
}

#[tokio::test]
async fn invalid_and_unknown_charsets_still_decode() {
    let server = hostile_server::start().await;
    let f = fetcher(|_| {});
    let lying = fetch(&server, "/mislabelled", &f).await.expect("page");
    assert!(
        lying.html.contains("choix r\u{fffd}vocables"),
        "declared UTF-8 wins, bad bytes replaced"
    );
    assert!(lying.html.contains("Reject all"));
    // An unknown label in the header is ignored, as browsers do, and `<meta charset>` decides.
    let unknown = fetch(&server, "/unknown-charset", &f).await.expect("page");
    assert!(
        unknown.html.contains("Zarządzaj"),
        "{}",
        &unknown.html[..400]
    );
}

#[tokio::test]
async fn truncated_bodies_are_io_errors() {
    let server = hostile_server::start().await;
    let f = fetcher(|_| {});
    for path in ["/truncated-chunked", "/truncated-length"] {
        let err = fetch_err(&server, path, &f).await;
        assert_eq!(err.kind, ErrorKind::Io, "{path}: {}", err.message);
    }
}

#[tokio::test]
async fn resets_and_closed_connections_are_connect_errors() {
    let server = hostile_server::start().await;
    let f = fetcher(|o| o.retries = 1);
    let err = fetch_err(&server, "/reset", &f).await;
    assert_eq!(err.kind, ErrorKind::Connect, "{}", err.message);
    assert_eq!(server.requests_to("/reset").len(), 2, "a reset is retried");
    let url = url::Url::parse(&format!("http://{}/", server.drop_addr)).unwrap();
    let err = bounded("closed on accept", f.fetch("drop", &url))
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Connect, "{}", err.message);
}

#[tokio::test]
async fn a_self_signed_certificate_is_a_tls_error_unless_insecure() {
    let server = hostile_server::start().await;
    let url = url::Url::parse(&format!("https://{}/", server.tls_addr)).unwrap();
    let err = bounded("untrusted tls", fetcher(|_| {}).fetch("tls", &url))
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Tls, "{}", err.message);
    let page = bounded(
        "insecure tls",
        fetcher(|o| o.insecure = true).fetch("tls", &url),
    )
    .await
    .expect("--insecure accepts the certificate");
    assert!(page.html.contains("Reject all"));
}

#[tokio::test]
async fn binary_served_as_html_is_not_html() {
    let server = hostile_server::start().await;
    let f = fetcher(|_| {});
    for path in ["/binary", "/binary-no-nul"] {
        let err = fetch_err(&server, path, &f).await;
        assert_eq!(err.kind, ErrorKind::NotHtml, "{path}: {}", err.message);
    }
}

#[tokio::test]
async fn huge_single_line_deep_and_wordy_pages_are_audited() {
    let server = hostile_server::start().await;
    let targets: Vec<String> = ["/one-line", "/deep", "/mega-banner"]
        .iter()
        .map(|p| server.url(p))
        .collect();
    // Every report format: writing a report must not recurse into the page either.
    let pages = run(targets.clone(), |a| {
        a.formats = vec![
            Format::Json,
            Format::Sarif,
            Format::Junit,
            Format::Markdown,
            Format::Html,
        ];
        a.fetch.timeout = Duration::from_secs(3);
        a.fetch.connect_timeout = Duration::from_secs(3);
    })
    .await;
    for t in &targets {
        assert_banner_audited(page(&pages, t));
    }
    let wordy = page(&pages, &targets[2]).facts.banner.as_ref().unwrap();
    assert_eq!(wordy.cmp.as_deref(), Some("onetrust"));
    assert!(
        wordy.text.starts_with("We and our 900 partners"),
        "{}",
        &wordy.text[..80]
    );
}

#[tokio::test]
async fn a_thousand_set_cookie_headers_are_all_recorded() {
    let server = hostile_server::start().await;
    let page = fetch(&server, "/cookies", &fetcher(|_| {}))
        .await
        .expect("page");
    assert_eq!(page.set_cookies.len(), 1000);
    let pages = run(vec![server.url("/cookies")], |_| {}).await;
    let p = &pages[0];
    assert_banner_audited(p);
    assert_eq!(p.facts.cookies.len(), 1000);
    assert!(p.facts.cookies.iter().any(|c| c.name == "c999"));
    // Past the head's byte limit (800 KB here) it is an answer too large, not a retry.
    let err = fetch_err(&server, "/header-flood", &fetcher(|o| o.retries = 2)).await;
    assert_eq!(err.kind, ErrorKind::TooLarge, "{}", err.message);
    assert_eq!(server.requests_to("/header-flood").len(), 1);
}

#[tokio::test]
async fn hostile_targets_do_not_disturb_the_rest_of_a_run() {
    let server = hostile_server::start().await;
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/pages/generic/seed-fr-news.html");
    let targets = vec![
        server.url("/ok"),
        server.url("/slowloris"),
        server.url("/gzip-bomb"),
        server.url("/endless"),
        server.url("/reset"),
        server.url("/loop-a"),
        server.url("/binary"),
        fixture.display().to_string(),
        server.url("/deep"),
    ];
    let pages = run(targets.clone(), |a| a.concurrency = 4).await;
    assert_eq!(pages.len(), targets.len());
    let kind = |i: usize| page(&pages, &targets[i]).error.as_ref().map(|e| e.kind);
    assert_eq!(
        (1..7).map(kind).collect::<Vec<_>>(),
        [
            Some(ErrorKind::Timeout),
            Some(ErrorKind::TooLarge),
            Some(ErrorKind::TooLarge),
            Some(ErrorKind::Connect),
            Some(ErrorKind::RedirectLoop),
            Some(ErrorKind::NotHtml),
        ]
    );
    for i in [0, 8] {
        assert_banner_audited(page(&pages, &targets[i]));
    }
    let seed = page(&pages, &targets[7]);
    assert_eq!(seed.coverage, Coverage::BannerFound);
    assert!(!seed.findings.is_empty());
}

const TOKEN: &str = "SECRET-TOKEN-123";
const COOKIE: &str = "SECRET-COOKIE-456";

/// Every file a run wrote, reports and journal, as text.
fn written(dir: &Path) -> Vec<(String, String)> {
    let mut files = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for entry in std::fs::read_dir(d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                todo.push(path);
            } else {
                let text = String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned();
                files.push((path.display().to_string(), text));
            }
        }
    }
    files
}

fn assert_no_secret(what: &str, text: &str) {
    for secret in [TOKEN, COOKIE] {
        assert!(!text.contains(secret), "{secret} leaked into {what}");
    }
}

#[tokio::test]
async fn secrets_never_reach_reports_logs_or_other_hosts() {
    let server = hostile_server::start().await;
    let targets = vec![
        server.url("/ok"),
        server.url("/broken"),
        server.url("/truncated-chunked"),
        server.url("/to-other-host"),
    ];
    let out = tempfile::tempdir().unwrap();
    let s = settings(targets.clone(), out.path(), |a| {
        a.fetch.headers = vec![("Authorization".into(), format!("Bearer {TOKEN}"))];
        a.fetch.cookie = Some(format!("session={COOKIE}"));
        a.formats = vec![
            Format::Json,
            Format::Sarif,
            Format::Junit,
            Format::Markdown,
            Format::Html,
        ];
    });
    let outcome = bounded("secret run", pipeline::run(s)).await.expect("run");
    let pages = &outcome.report.pages;
    assert_banner_audited(page(pages, &targets[0]));
    assert!(page(pages, &targets[1]).error.is_some());
    assert!(page(pages, &targets[2]).error.is_some());
    // The secrets were really sent to the target's host...
    let sent = server.requests_to("/ok").join("\n");
    assert!(sent.contains(TOKEN) && sent.contains(COOKIE), "{sent}");
    // ...but not to another host a redirect pointed to.
    let other = server.requests_to("/other");
    assert_eq!(other.len(), 1, "the redirect was followed");
    assert_no_secret("a request to another host", &other[0]);
    let files = written(out.path());
    assert!(files.iter().any(|(p, _)| p.ends_with("pages.jsonl")));
    assert!(files.len() >= 6, "{files:?}");
    for (path, text) in &files {
        assert_no_secret(path, text);
    }

    // The CLI's own output (progress, warnings, the table) is a log too.
    let out = tempfile::tempdir().unwrap();
    let mut cmd = assert_cmd::Command::cargo_bin("cookie-audit").unwrap();
    cmd.args([
        "audit",
        "--timeout",
        "2",
        "--retries",
        "0",
        "--format",
        "table,json",
    ])
    .args(["--header", &format!("Authorization: Bearer {TOKEN}")])
    .args(["--cookie", &format!("session={COOKIE}")])
    .arg("-o")
    .arg(out.path())
    .args(&targets[..2])
    .timeout(BOUND);
    // Waited for off the runtime, which must keep serving the CLI's requests.
    let cli = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap();
    assert!(cli.status.code().is_some_and(|c| c <= 1), "{cli:?}");
    assert_no_secret("stdout", &String::from_utf8_lossy(&cli.stdout));
    assert_no_secret("stderr", &String::from_utf8_lossy(&cli.stderr));
    for (path, text) in written(out.path()) {
        assert_no_secret(&path, &text);
    }
}
