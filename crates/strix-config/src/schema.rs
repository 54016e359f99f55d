//! Validation of the merged config, following DVC's `config_schema.py`
//! (voluptuous). Error messages are voluptuous's, e.g.
//! `extra keys not allowed @ data['core']['bogus']` or
//! `expected true or false for dictionary value @ data['core']['autostage']`.
//! The first error in dict order is reported, as voluptuous does.

use crate::value::{Node, Table, Value, py_repr};

/// A schema violation: voluptuous's message and the key path it names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// The complete voluptuous message, e.g.
    /// `extra keys not allowed @ data['core']['bogus']`.
    pub message: String,
    /// The path of the offending entry, e.g. `["core", "bogus"]`.
    pub path: Vec<String>,
}

/// Something DVC logs as a warning and otherwise ignores.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Warning {
    /// Unknown keys in `[feature]` are dropped (`'feature.x' config option is
    /// unsupported`). The keys are sorted.
    UnsupportedFeatureOptions(Vec<String>),
}

impl std::fmt::Display for Warning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Warning::UnsupportedFeatureOptions(keys) => {
                let paths: Vec<String> = keys.iter().map(|k| format!("'feature.{k}'")).collect();
                let tail = if keys.len() == 1 { " is" } else { "s are" };
                write!(f, "{} config option{tail} unsupported", paths.join(", "))
            }
        }
    }
}

/// How one key's value is checked.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Check {
    /// `str`.
    Str,
    /// DVC's `Bool`: `true`/`false`, any case.
    Bool,
    /// `Lower`: anything.
    Lower,
    /// `Coerce(int)` with an optional `Range`.
    Int(Option<i64>, Option<i64>),
    /// `Coerce(float)` with an optional lower bound.
    Float(Option<f64>),
    /// `All(Lower, Choices(...))`.
    Choices(&'static [&'static str]),
    /// `supported_cache_type`.
    CacheType,
    /// `Any(Bool, str)`.
    BoolOrStr,
    /// A bare Python `bool` type: no string from a file passes.
    PyBool,
    /// A bare Python `int` type: no string from a file passes.
    PyInt,
}

use Check::*;

const CORE: &[(&str, Check)] = &[
    ("remote", Lower),
    ("checksum_jobs", Int(Some(1), None)),
    ("interactive", Bool),
    ("analytics", Bool),
    ("hardlink_lock", Bool),
    ("no_scm", Bool),
    ("autostage", Bool),
    ("experiments", Bool),
    ("check_update", Bool),
    ("site_cache_dir", Str),
    ("machine", Lower),
];
const LOCAL_COMMON: &[(&str, Check)] = &[
    ("type", CacheType),
    ("protected", Bool),
    ("shared", Choices(&["group"])),
    ("slow_link_warning", Bool),
    ("verify", Bool),
];
const CACHE: &[(&str, Check)] = &[
    ("local", Str),
    ("s3", Str),
    ("gs", Str),
    ("hdfs", Str),
    ("webhdfs", Str),
    ("ssh", Str),
    ("azure", Str),
    ("dir", Str),
];
const STATE: &[(&str, Check)] = &[
    ("dir", Str),
    ("row_limit", Int(Some(1), None)),
    ("row_cleanup_quota", Int(Some(0), Some(100))),
];
const INDEX: &[(&str, Check)] = &[("dir", Str)];
const MACHINE: &[(&str, Check)] = &[
    ("cloud", Choices(&["aws", "azure"])),
    (
        "region",
        Choices(&["us-west", "us-east", "eu-west", "eu-north"]),
    ),
    ("image", Str),
    ("spot", Bool),
    ("spot_price", Float(None)),
    ("instance_hdd_size", Int(None, None)),
    ("instance_type", Lower),
    ("instance_gpu", Lower),
    ("ssh_private", Str),
    ("startup_script", Str),
    ("setup_script", Str),
];
const PLOTS: &[(&str, Check)] = &[
    ("html_template", Str),
    ("auto_open", Bool),
    ("out_dir", Str),
];
const EXP: &[(&str, Check)] = &[
    ("code", Str),
    ("data", Str),
    ("models", Str),
    ("metrics", Str),
    ("params", Str),
    ("plots", Str),
    ("live", Str),
    ("auto_push", Bool),
    ("git_remote", Str),
];
const PARSING: &[(&str, Check)] = &[
    ("bool", Choices(&["store_true", "boolean_optional"])),
    ("list", Choices(&["nargs", "append"])),
];
const HYDRA: &[(&str, Check)] = &[
    ("enabled", Bool),
    ("config_dir", Str),
    ("config_module", Str),
    ("config_name", Str),
    ("plugins_path", Str),
];
const STUDIO: &[(&str, Check)] = &[
    ("token", Str),
    ("url", Str),
    ("repo_url", Str),
    ("offline", Bool),
];
const DB: &[(&str, Check)] = &[("url", Str), ("username", Str), ("password", Str)];

const REMOTE_COMMON: &[(&str, Check)] = &[
    ("url", Str),
    ("checksum_jobs", Int(Some(1), None)),
    ("jobs", Int(Some(1), None)),
    ("worktree", Bool),
    ("no_traverse", Bool),
    ("version_aware", Bool),
];
const S3: &[(&str, Check)] = &[
    ("region", Str),
    ("profile", Str),
    ("credentialpath", Str),
    ("configpath", Str),
    ("endpointurl", Str),
    ("access_key_id", Str),
    ("secret_access_key", Str),
    ("session_token", Str),
    ("listobjects", Bool),
    ("use_ssl", Bool),
    ("allow_anonymous_login", Bool),
    ("ssl_verify", BoolOrStr),
    ("sse", Str),
    ("sse_kms_key_id", Str),
    ("sse_customer_algorithm", Str),
    ("sse_customer_key", Str),
    ("acl", Str),
    ("grant_read", Str),
    ("grant_read_acp", Str),
    ("grant_write_acp", Str),
    ("grant_full_control", Str),
    ("cache_regions", PyBool),
    ("read_timeout", Int(None, None)),
    ("connect_timeout", Int(None, None)),
    ("verify", Bool),
];
const GS: &[(&str, Check)] = &[
    ("projectname", Str),
    ("credentialpath", Str),
    ("endpointurl", Str),
    ("verify", Bool),
    ("allow_anonymous_login", Bool),
];
const SSH: &[(&str, Check)] = &[
    ("type", CacheType),
    ("port", Int(None, None)),
    ("user", Str),
    ("password", Str),
    ("ask_password", Bool),
    ("passphrase", Str),
    ("ask_passphrase", Bool),
    ("keyfile", Str),
    ("timeout", Int(None, None)),
    ("gss_auth", Bool),
    ("allow_agent", Bool),
    ("max_sessions", Int(None, None)),
    ("verify", Bool),
];
const HDFS: &[(&str, Check)] = &[("user", Str), ("kerb_ticket", Str), ("replication", PyInt)];
const WEBHDFS: &[(&str, Check)] = &[
    ("kerberos", Bool),
    ("kerberos_principal", Str),
    ("proxy_to", Str),
    ("ssl_verify", BoolOrStr),
    ("token", Str),
    ("use_https", Bool),
    ("user", Str),
    ("password", Str),
    ("data_proxy_target", Str),
    ("verify", Bool),
];
const AZURE: &[(&str, Check)] = &[
    ("connection_string", Str),
    ("sas_token", Str),
    ("account_name", Str),
    ("account_key", Str),
    ("tenant_id", Str),
    ("client_id", Str),
    ("client_secret", Str),
    ("allow_anonymous_login", Bool),
    ("exclude_environment_credential", Bool),
    ("exclude_visual_studio_code_credential", Bool),
    ("exclude_shared_token_cache_credential", Bool),
    ("exclude_managed_identity_credential", Bool),
    ("verify", Bool),
    ("timeout", Int(None, None)),
    ("read_timeout", Int(None, None)),
    ("connection_timeout", Int(None, None)),
];
const OSS: &[(&str, Check)] = &[
    ("oss_key_id", Str),
    ("oss_key_secret", Str),
    ("oss_endpoint", Str),
    ("verify", Bool),
];
const GDRIVE: &[(&str, Check)] = &[
    ("profile", Str),
    ("gdrive_use_service_account", Bool),
    ("gdrive_client_id", Str),
    ("gdrive_client_secret", Str),
    ("gdrive_user_credentials_file", Str),
    ("gdrive_service_account_user_email", Str),
    ("gdrive_service_account_json_file_path", Str),
    ("gdrive_trash_only", Bool),
    ("gdrive_acknowledge_abuse", Bool),
    ("verify", Bool),
];
const HTTP: &[(&str, Check)] = &[
    ("auth", Choices(&["basic", "digest", "custom"])),
    ("custom_auth_header", Str),
    ("user", Str),
    ("password", Str),
    ("ask_password", Bool),
    ("ssl_verify", BoolOrStr),
    ("method", Str),
    ("connect_timeout", Float(Some(0.0))),
    ("read_timeout", Float(Some(0.0))),
    ("verify", Bool),
];
const WEBDAV: &[(&str, Check)] = &[
    ("user", Str),
    ("password", Str),
    ("ask_password", Bool),
    ("token", Str),
    ("bearer_token_command", Str),
    ("custom_auth_header", Str),
    ("cert_path", Str),
    ("key_path", Str),
    ("timeout", Int(None, None)),
    ("ssl_verify", BoolOrStr),
    ("verify", Bool),
];

/// The key checks of a plain section, or `None` for an unknown section.
fn plain_section(name: &str) -> Option<&'static [&'static [(&'static str, Check)]]> {
    Some(match name {
        "core" => &[CORE],
        "cache" => &[CACHE, LOCAL_COMMON],
        "state" => &[STATE],
        "index" => &[INDEX],
        "plots" => &[PLOTS],
        "exp" => &[EXP],
        "parsing" => &[PARSING],
        "hydra" => &[HYDRA],
        "studio" => &[STUDIO],
        _ => return None,
    })
}

/// The key checks for a remote with this URL scheme (`""` for local paths),
/// or `None` for an unsupported scheme. `Some(&[])` accepts anything
/// (`remote://`).
pub(crate) fn remote_schema(scheme: &str) -> Option<&'static [&'static [(&'static str, Check)]]> {
    Some(match scheme {
        "" => &[LOCAL_COMMON, REMOTE_COMMON],
        "s3" => &[S3, REMOTE_COMMON],
        "gs" => &[GS, REMOTE_COMMON],
        "ssh" => &[SSH, REMOTE_COMMON],
        "hdfs" => &[HDFS, REMOTE_COMMON],
        "webhdfs" => &[WEBHDFS, REMOTE_COMMON],
        "azure" => &[AZURE, REMOTE_COMMON],
        "oss" => &[OSS, REMOTE_COMMON],
        "gdrive" => &[GDRIVE, REMOTE_COMMON],
        "http" | "https" => &[HTTP, REMOTE_COMMON],
        "webdav" | "webdavs" => &[WEBDAV, REMOTE_COMMON],
        "remote" => &[],
        _ => return None,
    })
}

fn lookup(schema: &[&[(&str, Check)]], key: &str) -> Option<Check> {
    schema
        .iter()
        .flat_map(|s| s.iter())
        .find(|(k, _)| *k == key)
        .map(|(_, c)| *c)
}

/// The check for `section.key` in a plain section, for typed accessors.
pub(crate) fn plain_check(section: &str, key: &str) -> Option<Check> {
    plain_section(section).and_then(|s| lookup(s, key))
}

/// `urlparse(url)`: the lowercased scheme and whether there is a netloc.
pub(crate) fn url_scheme(url: &str) -> (String, bool) {
    let url = url.trim_start_matches(|c: char| c <= ' ');
    let mut rest = url;
    let mut scheme = String::new();
    if let Some(i) = url.find(':') {
        let cand = &url[..i];
        let first_alpha = cand.chars().next().is_some_and(|c| c.is_ascii_alphabetic());
        if first_alpha
            && cand
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        {
            scheme = cand.to_ascii_lowercase();
            rest = &url[i + 1..];
        }
    }
    let netloc = rest
        .strip_prefix("//")
        .map(|r| r.split(['/', '?', '#']).next().unwrap_or(""))
        .unwrap_or("");
    (scheme, !netloc.is_empty())
}

fn at(path: &[String]) -> String {
    let parts: Vec<String> = path.iter().map(|p| py_repr(p)).collect();
    format!(" @ data[{}]", parts.join("]["))
}

fn extra(path: Vec<String>) -> Violation {
    Violation {
        message: format!("extra keys not allowed{}", at(&path)),
        path,
    }
}

fn invalid(msg: &str, path: Vec<String>) -> Violation {
    Violation {
        message: format!("{msg} for dictionary value{}", at(&path)),
        path,
    }
}

fn child(path: &[String], key: &str) -> Vec<String> {
    let mut p = path.to_vec();
    p.push(key.to_string());
    p
}

/// Python's `int(str)`: optional sign, digits with single underscores
/// between them, surrounding whitespace.
fn py_int(s: &str) -> Option<i64> {
    let t = s.trim();
    let (neg, digits) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    if digits.is_empty()
        || digits.starts_with('_')
        || digits.ends_with('_')
        || digits.contains("__")
        || !digits.chars().all(|c| c.is_ascii_digit() || c == '_')
    {
        return None;
    }
    let n: i64 = digits.replace('_', "").parse().ok()?;
    Some(if neg { -n } else { n })
}

fn py_float(s: &str) -> Option<f64> {
    let t = s.trim().replace('_', "");
    t.parse::<f64>().ok()
}

/// DVC's `Bool`.
pub(crate) fn parse_bool(s: &str) -> Option<bool> {
    match s.to_lowercase().as_str() {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    }
}

const CACHE_TYPES: [&str; 4] = ["reflink", "hardlink", "symlink", "copy"];

/// `supported_cache_type`: the list of types, or voluptuous's message.
pub(crate) fn cache_types(value: &Value) -> Result<Vec<String>, String> {
    let types: Vec<String> = match value {
        Value::String(s) => s.split(',').map(|t| t.trim().to_string()).collect(),
        Value::List(items) => items.clone(),
    };
    let mut unsupported: Vec<&str> = Vec::new();
    for t in &types {
        if !CACHE_TYPES.contains(&t.as_str()) && !unsupported.contains(&t.as_str()) {
            unsupported.push(t);
        }
    }
    if unsupported.is_empty() {
        Ok(types)
    } else {
        Err(format!(
            "Unsupported cache type(s): {}",
            unsupported.join(", ")
        ))
    }
}

/// Checks one value; `None` stands for a subsection where a value was
/// expected. Returns voluptuous's message on failure.
pub(crate) fn check_value(check: Check, value: Option<&Value>) -> Result<(), String> {
    let s = value.and_then(Value::as_str);
    let fail = |m: &str| Err(m.to_string());
    match check {
        Lower => Ok(()),
        Str => s.map(|_| ()).ok_or_else(|| "expected str".to_string()),
        Bool => match s.and_then(parse_bool) {
            Some(_) => Ok(()),
            None => fail("expected true or false"),
        },
        BoolOrStr => s.map(|_| ()).ok_or_else(|| "expected str".to_string()),
        PyBool => fail("expected bool"),
        PyInt => fail("expected int"),
        Int(min, max) => {
            let Some(n) = s.and_then(py_int) else {
                return fail("expected int");
            };
            if let Some(min) = min.filter(|m| n < *m) {
                return Err(format!("value must be at least {min}"));
            }
            if let Some(max) = max.filter(|m| n > *m) {
                return Err(format!("value must be at most {max}"));
            }
            Ok(())
        }
        Float(min) => {
            let Some(n) = s.and_then(py_float) else {
                return fail("expected float");
            };
            match min {
                Some(m) if n < m => Err(format!("value must be at least {m}")),
                _ => Ok(()),
            }
        }
        Choices(choices) => match s.map(str::to_lowercase) {
            Some(v) if choices.contains(&v.as_str()) => Ok(()),
            _ => Err(format!("expected one of {}", choices.join(", "))),
        },
        CacheType => match value {
            Some(v) => cache_types(v).map(|_| ()),
            None => fail("expected str"),
        },
    }
}

fn check_keys(
    table: &Table,
    schema: &[&[(&str, Check)]],
    path: &[String],
) -> Result<(), Violation> {
    for (key, node) in table {
        let Some(check) = lookup(schema, key) else {
            return Err(extra(child(path, key)));
        };
        let value = match node {
            Node::Value(v) => Some(v),
            Node::Table(_) => None,
        };
        check_value(check, value).map_err(|m| invalid(&m, child(path, key)))?;
    }
    Ok(())
}

fn as_table<'a>(node: &'a Node, path: &[String]) -> Result<&'a Table, Violation> {
    match node {
        Node::Table(t) => Ok(t),
        Node::Value(_) => Err(invalid("expected a dictionary", path.to_vec())),
    }
}

fn check_remote(remote: &Table, path: &[String]) -> Result<(), Violation> {
    let Some(url) = remote.get("url") else {
        return Err(invalid("expected 'url'", path.to_vec()));
    };
    let (scheme, netloc) = match url {
        Node::Value(Value::String(u)) => url_scheme(u),
        _ => (String::new(), false),
    };
    let scheme = if netloc { scheme } else { String::new() };
    let Some(schema) = remote_schema(&scheme) else {
        return Err(invalid(
            &format!("Unsupported URL type {scheme}://"),
            path.to_vec(),
        ));
    };
    if schema.is_empty() {
        return Ok(());
    }
    check_keys(remote, schema, path)
}

/// Validates a merged config the way `Config.validate` does.
pub fn validate(conf: &Table) -> Result<Vec<Warning>, Violation> {
    let mut warnings = Vec::new();
    for (section, node) in conf {
        let path = vec![section.clone()];
        match section.as_str() {
            "remote" | "machine" | "db" => {
                for (name, sub) in as_table(node, &path)? {
                    let sub_path = child(&path, name);
                    let sub = as_table(sub, &sub_path)?;
                    match section.as_str() {
                        "remote" => check_remote(sub, &sub_path)?,
                        "machine" => check_keys(sub, &[MACHINE], &sub_path)?,
                        _ => check_keys(sub, &[DB], &sub_path)?,
                    }
                }
            }
            "feature" => {
                let table = as_table(node, &path)?;
                let mut unknown = Vec::new();
                for (key, node) in table {
                    if key == "machine" {
                        let value = match node {
                            Node::Value(v) => Some(v),
                            Node::Table(_) => None,
                        };
                        check_value(Bool, value).map_err(|m| invalid(&m, child(&path, key)))?;
                    } else {
                        unknown.push(key.clone());
                    }
                }
                if !unknown.is_empty() {
                    unknown.sort();
                    warnings.push(Warning::UnsupportedFeatureOptions(unknown));
                }
            }
            name => {
                let Some(schema) = plain_section(name) else {
                    return Err(extra(path));
                };
                let table = as_table(node, &path)?;
                if name == "hydra"
                    && table.contains_key("config_dir")
                    && table.contains_key("config_module")
                {
                    return Err(Violation {
                        message: "two or more values in the same group of exclusion \
                                  'config_source' @ data['hydra'][<config_source>]"
                            .to_string(),
                        path: vec!["hydra".to_string()],
                    });
                }
                check_keys(table, schema, &path)?;
            }
        }
    }
    Ok(warnings)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_schemes() {
        assert_eq!(url_scheme("s3://bucket/p"), ("s3".into(), true));
        assert_eq!(url_scheme("/srv/x"), ("".into(), false));
        assert_eq!(url_scheme("host:path"), ("host".into(), false));
        assert_eq!(url_scheme("S3://b"), ("s3".into(), true));
        assert_eq!(url_scheme("s3:///x"), ("s3".into(), false));
    }

    #[test]
    fn python_ints() {
        assert_eq!(py_int(" 12 "), Some(12));
        assert_eq!(py_int("+3"), Some(3));
        assert_eq!(py_int("1_000"), Some(1000));
        assert_eq!(py_int("0x10"), None);
        assert_eq!(py_int(""), None);
    }
}
