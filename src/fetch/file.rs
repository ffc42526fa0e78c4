//! Local pages: read and decoded the same way as fetched ones.

use std::path::Path;

use crate::page::{ErrorKind, Page, PageError};

use super::decode::decode_html;
use crate::text::sha256_hex;

pub async fn read_page(
    input: &str,
    path: &Path,
    base_url: Option<&url::Url>,
    max_body: usize,
) -> Result<Page, PageError> {
    let io_error = |e: std::io::Error| {
        PageError::new(
            ErrorKind::Io,
            format!("cannot read {}: {e}", path.display()),
        )
    };
    let meta = tokio::fs::metadata(path).await.map_err(io_error)?;
    if meta.len() as usize > max_body {
        return Err(PageError::new(
            ErrorKind::TooLarge,
            format!(
                "{} is {} bytes, over the {max_body}-byte limit",
                path.display(),
                meta.len()
            ),
        ));
    }
    let bytes = tokio::fs::read(path).await.map_err(io_error)?;
    let url = match base_url {
        Some(base) => base.to_string(),
        None => {
            let abs = std::fs::canonicalize(path).map_err(io_error)?;
            url::Url::from_file_path(&abs)
                .map(String::from)
                .unwrap_or_else(|_| abs.display().to_string())
        }
    };
    Ok(Page {
        body_sha256: sha256_hex(&bytes),
        ..Page::from_html(input, &url, decode_html(&bytes, None))
    })
}
