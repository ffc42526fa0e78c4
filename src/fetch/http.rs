//! The HTTP fetcher: one shared client, redirects followed by hand so every hop and every
//! `Set-Cookie` is recorded, retries with backoff, a body cap, and a per-host limit.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Utc;
use reqwest::header::{self, HeaderMap, HeaderName, HeaderValue};
use tokio::sync::Semaphore;
use url::Url;

use crate::page::{ErrorKind, Page, PageError, Redirect, SetCookie};

use super::FetchOptions;
use super::decode::decode_html;

/// Headers past hyper's default of 100 are common (a cookie per tracker); the head's byte
/// limit (about 400 KB) still bounds memory.
const MAX_RESPONSE_HEADERS: usize = 10_000;

/// Why the HTTP client could not be set up from the options.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("a header value is not valid: {0}")]
    HeaderValue(#[from] header::InvalidHeaderValue),
    #[error("a header name is not valid: {0}")]
    HeaderName(#[from] header::InvalidHeaderName),
    #[error(transparent)]
    Client(#[from] reqwest::Error),
}

pub struct HttpFetcher {
    client: reqwest::Client,
    options: FetchOptions,
    /// `--header` and `--cookie`: sent to the target's own host only.
    secrets: HeaderMap,
    hosts: Mutex<HashMap<String, Arc<Semaphore>>>,
}

/// One response, before we know whether it is the last of the chain.
struct Response {
    status: u16,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl HttpFetcher {
    pub fn new(options: FetchOptions) -> Result<Self, ClientError> {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::ACCEPT,
            HeaderValue::from_static(
                "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
            ),
        );
        headers.insert(
            header::ACCEPT_LANGUAGE,
            HeaderValue::from_str(&accept_language(&options.lang))?,
        );
        let client = reqwest::Client::builder()
            .user_agent(options.user_agent.clone())
            .default_headers(headers)
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(options.connect_timeout)
            .timeout(options.timeout)
            .pool_max_idle_per_host(options.per_host.max(1))
            .tls_danger_accept_invalid_certs(options.insecure)
            .http1_max_headers(MAX_RESPONSE_HEADERS)
            .build()?;
        Ok(HttpFetcher {
            client,
            secrets: secret_headers(&options)?,
            options,
            hosts: Mutex::new(HashMap::new()),
        })
    }

    /// Fetches a page, following redirects; the whole fetch is bounded by twice the timeout
    /// per attempt, so a site that trickles bytes cannot hold a worker for ever.
    pub async fn fetch(&self, input: &str, url: &Url) -> Result<Page, PageError> {
        let budget = self.options.timeout * 2 * (self.options.retries + 1);
        match tokio::time::timeout(budget, self.fetch_chain(input, url)).await {
            Ok(result) => result,
            Err(_) => Err(PageError::new(
                ErrorKind::Timeout,
                format!("no complete answer within {}s", budget.as_secs()),
            )),
        }
    }

    async fn fetch_chain(&self, input: &str, start: &Url) -> Result<Page, PageError> {
        let mut url = start.clone();
        let mut redirects = Vec::new();
        let mut set_cookies = Vec::new();
        loop {
            let response = self
                .get_with_retries(&url, may_receive_secrets(start, &url))
                .await?;
            set_cookies.extend(
                response
                    .headers
                    .get_all(header::SET_COOKIE)
                    .iter()
                    // Values in UTF-8 (or worse) are still cookies a visitor keeps.
                    .map(|v| SetCookie {
                        header: String::from_utf8_lossy(v.as_bytes()).into_owned(),
                        url: url.to_string(),
                    }),
            );
            if (300..400).contains(&response.status)
                && response.headers.contains_key(header::LOCATION)
            {
                let next = next_hop(&url, &response.headers)?;
                redirects.push(Redirect {
                    url: url.to_string(),
                    status: response.status,
                });
                if redirects.iter().any(|r| r.url == next.as_str()) {
                    return Err(PageError::new(
                        ErrorKind::RedirectLoop,
                        format!("redirect loop back to {next}"),
                    ));
                }
                if redirects.len() > self.options.max_redirects {
                    return Err(PageError::new(
                        ErrorKind::RedirectLoop,
                        format!("more than {} redirects", self.options.max_redirects),
                    ));
                }
                url = next;
                continue;
            }
            return self.page_from(input, url, response, redirects, set_cookies);
        }
    }

    fn page_from(
        &self,
        input: &str,
        url: Url,
        response: Response,
        redirects: Vec<Redirect>,
        set_cookies: Vec<SetCookie>,
    ) -> Result<Page, PageError> {
        let content_type = header_str(&response.headers, header::CONTENT_TYPE);
        if response.status >= 400 {
            return Err(PageError {
                kind: ErrorKind::HttpStatus,
                message: format!("HTTP {} from {url}", response.status),
                status: Some(response.status),
            });
        }
        if let Some(ct) = &content_type
            && !is_html_type(ct)
        {
            return Err(PageError::new(
                ErrorKind::NotHtml,
                format!("{url} is {ct}, not HTML"),
            ));
        }
        if looks_binary(&response.body) {
            return Err(PageError::new(
                ErrorKind::NotHtml,
                format!("{url} sent binary data, not HTML"),
            ));
        }
        Ok(Page {
            status: Some(response.status),
            body_sha256: crate::text::sha256_hex(&response.body),
            content_language: header_str(&response.headers, header::CONTENT_LANGUAGE),
            redirects,
            set_cookies,
            ..Page::from_html(
                input,
                url.as_str(),
                decode_html(&response.body, content_type.as_deref()),
            )
        })
    }

    /// One request, retried with exponential backoff on connect errors, timeouts, 5xx and 429.
    async fn get_with_retries(&self, url: &Url, secrets: bool) -> Result<Response, PageError> {
        let mut attempt = 0;
        loop {
            let result = self.get_once(url, secrets).await;
            let retry_after = match &result {
                Ok(r) if r.status == 429 || r.status >= 500 => Some(retry_after(&r.headers)),
                Err(e) if matches!(e.kind, ErrorKind::Connect | ErrorKind::Timeout) => Some(None),
                _ => None,
            };
            match retry_after {
                Some(wait) if attempt < self.options.retries => {
                    let backoff = Duration::from_millis(250 * 2u64.pow(attempt));
                    tokio::time::sleep(wait.unwrap_or(backoff).min(Duration::from_secs(60))).await;
                    attempt += 1;
                }
                _ => return result,
            }
        }
    }

    async fn get_once(&self, url: &Url, secrets: bool) -> Result<Response, PageError> {
        let permit_pool = self.host_semaphore(url);
        let _permit = permit_pool
            .acquire()
            .await
            .expect("host semaphores are never closed");
        let mut request = self.client.get(url.clone());
        if secrets {
            request = request.headers(self.secrets.clone());
        }
        let mut response = request.send().await.map_err(|e| classify(&e, url))?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let cap = self.options.max_body;
        if response
            .content_length()
            .is_some_and(|len| len as usize > cap)
        {
            return Err(too_large(url, cap));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| classify(&e, url))? {
            if body.len() + chunk.len() > cap {
                return Err(too_large(url, cap));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Response {
            status,
            headers,
            body,
        })
    }

    /// One of the `--per-host` slots of `url`'s host, for visits made outside this client (a
    /// browser's), so that they share the same politeness.
    pub async fn host_slot(&self, url: &Url) -> tokio::sync::OwnedSemaphorePermit {
        self.host_semaphore(url)
            .acquire_owned()
            .await
            .expect("host semaphores are never closed")
    }

    fn host_semaphore(&self, url: &Url) -> Arc<Semaphore> {
        let host = url.host_str().unwrap_or_default().to_owned();
        let mut hosts = self.hosts.lock().expect("host table lock");
        hosts
            .entry(host)
            .or_insert_with(|| Arc::new(Semaphore::new(self.options.per_host.max(1))))
            .clone()
    }

    /// A small text resource (a sitemap, `.xml.gz` too), with the same client and politeness,
    /// following redirects. `secrets`: send `--header` and `--cookie` (only to the host the user
    /// named, and never after a redirect to another; a sitemap index can point anywhere).
    pub async fn fetch_text(&self, url: &Url, secrets: bool) -> Result<String, PageError> {
        let mut current = url.clone();
        for _ in 0..=self.options.max_redirects {
            let send = secrets && may_receive_secrets(url, &current);
            let response = self.get_with_retries(&current, send).await?;
            if (300..400).contains(&response.status) {
                current = next_hop(&current, &response.headers)?;
                continue;
            }
            if response.status >= 400 {
                return Err(PageError {
                    kind: ErrorKind::HttpStatus,
                    message: format!("HTTP {} from {current}", response.status),
                    status: Some(response.status),
                });
            }
            return Ok(gunzipped(&response.body));
        }
        Err(PageError::new(
            ErrorKind::RedirectLoop,
            format!("{url}: more than {} redirects", self.options.max_redirects),
        ))
    }
}

/// A body that is a gzip file (`sitemap.xml.gz` served as such, not as an encoding) inflated;
/// any other body as text.
fn gunzipped(body: &[u8]) -> String {
    use std::io::Read;
    let mut text = String::new();
    if body.starts_with(&[0x1f, 0x8b])
        && flate2::read::GzDecoder::new(body)
            .take(MAX_INFLATED as u64)
            .read_to_string(&mut text)
            .is_ok()
    {
        return text;
    }
    String::from_utf8_lossy(body).into_owned()
}

/// A sitemap holds at most 50 MB uncompressed (sitemaps.org); more is a decompression bomb.
const MAX_INFLATED: usize = 50 * 1024 * 1024;

/// The user's headers and cookie, marked sensitive so no debug output shows them.
fn secret_headers(options: &FetchOptions) -> Result<HeaderMap, ClientError> {
    let mut secrets = HeaderMap::new();
    let cookie = options.cookie.as_deref().map(|c| ("cookie", c));
    for (name, value) in options
        .headers
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .chain(cookie)
    {
        let mut value = HeaderValue::from_str(value)?;
        value.set_sensitive(true);
        secrets.insert(HeaderName::from_bytes(name.as_bytes())?, value);
    }
    Ok(secrets)
}

/// Credentials for a staging site must not follow a redirect to another host, nor from
/// HTTPS down to plain HTTP (ports are ignored, as browsers do for cookies).
fn may_receive_secrets(target: &Url, url: &Url) -> bool {
    url.host_str() == target.host_str() && (url.scheme() == "https" || target.scheme() == "http")
}

fn accept_language(lang: &str) -> String {
    let primary = lang.split(['-', '_']).next().unwrap_or(lang);
    if primary == lang {
        format!("{lang},en;q=0.5")
    } else {
        format!("{lang},{primary};q=0.9,en;q=0.5")
    }
}

fn next_hop(current: &Url, headers: &HeaderMap) -> Result<Url, PageError> {
    let location = header_str(headers, header::LOCATION).unwrap_or_default();
    let next = current.join(&location).map_err(|e| {
        PageError::new(
            ErrorKind::HttpStatus,
            format!("bad redirect Location {location:?}: {e}"),
        )
    })?;
    if !matches!(next.scheme(), "http" | "https") {
        return Err(PageError::new(
            ErrorKind::HttpStatus,
            format!("refused a redirect to {next}: only http and https are followed"),
        ));
    }
    Ok(next)
}

fn header_str(headers: &HeaderMap, name: HeaderName) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

fn is_html_type(content_type: &str) -> bool {
    let mime = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    mime.is_empty()
        || mime == "text/html"
        || mime == "application/xhtml+xml"
        || mime == "text/plain"
}

/// An image, archive or ciphertext served under an HTML type: the first KiB holds a NUL, or
/// is more than 5% "binary data bytes" (control characters no text uses, per the WHATWG
/// MIME Sniffing standard; about 10% of random bytes are).
fn looks_binary(body: &[u8]) -> bool {
    let head = &body[..body.len().min(1024)];
    let binary = |b: &&u8| matches!(**b, 0x00..=0x08 | 0x0B | 0x0E..=0x1A | 0x1C..=0x1F);
    head.contains(&0) || head.iter().filter(binary).count() * 20 > head.len()
}

/// Seconds or an HTTP date, as servers send it.
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = header_str(headers, header::RETRY_AFTER)?;
    if let Ok(secs) = value.trim().parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = chrono::DateTime::parse_from_rfc2822(value.trim()).ok()?;
    (when.with_timezone(&Utc) - Utc::now()).to_std().ok()
}

fn too_large(url: &Url, cap: usize) -> PageError {
    PageError::new(
        ErrorKind::TooLarge,
        format!("{url} is larger than the {cap}-byte limit"),
    )
}

fn classify(error: &reqwest::Error, url: &Url) -> PageError {
    let chain = error_chain(error);
    let kind = if error.is_timeout() {
        ErrorKind::Timeout
    } else if let Some(kind) = ErrorKind::from_message(&chain) {
        kind
    } else if error.is_body() || error.is_decode() {
        ErrorKind::Io
    } else {
        ErrorKind::Connect
    };
    PageError::new(kind, format!("{url}: {chain}"))
}

fn error_chain(error: &dyn std::error::Error) -> String {
    let mut parts = vec![error.to_string()];
    let mut source = error.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = s.source();
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language_prefers_the_requested_locale() {
        assert_eq!(accept_language("fr-FR"), "fr-FR,fr;q=0.9,en;q=0.5");
        assert_eq!(accept_language("de"), "de,en;q=0.5");
    }

    #[test]
    fn secrets_stay_on_the_target_host_and_off_plain_http() {
        let target = Url::parse("https://staging.example.com/").unwrap();
        let hop = |u: &str| may_receive_secrets(&target, &Url::parse(u).unwrap());
        assert!(hop("https://staging.example.com:8443/login"));
        assert!(!hop("https://evil.example.net/"));
        assert!(!hop("http://staging.example.com/"));
        let plain = Url::parse("http://staging.example.com/").unwrap();
        assert!(may_receive_secrets(&plain, &target));
    }

    #[test]
    fn binary_bodies_are_recognised_without_a_nul() {
        assert!(looks_binary(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"));
        let noise: Vec<u8> = (1..=255u8).cycle().take(1024).collect();
        assert!(looks_binary(&noise));
        assert!(!looks_binary(
            "<p>Déjà vu,\t\x0c a page with one stray escape \x1b</p>".as_bytes()
        ));
    }

    #[test]
    fn non_html_types_are_recognised() {
        assert!(is_html_type("text/html; charset=utf-8"));
        assert!(!is_html_type("application/pdf"));
    }
}
