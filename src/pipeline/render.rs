//! Render mode, step by step: load the page in a browser, look until a banner shows, record what
//! ran before any choice, then make the choice and record what followed. The browser observes and
//! clicks; extraction says where the banner and its buttons are.

use std::time::{Duration, Instant};

use chrono::Utc;

use crate::extract::extract;
use crate::facts::{Banner, Choice, Mode, Role};
use crate::fetch::render::{Renderer, Visit};
use crate::knowledge::Knowledge;
use crate::page::{BrowserObservation, ChoiceObservation, ErrorKind, Page, PageError};
use crate::targets::Target;

/// What a visit does besides loading the page.
#[derive(Debug, Clone, Copy)]
pub struct VisitPlan {
    /// How long to wait for a banner to appear.
    pub banner_wait: Duration,
    /// The choice to make in the banner, if any.
    pub choice: Option<Choice>,
}

/// Renders one target; any browser failure becomes a per-page error.
pub async fn render(
    renderer: &Renderer,
    target: &Target,
    knowledge: &Knowledge,
    plan: VisitPlan,
) -> Result<Page, PageError> {
    let url = browser_url(target)?;
    let visit = renderer
        .open(&url)
        .await
        .map_err(|e| browser_error(&url, &e))?;
    let limit = renderer.fetch_options().timeout * 2 + plan.banner_wait * 2;
    let result = tokio::time::timeout(limit, look(&visit, target.input(), knowledge, plan)).await;
    visit.close().await;
    match result {
        Ok(Ok(page)) => Ok(page),
        Ok(Err(e)) => Err(e),
        Err(_) => Err(PageError::new(
            ErrorKind::Timeout,
            format!("{url}: the page did not settle within {}s", limit.as_secs()),
        )),
    }
}

fn browser_url(target: &Target) -> Result<String, PageError> {
    match target {
        Target::Url { url, .. } => Ok(url.to_string()),
        Target::File { path, .. } => {
            let absolute = std::fs::canonicalize(path)
                .map_err(|e| PageError::new(ErrorKind::Io, format!("{}: {e}", path.display())))?;
            url::Url::from_file_path(absolute)
                .map(String::from)
                .map_err(|_| {
                    PageError::new(
                        ErrorKind::Io,
                        format!("{}: not a valid path", path.display()),
                    )
                })
        }
    }
}

/// A browser failure as a per-page error, of the kind its message names (DNS, TLS...).
fn browser_error(url: &str, e: &dyn std::fmt::Display) -> PageError {
    let message = format!("{url}: {e}");
    PageError::new(
        ErrorKind::from_message(&message).unwrap_or(ErrorKind::Render),
        message,
    )
}

async fn look(
    visit: &Visit<'_>,
    input: &str,
    knowledge: &Knowledge,
    plan: VisitPlan,
) -> Result<Page, PageError> {
    let fetched_at = Utc::now();
    visit
        .goto()
        .await
        .map_err(|e| browser_error(&visit.url, &e))?;
    visit.settle(Duration::from_secs(3)).await;
    let status = visit.status().await;
    if let Some(s) = status.filter(|s| *s >= 400) {
        return Err(PageError {
            kind: ErrorKind::HttpStatus,
            message: format!("HTTP {s} from {}", visit.url),
            status: Some(s),
        });
    }
    let final_url = visit.current_url().await;
    let (mut html, banner) = wait_for_banner(visit, knowledge, &final_url, plan.banner_wait).await;
    let requests = visit.requests_since(0);
    let cookies = visit.cookies().await;
    let storage_keys = visit.storage_keys().await;
    let scroll_locked = visit.scroll_locked().await;
    let screenshot = visit.screenshot(input).await;
    let choice = match (plan.choice, &banner) {
        (Some(choice), Some(banner)) => {
            Some(make_choice(visit, banner, choice, knowledge, &final_url).await)
        }
        _ => None,
    };
    if html.is_empty() {
        html = visit
            .snapshot()
            .await
            .map_err(|e| browser_error(&visit.url, &e))?;
    }
    Ok(Page {
        status,
        mode: Mode::Render,
        fetched_at,
        body_sha256: crate::text::sha256_hex(html.as_bytes()),
        rendered: Some(BrowserObservation {
            cookies,
            requests,
            storage_keys,
            screenshot,
            scroll_locked,
            choice,
        }),
        ..Page::from_html(input, &final_url, html)
    })
}

/// Polls the rendered DOM until a banner shows or `wait` passes; the last snapshot and its banner.
async fn wait_for_banner(
    visit: &Visit<'_>,
    knowledge: &Knowledge,
    url: &str,
    wait: Duration,
) -> (String, Option<Banner>) {
    let deadline = Instant::now() + wait;
    loop {
        let html = visit.snapshot().await.unwrap_or_default();
        let banner = banner_of(&html, url, knowledge);
        if banner.as_ref().is_some_and(|b| b.present) || Instant::now() >= deadline {
            return (html, banner);
        }
        tokio::time::sleep(Duration::from_millis(400)).await;
    }
}

/// Makes the choice and records the cookies and requests that follow it.
async fn make_choice(
    visit: &Visit<'_>,
    banner: &Banner,
    choice: Choice,
    knowledge: &Knowledge,
    url: &str,
) -> ChoiceObservation {
    let mark = visit.request_count();
    let clicks = click_through(visit, banner, choice, knowledge, url).await;
    visit.settle(Duration::from_secs(3)).await;
    ChoiceObservation {
        choice,
        clicks,
        cookies: visit.cookies().await,
        requests: visit
            .requests_since(mark)
            .into_iter()
            .map(|(u, _)| u)
            .collect(),
    }
}

/// The first-layer button, else through settings; a refusal there is "save" with every
/// purpose unticked. The number of clicks it took.
async fn click_through(
    visit: &Visit<'_>,
    banner: &Banner,
    choice: Choice,
    knowledge: &Knowledge,
    url: &str,
) -> Result<u32, String> {
    let role = choice.role();
    let click =
        |handle: String| async move { visit.click(&handle).await.map_err(|e| e.to_string()) };
    if let Some(handle) = handle_of(banner, |b| b.role == role && b.first_layer) {
        click(handle).await?;
        return Ok(1);
    }
    let settings =
        handle_of(banner, |b| b.role == Role::Settings && b.first_layer).ok_or_else(|| {
            format!(
                "no {} or settings control on the first layer",
                role.as_str()
            )
        })?;
    click(settings).await?;
    tokio::time::sleep(Duration::from_millis(800)).await;
    let html = visit.snapshot().await.map_err(|e| e.to_string())?;
    let second = banner_of(&html, url, knowledge)
        .ok_or("the banner disappeared after opening its settings")?;
    if let Some(handle) = handle_of(&second, |b| b.role == role) {
        click(handle).await?;
        return Ok(2);
    }
    if choice == Choice::Reject {
        visit.untick_all().await;
        if let Some(save) = handle_of(&second, |b| b.role == Role::Settings && !b.first_layer) {
            click(save).await?;
            return Ok(3);
        }
    }
    Err(format!(
        "no way to {} was found in the settings layer",
        role.as_str()
    ))
}

fn handle_of(banner: &Banner, wanted: impl Fn(&crate::facts::Button) -> bool) -> Option<String> {
    banner
        .buttons
        .iter()
        .filter(|b| wanted(b))
        .find_map(|b| b.handle.clone())
}

fn banner_of(html: &str, url: &str, knowledge: &Knowledge) -> Option<Banner> {
    let page = Page {
        mode: Mode::Render,
        ..Page::from_html(url, url, html.to_owned())
    };
    extract(&page, knowledge).banner
}
