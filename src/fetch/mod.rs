//! Getting pages: over HTTP, from local files, or through a real browser. Fetchers return what
//! they observed (`page::Page`); they never classify it.

pub mod decode;
pub mod file;
pub mod http;
#[cfg(feature = "render")]
pub mod render;

/// Settings shared by every fetcher.
#[derive(Debug, Clone)]
pub struct FetchOptions {
    pub user_agent: String,
    pub lang: String,
    pub headers: Vec<(String, String)>,
    pub cookie: Option<String>,
    pub timeout: std::time::Duration,
    pub connect_timeout: std::time::Duration,
    pub retries: u32,
    pub max_redirects: usize,
    pub max_body: usize,
    pub insecure: bool,
    pub per_host: usize,
    pub base_url: Option<url::Url>,
}

pub const DEFAULT_USER_AGENT: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";

impl FetchOptions {
    /// The defaults with a request time limit; connecting gets at most ten seconds of it.
    pub fn with_timeout(timeout: std::time::Duration) -> FetchOptions {
        FetchOptions {
            timeout,
            connect_timeout: timeout.min(std::time::Duration::from_secs(10)),
            ..FetchOptions::default()
        }
    }
}

impl Default for FetchOptions {
    fn default() -> Self {
        FetchOptions {
            user_agent: DEFAULT_USER_AGENT.into(),
            lang: "en".into(),
            headers: Vec::new(),
            cookie: None,
            timeout: std::time::Duration::from_secs(30),
            connect_timeout: std::time::Duration::from_secs(10),
            retries: 2,
            max_redirects: 10,
            max_body: 10 * 1024 * 1024,
            insecure: false,
            per_host: 2,
            base_url: None,
        }
    }
}
