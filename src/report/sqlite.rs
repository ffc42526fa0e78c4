//! Results as a database (`--format sqlite`): one SQLite file that each run appends to, with a
//! table per kind of fact, so that a study's question ("share of sites without a first-layer
//! reject, by CMP and country, month by month") is one SQL query. Values read as in report.json.

use std::path::Path;

use rusqlite::{Connection, Transaction, params};

use super::{PageReport, Report, ReportError, json_name};

/// The tables; `CREATE ... IF NOT EXISTS` so that a run appends to an earlier file.
const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS runs (
  id INTEGER PRIMARY KEY, started_at TEXT, finished_at TEXT, tool_version TEXT,
  rules_version TEXT, profile TEXT, targets INTEGER, audited INTEGER, errors INTEGER,
  blocked INTEGER);
CREATE TABLE IF NOT EXISTS pages (
  id INTEGER PRIMARY KEY, run_id INTEGER REFERENCES runs(id), input TEXT, url TEXT, host TEXT,
  tld TEXT, status INTEGER, mode TEXT, coverage TEXT, cmp TEXT, page_language TEXT,
  banner_language TEXT, fetched_at TEXT, error_kind TEXT, error_message TEXT);
CREATE TABLE IF NOT EXISTS banners (
  page_id INTEGER REFERENCES pages(id), present INTEGER, cmp TEXT, detection TEXT, markup TEXT,
  text TEXT, first_layer_accept INTEGER, first_layer_reject INTEGER, first_layer_settings INTEGER);
CREATE TABLE IF NOT EXISTS buttons (
  page_id INTEGER REFERENCES pages(id), label TEXT, role TEXT, element TEXT, first_layer INTEGER,
  in_text_flow INTEGER, width REAL, height REAL, contrast REAL);
CREATE TABLE IF NOT EXISTS checkboxes (
  page_id INTEGER REFERENCES pages(id), label TEXT, checked INTEGER, disabled INTEGER,
  category TEXT);
CREATE TABLE IF NOT EXISTS cookies (
  page_id INTEGER REFERENCES pages(id), name TEXT, domain TEXT, category TEXT, vendor TEXT,
  lifetime_days REAL, before_consent INTEGER, third_party INTEGER, needs_consent INTEGER,
  source TEXT, after_choice TEXT);
CREATE TABLE IF NOT EXISTS trackers (
  page_id INTEGER REFERENCES pages(id), url TEXT, host TEXT, vendor TEXT, category TEXT,
  element TEXT, gated INTEGER, third_party INTEGER, needs_consent INTEGER, source TEXT,
  after_choice TEXT);
CREATE TABLE IF NOT EXISTS findings (
  page_id INTEGER REFERENCES pages(id), rule TEXT, severity TEXT, confidence TEXT, message TEXT,
  evidence TEXT, baseline TEXT);
CREATE TABLE IF NOT EXISTS tcf (
  page_id INTEGER REFERENCES pages(id), seen TEXT, source TEXT, cmp_id INTEGER,
  vendor_list_version INTEGER, policy_version INTEGER, created TEXT, purposes_consent TEXT,
  purposes_legitimate_interest TEXT, special_features TEXT, vendors_consent INTEGER,
  vendors_legitimate_interest INTEGER);
";

/// Appends the run and its pages to the database at `path` (created when missing).
pub fn append(path: &Path, report: &Report) -> Result<(), ReportError> {
    let mut db = Connection::open(path)?;
    db.execute_batch(SCHEMA)?;
    let tx = db.transaction()?;
    tx.execute(
        "INSERT INTO runs (started_at, finished_at, tool_version, rules_version, profile, targets, \
         audited, errors, blocked) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![
            report.started_at.to_rfc3339(),
            report.finished_at.to_rfc3339(),
            report.tool.version,
            report.tool.rules_version,
            report.profile,
            report.summary.targets as i64,
            report.summary.audited as i64,
            report.summary.errors as i64,
            report.summary.blocked as i64,
        ],
    )?;
    let run = tx.last_insert_rowid();
    for page in &report.pages {
        insert_page(&tx, run, page)?;
    }
    tx.commit()?;
    Ok(())
}

fn insert_page(tx: &Transaction<'_>, run: i64, page: &PageReport) -> Result<(), ReportError> {
    let facts = &page.facts;
    let host = url::Url::parse(&page.url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned));
    let tld = host
        .as_deref()
        .and_then(|h| h.rsplit('.').next())
        .map(str::to_owned);
    let cmp = facts.banner.as_ref().and_then(|b| b.cmp.clone());
    tx.execute(
        "INSERT INTO pages (run_id, input, url, host, tld, status, mode, coverage, cmp, \
         page_language, banner_language, fetched_at, error_kind, error_message) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
        params![
            run,
            page.input,
            page.url,
            host,
            tld,
            page.status,
            json_name(&page.mode),
            json_name(&page.coverage),
            cmp,
            facts.page_language,
            facts.language,
            page.fetched_at.map(|t| t.to_rfc3339()),
            page.error.as_ref().map(|e| json_name(&e.kind)),
            page.error.as_ref().map(|e| e.message.clone()),
        ],
    )?;
    let id = tx.last_insert_rowid();
    if let Some(banner) = &facts.banner {
        let first = |role: &str| {
            banner
                .buttons
                .iter()
                .any(|b| b.first_layer && b.role.as_str() == role)
        };
        tx.execute(
            "INSERT INTO banners VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![
                id,
                banner.present,
                banner.cmp,
                json_name(&banner.detection),
                banner.markup.as_ref().map(json_name),
                banner.text,
                first("accept"),
                first("reject"),
                first("settings"),
            ],
        )?;
        for b in &banner.buttons {
            let style = b.style.as_ref();
            tx.execute(
                "INSERT INTO buttons VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                params![
                    id,
                    b.label,
                    b.role.as_str(),
                    json_name(&b.element),
                    b.first_layer,
                    b.in_text_flow,
                    style.map(|s| s.width),
                    style.map(|s| s.height),
                    style.map(|s| s.contrast),
                ],
            )?;
        }
        for c in &banner.checkboxes {
            tx.execute(
                "INSERT INTO checkboxes VALUES (?1, ?2, ?3, ?4, ?5)",
                params![id, c.label, c.checked, c.disabled, json_name(&c.category)],
            )?;
        }
    }
    let interaction = facts.render.as_ref().and_then(|r| r.interaction.as_ref());
    let after = interaction.map(|i| json_name(&i.choice));
    let cookies = facts.cookies.iter().map(|c| (c, None)).chain(
        interaction
            .into_iter()
            .flat_map(|i| &i.cookies_after)
            .map(|c| (c, after.as_deref())),
    );
    for (c, after_choice) in cookies {
        tx.execute(
            "INSERT INTO cookies VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            params![
                id,
                c.name,
                c.domain,
                json_name(&c.category),
                c.vendor,
                c.lifetime_days,
                c.before_consent,
                c.third_party,
                c.needs_consent,
                c.classified_by,
                after_choice,
            ],
        )?;
    }
    let trackers = facts.trackers.iter().map(|t| (t, None)).chain(
        interaction
            .into_iter()
            .flat_map(|i| &i.trackers_after)
            .map(|t| (t, after.as_deref())),
    );
    for (t, after_choice) in trackers {
        tx.execute(
            "INSERT INTO trackers VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            params![
                id,
                t.url,
                t.host,
                t.vendor,
                json_name(&t.category),
                json_name(&t.element),
                t.gated,
                t.third_party,
                t.needs_consent,
                t.source,
                after_choice,
            ],
        )?;
    }
    for f in &page.findings {
        tx.execute(
            "INSERT INTO findings VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                id,
                f.rule,
                f.severity.as_str(),
                f.confidence.as_str(),
                f.message,
                f.evidence,
                f.baseline.as_ref().map(json_name),
            ],
        )?;
    }
    for tc in &facts.tcf {
        let list = |ids: &[u8]| ids.iter().map(u8::to_string).collect::<Vec<_>>().join(",");
        tx.execute(
            "INSERT INTO tcf VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            params![
                id,
                json_name(&tc.seen),
                tc.source,
                tc.cmp_id,
                tc.vendor_list_version,
                tc.policy_version,
                tc.created,
                list(&tc.purposes_consent),
                list(&tc.purposes_legitimate_interest),
                list(&tc.special_features),
                tc.vendors_consent_count as i64,
                tc.vendors_legitimate_interest_count as i64,
            ],
        )?;
    }
    Ok(())
}
