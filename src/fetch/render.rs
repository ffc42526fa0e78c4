//! Render mode: a real headless Chromium over the DevTools protocol. One browser, a tab per page in
//! a fresh browser context (no state shared between sites), the rendered DOM with shadow roots and
//! frames folded in, every cookie and request, a screenshot, and a click on reject (or accept).

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex as StdMutex};
use std::time::{Duration, Instant};

use chromiumoxide::Page as Tab;
use chromiumoxide::browser::{Browser, BrowserConfig};
use chromiumoxide::cdp::browser_protocol::browser::BrowserContextId;
use chromiumoxide::cdp::browser_protocol::emulation::SetUserAgentOverrideParams;
use chromiumoxide::cdp::browser_protocol::network::{
    EventRequestWillBeSent, Headers, SetExtraHttpHeadersParams,
};
use chromiumoxide::cdp::browser_protocol::page::CaptureScreenshotFormat;
use chromiumoxide::cdp::browser_protocol::storage::GetCookiesParams;
use chromiumoxide::cdp::browser_protocol::target::{
    CreateBrowserContextParams, CreateTargetParams,
};
use chromiumoxide::cdp::js_protocol::runtime::EvaluateParams;
use chromiumoxide::page::ScreenshotParams;
use chrono::Utc;
use futures::StreamExt;
use tokio::sync::{Mutex, Semaphore};

use super::Rendered;
use crate::cli::Interact;
use crate::config::AuditSettings;
use crate::extract::cookies::RawCookie;
use crate::facts::{Banner, Cookie, CookieSource, Interaction, Mode, Role, Tracker};
use crate::knowledge::Knowledge;
use crate::page::{ErrorKind, Page, PageError};
use crate::targets::Target;

const SNAPSHOT_JS: &str = include_str!("snapshot.js");
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

pub struct Renderer {
    settings: AuditSettings,
    executable: PathBuf,
    live: Mutex<Option<Live>>,
    tabs: Semaphore,
    profile_dir: PathBuf,
}

struct Live {
    browser: Browser,
    handler: tokio::task::JoinHandle<()>,
}

/// Finds Chromium: `--chrome`, else the usual names on PATH.
pub fn find_browser(explicit: Option<&Path>) -> Result<PathBuf, String> {
    if let Some(p) = explicit {
        return if p.is_file() {
            Ok(p.to_path_buf())
        } else {
            Err(format!("--chrome {}: no such file", p.display()))
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
    Err("render mode needs Chromium or Chrome, and none was found. Install it (Debian/Ubuntu: `apt-get install -y chromium`) or give its path with --chrome PATH".into())
}

impl Renderer {
    pub async fn start(settings: &AuditSettings) -> anyhow::Result<Renderer> {
        let executable = find_browser(settings.chrome.as_deref()).map_err(anyhow::Error::msg)?;
        let profile_dir = std::env::temp_dir().join(format!(
            "cookie-audit-chromium-{}-{}",
            std::process::id(),
            Utc::now().timestamp_nanos_opt().unwrap_or(0)
        ));
        let renderer = Renderer {
            settings: settings.clone(),
            executable,
            live: Mutex::new(None),
            tabs: Semaphore::new(settings.concurrency.max(1)),
            profile_dir,
        };
        renderer.ensure_browser().await?;
        Ok(renderer)
    }

    async fn launch(&self) -> anyhow::Result<Live> {
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
        args.push(format!("lang={}", self.settings.fetch.lang));
        args.push(format!("window-size={},{}", VIEWPORT.0, VIEWPORT.1));
        if self.settings.fetch.insecure {
            args.push("ignore-certificate-errors".into());
        }
        args.extend(
            self.settings
                .chrome_args
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
            .request_timeout(self.settings.fetch.timeout)
            .build()
            .map_err(anyhow::Error::msg)?;
        let (browser, mut handler) = Browser::launch(config).await?;
        let handler = tokio::spawn(async move { while handler.next().await.is_some() {} });
        Ok(Live { browser, handler })
    }

    async fn ensure_browser(&self) -> anyhow::Result<()> {
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

    /// Renders one target; any browser failure becomes a per-page `render` error.
    pub async fn render(&self, target: &Target, knowledge: &Knowledge) -> Result<Page, PageError> {
        let _tab = self
            .tabs
            .acquire()
            .await
            .expect("tab semaphore is never closed");
        let url = match target {
            Target::Url { url, .. } => url.to_string(),
            Target::File { path, .. } => {
                url::Url::from_file_path(std::fs::canonicalize(path).map_err(|e| {
                    PageError::new(ErrorKind::Io, format!("{}: {e}", path.display()))
                })?)
                .map(String::from)
                .map_err(|_| {
                    PageError::new(
                        ErrorKind::Io,
                        format!("{}: not a valid path", path.display()),
                    )
                })?
            }
        };
        let render_err =
            |e: &dyn std::fmt::Display| PageError::new(ErrorKind::Render, format!("{url}: {e}"));
        self.ensure_browser().await.map_err(|e| render_err(&e))?;
        let (context, tab) = self.open_tab().await.map_err(|e| render_err(&e))?;
        let limit = self.settings.fetch.timeout * 2 + self.settings.banner_wait * 2;
        let result = tokio::time::timeout(
            limit,
            self.visit(&tab, &context, target.input(), &url, knowledge),
        )
        .await;
        let _ = tab.close().await;
        if let Some(live) = self.live.lock().await.as_ref() {
            let _ = live.browser.dispose_browser_context(context).await;
        }
        match result {
            Ok(Ok(page)) => Ok(page),
            Ok(Err(e)) => Err(e),
            Err(_) => Err(PageError::new(
                ErrorKind::Timeout,
                format!("{url}: the page did not settle within {}s", limit.as_secs()),
            )),
        }
    }

    async fn open_tab(&self) -> anyhow::Result<(BrowserContextId, Tab)> {
        let live = self.live.lock().await;
        let browser = &live
            .as_ref()
            .ok_or_else(|| anyhow::anyhow!("the browser is not running"))?
            .browser;
        let context = browser
            .create_browser_context(CreateBrowserContextParams::default())
            .await?;
        let params = CreateTargetParams::builder()
            .url("about:blank")
            .browser_context_id(context.clone())
            .build()
            .map_err(anyhow::Error::msg)?;
        let tab = browser.new_page(params).await?;
        Ok((context, tab))
    }

    async fn visit(
        &self,
        tab: &Tab,
        context: &BrowserContextId,
        input: &str,
        url: &str,
        knowledge: &Knowledge,
    ) -> Result<Page, PageError> {
        let err =
            |e: &dyn std::fmt::Display| PageError::new(ErrorKind::Render, format!("{url}: {e}"));
        let fetch = &self.settings.fetch;
        let ua = SetUserAgentOverrideParams::builder()
            .user_agent(fetch.user_agent.clone())
            .accept_language(fetch.lang.clone())
            .build()
            .map_err(|e| err(&e))?;
        tab.execute(ua).await.map_err(|e| err(&e))?;
        let mut extra: Vec<(String, String)> = fetch.headers.clone();
        if let Some(c) = &fetch.cookie {
            extra.push(("Cookie".into(), c.clone()));
        }
        if !extra.is_empty() {
            let map: serde_json::Map<String, serde_json::Value> = extra
                .into_iter()
                .map(|(k, v)| (k, serde_json::Value::String(v)))
                .collect();
            tab.execute(SetExtraHttpHeadersParams::new(Headers::new(
                serde_json::Value::Object(map),
            )))
            .await
            .map_err(|e| err(&e))?;
        }
        let requests: Arc<StdMutex<Vec<(String, String)>>> = Arc::default();
        let mut events = tab
            .event_listener::<EventRequestWillBeSent>()
            .await
            .map_err(|e| err(&e))?;
        let sink = requests.clone();
        let listener = tokio::spawn(async move {
            while let Some(ev) = events.next().await {
                let kind = ev
                    .r#type
                    .as_ref()
                    .map(|t| format!("{t:?}").to_lowercase())
                    .unwrap_or_default();
                sink.lock()
                    .expect("request log")
                    .push((ev.request.url.clone(), kind));
            }
        });
        let outcome = self
            .visit_inner(tab, context, input, url, knowledge, &requests)
            .await;
        listener.abort();
        outcome
    }

    async fn visit_inner(
        &self,
        tab: &Tab,
        context: &BrowserContextId,
        input: &str,
        url: &str,
        knowledge: &Knowledge,
        requests: &Arc<StdMutex<Vec<(String, String)>>>,
    ) -> Result<Page, PageError> {
        let err = |e: &dyn std::fmt::Display| {
            PageError::new(classify(&e.to_string()), format!("{url}: {e}"))
        };
        let fetched_at = Utc::now();
        tab.goto(url).await.map_err(|e| err(&e))?;
        settle(requests, Duration::from_secs(3)).await;
        let status = eval_i64(
            tab,
            "(performance.getEntriesByType('navigation')[0] || {}).responseStatus || 0",
        )
        .await
        .filter(|s| *s > 0)
        .map(|s| s as u16);
        if let Some(s) = status.filter(|s| *s >= 400) {
            return Err(PageError {
                kind: ErrorKind::HttpStatus,
                message: format!("HTTP {s} from {url}"),
                status: Some(s),
            });
        }
        let final_url = tab
            .url()
            .await
            .ok()
            .flatten()
            .unwrap_or_else(|| url.to_owned());
        let mut html = self.wait_for_banner(tab, knowledge, &final_url).await;
        let requests_before: Vec<(String, String)> = requests.lock().expect("request log").clone();
        let page_host = url::Url::parse(&final_url)
            .ok()
            .and_then(|u| u.host_str().map(str::to_owned))
            .unwrap_or_default();
        let cookies = self.cookies(context, knowledge, &page_host, true).await;
        let storage_keys = eval_string_list(tab, "Object.keys(window.localStorage || {})").await;
        let scroll_locked = eval_i64(tab, "['hidden','clip'].includes(getComputedStyle(document.body).overflowY) || ['hidden','clip'].includes(getComputedStyle(document.documentElement).overflowY) ? 1 : 0").await == Some(1);
        let screenshot = self.screenshot(tab, input).await;

        let banner = banner_of(&html, &final_url, knowledge);
        let mut interaction = None;
        if self.settings.interact != Interact::None
            && let Some(banner) = &banner
        {
            let choice = if self.settings.interact == Interact::Accept {
                Role::Accept
            } else {
                Role::Reject
            };
            let mark = requests.lock().expect("request log").len();
            let clicks = self
                .choose(tab, banner, choice, knowledge, &final_url)
                .await;
            settle(requests, Duration::from_secs(3)).await;
            let after: Vec<(String, String)> =
                requests.lock().expect("request log")[mark..].to_vec();
            let mut trackers_after: Vec<Tracker> = Vec::new();
            let page = url::Url::parse(&final_url).ok();
            for (u, _) in &after {
                crate::extract::trackers::push_request(
                    &mut trackers_after,
                    knowledge,
                    page.as_ref(),
                    u,
                );
            }
            let accept_clicks = clicks_to(banner, Role::Accept);
            interaction = Some(Interaction {
                choice: choice.as_str().into(),
                clicks: clicks.as_ref().ok().copied(),
                clicks_to_accept: accept_clicks,
                cookies_after: self.cookies(context, knowledge, &page_host, false).await,
                trackers_after,
                error: clicks.err(),
            });
        }
        if html.is_empty() {
            html = snapshot(tab).await.map_err(|e| err(&e))?;
        }
        Ok(Page {
            input: input.to_owned(),
            url: final_url,
            status,
            mode: Mode::Render,
            fetched_at,
            body_sha256: crate::text::sha256_hex(html.as_bytes()),
            content_language: None,
            redirects: Vec::new(),
            set_cookies: Vec::new(),
            rendered: Some(Rendered {
                cookies,
                requests: requests_before,
                storage_keys,
                screenshot,
                scroll_locked,
                interaction,
            }),
            html,
        })
    }

    /// Polls the rendered DOM until a banner shows or `--banner-wait` passes; returns the last snapshot.
    async fn wait_for_banner(&self, tab: &Tab, knowledge: &Knowledge, url: &str) -> String {
        let deadline = Instant::now() + self.settings.banner_wait;
        loop {
            let html = snapshot(tab).await.unwrap_or_default();
            if banner_of(&html, url, knowledge).is_some_and(|b| b.present)
                || Instant::now() >= deadline
            {
                return html;
            }
            tokio::time::sleep(Duration::from_millis(400)).await;
        }
    }

    /// Makes the choice: the first-layer button, else through settings with every purpose unticked.
    async fn choose(
        &self,
        tab: &Tab,
        banner: &Banner,
        choice: Role,
        knowledge: &Knowledge,
        url: &str,
    ) -> Result<u32, String> {
        if let Some(handle) = first_layer_handle(banner, choice) {
            click(tab, &handle).await?;
            return Ok(1);
        }
        let settings = first_layer_handle(banner, Role::Settings).ok_or_else(|| {
            format!(
                "no {} or settings control on the first layer",
                choice.as_str()
            )
        })?;
        click(tab, &settings).await?;
        tokio::time::sleep(Duration::from_millis(800)).await;
        let html = snapshot(tab).await.map_err(|e| e.to_string())?;
        let second = banner_of(&html, url, knowledge)
            .ok_or("the banner disappeared after opening its settings")?;
        let any_layer = |role: Role| {
            second
                .buttons
                .iter()
                .find(|b| b.role == role && b.handle.is_some())
                .and_then(|b| b.handle.clone())
        };
        if let Some(handle) = any_layer(choice) {
            click(tab, &handle).await?;
            return Ok(2);
        }
        if choice == Role::Reject {
            // "Save my choices" with nothing ticked is the refusal the settings layer offers.
            let untick = "document.querySelectorAll('input[type=checkbox]:checked:not(:disabled),[role=switch][aria-checked=true]').forEach(e => e.click())";
            let _ = tab.evaluate(untick).await;
            if let Some(save) = second
                .buttons
                .iter()
                .filter(|b| b.role == Role::Settings && !b.first_layer)
                .find_map(|b| b.handle.clone())
            {
                click(tab, &save).await?;
                return Ok(3);
            }
        }
        Err(format!(
            "no way to {} was found in the settings layer",
            choice.as_str()
        ))
    }

    async fn cookies(
        &self,
        context: &BrowserContextId,
        knowledge: &Knowledge,
        page_host: &str,
        before_consent: bool,
    ) -> Vec<Cookie> {
        let live = self.live.lock().await;
        let Some(live) = live.as_ref() else {
            return Vec::new();
        };
        let params = GetCookiesParams::builder()
            .browser_context_id(context.clone())
            .build();
        let Ok(resp) = live.browser.execute(params).await else {
            return Vec::new();
        };
        let now = Utc::now().timestamp() as f64;
        resp.result
            .cookies
            .iter()
            .filter_map(|c| {
                let raw = RawCookie {
                    name: c.name.clone(),
                    value_len: c.value.len(),
                    domain: c.domain.trim_start_matches('.').to_owned(),
                    path: c.path.clone(),
                    lifetime_days: (!c.session && c.expires > 0.0)
                        .then(|| (c.expires - now) / 86_400.0),
                    secure: c.secure,
                    http_only: c.http_only,
                    same_site: c.same_site.as_ref().map(|s| format!("{s:?}")),
                };
                raw.classify(
                    &knowledge.cookies,
                    page_host,
                    CookieSource::Browser,
                    before_consent,
                )
            })
            .collect()
    }

    async fn screenshot(&self, tab: &Tab, input: &str) -> Option<String> {
        let png = tab
            .screenshot(
                ScreenshotParams::builder()
                    .format(CaptureScreenshotFormat::Png)
                    .build(),
            )
            .await
            .ok()?;
        let dir = self.settings.output.join("screenshots");
        std::fs::create_dir_all(&dir).ok()?;
        let name: String = input
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .take(80)
            .collect();
        let path = dir.join(format!(
            "{name}-{}.png",
            &crate::text::sha256_hex(input.as_bytes())[..8]
        ));
        std::fs::write(&path, png).ok()?;
        Some(path.display().to_string())
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

fn classify(message: &str) -> ErrorKind {
    let m = message.to_ascii_lowercase();
    if m.contains("name_not_resolved") {
        ErrorKind::Dns
    } else if m.contains("connection_refused")
        || m.contains("connection_reset")
        || m.contains("address_unreachable")
    {
        ErrorKind::Connect
    } else if m.contains("cert") || m.contains("ssl") {
        ErrorKind::Tls
    } else if m.contains("timed_out") || m.contains("timeout") {
        ErrorKind::Timeout
    } else {
        ErrorKind::Render
    }
}

fn banner_of(html: &str, url: &str, knowledge: &Knowledge) -> Option<Banner> {
    let page = Page {
        input: url.to_owned(),
        url: url.to_owned(),
        status: None,
        mode: Mode::Render,
        fetched_at: Utc::now(),
        body_sha256: String::new(),
        content_language: None,
        redirects: Vec::new(),
        set_cookies: Vec::new(),
        html: html.to_owned(),
        rendered: None,
    };
    crate::extract::extract(&page, knowledge).banner
}

fn first_layer_handle(banner: &Banner, role: Role) -> Option<String> {
    banner
        .buttons
        .iter()
        .find(|b| b.role == role && b.first_layer)
        .and_then(|b| b.handle.clone())
}

/// Clicks accepting takes: one on the first layer, two through settings, unknown otherwise.
fn clicks_to(banner: &Banner, role: Role) -> Option<u32> {
    if banner
        .buttons
        .iter()
        .any(|b| b.role == role && b.first_layer)
    {
        Some(1)
    } else if banner.buttons.iter().any(|b| b.role == role) {
        Some(2)
    } else {
        None
    }
}

/// The page's DOM, and the DOM of each of its frames appended at the end of the body.
async fn snapshot(tab: &Tab) -> anyhow::Result<String> {
    let main: String = tab
        .evaluate(format!("({SNAPSHOT_JS})('m')"))
        .await?
        .into_value()?;
    let mut frames = String::new();
    let main_frame = tab.mainframe().await.ok().flatten();
    for (i, frame) in tab
        .frames()
        .await
        .unwrap_or_default()
        .into_iter()
        .enumerate()
    {
        if Some(&frame) == main_frame.as_ref() {
            continue;
        }
        let Ok(Some(ctx)) = tab.frame_execution_context(frame.clone()).await else {
            continue;
        };
        let params = EvaluateParams::builder()
            .expression(format!("({SNAPSHOT_JS})('f{i}')"))
            .context_id(ctx)
            .return_by_value(true)
            .build()
            .map_err(anyhow::Error::msg)?;
        if let Ok(result) = tab.evaluate_expression(params).await
            && let Ok(html) = result.into_value::<String>()
        {
            frames.push_str(&format!(
                "<div data-cookie-audit-frame=\"{i}\">{html}</div>"
            ));
        }
    }
    Ok(match main.rfind("</body>") {
        Some(pos) if !frames.is_empty() => format!("{}{frames}{}", &main[..pos], &main[pos..]),
        _ => main,
    })
}

async fn click(tab: &Tab, handle: &str) -> Result<(), String> {
    let frame_prefix = handle.split('-').next().unwrap_or("m");
    let js = format!(
        "(() => {{ const find = (root) => {{ const el = root.querySelector('[data-cookie-audit-id=\"{handle}\"]'); if (el) return el; for (const h of root.querySelectorAll('*')) {{ if (h.shadowRoot) {{ const f = find(h.shadowRoot); if (f) return f; }} }} return null; }}; const el = find(document); if (!el) return false; el.scrollIntoView({{block: 'center'}}); el.click(); return true; }})()"
    );
    let done = if frame_prefix == "m" {
        tab.evaluate(js)
            .await
            .ok()
            .and_then(|r| r.into_value::<bool>().ok())
    } else {
        let index: usize = frame_prefix
            .trim_start_matches('f')
            .parse()
            .unwrap_or(usize::MAX);
        let frame = tab
            .frames()
            .await
            .ok()
            .and_then(|f| f.into_iter().nth(index));
        match frame {
            Some(frame) => match tab.frame_execution_context(frame).await {
                Ok(Some(ctx)) => {
                    let params = EvaluateParams::builder()
                        .expression(js)
                        .context_id(ctx)
                        .return_by_value(true)
                        .build()
                        .map_err(|e| e.to_string())?;
                    tab.evaluate_expression(params)
                        .await
                        .ok()
                        .and_then(|r| r.into_value::<bool>().ok())
                }
                _ => None,
            },
            None => None,
        }
    };
    if done == Some(true) {
        Ok(())
    } else {
        Err(format!("the control {handle} could not be clicked"))
    }
}

/// Waits until no new request has started for 500 ms, at most `max`.
async fn settle(requests: &Arc<StdMutex<Vec<(String, String)>>>, max: Duration) {
    let start = Instant::now();
    let mut last = usize::MAX;
    let mut quiet_since = Instant::now();
    while start.elapsed() < max {
        let n = requests.lock().expect("request log").len();
        if n != last {
            last = n;
            quiet_since = Instant::now();
        } else if quiet_since.elapsed() >= Duration::from_millis(500) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn eval_i64(tab: &Tab, js: &str) -> Option<i64> {
    tab.evaluate(js).await.ok()?.into_value::<i64>().ok()
}

async fn eval_string_list(tab: &Tab, js: &str) -> Vec<String> {
    match tab.evaluate(js).await {
        Ok(r) => r.into_value::<Vec<String>>().unwrap_or_default(),
        Err(_) => Vec::new(),
    }
}
