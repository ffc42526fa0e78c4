//! A real HTTP server on 127.0.0.1 for the tests, serving fixtures and misbehaving on purpose.
#![allow(dead_code)]

use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// The fixed time report tests stamp pages and runs with, so that snapshots stay stable.
pub fn fixed_time() -> chrono::DateTime<chrono::Utc> {
    "2026-11-29T10:00:00Z".parse().unwrap()
}

/// A page as a static fetch of `url` returns it, with these `Set-Cookie` headers.
pub fn fetched_page(
    input: &str,
    url: &str,
    html: String,
    cookies: &[&str],
) -> cookie_audit::page::Page {
    cookie_audit::page::Page {
        input: input.into(),
        url: url.into(),
        status: Some(200),
        mode: cookie_audit::facts::Mode::Static,
        fetched_at: fixed_time(),
        body_sha256: "0".repeat(64),
        content_language: None,
        redirects: Vec::new(),
        set_cookies: cookies
            .iter()
            .map(|c| cookie_audit::page::SetCookie {
                header: (*c).into(),
                url: url.into(),
            })
            .collect(),
        html,
        rendered: None,
    }
}

pub fn fixture(rel: &str) -> String {
    std::fs::read_to_string(fixtures().join(rel)).unwrap_or_else(|e| panic!("fixture {rel}: {e}"))
}

#[derive(Default)]
struct Counters {
    too_many: AtomicUsize,
    server_error: AtomicUsize,
}

pub struct Server {
    pub addr: SocketAddr,
}

impl Server {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

/// The French banner page in windows-1252, as old French CMS still serve it.
pub const FRENCH_1252: &str = "<!DOCTYPE html><html lang=\"fr\"><head><meta charset=\"windows-1252\"><title>Actualités</title></head><body>\
<main><h1>Économie : les régions misent sur le train</h1><p>Les élus ont présenté mercredi un plan de développement ferroviaire.</p></main>\
<div id=\"bandeau-cookies\" role=\"dialog\" aria-label=\"Gestion des cookies\"><p>Nous utilisons des cookies pour la mesure d'audience et la publicité. \
Vous pouvez modifier vos choix à tout moment. <a href=\"/confidentialite\">Politique de confidentialité</a></p>\
<button>Tout accepter</button><button>Tout refuser</button><button>Paramétrer vos choix</button></div></body></html>";

fn html(body: impl Into<String>) -> Response {
    (
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        body.into(),
    )
        .into_response()
}

fn with_cookie(mut resp: Response, cookie: &'static str) -> Response {
    resp.headers_mut()
        .append(header::SET_COOKIE, HeaderValue::from_static(cookie));
    resp
}

/// A cookie whose value is UTF-8, as some sites send: a header that is not ASCII.
async fn utf8_cookie() -> Response {
    let mut resp = html(SEED_LIKE_PAGE_FOR_COOKIES);
    resp.headers_mut().append(
        header::SET_COOKIE,
        HeaderValue::from_bytes("prefs=bleu-été; Max-Age=3600; Path=/".as_bytes()).expect("bytes"),
    );
    resp
}

const SEED_LIKE_PAGE_FOR_COOKIES: &str = "<!DOCTYPE html><html lang=\"fr\"><head><title>Préférences</title></head><body><main><h1>Vos préférences</h1><p>Le thème choisi est enregistré.</p></main></body></html>";

fn redirect(status: StatusCode, to: &str, cookie: &'static str) -> Response {
    let mut headers = HeaderMap::new();
    headers.insert(
        header::LOCATION,
        HeaderValue::from_str(to).expect("location"),
    );
    headers.append(header::SET_COOKIE, HeaderValue::from_static(cookie));
    (status, headers).into_response()
}

async fn page(UrlPath(rel): UrlPath<String>) -> Response {
    match std::fs::read(fixtures().join("pages").join(&rel)) {
        Ok(bytes) => ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], bytes).into_response(),
        Err(_) => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn gzip() -> Response {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(fixture("pages/generic/seed-fr-news.html").as_bytes())
        .expect("gzip");
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CONTENT_ENCODING, "gzip"),
        ],
        enc.finish().expect("gzip"),
    )
        .into_response()
}

async fn brotli() -> Response {
    let mut out = Vec::new();
    {
        let mut enc = brotli::CompressorWriter::new(&mut out, 4096, 5, 22);
        enc.write_all(fixture("pages/generic/seed-fr-news.html").as_bytes())
            .expect("brotli");
    }
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CONTENT_ENCODING, "br"),
        ],
        out,
    )
        .into_response()
}

async fn windows_1252() -> Response {
    let (bytes, _, _) = encoding_rs::WINDOWS_1252.encode(FRENCH_1252);
    (
        [(header::CONTENT_TYPE, "text/html; charset=windows-1252")],
        bytes.into_owned(),
    )
        .into_response()
}

async fn too_many(State(c): State<Arc<Counters>>) -> Response {
    if c.too_many.fetch_add(1, Ordering::SeqCst) == 0 {
        (
            StatusCode::TOO_MANY_REQUESTS,
            [(header::RETRY_AFTER, "1")],
            "slow down",
        )
            .into_response()
    } else {
        html("<html><body><p>Welcome back</p></body></html>")
    }
}

async fn server_error(State(c): State<Arc<Counters>>) -> Response {
    if c.server_error.fetch_add(1, Ordering::SeqCst) == 0 {
        (StatusCode::INTERNAL_SERVER_ERROR, "oops").into_response()
    } else {
        html("<html><body><p>Recovered</p></body></html>")
    }
}

async fn slow() -> Response {
    tokio::time::sleep(Duration::from_secs(5)).await;
    html("<html><body>late</body></html>")
}

async fn huge() -> Response {
    html("<p>".to_owned() + &"x".repeat(3 * 1024 * 1024))
}

async fn pdf() -> Response {
    (
        [(header::CONTENT_TYPE, "application/pdf")],
        b"%PDF-1.7\n".to_vec(),
    )
        .into_response()
}

async fn sitemap_index(headers: HeaderMap) -> Response {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><sitemapindex xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\
         <sitemap><loc>http://{host}/sitemap-1.xml</loc></sitemap><sitemap><loc>http://{host}/sitemap-2.xml</loc></sitemap></sitemapindex>"
    );
    ([(header::CONTENT_TYPE, "application/xml")], body).into_response()
}

async fn sitemap_part(UrlPath(n): UrlPath<String>, headers: HeaderMap) -> Response {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let n: String = n.chars().filter(char::is_ascii_digit).collect();
    let urls: String = (1..=3)
        .map(|i| format!("<url><loc>http://{host}/article/{n}-{i}</loc></url>"))
        .collect();
    (
        [(header::CONTENT_TYPE, "application/xml")],
        format!("<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">{urls}</urlset>"),
    )
        .into_response()
}

async fn article(UrlPath(id): UrlPath<String>) -> Response {
    html(format!(
        "<html lang=\"en\"><body><h1>Article {id}</h1></body></html>"
    ))
}

pub async fn start() -> Server {
    let app = Router::new()
        .route("/page/{*rel}", get(page))
        .route(
            "/hop1",
            get(|| async { redirect(StatusCode::FOUND, "/hop2", "hop1=a; Path=/") }),
        )
        .route(
            "/hop2",
            get(|| async {
                redirect(
                    StatusCode::MOVED_PERMANENTLY,
                    "/landing",
                    "_ga=GA1.1.123.456; Path=/; Max-Age=63072000",
                )
            }),
        )
        .route(
            "/landing",
            get(|| async {
                with_cookie(
                    html(fixture("pages/generic/seed-fr-news.html")),
                    "_fbp=fb.1.1.1; Path=/; Max-Age=7776000; SameSite=Lax",
                )
            }),
        )
        .route("/utf8-cookie", get(utf8_cookie))
        .route("/gzip", get(gzip))
        .route("/brotli", get(brotli))
        .route("/windows-1252", get(windows_1252))
        .route("/too-many", get(too_many))
        .route("/server-error", get(server_error))
        .route("/slow", get(slow))
        .route("/huge", get(huge))
        .route("/pdf", get(pdf))
        .route(
            "/to-file",
            get(|| async { redirect(StatusCode::FOUND, "file:///etc/passwd", "x=1") }),
        )
        .route(
            "/loop",
            get(|| async { redirect(StatusCode::FOUND, "/loop", "x=1") }),
        )
        .route(
            "/forbidden",
            get(|| async { (StatusCode::FORBIDDEN, "no bots").into_response() }),
        )
        .route("/sitemap.xml", get(sitemap_index))
        .route("/{part}", get(sitemap_part))
        .route("/article/{id}", get(article))
        .with_state(Arc::new(Counters::default()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1");
    let addr = listener.local_addr().expect("local addr");
    tokio::spawn(async move { axum::serve(listener, app).await.expect("serve") });
    Server { addr }
}
