//! Uploads (one file per request, streamed to disk) and attachment downloads with safe headers.

use crate::auth::AuthAccount;
use crate::error::{ApiError, ApiResult};
use crate::file_store::FileStore;
use crate::files::{self, Sniffer, TMP_PREFIX};
use crate::state::AppState;
use crate::storage::prelude::*;
use crate::storage::{StoredFile, UsageKind, Viewer};
use crate::texts::Msg;
use crate::util::random_id;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, FromRequest, Multipart, Path, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use futures_util::StreamExt;
use helpdesk_core::api::{ErrorResponse, Role, Upload};
use std::path::{Path as FsPath, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};

/// Room for the multipart framing around the file (boundaries, part headers, a long name).
const FRAMING_BYTES: u64 = 64 * 1024;
/// How much of a refused body is still read, so that the client gets the 413 instead of a reset.
const DRAIN_BYTES: u64 = 32 * 1024 * 1024;
/// Uploads an account may hold without attaching them (each up to the size cap).
const MAX_PENDING_UPLOADS: i64 = 50;
/// Writes to disk in pieces this large.
const WRITE_BUFFER: usize = 256 * 1024;

pub fn router() -> Router<AppState> {
    Router::new()
        // The API's JSON body limit does not apply here: the cap is enforced while streaming.
        .route("/uploads", post(upload).layer(DefaultBodyLimit::disable()))
        .route("/attachments/{id}", get(download))
}

/// A temporary file that is removed unless it was kept: a refused, failed or abandoned upload
/// (the client went away and the handler was dropped) leaves nothing behind.
struct TempFile {
    path: PathBuf,
    keep: bool,
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if !self.keep {
            if let Err(e) = std::fs::remove_file(&self.path) {
                if e.kind() != std::io::ErrorKind::NotFound {
                    tracing::warn!(path = %self.path.display(), error = %e, "could not remove a partial upload");
                }
            }
        }
    }
}

/// The upload's body as the document describes it: one part named `file` (read by hand, streamed).
#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct UploadForm {
    /// The file; its name is kept as metadata, its declared type is ignored.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
}

#[utoipa::path(post, path = "/api/v1/uploads",
    request_body(content = UploadForm, content_type = "multipart/form-data", description = "exactly one part named `file`"),
    responses((status = 201, body = Upload),
        (status = 400, body = ErrorResponse, description = "a malformed multipart body"),
        (status = 413, body = ErrorResponse, description = "`too_large`: over the size cap; or `quota_exceeded`: the account keeps as many bytes as `HELPDESK_QUOTA_BYTES` allows"),
        (status = 429, body = ErrorResponse, description = "`rate_limited`: the account uploaded `HELPDESK_RATE_UPLOAD_BYTES` bytes in the current window; `Retry-After` (and `retry_after`) says in how many seconds it may upload again",
            headers(("Retry-After" = u64, description = "seconds until the window ends"))),
        (status = 507, body = ErrorResponse, description = "`storage_full`: the data folder's disk is full or below `HELPDESK_MIN_FREE_BYTES`; nothing was kept"),
        (status = 415, body = ErrorResponse, description = "not multipart/form-data; or a file type not accepted, or content that disagrees with the name (a rule no schema can express)"),
        (status = 422, body = ErrorResponse, description = "no file, an empty file, more than one part, or too many files uploaded and not yet sent")))]
pub async fn upload(
    State(state): State<AppState>,
    auth: AuthAccount,
    req: Request,
) -> ApiResult<Response> {
    let cap = state.config.max_upload_bytes;
    let too_large = || ApiError::TooLarge(Msg::FileTooLarge { limit_bytes: cap });
    let body_limit = cap.saturating_add(FRAMING_BYTES);
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if let Some(n) = declared.filter(|n| *n > body_limit) {
        // A client that sent `Expect: 100-continue` gets the answer before sending the body. Any
        // other is still read (up to a bound) so that it sees the 413 instead of a reset connection.
        let waits = req
            .headers()
            .get(header::EXPECT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.eq_ignore_ascii_case("100-continue"));
        if !waits && n <= body_limit.saturating_add(DRAIN_BYTES) {
            let mut body = req.into_body().into_data_stream();
            let discard = async { while let Some(Ok(_)) = body.next().await {} };
            let _ = tokio::time::timeout(std::time::Duration::from_secs(10), discard).await;
        }
        return Err(too_large());
    }

    // The account's upload allowance, its quota and the disk's free space, before the body.
    crate::tickets::allowances::before_upload(&state, &auth.account).await?;
    // Unattached uploads expire after a day; until then they take disk space, so they are capped.
    let pending = state
        .store
        .pending_uploads(&auth.account.id, crate::util::now_us())
        .await?;
    if pending >= MAX_PENDING_UPLOADS {
        return Err(ApiError::field(
            "file",
            "too_many_pending",
            Msg::UploadsPending {
                max: MAX_PENDING_UPLOADS,
            },
        ));
    }

    // The whole body is capped too, so that framing or extra parts cannot be used to stream forever.
    let over = Arc::new(AtomicBool::new(false));
    let (parts, body) = req.into_parts();
    let mut seen = 0u64;
    let flag = over.clone();
    let limited = body.into_data_stream().map(move |chunk| {
        let chunk = chunk?;
        seen += chunk.len() as u64;
        if seen > body_limit {
            flag.store(true, Ordering::Relaxed);
            return Err(axum::Error::new("request body over the upload limit"));
        }
        Ok(chunk)
    });
    let req = Request::from_parts(parts, Body::from_stream(limited));
    let mut multipart = Multipart::from_request(req, &state)
        .await
        .map_err(|_| ApiError::UnsupportedMediaType(Msg::NotMultipart))?;

    let dir = state.config.files_dir();
    let mut stored: Option<(TempFile, String, Sniffer)> = None;
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(_) if over.load(Ordering::Relaxed) => return Err(too_large()),
            Err(e) => return Err(malformed(e)),
        };
        if field.name() != Some("file") || stored.is_some() {
            return Err(ApiError::field("file", "one_file", Msg::OneFilePart));
        }
        // The client's name is metadata only; its declared type is ignored.
        let name = files::clean_name(&files::form_data_file_name(field.file_name().unwrap_or("")));
        let temp = TempFile {
            path: dir.join(format!("{TMP_PREFIX}{}", random_id())),
            keep: false,
        };
        let file = tokio::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temp.path)
            .await?;
        let mut out = tokio::io::BufWriter::with_capacity(WRITE_BUFFER, file);
        let mut sniffer = Sniffer::default();
        let mut field = field;
        let mut over_cap = false;
        loop {
            let chunk = match field.chunk().await {
                Ok(Some(c)) => c,
                Ok(None) => break,
                Err(_) if over.load(Ordering::Relaxed) => return Err(too_large()),
                Err(e) => return Err(malformed(e)),
            };
            if sniffer.len() + chunk.len() as u64 > cap {
                over_cap = true;
                break;
            }
            sniffer.feed(&chunk);
            out.write_all(&chunk).await?;
        }
        if over_cap {
            drop(field);
            drop(out);
            drop(temp); // the partial file goes now, not after the drain
            drain(&mut multipart).await;
            return Err(too_large());
        }
        out.flush().await?;
        let file = out.into_inner();
        file.sync_all().await?;
        stored = Some((temp, name, sniffer));
    }
    let Some((temp, name, sniffer)) = stored else {
        return Err(ApiError::field("file", "missing", Msg::NoFile));
    };
    if sniffer.is_empty() {
        return Err(ApiError::field("file", "empty", Msg::FileEmpty { name }));
    }
    let tail = if sniffer.wants_tail() {
        read_tail(&temp.path, sniffer.len()).await?
    } else {
        Vec::new()
    };
    let content_type = sniffer.finish(&name, &tail).map_err(|refusal| {
        ApiError::UnsupportedMediaType(Msg::FileRefused {
            name: name.clone(),
            why: refusal.why,
        })
    })?;

    let id = random_id();
    let files = FileStore::of(&state.store, &state.config);
    files.put_file(&id, &temp.path).await?;
    let file = StoredFile {
        id,
        name,
        size: sniffer.len(),
        content_type: content_type.to_string(),
    };
    let limits = &state.config.limits;
    let charge = limits.charge(&auth.account, UsageKind::UploadBytes, file.size);
    if let Err(e) = state
        .store
        .insert_upload(&auth.account.id, &file, charge)
        .await
    {
        // No row names it: the bytes go too.
        files.delete(std::slice::from_ref(&file.id)).await?;
        return Err(e.into());
    }
    tracing::info!(id = %file.id, size = file.size, content_type, "upload stored");
    let body = Upload {
        id: file.id,
        name: file.name,
        size: file.size,
        content_type: file.content_type,
    };
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

fn malformed(e: axum::extract::multipart::MultipartError) -> ApiError {
    ApiError::BadRequest(Msg::MultipartInvalid {
        detail: e.body_text(),
    })
}

/// Reads and discards what is left of a refused body, up to a bound, so the client can read the
/// answer; a client that keeps sending past the bound gets the connection closed.
async fn drain(multipart: &mut Multipart) {
    let mut left = DRAIN_BYTES;
    let work = async {
        while let Ok(Some(mut field)) = multipart.next_field().await {
            while let Ok(Some(c)) = field.chunk().await {
                left = left.saturating_sub(c.len() as u64);
                if left == 0 {
                    return;
                }
            }
        }
    };
    let _ = tokio::time::timeout(std::time::Duration::from_secs(10), work).await;
}

/// The last bytes of a file: where a zip keeps the list of its entries.
async fn read_tail(path: &FsPath, len: u64) -> std::io::Result<Vec<u8>> {
    let take = len.min(files::TAIL_LEN as u64);
    let mut f = tokio::fs::File::open(path).await?;
    f.seek(std::io::SeekFrom::Start(len - take)).await?;
    let mut buf = Vec::with_capacity(take as usize);
    f.take(take).read_to_end(&mut buf).await?;
    Ok(buf)
}

#[utoipa::path(get, path = "/api/v1/attachments/{id}",
    params(("id" = String, Path, pattern = "^[A-Za-z0-9_-]{16,64}$", description = "an attachment's id; any other is missing")),
    responses((status = 200, description = "the file, always as a download (one of the types in `files::SERVABLE`, else application/octet-stream)",
            content_type = "application/octet-stream", headers(("Content-Disposition" = String, description = "always `attachment`"))),
        (status = 404, body = ErrorResponse, description = "missing, or not the caller's")))]
pub async fn download(
    State(state): State<AppState>,
    auth: AuthAccount,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    // Ids are random hex; anything else cannot name a file (nor a path) and is simply missing.
    let plausible = (16..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !plausible {
        return Err(ApiError::NotFound);
    }
    let viewer = match auth.account.role {
        Role::Staff => Viewer::Staff,
        Role::Customer => Viewer::Customer(&auth.account.id),
    };
    let row = state
        .store
        .file_for(viewer, &id)
        .await?
        .ok_or(ApiError::NotFound)?;
    let Some(bytes) = FileStore::of(&state.store, &state.config)
        .open(&row.id)
        .await?
    else {
        tracing::warn!(id = %row.id, "attachment row without its file");
        return Err(ApiError::NotFound);
    };
    let len = row.size;
    let mut resp = Body::from_stream(bytes).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(files::served_type(&row.content_type)),
    );
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    h.insert(
        header::CONTENT_DISPOSITION,
        files::content_disposition(&row.name),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("sandbox; default-src 'none'"),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    h.insert(
        "cross-origin-resource-policy",
        HeaderValue::from_static("same-origin"),
    );
    Ok(resp)
}
