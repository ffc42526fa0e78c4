//! One visit: a tab in its own browser context, the requests it makes, and what can be read from
//! it or done in it (the DOM with shadow roots and frames folded in, cookies, storage, a click).

use std::hash::{BuildHasher, RandomState};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chromiumoxide::Page as Tab;
use chromiumoxide::cdp::browser_protocol::browser::BrowserContextId;
use chromiumoxide::cdp::browser_protocol::emulation::SetUserAgentOverrideParams;
use chromiumoxide::cdp::browser_protocol::fetch::{
    ContinueRequestParams, EnableParams as FetchEnableParams, EventRequestPaused, HeaderEntry,
};
use chromiumoxide::cdp::browser_protocol::network::{EventRequestWillBeSent, SetCookieParams};
use chromiumoxide::cdp::browser_protocol::page::CaptureScreenshotFormat;
use chromiumoxide::cdp::browser_protocol::storage::GetCookiesParams;
use chromiumoxide::cdp::js_protocol::runtime::EvaluateParams;
use chromiumoxide::page::ScreenshotParams;
use chrono::Utc;
use futures::StreamExt;
use tokio::sync::OwnedSemaphorePermit;

use super::{RenderError, Renderer};
use crate::page::RawCookie;

const SNAPSHOT_JS: &str = include_str!("snapshot.js");

/// URLs the tab requested, in order, with their resource type.
type RequestLog = Arc<Mutex<Vec<(String, String)>>>;

pub struct Visit<'r> {
    renderer: &'r Renderer,
    tab: Tab,
    context: BrowserContextId,
    pub url: String,
    requests: RequestLog,
    listener: tokio::task::JoinHandle<()>,
    /// Adds `--header` to the target host's requests, when there are headers to add.
    credentials: Option<tokio::task::JoinHandle<()>>,
    _slot: OwnedSemaphorePermit,
}

/// `--cookie` and `--header` go to the target's own host only, as in static mode: the cookie is
/// set for that host's URL (the browser sends it nowhere else), and the headers are added to its
/// requests alone by pausing each request (DevTools `Fetch` domain). Returns the task that does it.
async fn send_credentials(
    tab: &Tab,
    url: &str,
    fetch: &crate::fetch::FetchOptions,
) -> Result<Option<tokio::task::JoinHandle<()>>, RenderError> {
    if let Some(cookie) = &fetch.cookie {
        for (name, value) in cookie.split(';').filter_map(|p| p.split_once('=')) {
            let params = SetCookieParams::builder()
                .name(name.trim())
                .value(value.trim())
                .url(url)
                .build()
                .map_err(RenderError::Browser)?;
            tab.execute(params).await?;
        }
    }
    if fetch.headers.is_empty() {
        return Ok(None);
    }
    let target = url::Url::parse(url).map_err(|e| RenderError::Browser(e.to_string()))?;
    let mut paused = tab.event_listener::<EventRequestPaused>().await?;
    tab.execute(FetchEnableParams::default()).await?;
    let (tab, extra) = (tab.clone(), fetch.headers.clone());
    Ok(Some(tokio::spawn(async move {
        while let Some(ev) = paused.next().await {
            let mut params = ContinueRequestParams::new(ev.request_id.clone());
            let own = url::Url::parse(&ev.request.url).is_ok_and(|u| {
                u.host_str() == target.host_str()
                    && (u.scheme() == "https" || target.scheme() == "http")
            });
            if own {
                let mut headers: Vec<HeaderEntry> = ev
                    .request
                    .headers
                    .inner()
                    .as_object()
                    .into_iter()
                    .flatten()
                    .map(|(k, v)| HeaderEntry::new(k, v.as_str().unwrap_or_default()))
                    .collect();
                headers.extend(extra.iter().map(|(k, v)| HeaderEntry::new(k, v)));
                params.headers = Some(headers);
            }
            let _ = tab.execute(params).await;
        }
    })))
}

impl<'r> Visit<'r> {
    pub(super) async fn start(
        renderer: &'r Renderer,
        tab: Tab,
        context: BrowserContextId,
        url: String,
        slot: OwnedSemaphorePermit,
    ) -> Result<Visit<'r>, RenderError> {
        let fetch = &renderer.fetch;
        let ua = SetUserAgentOverrideParams::builder()
            .user_agent(fetch.user_agent.clone())
            .accept_language(fetch.lang.clone())
            .build()
            .map_err(RenderError::Browser)?;
        tab.execute(ua).await?;
        let credentials = send_credentials(&tab, &url, fetch).await?;
        let requests: RequestLog = Arc::default();
        let mut events = tab.event_listener::<EventRequestWillBeSent>().await?;
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
        Ok(Visit {
            renderer,
            tab,
            context,
            url,
            requests,
            listener,
            credentials,
            _slot: slot,
        })
    }

    pub async fn goto(&self) -> Result<(), RenderError> {
        self.tab.goto(self.url.as_str()).await?;
        Ok(())
    }

    /// The HTTP status of the document, when the browser reports it.
    pub async fn status(&self) -> Option<u16> {
        self.eval_i64("(performance.getEntriesByType('navigation')[0] || {}).responseStatus || 0")
            .await
            .filter(|s| *s > 0)
            .and_then(|s| u16::try_from(s).ok())
    }

    /// The URL after redirects.
    pub async fn current_url(&self) -> String {
        self.tab
            .url()
            .await
            .ok()
            .flatten()
            .unwrap_or_else(|| self.url.clone())
    }

    /// Waits until no new request has started for 500 ms, at most `max`.
    pub async fn settle(&self, max: Duration) {
        let start = Instant::now();
        let mut last = usize::MAX;
        let mut quiet_since = Instant::now();
        while start.elapsed() < max {
            let n = self.request_count();
            if n != last {
                last = n;
                quiet_since = Instant::now();
            } else if quiet_since.elapsed() >= Duration::from_millis(500) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub fn request_count(&self) -> usize {
        self.requests.lock().expect("request log").len()
    }

    /// Requests from the `from`-th on.
    pub fn requests_since(&self, from: usize) -> Vec<(String, String)> {
        let log = self.requests.lock().expect("request log");
        log.get(from..).unwrap_or_default().to_vec()
    }

    /// The page's DOM, and the DOM of each of its frames appended at the end of the body.
    /// Control handles are `m-<nonce>-<n>` (`f<i>-<nonce>-<n>` in frame i), with a nonce the page
    /// cannot predict, new for each snapshot.
    pub async fn snapshot(&self) -> Result<String, RenderError> {
        let nonce = format!("{:016x}", RandomState::new().hash_one(Instant::now()));
        let main: String = self
            .tab
            .evaluate(format!("({SNAPSHOT_JS})('m-{nonce}')"))
            .await?
            .into_value()
            .map_err(|e| RenderError::Browser(e.to_string()))?;
        let mut frames = String::new();
        let main_frame = self.tab.mainframe().await.ok().flatten();
        for (i, frame) in self
            .tab
            .frames()
            .await
            .unwrap_or_default()
            .into_iter()
            .enumerate()
        {
            if Some(&frame) == main_frame.as_ref() {
                continue;
            }
            if let Some(html) = self
                .eval_in_frame::<String>(frame, format!("({SNAPSHOT_JS})('f{i}-{nonce}')"))
                .await
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

    /// Clicks the element the last snapshot marked with `handle` (`m-…` in the page, `fN-…` in
    /// frame N).
    pub async fn click(&self, handle: &str) -> Result<(), RenderError> {
        let frame_prefix = handle.split('-').next().unwrap_or("m");
        let js = format!(
            "(() => {{ const find = (root) => {{ const el = root.querySelector('[data-cookie-audit-id=\"{handle}\"]'); if (el) return el; for (const h of root.querySelectorAll('*')) {{ if (h.shadowRoot) {{ const f = find(h.shadowRoot); if (f) return f; }} }} return null; }}; const el = find(document); if (!el) return false; el.scrollIntoView({{block: 'center'}}); el.click(); return true; }})()"
        );
        let done = if frame_prefix == "m" {
            self.tab
                .evaluate(js)
                .await
                .ok()
                .and_then(|r| r.into_value::<bool>().ok())
        } else {
            let index: usize = frame_prefix
                .trim_start_matches('f')
                .parse()
                .unwrap_or(usize::MAX);
            match self
                .tab
                .frames()
                .await
                .ok()
                .and_then(|f| f.into_iter().nth(index))
            {
                Some(frame) => self.eval_in_frame::<bool>(frame, js).await,
                None => None,
            }
        };
        if done == Some(true) {
            Ok(())
        } else {
            Err(RenderError::NotClicked(handle.to_owned()))
        }
    }

    /// Unticks every ticked, enabled checkbox and switch in the page.
    pub async fn untick_all(&self) {
        let js = "document.querySelectorAll('input[type=checkbox]:checked:not(:disabled),[role=switch][aria-checked=true]').forEach(e => e.click())";
        let _ = self.tab.evaluate(js).await;
    }

    /// The browser context's cookie jar; an error when the browser does not answer, never an
    /// empty jar that would read as "no cookies".
    pub async fn cookies(&self) -> Result<Vec<RawCookie>, RenderError> {
        let params = GetCookiesParams::builder()
            .browser_context_id(self.context.clone())
            .build();
        let resp = self.renderer.execute(params).await?;
        let now = Utc::now().timestamp() as f64;
        Ok(resp
            .result
            .cookies
            .iter()
            .map(|c| RawCookie {
                name: c.name.clone(),
                value: c.value.clone(),
                domain: c.domain.trim_start_matches('.').to_owned(),
                path: c.path.clone(),
                lifetime_days: (!c.session && c.expires > 0.0)
                    .then(|| (c.expires - now) / 86_400.0),
                secure: c.secure,
                http_only: c.http_only,
                same_site: c.same_site.as_ref().map(|s| format!("{s:?}")),
            })
            .collect())
    }

    pub async fn storage_keys(&self) -> Vec<String> {
        match self
            .tab
            .evaluate("Object.keys(window.localStorage || {})")
            .await
        {
            Ok(r) => r.into_value::<Vec<String>>().unwrap_or_default(),
            Err(_) => Vec::new(),
        }
    }

    /// The consent string the page's IAB TCF API holds (`getTCData`), if it answers within a
    /// second with one.
    pub async fn tcf_string(&self) -> Option<String> {
        let js = "new Promise((done) => { if (typeof window.__tcfapi !== 'function') return done(null); \
            const late = setTimeout(() => done(null), 1000); \
            try { window.__tcfapi('getTCData', 2, (data, ok) => { clearTimeout(late); \
            done(ok && data && typeof data.tcString === 'string' && data.tcString ? data.tcString : null); }); } \
            catch (e) { done(null); } })";
        let params = EvaluateParams::builder()
            .expression(js)
            .await_promise(true)
            .return_by_value(true)
            .build()
            .ok()?;
        self.value_of::<Option<String>>(params).await.flatten()
    }

    /// The page cannot be scrolled (banners that lock the page set overflow hidden).
    pub async fn scroll_locked(&self) -> bool {
        self.eval_i64("['hidden','clip'].includes(getComputedStyle(document.body).overflowY) || ['hidden','clip'].includes(getComputedStyle(document.documentElement).overflowY) ? 1 : 0").await == Some(1)
    }

    /// A PNG of the viewport in the screenshots folder, named after `input`; its file name.
    pub async fn screenshot(&self, input: &str) -> Option<String> {
        let dir = self.renderer.options.screenshots.as_ref()?;
        let png = self
            .tab
            .screenshot(
                ScreenshotParams::builder()
                    .format(CaptureScreenshotFormat::Png)
                    .build(),
            )
            .await
            .ok()?;
        std::fs::create_dir_all(dir).ok()?;
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
        Some(path.file_name()?.to_string_lossy().into_owned())
    }

    /// Closes the tab and its browser context.
    pub async fn close(self) {
        self.listener.abort();
        if let Some(task) = &self.credentials {
            task.abort();
        }
        let _ = self.tab.close().await;
        self.renderer.dispose(self.context).await;
    }

    async fn eval_i64(&self, js: &str) -> Option<i64> {
        self.tab.evaluate(js).await.ok()?.into_value::<i64>().ok()
    }

    async fn eval_in_frame<T: serde::de::DeserializeOwned>(
        &self,
        frame: chromiumoxide::cdp::browser_protocol::page::FrameId,
        js: String,
    ) -> Option<T> {
        let ctx = self.tab.frame_execution_context(frame).await.ok()??;
        let params = EvaluateParams::builder()
            .expression(js)
            .context_id(ctx)
            .return_by_value(true)
            .build()
            .ok()?;
        self.value_of(params).await
    }

    /// What an evaluation returned, when it ran and gave a `T`.
    async fn value_of<T: serde::de::DeserializeOwned>(&self, params: EvaluateParams) -> Option<T> {
        self.tab
            .evaluate_expression(params)
            .await
            .ok()?
            .into_value::<T>()
            .ok()
    }
}
