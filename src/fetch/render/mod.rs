//! Render mode's fetcher: a real headless Chromium over the DevTools protocol. One browser, a tab
//! per page in a fresh browser context (no state shared between sites). It observes and acts when
//! told to; deciding what a banner is and what to click is the pipeline's job.

mod tab;

use std::path::{Path, PathBuf};
use std::time::Duration;

use chromiumoxide::browser::{Browser, BrowserConfig};
use chromiumoxide::cdp::browser_protocol::target::{
    CreateBrowserContextParams, CreateTargetParams,
};
use chrono::Utc;
use futures::StreamExt;
use tokio::sync::{Mutex, OwnedSemaphorePermit, Semaphore};

pub use tab::Visit;

use super::FetchOptions;

/// Places a browser binary is commonly installed.
const BROWSERS: [&str; 6] = [
    "chromium",
    "chromium-browser",
    "google-chrome",
    "google-chrome-stable",
    "chrome",
    "/usr/bin/chromium",
];
const VIEWPORT: (u32, u32) = (1366, 900);

/// What the browser needs besides the fetch options.
#[derive(Debug, Clone, Default)]
pub struct BrowserOptions {
    /// Chromium or Chrome; found on PATH when not given.
    pub executable: Option<PathBuf>,
    /// Extra command-line flags.
    pub args: Vec<String>,
    /// Tabs open at once.
    pub tabs: usize,
    /// Folder for screenshots; none are taken without one.
    pub screenshots: Option<PathBuf>,
}

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("--chrome {0}: no such file")]
    NoSuchBrowser(PathBuf),
    #[error(
        "render mode needs Chromium or Chrome, and none was found. Install it (Debian/Ubuntu: `apt-get install -y chromium`) or give its path with --chrome PATH"
    )]
    NoBrowser,
    #[error("cannot create the browser profile folder: {0}")]
    Profile(#[from] std::io::Error),
    #[error("the browser is not running")]
    NotRunning,
    #[error("the control {0} could not be clicked")]
    NotClicked(String),
    #[error("{0}")]
    Browser(String),
}

impl From<chromiumoxide::error::CdpError> for RenderError {
    fn from(e: chromiumoxide::error::CdpError) -> Self {
        RenderError::Browser(e.to_string())
    }
}

pub struct Renderer {
    fetch: FetchOptions,
    options: BrowserOptions,
    executable: PathBuf,
    live: Mutex<Option<Live>>,
    tabs: std::sync::Arc<Semaphore>,
    profile_dir: PathBuf,
}

struct Live {
    browser: Browser,
    handler: tokio::task::JoinHandle<()>,
}

/// Finds Chromium: the given path, else the usual names on PATH.
pub fn find_browser(explicit: Option<&Path>) -> Result<PathBuf, RenderError> {
    if let Some(p) = explicit {
        return if p.is_file() {
            Ok(p.to_path_buf())
        } else {
            Err(RenderError::NoSuchBrowser(p.to_path_buf()))
        };
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    for name in BROWSERS {
        let candidate = Path::new(name);
        if candidate.is_absolute() && candidate.is_file() {
            return Ok(candidate.to_path_buf());
        }
        if let Some(found) = std::env::split_paths(&path)
            .map(|d| d.join(name))
            .find(|p| p.is_file())
        {
            return Ok(found);
        }
    }
    Err(RenderError::NoBrowser)
}

impl Renderer {
    pub async fn start(
        fetch: FetchOptions,
        options: BrowserOptions,
    ) -> Result<Renderer, RenderError> {
        let executable = find_browser(options.executable.as_deref())?;
        let profile_dir = std::env::temp_dir().join(format!(
            "cookie-audit-chromium-{}-{}",
            std::process::id(),
            Utc::now().timestamp_nanos_opt().unwrap_or(0)
        ));
        let renderer = Renderer {
            tabs: std::sync::Arc::new(Semaphore::new(options.tabs.max(1))),
            fetch,
            options,
            executable,
            live: Mutex::new(None),
            profile_dir,
        };
        renderer.ensure_browser().await?;
        Ok(renderer)
    }

    /// The fetch options every visit uses (its overall time limit derives from their timeout).
    pub fn fetch_options(&self) -> &FetchOptions {
        &self.fetch
    }

    async fn launch(&self) -> Result<Live, RenderError> {
        std::fs::create_dir_all(&self.profile_dir)?;
        let mut args: Vec<String> = [
            "disable-gpu",
            "disable-background-networking",
            "disable-component-update",
            "disable-sync",
            "no-first-run",
            "no-default-browser-check",
            "disable-dev-shm-usage",
            "mute-audio",
            "hide-scrollbars",
            // Some consent libraries hide their banner from automated browsers.
            "disable-blink-features=AutomationControlled",
            // Cross-site iframes (e.g. Sourcepoint's banner) stay in the page's process, so their
            // DOM can be read through their execution context without relaxing the same-origin policy.
            "disable-site-isolation-trials",
            "disable-features=IsolateOrigins,site-per-process,Translate,MediaRouter",
            "disable-quic",
            "deny-permission-prompts",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        args.push(format!("lang={}", self.fetch.lang));
        args.push(format!("window-size={},{}", VIEWPORT.0, VIEWPORT.1));
        if self.fetch.insecure {
            args.push("ignore-certificate-errors".into());
        }
        args.extend(
            self.options
                .args
                .iter()
                .map(|a| a.trim_start_matches('-').to_owned()),
        );
        let config = BrowserConfig::builder()
            .chrome_executable(&self.executable)
            .disable_default_args()
            .no_sandbox()
            .args(args)
            .user_data_dir(&self.profile_dir)
            .window_size(VIEWPORT.0, VIEWPORT.1)
            .viewport(None)
            .launch_timeout(Duration::from_secs(30))
            .request_timeout(self.fetch.timeout)
            .build()
            .map_err(RenderError::Browser)?;
        let (browser, mut handler) = Browser::launch(config).await?;
        let handler = tokio::spawn(async move { while handler.next().await.is_some() {} });
        Ok(Live { browser, handler })
    }

    async fn ensure_browser(&self) -> Result<(), RenderError> {
        let mut live = self.live.lock().await;
        let dead = live.as_ref().is_none_or(|l| l.handler.is_finished());
        if dead {
            if let Some(mut old) = live.take() {
                let _ = old.browser.kill().await;
            }
            *live = Some(self.launch().await?);
        }
        Ok(())
    }

    /// A new tab in a fresh browser context, once a tab slot is free. Close it with
    /// [`Visit::close`].
    pub async fn open(&self, url: &str) -> Result<Visit<'_>, RenderError> {
        let permit: OwnedSemaphorePermit = self
            .tabs
            .clone()
            .acquire_owned()
            .await
            .expect("tab semaphore is never closed");
        self.ensure_browser().await?;
        let live = self.live.lock().await;
        let browser = &live.as_ref().ok_or(RenderError::NotRunning)?.browser;
        let context = browser
            .create_browser_context(CreateBrowserContextParams::default())
            .await?;
        let params = CreateTargetParams::builder()
            .url("about:blank")
            .browser_context_id(context.clone())
            .build()
            .map_err(RenderError::Browser)?;
        let tab = browser.new_page(params).await?;
        drop(live);
        Visit::start(self, tab, context, url.to_owned(), permit).await
    }

    async fn dispose(
        &self,
        context: chromiumoxide::cdp::browser_protocol::browser::BrowserContextId,
    ) {
        if let Some(live) = self.live.lock().await.as_ref() {
            let _ = live.browser.dispose_browser_context(context).await;
        }
    }

    async fn execute<T: chromiumoxide::types::Command>(
        &self,
        command: T,
    ) -> Result<chromiumoxide::types::CommandResponse<T::Response>, RenderError> {
        let live = self.live.lock().await;
        let live = live.as_ref().ok_or(RenderError::NotRunning)?;
        Ok(live.browser.execute(command).await?)
    }

    /// Closes the browser and removes its profile: no Chromium outlives the run.
    pub async fn shutdown(&self) {
        if let Some(mut live) = self.live.lock().await.take() {
            if tokio::time::timeout(Duration::from_secs(5), live.browser.close())
                .await
                .is_err()
            {
                let _ = live.browser.kill().await;
            }
            let _ = tokio::time::timeout(Duration::from_secs(5), live.browser.wait()).await;
            let _ = live.browser.kill().await;
            live.handler.abort();
        }
        let _ = std::fs::remove_dir_all(&self.profile_dir);
    }
}

impl Drop for Renderer {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.profile_dir);
    }
}
