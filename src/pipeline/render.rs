//! Render mode, step by step: load the page in a browser, look until a banner shows, record what
//! ran before any choice, then make the choice and record what followed. The browser observes and
//! clicks; extraction says where the banner and its buttons are.

use std::time::{Duration, Instant};

use chrono::Utc;

use crate::extract::extract;
use crate::facts::{Banner, Button, Category, Choice, Mode, Role};
use crate::fetch::render::{Renderer, Visit};
use crate::knowledge::Knowledge;
use crate::page::{BrowserObservation, ChoiceObservation, ErrorKind, Page, PageError, RawCookie};
use crate::targets::Target;

/// The screenshots' folder inside the report folder; reports name each screenshot by its path
/// from the report folder, so that the folder can be moved or published as a whole.
pub const SCREENSHOTS: &str = "screenshots";

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
    let cookies = jar(visit, "before any choice").await?;
    let tcf_api = visit.tcf_string().await;
    let storage_keys = visit.storage_keys().await;
    let scroll_locked = visit.scroll_locked().await;
    let screenshot = visit
        .screenshot(input)
        .await
        .map(|name| format!("{SCREENSHOTS}/{name}"));
    let choice = match (plan.choice, &banner) {
        (Some(choice), Some(banner)) => {
            Some(make_choice(visit, banner, choice, knowledge, &final_url).await?)
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
            tcf_api,
            scroll_locked,
            choice,
        }),
        ..Page::from_html(input, &final_url, html)
    })
}

/// The cookie jar, or a page error: a jar that cannot be read must not pass for an empty one.
async fn jar(visit: &Visit<'_>, when: &str) -> Result<Vec<RawCookie>, PageError> {
    visit.cookies().await.map_err(|e| {
        PageError::new(
            ErrorKind::Render,
            format!(
                "{}: the browser's cookies could not be read {when}: {e}",
                visit.url
            ),
        )
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
) -> Result<ChoiceObservation, PageError> {
    let mark = visit.request_count();
    let made = click_through(visit, banner, choice, knowledge, url).await;
    visit.settle(Duration::from_secs(3)).await;
    let doubt = match &made {
        Ok(made) => match &made.doubt {
            Some(doubt) => Some(doubt.clone()),
            None => still_open(visit, knowledge, url, &made.last).await,
        },
        Err(_) => None,
    };
    Ok(ChoiceObservation {
        choice,
        clicks: made.map(|m| m.clicks),
        doubt,
        cookies: jar(visit, "after the choice").await?,
        tcf_api: visit.tcf_string().await,
        requests: visit
            .requests_since(mark)
            .into_iter()
            .map(|(u, _)| u)
            .collect(),
    })
}

/// The clicks a choice took, the label of the last one, and why the choice may not have been
/// recorded although every click was made.
struct Made {
    clicks: u32,
    last: String,
    doubt: Option<String>,
}

/// A banner still showing the control that was clicked last did not take the choice, as far as
/// the auditor can tell.
async fn still_open(
    visit: &Visit<'_>,
    knowledge: &Knowledge,
    url: &str,
    last: &str,
) -> Option<String> {
    let html = visit.snapshot().await.ok()?;
    let banner = banner_of(&html, url, knowledge).filter(|b| b.present)?;
    banner
        .buttons
        .iter()
        .any(|b| b.label == last)
        .then(|| format!("the banner was still shown after clicking {last:?}"))
}

/// The first-layer button, else through settings; a refusal there is "save" with every
/// purpose unticked.
async fn click_through(
    visit: &Visit<'_>,
    banner: &Banner,
    choice: Choice,
    knowledge: &Knowledge,
    url: &str,
) -> Result<Made, String> {
    let role = choice.role();
    let click = |button: &Button| {
        let handle = button.handle.clone().unwrap_or_default();
        async move { visit.click(&handle).await.map_err(|e| e.to_string()) }
    };
    let made = |clicks: u32, button: &Button, doubt: Option<String>| Made {
        clicks,
        last: button.label.clone(),
        doubt,
    };
    if let Some(button) = control(banner, |b| b.role == role && b.first_layer) {
        click(button).await?;
        return Ok(made(1, button, None));
    }
    let settings =
        control(banner, |b| b.role == Role::Settings && b.first_layer).ok_or_else(|| {
            format!(
                "no {} or settings control on the first layer",
                role.as_str()
            )
        })?;
    click(settings).await?;
    tokio::time::sleep(Duration::from_millis(800)).await;
    let second = layer(visit, knowledge, url)
        .await?
        .ok_or("the banner disappeared after opening its settings")?;
    if let Some(button) = control(&second, |b| b.role == role) {
        click(button).await?;
        return Ok(made(2, button, None));
    }
    if choice == Choice::Reject {
        visit.untick_all().await;
        // Handles from a snapshot taken after unticking: it also shows what stayed on.
        let unticked = layer(visit, knowledge, url).await?.unwrap_or(second);
        // The layer's own settings control saves ("Save my choices"), not the one that opened it.
        let save = control(&unticked, |b| {
            b.role == Role::Settings && b.label != settings.label && shown(b)
        });
        if let Some(save) = save {
            click(save).await?;
            return Ok(made(3, save, unticked_doubt(&unticked)));
        }
    }
    Err(format!(
        "no way to {} was found in the settings layer",
        role.as_str()
    ))
}

/// Why unticking may not have refused: no purpose switch could be unticked, or some stayed on.
fn unticked_doubt(layer: &Banner) -> Option<String> {
    let purposes: Vec<_> = layer
        .checkboxes
        .iter()
        .filter(|c| !c.disabled && c.category != Category::Necessary)
        .collect();
    let on = purposes.iter().filter(|c| c.checked).count();
    if purposes.is_empty() {
        Some("the settings layer showed no purpose switch the auditor could untick, so what saving kept is unknown".to_owned())
    } else if on > 0 {
        Some(format!(
            "{on} purpose switch(es) stayed on after the auditor unticked them"
        ))
    } else {
        None
    }
}

async fn layer(
    visit: &Visit<'_>,
    knowledge: &Knowledge,
    url: &str,
) -> Result<Option<Banner>, String> {
    let html = visit.snapshot().await.map_err(|e| e.to_string())?;
    Ok(banner_of(&html, url, knowledge))
}

/// Drawn on screen, as far as the snapshot's rendered style says.
fn shown(button: &Button) -> bool {
    button
        .style
        .as_ref()
        .is_none_or(|s| s.width > 0.0 && s.height > 0.0)
}

fn control(banner: &Banner, wanted: impl Fn(&Button) -> bool) -> Option<&Button> {
    banner
        .buttons
        .iter()
        .find(|b| b.handle.is_some() && wanted(b))
}

fn banner_of(html: &str, url: &str, knowledge: &Knowledge) -> Option<Banner> {
    let page = Page {
        mode: Mode::Render,
        ..Page::from_html(url, url, html.to_owned())
    };
    extract(&page, knowledge).banner
}
