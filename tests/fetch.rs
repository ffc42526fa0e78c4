//! The HTTP fetcher against a real server on 127.0.0.1.

mod common;

use std::time::{Duration, Instant};

use cookie_audit::fetch::FetchOptions;
use cookie_audit::fetch::http::HttpFetcher;
use cookie_audit::page::ErrorKind;

fn fetcher(adjust: impl FnOnce(&mut FetchOptions)) -> HttpFetcher {
    let mut options = FetchOptions {
        timeout: Duration::from_secs(3),
        retries: 2,
        ..FetchOptions::default()
    };
    adjust(&mut options);
    HttpFetcher::new(options).expect("client")
}

fn url(s: &str) -> url::Url {
    url::Url::parse(s).unwrap()
}

#[tokio::test]
async fn a_cookie_whose_value_is_not_ascii_is_kept() {
    let server = common::start().await;
    let page = fetcher(|_| {})
        .fetch("utf8", &url(&server.url("/utf8-cookie")))
        .await
        .expect("page");
    assert_eq!(page.set_cookies.len(), 1);
    assert!(
        page.set_cookies[0].header.starts_with("prefs="),
        "{:?}",
        page.set_cookies
    );
}

#[tokio::test]
async fn redirect_chain_is_recorded_with_every_cookie() {
    let server = common::start().await;
    let page = fetcher(|_| {})
        .fetch("hop1", &url(&server.url("/hop1")))
        .await
        .expect("page");
    assert_eq!(page.url, server.url("/landing"));
    assert_eq!(
        page.redirects.iter().map(|r| r.status).collect::<Vec<_>>(),
        [302, 301]
    );
    let names: Vec<_> = page
        .set_cookies
        .iter()
        .map(|c| c.header.split('=').next().unwrap())
        .collect();
    assert_eq!(names, ["hop1", "_ga", "_fbp"]);
    assert_eq!(page.status, Some(200));
    assert_eq!(page.body_sha256.len(), 64);
}

#[tokio::test]
async fn gzip_and_brotli_bodies_are_decoded() {
    let server = common::start().await;
    let f = fetcher(|_| {});
    for path in ["/gzip", "/brotli"] {
        let page = f.fetch(path, &url(&server.url(path))).await.expect("page");
        assert!(page.html.contains("Tout refuser"), "{path} was not decoded");
    }
}

#[tokio::test]
async fn windows_1252_french_page_reads_correctly() {
    let server = common::start().await;
    let page = fetcher(|_| {})
        .fetch("fr", &url(&server.url("/windows-1252")))
        .await
        .expect("page");
    assert!(page.html.contains("Paramétrer vos choix"));
    assert!(page.html.contains("Économie"));
}

#[tokio::test]
async fn a_429_is_retried_after_the_delay_it_asks_for() {
    let server = common::start().await;
    let start = Instant::now();
    let page = fetcher(|_| {})
        .fetch("429", &url(&server.url("/too-many")))
        .await
        .expect("page after retry");
    assert!(page.html.contains("Welcome back"));
    assert!(
        start.elapsed() >= Duration::from_millis(950),
        "Retry-After: 1 was not honoured"
    );
}

#[tokio::test]
async fn a_500_is_retried() {
    let server = common::start().await;
    let page = fetcher(|_| {})
        .fetch("500", &url(&server.url("/server-error")))
        .await
        .expect("page after retry");
    assert!(page.html.contains("Recovered"));
}

#[tokio::test]
async fn without_retries_a_500_is_an_http_status_error() {
    let server = common::start().await;
    let err = fetcher(|o| o.retries = 0)
        .fetch("500", &url(&server.url("/server-error")))
        .await
        .unwrap_err();
    assert_eq!((err.kind, err.status), (ErrorKind::HttpStatus, Some(500)));
}

#[tokio::test]
async fn a_slow_response_times_out() {
    let server = common::start().await;
    let start = Instant::now();
    let err = fetcher(|o| {
        o.timeout = Duration::from_secs(1);
        o.retries = 0;
    })
    .fetch("slow", &url(&server.url("/slow")))
    .await
    .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Timeout, "{}", err.message);
    assert!(start.elapsed() < Duration::from_secs(4));
}

#[tokio::test]
async fn a_body_over_the_cap_is_too_large() {
    let server = common::start().await;
    let err = fetcher(|o| o.max_body = 1024 * 1024)
        .fetch("huge", &url(&server.url("/huge")))
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::TooLarge);
}

#[tokio::test]
async fn pdf_is_not_html() {
    let server = common::start().await;
    let err = fetcher(|_| {})
        .fetch("pdf", &url(&server.url("/pdf")))
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::NotHtml);
    assert!(err.message.contains("application/pdf"));
}

#[tokio::test]
async fn a_redirect_to_a_local_file_is_refused() {
    let server = common::start().await;
    let err = fetcher(|_| {})
        .fetch("to-file", &url(&server.url("/to-file")))
        .await
        .unwrap_err();
    assert!(
        err.message.contains("file:///etc/passwd") && err.message.contains("only http and https"),
        "{}",
        err.message
    );
}

#[tokio::test]
async fn a_redirect_loop_is_detected() {
    let server = common::start().await;
    let err = fetcher(|_| {})
        .fetch("loop", &url(&server.url("/loop")))
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::RedirectLoop);
}

#[tokio::test]
async fn a_closed_port_is_a_connect_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let err = fetcher(|o| o.retries = 0)
        .fetch("closed", &url(&format!("http://127.0.0.1:{port}/")))
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Connect, "{}", err.message);
}
