//! Receiving a file from the web form or the API: streamed to an unnamed temporary file, its
//! type and size checked as it arrives; nothing reaches the vault here.

use std::collections::BTreeMap;

use axum::extract::Multipart;

use crate::ServerError;
use crate::access::Access;
use crate::state::AppState;

/// A file received through the web form or the API, streamed to a temporary file with its
/// size and type checked before anything reaches the vault.
pub struct Upload {
    /// An unnamed temporary file: it has no name to leave behind if the server is killed.
    pub file: std::fs::File,
    pub file_name: String,
    pub fields: BTreeMap<String, String>,
}

impl Upload {
    /// The received bytes under the person's own file name, for the vault.
    pub fn file(&self) -> Result<evident_store::EvidenceFile<'static>, ServerError> {
        Ok(evident_store::EvidenceFile::Received {
            file: self
                .file
                .try_clone()
                .map_err(|e| ServerError::Internal(format!("upload file: {e}")))?,
            name: self.file_name.clone(),
        })
    }

    /// The upload as new evidence from the signed-in person; the caller fills in what the form
    /// said (title, controls, dates) and the store checks all of it.
    pub fn new_evidence(&self, access: &Access) -> Result<evident_store::NewEvidence<'static>, ServerError> {
        Ok(evident_store::NewEvidence::new(
            self.file()?,
            evident_store::SourceKind::Person,
            format!("web upload by {} ({})", access.user.email, self.file_name),
        ))
    }
}

/// Removes partial uploads an older version left named in the workspace's `tmp` folder when
/// it was killed mid-upload (uploads are unnamed temporary files now).
pub fn clear_partial_uploads(ws: &evident_store::Workspace) {
    let Ok(entries) = std::fs::read_dir(ws.dir.join("tmp")) else {
        return;
    };
    for e in entries.flatten() {
        if e.file_name().to_string_lossy().starts_with("upload-") {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

/// A refused upload, with the form's other fields so the page can show them again.
pub struct Refused {
    pub error: ServerError,
    pub fields: BTreeMap<String, String>,
}

impl From<Refused> for ServerError {
    fn from(r: Refused) -> Self {
        r.error
    }
}

/// Reads the multipart form: the file goes to a temporary file, checked for type and size as
/// it streams; nothing reaches the vault here. On a refusal the rest of the form is still read
/// so what the person typed can be shown again.
pub async fn receive(state: &AppState, mut mp: Multipart) -> Result<Upload, Refused> {
    let mut fields = BTreeMap::new();
    let mut upload: Option<(std::fs::File, String)> = None;
    let mut refused: Option<ServerError> = None;
    loop {
        let field = match mp.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => {
                refused.get_or_insert(ServerError::invalid("file", format!("the upload was cut short: {e}")));
                break;
            }
        };
        let name = field.name().unwrap_or("").to_string();
        if name != "file" {
            match field.text().await {
                Ok(text) => {
                    fields.insert(name, text);
                }
                Err(e) => {
                    refused.get_or_insert(ServerError::invalid(&name, e));
                }
            }
            continue;
        }
        if refused.is_some() {
            continue;
        }
        if upload.is_some() {
            // Keeping the first or the last silently would store what the sender did not mean.
            refused = Some(ServerError::invalid("file", "send one file per upload"));
            continue;
        }
        match store_part(state, field).await {
            Ok(u) => upload = Some(u),
            Err(e) => refused = Some(e),
        }
    }
    match (refused, upload) {
        (Some(error), _) => Err(Refused { error, fields }),
        (None, None) => Err(Refused {
            error: ServerError::invalid("file", "choose a file to upload"),
            fields,
        }),
        (None, Some((file, file_name))) => Ok(Upload {
            file,
            file_name,
            fields,
        }),
    }
}

async fn store_part(
    state: &AppState,
    mut field: axum::extract::multipart::Field<'_>,
) -> Result<(std::fs::File, String), ServerError> {
    use tokio::io::AsyncWriteExt;
    let limit = state
        .ws
        .config
        .server
        .max_upload_bytes
        .min(state.ws.config.max_evidence_bytes);
    // Browsers send an empty name when no file was chosen.
    let given = field.file_name().unwrap_or("").trim().to_string();
    if given.is_empty() {
        return Err(ServerError::invalid("file", "choose a file to upload"));
    }
    let file_name = evident_store::clean_file_name(&given);
    let media_type = evident_core::evidence::media_type_of(&file_name);
    if !state.ws.config.server.upload_types.contains(&media_type) {
        return Err(ServerError::invalid(
            "file",
            format!("{file_name}: files of this type ({media_type}) are not accepted as evidence"),
        ));
    }
    let dir = state.ws.dir.join("tmp");
    tokio::fs::create_dir_all(&dir)
        .await
        .map_err(|e| ServerError::Internal(format!("{}: {e}", dir.display())))?;
    let temp = tempfile::tempfile_in(&dir).map_err(|e| ServerError::Internal(format!("{}: {e}", dir.display())))?;
    let mut out = tokio::fs::File::from_std(temp);
    let mut size: u64 = 0;
    while let Some(chunk) = field
        .chunk()
        .await
        .map_err(|e| ServerError::invalid("file", format!("the upload was cut short: {e}")))?
    {
        size += chunk.len() as u64;
        if size > limit {
            return Err(ServerError::invalid(
                "file",
                format!(
                    "{file_name} is larger than the limit of {}",
                    crate::web::html::human_bytes(limit)
                ),
            ));
        }
        out.write_all(&chunk)
            .await
            .map_err(|e| ServerError::Internal(format!("upload file: {e}")))?;
    }
    out.flush().await.map_err(|e| ServerError::Internal(e.to_string()))?;
    if size == 0 {
        return Err(ServerError::invalid("file", format!("{file_name} is empty")));
    }
    Ok((out.into_std().await, file_name))
}
