//! The evidence vault: content-addressed blobs (path from the SHA-256 of the plaintext),
//! encrypted with age to the workspace's vault key, on local disk or an S3-compatible bucket.
//! Bytes stream through in fixed-size chunks, so a file of any size uses bounded memory.

use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use age::secrecy::ExposeSecret;
use age::x25519;
use futures::{AsyncReadExt, TryStreamExt};
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use object_store::prefix::PrefixStore;
use object_store::{ObjectStore, ObjectStoreExt, WriteMultipart};
use sha2::{Digest, Sha256};

use crate::files::{link_unnamed, open_unnamed, resolve, write_private};
use crate::{Config, StoreError};

const READ_CHUNK: usize = 1 << 20;
const PART_SIZE: usize = 8 << 20;
const PARTS_IN_FLIGHT: usize = 4;

#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    #[error("{}: {source}", path.display())]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{}: the file is larger than the limit of {limit} bytes (max_evidence_bytes)", path.display())]
    TooLarge { path: PathBuf, limit: u64 },
    #[error("{}: the file changed while it was being read", path.display())]
    Changed { path: PathBuf },
    #[error("blob {sha256} is missing from the vault")]
    Missing { sha256: String },
    #[error("blob {sha256} cannot be decrypted with the vault key: {reason}")]
    Undecryptable { sha256: String, reason: String },
    #[error("blob {sha256} no longer matches its hash (its content was altered)")]
    Altered { sha256: String },
    #[error("vault storage: {0}")]
    Storage(#[from] object_store::Error),
    #[error("{}: {source}", path.display())]
    Write { path: PathBuf, source: std::io::Error },
    #[error("encryption: {0}")]
    Encrypt(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredBlob {
    pub sha256: String,
    pub size: u64,
    /// True when identical bytes were already in the vault.
    pub deduplicated: bool,
}

/// An `io::Write` whose bytes the uploader takes in batches.
#[derive(Clone, Default)]
struct Spool(Arc<Mutex<Vec<u8>>>);

impl Write for Spool {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("spool lock").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Spool {
    fn take(&self) -> Vec<u8> {
        std::mem::take(&mut *self.0.lock().expect("spool lock"))
    }
}

/// Where decrypted bytes go: hashed on the way to the caller's writer.
struct HashingSink<'a> {
    hasher: Sha256,
    size: u64,
    out: &'a mut (dyn Write + Send),
    out_path: &'a Path,
}

impl HashingSink<'_> {
    fn take(&mut self, bytes: &[u8]) -> Result<(), VaultError> {
        self.hasher.update(bytes);
        self.size += bytes.len() as u64;
        self.out.write_all(bytes).map_err(|source| VaultError::Write {
            path: self.out_path.to_path_buf(),
            source,
        })
    }
}

/// Where sealed bytes go before they have their content address.
enum Sink {
    /// A staged local file, written by blocking tasks at their offsets (at most
    /// `PARTS_IN_FLIGHT` at once) while the next chunk is hashed and encrypted.
    Local {
        staged: LocalStaged,
        offset: u64,
        writes: tokio::task::JoinSet<std::io::Result<()>>,
    },
    /// A multipart upload to a staging object of the bucket.
    Bucket(WriteMultipart, ObjectPath),
}

impl Sink {
    async fn push(&mut self, bytes: Vec<u8>) -> Result<(), VaultError> {
        if bytes.is_empty() {
            return Ok(());
        }
        match self {
            Sink::Local { staged, offset, writes } => {
                let file = staged.file.clone();
                let at = *offset;
                *offset += bytes.len() as u64;
                writes.spawn_blocking(move || std::os::unix::fs::FileExt::write_all_at(&*file, &bytes, at));
                while writes.len() > PARTS_IN_FLIGHT {
                    Sink::joined(writes.join_next().await)?;
                }
                Ok(())
            }
            Sink::Bucket(writer, _) => {
                writer.write(&bytes);
                Ok(writer.wait_for_capacity(PARTS_IN_FLIGHT).await?)
            }
        }
    }

    /// Waits for the local writes still under way.
    async fn flush(&mut self) -> Result<(), VaultError> {
        if let Sink::Local { writes, .. } = self {
            while !writes.is_empty() {
                Sink::joined(writes.join_next().await)?;
            }
        }
        Ok(())
    }

    fn joined(write: Option<Result<std::io::Result<()>, tokio::task::JoinError>>) -> Result<(), VaultError> {
        let failed = |source| VaultError::Write {
            path: PathBuf::from("(staged blob)"),
            source,
        };
        match write {
            None | Some(Ok(Ok(()))) => Ok(()),
            Some(Ok(Err(e))) => Err(failed(e)),
            Some(Err(e)) => Err(failed(std::io::Error::other(e))),
        }
    }

    async fn abort(self) {
        match self {
            // Dropping the staged file frees it (or removes its name).
            Sink::Local { .. } => {}
            Sink::Bucket(writer, _) => {
                let _ = writer.abort().await;
            }
        }
    }
}

/// A blob being written into the local vault. Unnamed (`O_TMPFILE`) wherever the file system
/// allows, so a process killed mid-write leaves nothing behind: the file gets its first name
/// only at its content address. Elsewhere a named file in `staging/`, removed on any error and,
/// if the writer died, by [`sweep_staging`] once stale.
struct LocalStaged {
    file: Arc<File>,
    /// The staging file's name when it has one.
    named: Option<PathBuf>,
}

/// How long a named staging file must lie untouched before it counts as abandoned: a write
/// under way touches its file at every chunk.
const STALE_STAGING: std::time::Duration = std::time::Duration::from_secs(3600);

impl LocalStaged {
    fn create(root: &Path) -> Result<LocalStaged, VaultError> {
        let dir = root.join("staging");
        std::fs::create_dir_all(&dir).map_err(write_err(&dir))?;
        match open_unnamed(&dir).map_err(write_err(&dir))? {
            Some(file) => Ok(LocalStaged {
                file: Arc::new(file),
                named: None,
            }),
            None => LocalStaged::create_named(&dir),
        }
    }

    /// A named staging file in `dir`, where unnamed ones are not to be had.
    fn create_named(dir: &Path) -> Result<LocalStaged, VaultError> {
        let path = dir.join(ulid::Ulid::new().to_string());
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(write_err(&path))?;
        Ok(LocalStaged {
            file: Arc::new(file),
            named: Some(path),
        })
    }

    fn write(&mut self, bytes: &[u8]) -> Result<(), VaultError> {
        (&*self.file).write_all(bytes).map_err(|source| VaultError::Write {
            path: self.named.clone().unwrap_or_else(|| PathBuf::from("(staged blob)")),
            source,
        })
    }

    /// Gives the staged bytes their content address unless it is taken already (true: it was,
    /// by identical bytes). `durable`: the bytes reach the disk first (the caller syncs the
    /// folders after); otherwise a later [`Vault::sync`] makes a batch durable at once.
    fn settle(self, root: &Path, target: &ObjectPath, durable: bool) -> Result<bool, VaultError> {
        let to = root.join(target.as_ref());
        if durable {
            self.file.sync_all().map_err(write_err(&to))?;
        }
        if let Some(parent) = to.parent() {
            std::fs::create_dir_all(parent).map_err(write_err(parent))?;
        }
        let linked = match &self.named {
            None => link_unnamed(&self.file, &to),
            Some(path) => std::fs::hard_link(path, &to),
        };
        // Dropping `self` removes a named staging file.
        match linked {
            Ok(()) => Ok(false),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(true),
            Err(source) => Err(write_err(&to)(source)),
        }
    }
}

impl Drop for LocalStaged {
    fn drop(&mut self) {
        if let Some(path) = &self.named {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// A write error naming `path`, for `map_err`.
fn write_err(path: &Path) -> impl FnOnce(std::io::Error) -> VaultError {
    let path = path.to_path_buf();
    move |source| VaultError::Write { path, source }
}

/// Removes staging files whose writer died: named ones where the file system has no unnamed
/// files, and the partial uploads (`<id>#<n>`) and unsettled blobs earlier versions left when
/// killed. Only files untouched for [`STALE_STAGING`], so no write under way is disturbed.
fn sweep_staging(root: &Path) {
    let Ok(entries) = std::fs::read_dir(root.join("staging")) else {
        return;
    };
    for e in entries.flatten() {
        let stale = e
            .metadata()
            .ok()
            .filter(|m| m.is_file())
            .and_then(|m| m.modified().ok())
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age > STALE_STAGING);
        if stale {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

#[derive(Clone)]
pub struct Vault {
    store: Arc<dyn ObjectStore>,
    /// Set for the local-disk vault, whose files are fsynced for durability.
    local_root: Option<PathBuf>,
    identity: x25519::Identity,
    recipient: x25519::Recipient,
    pub max_bytes: u64,
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vault")
            .field("store", &self.store.to_string())
            .finish_non_exhaustive()
    }
}

/// Writes a new vault key in the format of `age-keygen`, so `age -d -i` reads it as is.
pub(crate) fn generate_key(path: &Path) -> Result<(), StoreError> {
    write_key(path, &x25519::Identity::generate())
}

/// Writes `identity` as the vault key file (owner-only, never replacing a file).
pub(crate) fn write_key(path: &Path, identity: &x25519::Identity) -> Result<(), StoreError> {
    let text = format!(
        "# Evident vault key: decrypts every evidence blob. Keep a copy somewhere safe.\n# public key: {}\n{}\n",
        identity.to_public(),
        identity.to_string().expose_secret()
    );
    write_private(path, text.as_bytes())
}

pub(crate) fn parse_identity(text: &str, origin: &str) -> Result<x25519::Identity, StoreError> {
    let line = text
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with("AGE-SECRET-KEY-"))
        .ok_or_else(|| StoreError::Config(format!("{origin}: no AGE-SECRET-KEY line")))?;
    line.parse()
        .map_err(|e| StoreError::Config(format!("{origin}: not an age X25519 key: {e}")))
}

pub(crate) fn blob_path(sha256: &str) -> ObjectPath {
    ObjectPath::from(format!("sha256/{}/{}/{sha256}", &sha256[..2], &sha256[2..4]))
}

impl Vault {
    pub(crate) fn open(dir: &Path, config: &Config) -> Result<Vault, StoreError> {
        // reqwest's TLS needs a process-wide provider; a second install is a harmless no-op.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let identity = match &config.vault_key {
            Some(secret) => parse_identity(secret, "EVIDENT_VAULT_KEY")?,
            None => {
                let path = resolve(dir, &config.vault_key_file);
                let text = std::fs::read_to_string(&path).map_err(StoreError::io(&path))?;
                parse_identity(&text, &path.display().to_string())?
            }
        };
        let (store, local_root): (Arc<dyn ObjectStore>, _) = match &config.vault_url {
            None => {
                let root = resolve(dir, &config.vault_dir);
                std::fs::create_dir_all(&root).map_err(StoreError::io(&root))?;
                let fs = LocalFileSystem::new_with_prefix(&root)
                    .map_err(|e| StoreError::Config(format!("vault_dir {}: {e}", root.display())))?;
                sweep_staging(&root);
                (Arc::new(fs), Some(root))
            }
            Some(url) => {
                let mut b = object_store::aws::AmazonS3Builder::from_env().with_url(url.as_str());
                if let Some(e) = &config.s3_endpoint {
                    b = b.with_endpoint(e.as_str());
                }
                if let Some(r) = &config.s3_region {
                    b = b.with_region(r.as_str());
                }
                b = b.with_allow_http(config.s3_allow_http);
                let s3 = b
                    .build()
                    .map_err(|e| StoreError::Config(format!("vault_url {url}: {e}")))?;
                // The builder takes only the bucket from the URL; the path is our prefix.
                let prefix = url
                    .strip_prefix("s3://")
                    .and_then(|r| r.split_once('/'))
                    .map(|(_, p)| p.trim_matches('/'));
                match prefix.filter(|p| !p.is_empty()) {
                    Some(p) => (Arc::new(PrefixStore::new(s3, p)), None),
                    None => (Arc::new(s3), None),
                }
            }
        };
        Ok(Vault {
            store,
            local_root,
            recipient: identity.to_public(),
            identity,
            max_bytes: config.max_evidence_bytes,
        })
    }

    pub fn describe(&self) -> String {
        match &self.local_root {
            Some(root) => format!("local disk {}", root.display()),
            None => self.store.to_string(),
        }
    }

    /// Streams a file into the vault: hashed, encrypted and uploaded in one pass, then moved
    /// to its content address (or dropped when that content is already stored).
    pub async fn put_file(&self, path: &Path) -> Result<StoredBlob, VaultError> {
        let file = File::open(path).map_err(|source| VaultError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        self.put_open_file(file, path).await
    }

    /// As `put_file`, from an open file read from its start (an upload received into an
    /// unnamed temporary file); `path` only names it in errors.
    pub async fn put_open_file(&self, mut file: File, path: &Path) -> Result<StoredBlob, VaultError> {
        let read_err = |source| VaultError::Read {
            path: path.to_path_buf(),
            source,
        };
        std::io::Seek::rewind(&mut file).map_err(read_err)?;
        let expected_len = file.metadata().map_err(read_err)?.len();
        if expected_len > self.max_bytes {
            return Err(VaultError::TooLarge {
                path: path.to_path_buf(),
                limit: self.max_bytes,
            });
        }

        // On local disk the sealed bytes go to an unnamed file that a killed process cannot
        // leave behind; to a bucket, through a multipart upload to a staging object.
        let mut sink = match &self.local_root {
            Some(root) => Sink::Local {
                staged: LocalStaged::create(root)?,
                offset: 0,
                writes: tokio::task::JoinSet::new(),
            },
            None => {
                let staging = ObjectPath::from(format!("staging/{}", ulid::Ulid::new()));
                let upload = self.store.put_multipart(&staging).await?;
                Sink::Bucket(WriteMultipart::new_with_chunk_size(upload, PART_SIZE), staging)
            }
        };
        let spool = Spool::default();
        let encryptor = age::Encryptor::with_recipients(std::iter::once(&self.recipient as &dyn age::Recipient))
            .map_err(|e| VaultError::Encrypt(e.to_string()))?;
        let mut sealed = encryptor
            .wrap_output(spool.clone())
            .map_err(|e| VaultError::Encrypt(e.to_string()))?;

        let mut hasher = Sha256::new();
        let mut size: u64 = 0;
        let mut buf = vec![0u8; READ_CHUNK];
        let result: Result<(), VaultError> = async {
            loop {
                let n = file.read(&mut buf).map_err(read_err)?;
                if n == 0 {
                    break;
                }
                size += n as u64;
                if size > self.max_bytes {
                    return Err(VaultError::TooLarge {
                        path: path.to_path_buf(),
                        limit: self.max_bytes,
                    });
                }
                hasher.update(&buf[..n]);
                sealed
                    .write_all(&buf[..n])
                    .map_err(|e| VaultError::Encrypt(e.to_string()))?;
                sink.push(spool.take()).await?;
            }
            sealed.finish().map_err(|e| VaultError::Encrypt(e.to_string()))?;
            sink.push(spool.take()).await?;
            sink.flush().await
        }
        .await;
        if let Err(e) = result {
            sink.abort().await;
            return Err(e);
        }
        if size != expected_len {
            sink.abort().await;
            return Err(VaultError::Changed {
                path: path.to_path_buf(),
            });
        }

        let sha256 = hex::encode(hasher.finalize());
        let target = blob_path(&sha256);
        let deduplicated = match sink {
            Sink::Local { staged, .. } => {
                let taken = staged.settle(self.local_root.as_deref().expect("a local vault"), &target, true)?;
                self.sync_local(&target)?;
                taken
            }
            Sink::Bucket(writer, staging) => {
                writer.finish().await?;
                self.settle(&staging, &target).await?
            }
        };
        Ok(StoredBlob {
            sha256,
            size,
            deduplicated,
        })
    }

    /// Stores a small in-memory item (a bulk load). Unlike `put_file` it does not make each
    /// blob durable on its own: call `sync` once after the batch, before the database records it.
    pub async fn put_bytes(&self, bytes: &[u8]) -> Result<StoredBlob, VaultError> {
        if bytes.len() as u64 > self.max_bytes {
            return Err(VaultError::TooLarge {
                path: PathBuf::from("(in memory)"),
                limit: self.max_bytes,
            });
        }
        let sha256 = hex::encode(Sha256::digest(bytes));
        let target = blob_path(&sha256);
        let encryptor = age::Encryptor::with_recipients(std::iter::once(&self.recipient as &dyn age::Recipient))
            .map_err(|e| VaultError::Encrypt(e.to_string()))?;
        let mut sealed = Vec::with_capacity(bytes.len() + 256);
        let mut w = encryptor
            .wrap_output(&mut sealed)
            .map_err(|e| VaultError::Encrypt(e.to_string()))?;
        w.write_all(bytes).map_err(|e| VaultError::Encrypt(e.to_string()))?;
        w.finish().map_err(|e| VaultError::Encrypt(e.to_string()))?;
        let deduplicated = match &self.local_root {
            Some(root) => {
                let mut staged = LocalStaged::create(root)?;
                staged.write(&sealed)?;
                staged.settle(root, &target, false)?
            }
            None => {
                let opts = object_store::PutOptions {
                    mode: object_store::PutMode::Create,
                    ..Default::default()
                };
                match self.store.put_opts(&target, sealed.into(), opts).await {
                    Ok(_) => false,
                    Err(object_store::Error::AlreadyExists { .. }) => true,
                    Err(e) => return Err(e.into()),
                }
            }
        };
        Ok(StoredBlob {
            sha256,
            size: bytes.len() as u64,
            deduplicated,
        })
    }

    /// Makes everything `put_bytes` wrote durable: on local disk, one flush of the file system
    /// holding the vault (object stores are durable once a put returns).
    pub fn sync(&self) -> Result<(), VaultError> {
        let Some(root) = &self.local_root else {
            return Ok(());
        };
        let dir = File::open(root).map_err(|source| VaultError::Write {
            path: root.clone(),
            source,
        })?;
        // SAFETY: syncfs takes any open descriptor on the file system and only reads it.
        let rc = unsafe { libc::syncfs(std::os::fd::AsRawFd::as_raw_fd(&dir)) };
        if rc != 0 {
            return Err(VaultError::Write {
                path: root.clone(),
                source: std::io::Error::last_os_error(),
            });
        }
        Ok(())
    }

    /// Moves a staged upload to its final address; true when the address was already taken.
    async fn settle(&self, staging: &ObjectPath, target: &ObjectPath) -> Result<bool, VaultError> {
        let taken = match self.store.rename_if_not_exists(staging, target).await {
            Ok(()) => false,
            Err(object_store::Error::AlreadyExists { .. }) => true,
            // Buckets without conditional copy: look first, then copy. Two racing writers of
            // the same content both write a valid encryption of it.
            Err(object_store::Error::NotImplemented { .. } | object_store::Error::NotSupported { .. }) => {
                match self.store.head(target).await {
                    Ok(_) => true,
                    Err(object_store::Error::NotFound { .. }) => {
                        self.store.copy(staging, target).await?;
                        false
                    }
                    Err(e) => return Err(e.into()),
                }
            }
            Err(e) => return Err(e.into()),
        };
        if taken {
            let _ = self.store.delete(staging).await;
        }
        self.sync_local(target)?;
        Ok(taken)
    }

    /// On local disk, makes the blob and the folders naming it durable before the database
    /// records it.
    fn sync_local(&self, target: &ObjectPath) -> Result<(), VaultError> {
        let Some(root) = &self.local_root else {
            return Ok(());
        };
        let file = root.join(target.as_ref());
        let sync = |p: &Path| File::open(p).and_then(|f| f.sync_all());
        sync(&file).map_err(|source| VaultError::Write {
            path: file.clone(),
            source,
        })?;
        let mut dir = file.parent();
        while let Some(d) = dir {
            sync(d).map_err(|source| VaultError::Write {
                path: d.to_path_buf(),
                source,
            })?;
            if d == root.as_path() {
                break;
            }
            dir = d.parent();
        }
        Ok(())
    }

    /// Decrypts a blob into `out`, checking it against its address; returns the byte count.
    pub async fn read_into(
        &self,
        sha256: &str,
        out: &mut (dyn Write + Send),
        out_path: &Path,
    ) -> Result<u64, VaultError> {
        let undecryptable = |reason: String| VaultError::Undecryptable {
            sha256: sha256.to_string(),
            reason,
        };
        let identity = std::iter::once(&self.identity as &dyn age::Identity);
        let mut sink = HashingSink {
            hasher: Sha256::new(),
            size: 0,
            out,
            out_path,
        };
        let mut buf = vec![0u8; READ_CHUNK];
        if let Some(root) = &self.local_root {
            // Straight from disk: object_store's local stream hands out small chunks, which
            // costs the async reader most of its throughput.
            let file = match File::open(root.join(blob_path(sha256).as_ref())) {
                Ok(f) => f,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    return Err(VaultError::Missing { sha256: sha256.into() });
                }
                Err(source) => {
                    return Err(VaultError::Read {
                        path: root.clone(),
                        source,
                    });
                }
            };
            let reader = std::io::BufReader::with_capacity(READ_CHUNK, file);
            let decryptor = age::Decryptor::new_buffered(reader).map_err(|e| undecryptable(e.to_string()))?;
            let mut plain = decryptor.decrypt(identity).map_err(|e| undecryptable(e.to_string()))?;
            loop {
                let n = plain.read(&mut buf).map_err(|e| undecryptable(e.to_string()))?;
                if n == 0 {
                    break;
                }
                sink.take(&buf[..n])?;
            }
        } else {
            let got = match self.store.get(&blob_path(sha256)).await {
                Ok(g) => g,
                Err(object_store::Error::NotFound { .. }) => return Err(VaultError::Missing { sha256: sha256.into() }),
                Err(e) => return Err(e.into()),
            };
            let reader = got.into_stream().map_err(std::io::Error::other).into_async_read();
            let decryptor = age::Decryptor::new_async(reader)
                .await
                .map_err(|e| undecryptable(e.to_string()))?;
            let mut plain = decryptor
                .decrypt_async(identity)
                .map_err(|e| undecryptable(e.to_string()))?;
            loop {
                let n = plain.read(&mut buf).await.map_err(|e| undecryptable(e.to_string()))?;
                if n == 0 {
                    break;
                }
                sink.take(&buf[..n])?;
            }
        }
        if hex::encode(sink.hasher.finalize()) != sha256 {
            return Err(VaultError::Altered {
                sha256: sha256.to_string(),
            });
        }
        Ok(sink.size)
    }

    /// Encrypts a small secret to the vault key (connector tokens), as hex of an age file.
    pub fn seal(&self, secret: &[u8]) -> Result<String, VaultError> {
        let encryptor = age::Encryptor::with_recipients(std::iter::once(&self.recipient as &dyn age::Recipient))
            .map_err(|e| VaultError::Encrypt(e.to_string()))?;
        let mut out = Vec::new();
        let mut w = encryptor
            .wrap_output(&mut out)
            .map_err(|e| VaultError::Encrypt(e.to_string()))?;
        w.write_all(secret)
            .and_then(|_| w.finish().map(drop))
            .map_err(|e| VaultError::Encrypt(e.to_string()))?;
        Ok(hex::encode(out))
    }

    /// Opens what [`Self::seal`] made.
    pub fn unseal(&self, sealed: &str) -> Result<Vec<u8>, VaultError> {
        let fail = |reason: String| VaultError::Undecryptable {
            sha256: "(sealed secret)".into(),
            reason,
        };
        let bytes = hex::decode(sealed).map_err(|e| fail(e.to_string()))?;
        let d = age::Decryptor::new(&bytes[..]).map_err(|e| fail(e.to_string()))?;
        let mut r = d
            .decrypt(std::iter::once(&self.identity as &dyn age::Identity))
            .map_err(|e| fail(e.to_string()))?;
        let mut out = Vec::new();
        std::io::Read::read_to_end(&mut r, &mut out).map_err(|e| fail(e.to_string()))?;
        Ok(out)
    }

    /// True for the vault on local disk, false for a bucket.
    pub(crate) fn is_local(&self) -> bool {
        self.local_root.is_some()
    }

    /// The vault key as `age-keygen` writes it, for a backup that carries its keys.
    pub(crate) fn identity_text(&self) -> String {
        self.identity.to_string().expose_secret().to_string()
    }

    /// The public half of the vault key (`age1…`): what a backup names the key by.
    pub(crate) fn recipient_text(&self) -> String {
        self.recipient.to_string()
    }

    /// The stored (encrypted) size of every blob at its content address, by hash.
    pub(crate) async fn sealed_sizes(&self) -> Result<std::collections::HashMap<String, u64>, VaultError> {
        let mut listing = self.store.list(Some(&ObjectPath::from("sha256")));
        let mut sizes = std::collections::HashMap::new();
        while let Some(meta) = listing.try_next().await? {
            if let Some(name) = meta.location.filename().filter(|n| n.len() == 64) {
                sizes.insert(name.to_string(), meta.size);
            }
        }
        Ok(sizes)
    }

    /// Copies a blob as stored (still encrypted) into `out`; returns the byte count.
    pub(crate) async fn read_sealed(&self, sha256: &str, out: &mut dyn Write) -> Result<u64, VaultError> {
        let target = blob_path(sha256);
        let write_err = |source| VaultError::Write {
            path: PathBuf::from("(backup)"),
            source,
        };
        if let Some(root) = &self.local_root {
            let path = root.join(target.as_ref());
            let mut file = match File::open(&path) {
                Ok(f) => f,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    return Err(VaultError::Missing { sha256: sha256.into() });
                }
                Err(source) => return Err(VaultError::Read { path, source }),
            };
            return std::io::copy(&mut file, out).map_err(write_err);
        }
        let got = match self.store.get(&target).await {
            Ok(g) => g,
            Err(object_store::Error::NotFound { .. }) => return Err(VaultError::Missing { sha256: sha256.into() }),
            Err(e) => return Err(e.into()),
        };
        let mut stream = got.into_stream();
        let mut n = 0;
        while let Some(chunk) = stream.try_next().await? {
            out.write_all(&chunk).map_err(write_err)?;
            n += chunk.len() as u64;
        }
        Ok(n)
    }

    /// Stores a blob exactly as another vault stored it (a restore): the bytes stay encrypted
    /// to the key they were made with. Blobs on local disk, and small ones in a bucket, are not
    /// made durable one by one: call `sync` once after the batch, before the database records
    /// them.
    pub(crate) async fn write_sealed(&self, sha256: &str, input: &mut dyn Read, size: u64) -> Result<(), VaultError> {
        let target = blob_path(sha256);
        let read_err = |source| VaultError::Read {
            path: PathBuf::from("(backup)"),
            source,
        };
        if let Some(root) = &self.local_root {
            let mut staged = LocalStaged::create(root)?;
            let mut buf = vec![0u8; READ_CHUNK];
            loop {
                match input.read(&mut buf).map_err(read_err)? {
                    0 => break,
                    n => staged.write(&buf[..n])?,
                }
            }
            staged.settle(root, &target, false)?;
            return Ok(());
        }
        if size <= PART_SIZE as u64 {
            let mut sealed = Vec::with_capacity(size as usize);
            input.read_to_end(&mut sealed).map_err(read_err)?;
            let opts = object_store::PutOptions {
                mode: object_store::PutMode::Create,
                ..Default::default()
            };
            return match self.store.put_opts(&target, sealed.into(), opts).await {
                Ok(_) | Err(object_store::Error::AlreadyExists { .. }) => Ok(()),
                Err(e) => Err(e.into()),
            };
        }
        let staging = ObjectPath::from(format!("staging/{}", ulid::Ulid::new()));
        let mut writer = WriteMultipart::new_with_chunk_size(self.store.put_multipart(&staging).await?, PART_SIZE);
        let mut buf = vec![0u8; READ_CHUNK];
        loop {
            let n = match input.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) => {
                    let _ = writer.abort().await;
                    return Err(read_err(e));
                }
            };
            writer.write(&buf[..n]);
            writer.wait_for_capacity(PARTS_IN_FLIGHT).await?;
        }
        writer.finish().await?;
        self.settle(&staging, &target).await?;
        Ok(())
    }

    /// Re-hashes a stored blob without keeping its bytes.
    pub async fn check(&self, sha256: &str) -> Result<u64, VaultError> {
        self.read_into(sha256, &mut std::io::sink(), Path::new("(check)")).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn staged(root: &Path) -> Vec<PathBuf> {
        std::fs::read_dir(root.join("staging"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect()
    }

    #[test]
    fn staged_blobs_get_their_address_once_and_leave_nothing_staged() {
        let root = tempfile::tempdir().unwrap();
        let root = root.path();
        let target = blob_path(&"ab".repeat(32));
        for named in [false, true] {
            for (attempt, taken) in [(1, false), (2, true)] {
                let mut s = LocalStaged::create(root).unwrap();
                if named {
                    drop(s);
                    s = LocalStaged::create_named(&root.join("staging")).unwrap();
                    assert_eq!(staged(root).len(), 1);
                } else {
                    assert!(staged(root).is_empty(), "unnamed: nothing to see while it is written");
                }
                s.write(format!("sealed {named} {attempt}").as_bytes()).unwrap();
                assert_eq!(
                    s.settle(root, &target, true).unwrap(),
                    taken,
                    "named {named}, attempt {attempt}"
                );
                assert!(staged(root).is_empty());
            }
            let stored = std::fs::read(root.join(target.as_ref())).unwrap();
            assert_eq!(
                stored,
                format!("sealed {named} 1").as_bytes(),
                "the first write keeps the address"
            );
            std::fs::remove_file(root.join(target.as_ref())).unwrap();
        }
        // A write that fails before its address leaves nothing either.
        drop(LocalStaged::create_named(&root.join("staging")).unwrap());
        assert!(staged(root).is_empty());
    }

    #[test]
    fn only_stale_staging_files_are_swept() {
        let root = tempfile::tempdir().unwrap();
        let root = root.path();
        std::fs::create_dir_all(root.join("staging")).unwrap();
        let old = root.join("staging/01M8S0WN498N0MR0T26BMYC837#1");
        let fresh = root.join("staging/01M8S0X5JMJBGQQ4B1RQ6P8PYS");
        std::fs::write(&old, b"partial").unwrap();
        std::fs::write(&fresh, b"being written").unwrap();
        let then = std::time::SystemTime::now() - STALE_STAGING - std::time::Duration::from_secs(60);
        File::options()
            .write(true)
            .open(&old)
            .unwrap()
            .set_modified(then)
            .unwrap();
        sweep_staging(root);
        assert_eq!(staged(root), [fresh]);
    }
}
