//! Remotes in object stores and network filesystems, through Apache OpenDAL:
//! `s3://` (and S3-compatible stores via `endpointurl`), `ssh://` (SFTP),
//! `http(s)://` (read-only), `webdav(s)://`, `azure://` and `gs://`.
//!
//! The library API stays synchronous: each backend owns a small
//! multi-thread tokio runtime and blocks on it. Transfers stream in chunks
//! (a file is never held in memory whole, except for WebDAV uploads, whose
//! OpenDAL writer is one-shot). Object stores (S3, Azure, GCS) get the
//! object under its final key directly, since a PUT or a completed
//! multipart upload is atomic; SFTP and WebDAV uploads go to a temporary
//! name that is renamed into place. Transient errors are retried with
//! exponential backoff; permanent ones (bad credentials, missing bucket)
//! fail at once. Every operation has a timeout.
//!
//! Credentials never appear in messages: [`OpendalBackend`]'s `Debug`, its
//! URL and its errors have every secret replaced by `***`.

use crate::backend::{Backend, BackendError, OpenError, SizedKeys};
use futures::StreamExt;
use opendal::Operator;
use opendal::layers::{RetryLayer, TimeoutLayer};
use std::fmt;
use std::io::{self, Read, Write};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Size of the pieces a transfer moves at a time (and of S3/Azure/GCS
/// multipart parts): bounds the memory a transfer holds.
const CHUNK: usize = 8 << 20;

/// How many parts of one multipart upload are in flight at once.
const PARTS_AT_ONCE: usize = 4;

/// The storage service behind a URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    /// Amazon S3 or an S3-compatible store (`s3://bucket/path`).
    S3,
    /// SFTP over SSH (`ssh://[user@]host[:port]/path`).
    Sftp,
    /// Plain HTTP(S), read-only (`http://…`, `https://…`).
    Http,
    /// WebDAV (`webdav://…`, `webdavs://…`).
    Webdav,
    /// Azure Blob Storage (`azure://container/path`).
    Azure,
    /// Google Cloud Storage (`gs://bucket/path`).
    Gcs,
}

impl Service {
    /// The service for a URL scheme, if OpenDAL handles it.
    pub fn from_scheme(scheme: &str) -> Option<Self> {
        Some(match scheme.to_ascii_lowercase().as_str() {
            "s3" => Service::S3,
            "ssh" | "sftp" => Service::Sftp,
            "http" | "https" => Service::Http,
            "webdav" | "webdavs" => Service::Webdav,
            "azure" => Service::Azure,
            "gs" | "gcs" => Service::Gcs,
            _ => return None,
        })
    }

    fn opendal_scheme(self) -> &'static str {
        match self {
            Service::S3 => "s3",
            Service::Sftp => "sftp",
            Service::Http => "http",
            Service::Webdav => "webdav",
            Service::Azure => "azblob",
            Service::Gcs => "gcs",
        }
    }

    /// Whether uploads go to a temporary name first (the store has rename
    /// but no atomic PUT).
    fn renames_uploads(self) -> bool {
        matches!(self, Service::Sftp | Service::Webdav)
    }
}

/// The parts of `scheme://[user[:password]@]host[:port][/path]`.
#[derive(Clone, PartialEq, Eq)]
struct UrlParts {
    scheme: String,
    user: Option<String>,
    password: Option<String>,
    host: String,
    port: Option<u16>,
    /// Starts with `/` or is empty.
    path: String,
}

impl UrlParts {
    fn parse(url: &str) -> Option<Self> {
        let (scheme, rest) = url.split_once("://")?;
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, ""),
        };
        let (userinfo, hostport) = match authority.rsplit_once('@') {
            Some((u, h)) => (Some(u), h),
            None => (None, authority),
        };
        let (user, password) = match userinfo {
            Some(u) => match u.split_once(':') {
                Some((u, p)) => (Some(u.to_string()), Some(p.to_string())),
                None => (Some(u.to_string()), None),
            },
            None => (None, None),
        };
        let (host, port) = match hostport.rsplit_once(':') {
            // `[::1]` alone: the colons are the address's.
            Some((h, p)) if !p.ends_with(']') => match p.parse::<u16>() {
                Ok(p) => (h.to_string(), Some(p)),
                Err(_) if p.is_empty() => (h.to_string(), None),
                Err(_) => return None,
            },
            _ => (hostport.to_string(), None),
        };
        Some(Self {
            scheme: scheme.to_ascii_lowercase(),
            user: user.filter(|u| !u.is_empty()),
            password: password.filter(|p| !p.is_empty()),
            host,
            port,
            path: path.trim_end_matches('/').to_string(),
        })
    }

    /// The root inside the bucket/server: `/` plus the path.
    fn root(&self) -> String {
        if self.path.is_empty() {
            "/".to_string()
        } else {
            self.path.clone()
        }
    }

    fn hostport(&self) -> String {
        match self.port {
            Some(p) => format!("{}:{p}", self.host),
            None => self.host.clone(),
        }
    }
}

/// Replaces a password in a URL's userinfo with `***`.
pub fn mask_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split_once(':').map_or(userinfo, |(u, _)| u);
            let masked = if userinfo.contains(':') {
                format!("{user}:***")
            } else {
                user.to_string()
            };
            format!("{scheme}://{masked}@{host}{}", &rest[authority_end..])
        }
        None => url.to_string(),
    }
}

/// A remote served by OpenDAL. See the module documentation.
pub struct OpendalBackend {
    /// `None` only while dropping (the operator is dropped inside the
    /// runtime, so that SSH sessions close cleanly).
    op: Option<Operator>,
    rt: tokio::runtime::Runtime,
    service: Service,
    url: String,
    secrets: Vec<String>,
}

impl fmt::Debug for OpendalBackend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpendalBackend")
            .field("service", &self.service)
            .field("url", &self.url)
            .field("secrets", &format_args!("[{} hidden]", self.secrets.len()))
            .finish()
    }
}

impl Drop for OpendalBackend {
    fn drop(&mut self) {
        if let Some(op) = self.op.take() {
            let _guard = self.rt.enter();
            drop(op);
        }
    }
}

/// Options as `(key, value)` pairs, DVC's names (`endpointurl`, `keyfile`…).
struct Options<'a>(&'a [(String, String)]);

impl Options<'_> {
    fn get(&self, key: &str) -> Option<String> {
        self.0
            .iter()
            .rev()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.clone())
            .filter(|v| !v.is_empty())
    }
}

fn env(key: &str) -> Option<String> {
    std::env::var(key).ok().filter(|v| !v.is_empty())
}

fn invalid(name: &str, url: &str, message: impl Into<String>) -> OpenError {
    OpenError::Invalid {
        name: name.to_string(),
        url: mask_url(url),
        message: message.into(),
    }
}

/// A parsed Azure connection string's relevant fields.
fn parse_connection_string(cs: &str) -> Vec<(String, String)> {
    cs.split(';')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect()
}

impl OpendalBackend {
    /// Opens the remote `name` at `url` with its config options (DVC's
    /// names and values).
    pub fn open(name: &str, url: &str, options: &[(String, String)]) -> Result<Self, OpenError> {
        let parts = UrlParts::parse(url).ok_or_else(|| invalid(name, url, "malformed URL"))?;
        let service =
            Service::from_scheme(&parts.scheme).ok_or_else(|| OpenError::UnsupportedScheme {
                name: name.to_string(),
                scheme: parts.scheme.clone(),
                url: mask_url(url),
            })?;
        let opts = Options(options);
        let mut cfg: Vec<(String, String)> = Vec::new();
        let mut secrets: Vec<String> = Vec::new();
        let mut set = |k: &str, v: String| cfg.push((k.to_string(), v));
        match service {
            Service::S3 => {
                if parts.host.is_empty() {
                    return Err(invalid(name, url, "no bucket in the URL"));
                }
                set("bucket", parts.host.clone());
                set("root", parts.root());
                // Every PUT (and part) carries a CRC32C of its body: a body cut
                // short (strix killed mid-upload) is refused by the server
                // instead of being stored under the object's final name. (MD5
                // is not accepted for multipart uploads.)
                set("checksum_algorithm", "crc32c".to_string());
                let endpoint = opts.get("endpointurl").or_else(|| env("AWS_ENDPOINT_URL"));
                if let Some(e) = endpoint {
                    set("endpoint", e);
                }
                let region = opts
                    .get("region")
                    .or_else(|| env("AWS_REGION"))
                    .or_else(|| env("AWS_DEFAULT_REGION"))
                    .unwrap_or_else(|| "us-east-1".to_string());
                set("region", region);
                if let Some(p) = opts.get("profile") {
                    set("profile", p);
                }
                let key = opts.get("access_key_id");
                let secret = opts.get("secret_access_key");
                if let (Some(k), Some(s)) = (key, secret) {
                    secrets.push(s.clone());
                    set("access_key_id", k);
                    set("secret_access_key", s);
                    if let Some(t) = opts.get("session_token") {
                        secrets.push(t.clone());
                        set("session_token", t);
                    }
                    // Explicit keys: don't mix in ~/.aws or the environment.
                    set("disable_config_load", "true".into());
                }
                // Otherwise OpenDAL reads AWS_ACCESS_KEY_ID/… and ~/.aws.
                secrets.extend(
                    ["AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"]
                        .map(env)
                        .into_iter()
                        .flatten(),
                );
            }
            Service::Sftp => {
                if parts.host.is_empty() {
                    return Err(invalid(name, url, "no host in the URL"));
                }
                if opts.get("password").is_some() || parts.password.is_some() {
                    return Err(invalid(
                        name,
                        url,
                        "password authentication is not supported for ssh remotes; \
                         use a key ('keyfile' option or ssh-agent)",
                    ));
                }
                let user = opts.get("user").or_else(|| parts.user.clone());
                let port = match opts.get("port") {
                    Some(p) => Some(
                        p.parse::<u16>()
                            .map_err(|_| invalid(name, url, format!("invalid port '{p}'")))?,
                    ),
                    None => parts.port,
                };
                let mut endpoint = "ssh://".to_string();
                if let Some(u) = &user {
                    endpoint.push_str(u);
                    endpoint.push('@');
                }
                endpoint.push_str(&parts.host);
                endpoint.push_str(&format!(":{}", port.unwrap_or(22)));
                set("endpoint", endpoint);
                if let Some(u) = user {
                    set("user", u);
                }
                if let Some(k) = opts.get("keyfile") {
                    set("key", k);
                }
                set("known_hosts_strategy", "accept".into());
                set("root", parts.root());
            }
            Service::Http | Service::Webdav => {
                let scheme = match parts.scheme.as_str() {
                    "webdav" => "http",
                    "webdavs" => "https",
                    s => s,
                };
                set("endpoint", format!("{scheme}://{}", parts.hostport()));
                set("root", parts.root());
                let user = opts.get("user").or_else(|| parts.user.clone());
                let password = opts.get("password").or_else(|| parts.password.clone());
                if let Some(u) = user {
                    set("username", u);
                }
                if let Some(p) = password {
                    secrets.push(p.clone());
                    set("password", p);
                }
                if let Some(t) = opts.get("token") {
                    secrets.push(t.clone());
                    set("token", t);
                }
            }
            Service::Azure => {
                if parts.host.is_empty() {
                    return Err(invalid(name, url, "no container in the URL"));
                }
                set("container", parts.host.clone());
                set("root", parts.root());
                let cs = opts
                    .get("connection_string")
                    .or_else(|| env("AZURE_STORAGE_CONNECTION_STRING"));
                let mut account = opts
                    .get("account_name")
                    .or_else(|| env("AZURE_STORAGE_ACCOUNT"));
                let mut key = opts.get("account_key").or_else(|| env("AZURE_STORAGE_KEY"));
                let mut sas = opts.get("sas_token");
                let mut endpoint = None;
                if let Some(cs) = cs {
                    secrets.push(cs.clone());
                    let fields = parse_connection_string(&cs);
                    let field = |k: &str| {
                        fields
                            .iter()
                            .find(|(f, _)| f.eq_ignore_ascii_case(k))
                            .map(|(_, v)| v.clone())
                    };
                    account = account.or_else(|| field("AccountName"));
                    key = key.or_else(|| field("AccountKey"));
                    sas = sas.or_else(|| field("SharedAccessSignature"));
                    endpoint = field("BlobEndpoint").or_else(|| {
                        let acc = account.clone()?;
                        let proto =
                            field("DefaultEndpointsProtocol").unwrap_or_else(|| "https".into());
                        let suffix =
                            field("EndpointSuffix").unwrap_or_else(|| "core.windows.net".into());
                        Some(format!("{proto}://{acc}.blob.{suffix}"))
                    });
                }
                let Some(account) = account else {
                    return Err(invalid(
                        name,
                        url,
                        "no Azure account: set 'account_name' or 'connection_string'",
                    ));
                };
                let endpoint =
                    endpoint.unwrap_or_else(|| format!("https://{account}.blob.core.windows.net"));
                set("endpoint", endpoint);
                set("account_name", account);
                if let Some(k) = key {
                    secrets.push(k.clone());
                    set("account_key", k);
                }
                if let Some(s) = sas {
                    secrets.push(s.clone());
                    set("sas_token", s);
                }
            }
            Service::Gcs => {
                if parts.host.is_empty() {
                    return Err(invalid(name, url, "no bucket in the URL"));
                }
                set("bucket", parts.host.clone());
                set("root", parts.root());
                if let Some(e) = opts
                    .get("endpointurl")
                    .or_else(|| env("STORAGE_EMULATOR_HOST"))
                {
                    // An emulator: no OAuth, no metadata server.
                    set("endpoint", e);
                    set("allow_anonymous", "true".into());
                    set("skip_signature", "true".into());
                    set("disable_vm_metadata", "true".into());
                    set("disable_config_load", "true".into());
                }
                if let Some(p) = opts
                    .get("credentialpath")
                    .or_else(|| env("GOOGLE_APPLICATION_CREDENTIALS"))
                {
                    set("credential_path", p);
                }
            }
        }
        secrets.retain(|s| s.len() >= 3);

        // Transient failures (connection reset, 5xx, throttling) are
        // retried a few times; permanent ones (403, 404) are not.
        let retries = match service {
            Service::Sftp => 2,
            _ => 4,
        };
        let op = Operator::via_iter(service.opendal_scheme(), cfg)
            .map_err(|e| invalid(name, url, mask(&e.to_string(), &secrets)))?
            .layer(
                TimeoutLayer::new()
                    .with_timeout(Duration::from_secs(60))
                    .with_io_timeout(Duration::from_secs(60)),
            )
            .layer(
                RetryLayer::new()
                    .with_max_times(retries)
                    .with_min_delay(Duration::from_millis(200))
                    .with_max_delay(Duration::from_secs(5))
                    .with_jitter(),
            );
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("strix-remote")
            .enable_all()
            .build()
            .map_err(|e| invalid(name, url, format!("cannot start the I/O runtime: {e}")))?;
        Ok(Self {
            op: Some(op),
            rt,
            service,
            url: mask_url(url),
            secrets,
        })
    }

    /// The service this remote uses.
    pub fn service(&self) -> Service {
        self.service
    }

    fn op(&self) -> &Operator {
        self.op.as_ref().expect("operator present until drop")
    }

    fn err(&self, op: &'static str, key: &str, e: opendal::Error) -> BackendError {
        use opendal::ErrorKind as K;
        if e.kind() == K::NotFound && op != "upload" {
            return BackendError::NotFound {
                key: key.to_string(),
            };
        }
        let (kind, what) = classify(&e);
        let text = full_text(&e);
        let detail = service_detail(&text).unwrap_or(text);
        BackendError::Io {
            op,
            key: key.to_string(),
            source: io::Error::new(
                kind,
                format!("{what} on {}: {}", self.url, mask(&detail, &self.secrets)),
            ),
        }
    }

    fn local_err(op: &'static str, path: &Path, e: io::Error) -> BackendError {
        BackendError::Io {
            op,
            key: path.to_string_lossy().into_owned(),
            source: e,
        }
    }

    async fn upload_to(&self, src: &Path, key: &str) -> Result<(), BackendError> {
        let mut input = strix_fs::open_noatime(src).map_err(|e| Self::local_err("read", src, e))?;
        let size = input
            .metadata()
            .map_err(|e| Self::local_err("read", src, e))?
            .len();
        let werr = |e| self.err("upload", key, e);
        let one_shot = matches!(self.service, Service::Webdav | Service::Http);
        let mut w = if one_shot {
            self.op().writer(key).await.map_err(werr)?
        } else if self.service == Service::Gcs {
            // Objects are named by their content, so "create only" loses
            // nothing; and OpenDAL sends conditional GCS writes through the
            // JSON API's resumable uploads, which emulators support too
            // (its plain chunked writes use the XML multipart API).
            self.op()
                .writer_with(key)
                .chunk(CHUNK)
                .if_not_exists(true)
                .await
                .map_err(werr)?
        } else {
            // Parts of a large object go up a few at a time (each holds a
            // CHUNK of memory).
            let parts = if size > CHUNK as u64 {
                PARTS_AT_ONCE
            } else {
                1
            };
            self.op()
                .writer_with(key)
                .chunk(CHUNK)
                .concurrent(parts)
                .await
                .map_err(werr)?
        };
        let result = async {
            if one_shot {
                // OpenDAL's WebDAV writer takes exactly one write.
                let mut buf = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
                input
                    .read_to_end(&mut buf)
                    .map_err(|e| Self::local_err("read", src, e))?;
                w.write(buf).await.map_err(werr)?;
            } else {
                // Small objects (most of them) get a buffer of their size, not
                // a whole CHUNK: many run at once.
                let cap = usize::try_from(size).map_or(CHUNK, |s| s.clamp(1, CHUNK));
                loop {
                    let mut buf = vec![0u8; cap];
                    let mut filled = 0;
                    while filled < buf.len() {
                        match input.read(&mut buf[filled..]) {
                            Ok(0) => break,
                            Ok(n) => filled += n,
                            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                            Err(e) => return Err(Self::local_err("read", src, e)),
                        }
                    }
                    if filled == 0 {
                        break;
                    }
                    buf.truncate(filled);
                    w.write(buf).await.map_err(werr)?;
                }
            }
            match w.close().await {
                Ok(_) => Ok(()),
                // Only for GCS's create-only writes: the object is there.
                Err(e) if e.kind() == opendal::ErrorKind::ConditionNotMatch => Ok(()),
                Err(e) => Err(werr(e)),
            }
        }
        .await;
        if result.is_err() {
            let _ = w.abort().await;
        }
        result
    }

    async fn upload_async(&self, src: &Path, key: &str) -> Result<(), BackendError> {
        if !self.service.renames_uploads() {
            return self.upload_to(src, key).await;
        }
        static N: AtomicU64 = AtomicU64::new(0);
        let tmp = format!(
            "{key}.{}-{}{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed),
            strix_fs::TEMP_SUFFIX
        );
        let r = self.upload_to(src, &tmp).await;
        if let Err(e) = r {
            let _ = self.op().delete(&tmp).await;
            return Err(e);
        }
        match self.op().rename(&tmp, key).await {
            Ok(()) => Ok(()),
            Err(e) => {
                // SFTP's rename refuses to replace. An existing object of
                // the right size has the same content (keys are content
                // hashes): keep it. One of another size (cut short by an
                // old, killed upload) is removed and the rename tried again.
                let want = std::fs::metadata(src).map(|m| m.len()).ok();
                let existing = self.op().stat(key).await.ok().map(|m| m.content_length());
                let r = match existing {
                    Some(have) if want.is_none_or(|w| w == have) => Ok(()),
                    Some(_) => match self.op().delete(key).await {
                        Ok(()) => self
                            .op()
                            .rename(&tmp, key)
                            .await
                            .map_err(|e| self.err("upload", key, e)),
                        Err(e) => Err(self.err("upload", key, e)),
                    },
                    None => Err(self.err("upload", key, e)),
                };
                let _ = self.op().delete(&tmp).await;
                r
            }
        }
    }

    async fn download_async(
        &self,
        key: &str,
        offset: u64,
        out: &mut dyn Write,
    ) -> Result<u64, BackendError> {
        let derr = |e| self.err("download", key, e);
        // One streamed request (a chunked reader would first ask for the
        // size, then send one ranged request per chunk). Plain HTTP
        // servers may ignore `Range` (python's http.server does): they are
        // only ever asked for whole objects (see `resumes`).
        let reader = self.op().reader(key).await.map_err(derr)?;
        let mut stream = reader.into_bytes_stream(offset..).await.map_err(derr)?;
        let mut n = 0u64;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| {
                if e.kind() == io::ErrorKind::NotFound {
                    BackendError::NotFound {
                        key: key.to_string(),
                    }
                } else {
                    let text = e.to_string();
                    let (kind, what) = match e.kind() {
                        io::ErrorKind::Other => classify_text(&text.to_ascii_lowercase()),
                        k => (k, "remote error"),
                    };
                    BackendError::Io {
                        op: "download",
                        key: key.to_string(),
                        source: io::Error::new(
                            kind,
                            format!("{what} on {}: {}", self.url, mask(&text, &self.secrets)),
                        ),
                    }
                }
            })?;
            out.write_all(&chunk)
                .map_err(|e| BackendError::io("download", key, e))?;
            n += chunk.len() as u64;
        }
        Ok(n)
    }

    /// Whether stats and listings of this remote tell object sizes that
    /// can be trusted (a plain HTTP server may send none).
    fn tells_sizes(&self) -> bool {
        self.service != Service::Http
    }

    /// Every key under `prefix`; temporaries (`*.tmp`) only if `temps`.
    async fn list_async(&self, prefix: &str, temps: bool) -> Result<SizedKeys, BackendError> {
        let dir = prefix.trim_matches('/');
        let dir = if dir.is_empty() {
            "/".to_string()
        } else {
            format!("{dir}/")
        };
        let lerr = |e: opendal::Error| self.err("list", prefix, e);
        let mut lister = match self.op().lister_with(&dir).recursive(true).await {
            Ok(l) => l,
            Err(e) if e.kind() == opendal::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(lerr(e)),
        };
        let mut out = Vec::new();
        while let Some(entry) = lister.next().await {
            let entry = match entry {
                Ok(e) => e,
                Err(e) if e.kind() == opendal::ErrorKind::NotFound => break,
                Err(e) => return Err(lerr(e)),
            };
            let path = entry.path().trim_start_matches('/');
            if path.is_empty()
                || path.ends_with('/')
                || entry.metadata().mode().is_dir()
                || (!temps && path.ends_with(strix_fs::TEMP_SUFFIX))
            {
                continue;
            }
            let meta = entry.metadata();
            let size = (self.tells_sizes() && meta.mode().is_file()).then(|| meta.content_length());
            out.push((path.to_string(), size));
        }
        Ok(out)
    }
}

/// An OpenDAL error's message with the messages of all its sources.
fn full_text(e: &opendal::Error) -> String {
    let mut s = e.to_string();
    let mut cur = std::error::Error::source(e);
    while let Some(c) = cur {
        let t = c.to_string();
        if !s.contains(&t) {
            s.push_str(": ");
            s.push_str(&t);
        }
        cur = c.source();
    }
    s
}

/// The error a storage service sent, out of OpenDAL's whole account of a
/// request (operation, URI, every response header, then the service's
/// error): `NoSuchBucket: The specified bucket does not exist (HTTP 404)`.
/// `None` when the text holds no service error code.
fn service_detail(text: &str) -> Option<String> {
    let quoted = |field: &str| -> Option<&str> {
        let start = text.find(field)? + field.len();
        let len = text[start..].find('"')?;
        Some(&text[start..start + len])
    };
    let code = quoted("code: \"").filter(|c| !c.is_empty())?;
    let mut s = code.to_string();
    if let Some(message) = quoted("message: \"").filter(|m| !m.is_empty()) {
        s.push_str(": ");
        s.push_str(message);
    }
    if let Some(at) = text.find("status: ") {
        let status: String = text[at + 8..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        if !status.is_empty() {
            s.push_str(&format!(" (HTTP {status})"));
        }
    }
    Some(s)
}

/// What went wrong, in a user's words, and the matching I/O error kind
/// (callers pick hints by kind).
fn classify(e: &opendal::Error) -> (io::ErrorKind, &'static str) {
    use opendal::ErrorKind as K;
    const DENIED: &str = "access denied (check the remote's credentials)";
    let text = full_text(e).to_ascii_lowercase();
    match e.kind() {
        K::PermissionDenied => (io::ErrorKind::PermissionDenied, DENIED),
        K::ConfigInvalid if missing_bucket(&text) => (io::ErrorKind::InvalidInput, MISSING_BUCKET),
        K::ConfigInvalid => (io::ErrorKind::InvalidInput, "invalid remote configuration"),
        K::Unsupported => (
            io::ErrorKind::Unsupported,
            "operation not supported by this remote",
        ),
        K::NotFound => (io::ErrorKind::NotFound, "not found"),
        _ => classify_text(&text),
    }
}

const MISSING_BUCKET: &str = "the bucket does not exist";

/// Whether a (lowercase) error message says the bucket or container is
/// missing (S3 and GCS: `NoSuchBucket`; Azure: `ContainerNotFound`).
fn missing_bucket(text: &str) -> bool {
    ["nosuchbucket", "containernotfound", "bucket does not exist"]
        .iter()
        .any(|n| text.contains(n))
}

/// [`classify`] for an error known only by its (lowercase) message.
fn classify_text(text: &str) -> (io::ErrorKind, &'static str) {
    const DENIED: &str = "access denied (check the remote's credentials)";
    let has = |needles: &[&str]| needles.iter().any(|n| text.contains(n));
    match () {
        _ if has(&[
            "status: 401",
            "invalidaccesskeyid",
            "signaturedoesnotmatch",
            "authenticationfailed",
            "permission denied",
        ]) =>
        {
            (io::ErrorKind::PermissionDenied, DENIED)
        }
        _ if missing_bucket(text) => (io::ErrorKind::InvalidInput, MISSING_BUCKET),
        // reqsign found no access key (none configured, none in the
        // environment) for a service that signs every request.
        _ if text.contains("failed to load signing credential") => (
            io::ErrorKind::PermissionDenied,
            "no credentials for the remote",
        ),
        _ if has(&["connection refused", "tcp connect error", "dns error"]) => (
            io::ErrorKind::ConnectionRefused,
            "cannot connect to the remote",
        ),
        _ if has(&[
            "connection reset",
            "connection closed",
            "broken pipe",
            "incomplete message",
            "unexpected eof",
            "end of file",
            "body from connection",
            "before message completed",
            "error sending request",
            "connection error",
        ]) =>
        {
            (
                io::ErrorKind::ConnectionReset,
                "the connection to the remote broke",
            )
        }
        _ if has(&["timed out", "timeout"]) => (
            io::ErrorKind::TimedOut,
            "the remote did not answer in time (connection timed out)",
        ),
        _ => (io::ErrorKind::Other, "remote error"),
    }
}

/// `text` with every secret replaced by `***`.
fn mask(text: &str, secrets: &[String]) -> String {
    let mut s = text.to_string();
    for secret in secrets {
        if !secret.is_empty() {
            s = s.replace(secret.as_str(), "***");
        }
    }
    s
}

impl Backend for OpendalBackend {
    fn url(&self) -> &str {
        &self.url
    }

    fn exists(&self, key: &str) -> Result<bool, BackendError> {
        self.rt
            .block_on(self.op().exists(key))
            .map_err(|e| self.err("check", key, e))
    }

    fn stat(&self, key: &str) -> Result<Option<Option<u64>>, BackendError> {
        match self.rt.block_on(self.op().stat(key)) {
            Ok(meta) => {
                let sized = self.tells_sizes() && meta.mode().is_file();
                Ok(Some(sized.then(|| meta.content_length())))
            }
            Err(e) if e.kind() == opendal::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(self.err("check", key, e)),
        }
    }

    fn list(&self, prefix: &str) -> Result<Vec<String>, BackendError> {
        Ok(self
            .rt
            .block_on(self.list_async(prefix, false))?
            .into_iter()
            .map(|(k, _)| k)
            .collect())
    }

    fn list_sized(&self, prefix: &str) -> Result<SizedKeys, BackendError> {
        self.rt.block_on(self.list_async(prefix, false))
    }

    fn list_all(&self, prefix: &str) -> Result<SizedKeys, BackendError> {
        self.rt.block_on(self.list_async(prefix, true))
    }

    fn upload(&self, src: &Path, key: &str) -> Result<(), BackendError> {
        self.rt.block_on(self.upload_async(src, key))
    }

    fn download(&self, key: &str, out: &mut dyn Write) -> Result<u64, BackendError> {
        self.rt.block_on(self.download_async(key, 0, out))
    }

    fn resumes(&self) -> bool {
        self.service != Service::Http
    }

    fn download_from(
        &self,
        key: &str,
        offset: u64,
        out: &mut dyn Write,
    ) -> Result<u64, BackendError> {
        self.rt.block_on(self.download_async(key, offset, out))
    }

    fn delete(&self, key: &str) -> Result<(), BackendError> {
        match self.rt.block_on(self.op().delete(key)) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == opendal::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(self.err("delete", key, e)),
        }
    }

    fn default_jobs(&self) -> usize {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        match self.service {
            // Latency-bound object stores: DVC's 4 × cores, at least 16.
            // Memory stays bounded: a transfer holds one CHUNK at a time.
            Service::S3 | Service::Azure | Service::Gcs => (4 * cores).clamp(16, 64),
            // Each SFTP connection is an `ssh` process and a server session.
            Service::Sftp => 4,
            Service::Http | Service::Webdav => (2 * cores).clamp(4, 16),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// OpenDAL's account of a PUT into a missing bucket (moto's answer).
    const NO_SUCH_BUCKET: &str = r#"ConfigInvalid (persistent) at write, context: { service_operation: PutObject, uri: http://127.0.0.1:9177/bk/x/files/md5/0b/55c28a9c08b5bd9745d05105c54251, response: Parts { status: 404, version: HTTP/1.1, headers: {"server": "Werkzeug/3.1.9 Python/3.11.7", "content-type": "application/xml", "content-length": "328"} }, service: s3, path: files/md5/0b/55c28a9c08b5bd9745d05105c54251, written: 4165 } => S3Error { code: "NoSuchBucket", message: "The specified bucket does not exist", resource: "", request_id: "xmLHoyAkXCX9AORnlMyBDy7jECZy9b9sPilHjKahQSDbLF33OpBt" }"#;

    #[test]
    fn service_errors_are_told_by_their_code_and_message() {
        assert_eq!(
            service_detail(NO_SUCH_BUCKET).as_deref(),
            Some("NoSuchBucket: The specified bucket does not exist (HTTP 404)")
        );
        assert_eq!(
            classify_text(&NO_SUCH_BUCKET.to_ascii_lowercase()),
            (io::ErrorKind::InvalidInput, MISSING_BUCKET)
        );
        let no_key = "Unexpected (persistent) at stat, context: { called: reqsign::Sign, service: s3 } => signing http request, source: failed to load signing credential";
        assert_eq!(
            classify_text(&no_key.to_ascii_lowercase()),
            (
                io::ErrorKind::PermissionDenied,
                "no credentials for the remote"
            )
        );
        // No service error: the whole text stays.
        assert_eq!(
            service_detail("Unexpected (temporary) at read => io error"),
            None
        );
        assert_eq!(
            service_detail(r#"S3Error { code: "AccessDenied", message: "" }"#).as_deref(),
            Some("AccessDenied")
        );
    }

    #[test]
    fn parses_urls() {
        let p = UrlParts::parse("ssh://bob:pw@example.com:2222/data/store/").unwrap();
        assert_eq!(p.user.as_deref(), Some("bob"));
        assert_eq!(p.password.as_deref(), Some("pw"));
        assert_eq!(p.host, "example.com");
        assert_eq!(p.port, Some(2222));
        assert_eq!(p.root(), "/data/store");
        let p = UrlParts::parse("s3://bucket").unwrap();
        assert_eq!(p.host, "bucket");
        assert_eq!(p.root(), "/");
        assert!(UrlParts::parse("ssh://h:notaport/x").is_none());
    }

    #[test]
    fn masks_passwords_and_secrets() {
        assert_eq!(
            mask_url("webdavs://u:secret@h/p"),
            "webdavs://u:***@h/p".to_string()
        );
        assert_eq!(mask_url("s3://b/p"), "s3://b/p");
        assert_eq!(mask("key=abcdef x", &["abcdef".into()]), "key=*** x");
    }

    #[test]
    fn debug_hides_credentials() {
        let opts = vec![
            ("endpointurl".to_string(), "http://127.0.0.1:1".to_string()),
            ("access_key_id".to_string(), "AKIAEXAMPLE".to_string()),
            (
                "secret_access_key".to_string(),
                "verysecretvalue".to_string(),
            ),
        ];
        let b = OpendalBackend::open("r", "s3://bucket/p", &opts).unwrap();
        let dbg = format!("{b:?}");
        assert!(!dbg.contains("verysecretvalue"), "{dbg}");
        assert_eq!(b.service(), Service::S3);
    }

    #[test]
    fn ssh_passwords_are_refused_clearly() {
        let opts = vec![("password".to_string(), "hunter22".to_string())];
        let e = OpendalBackend::open("r", "ssh://h/p", &opts).unwrap_err();
        let msg = e.to_string();
        assert!(msg.contains("password authentication"), "{msg}");
        assert!(!msg.contains("hunter22"), "{msg}");
    }
}
