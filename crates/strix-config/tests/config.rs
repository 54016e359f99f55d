//! Library-level tests for strix-config against DVC's behaviour and the
//! spec vectors.

use std::fs;
use std::path::{Path, PathBuf};
use strix_config::{Config, ConfigError, ConfigPaths, Level, Value};
use strix_fs::link::LinkType;

const VECTORS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../testdata/dvc-vectors/expected/config"
);

struct Env {
    _tmp: tempfile::TempDir,
    root: PathBuf,
}

impl Env {
    fn new() -> Self {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().to_path_buf();
        for d in ["repo/.dvc", "sys", "glob", "home"] {
            fs::create_dir_all(root.join(d)).unwrap();
        }
        fs::write(root.join("repo/.dvc/config"), "").unwrap();
        Env { _tmp: tmp, root }
    }

    fn paths(&self) -> ConfigPaths {
        ConfigPaths::new(
            self.root.join("sys"),
            self.root.join("glob"),
            Some(self.root.join("repo/.dvc")),
        )
        .with_home(Some(self.root.join("home")))
    }

    fn repo(&self) -> PathBuf {
        self.root.join("repo")
    }

    fn config(&self) -> Config {
        self.config_in(&self.repo())
    }

    fn config_in(&self, cwd: &Path) -> Config {
        Config::load(self.paths(), cwd).unwrap()
    }

    fn write(&self, rel: &str, text: &str) {
        let p = self.root.join(rel);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, text).unwrap();
    }

    fn read(&self, rel: &str) -> String {
        fs::read_to_string(self.root.join(rel)).unwrap()
    }
}

fn invalid_message(err: ConfigError) -> String {
    match err {
        ConfigError::Invalid { .. } => err.to_string(),
        other => panic!("expected a validation error, got {other:?}"),
    }
}

#[test]
fn reproduces_vector_files_byte_for_byte() {
    let env = Env::new();
    let mut c = env.config();
    c.remote_add(None, "storage", "/srv/dvc-storage", true, false)
        .unwrap();
    c.remote_add(None, "s3remote", "s3://bucket/path", false, false)
        .unwrap();
    c.remote_modify(None, "s3remote", "region", Some("us-east-1"))
        .unwrap();
    c.remote_modify(
        Some(Level::Local),
        "s3remote",
        "access_key_id",
        Some("EXAMPLEKEY"),
    )
    .unwrap();
    c.remote_add(None, "relremote", "../rel-storage", false, false)
        .unwrap();
    c.set(None, "cache.type", "reflink,copy").unwrap();
    c.set(None, "cache.shared", "group").unwrap();
    c.set(None, "core.autostage", "true").unwrap();

    let expected = fs::read(Path::new(VECTORS).join("dot-dvc-config")).unwrap();
    let expected_local = fs::read(Path::new(VECTORS).join("dot-dvc-config.local")).unwrap();
    assert_eq!(
        fs::read(env.root.join("repo/.dvc/config")).unwrap(),
        expected
    );
    assert_eq!(
        fs::read(env.root.join("repo/.dvc/config.local")).unwrap(),
        expected_local
    );
}

#[test]
fn vector_files_read_back() {
    let env = Env::new();
    env.write(
        "repo/.dvc/config",
        &fs::read_to_string(Path::new(VECTORS).join("dot-dvc-config")).unwrap(),
    );
    env.write(
        "repo/.dvc/config.local",
        &fs::read_to_string(Path::new(VECTORS).join("dot-dvc-config.local")).unwrap(),
    );
    let c = env.config();
    assert_eq!(c.core_remote().unwrap().as_deref(), Some("storage"));
    assert!(c.core_autostage().unwrap());
    assert!(c.cache_shared_group().unwrap());
    assert_eq!(
        c.cache_types().unwrap(),
        Some(vec![LinkType::Reflink, LinkType::Copy])
    );
    let s3 = c.remote("S3Remote").unwrap();
    assert_eq!(s3.url, "s3://bucket/path");
    assert_eq!(s3.option("region"), Some(&Value::from("us-east-1")));
    assert_eq!(s3.option("access_key_id"), Some(&Value::from("EXAMPLEKEY")));
    let rel = c.remote("relremote").unwrap();
    assert_eq!(rel.url, env.root.join("rel-storage").to_string_lossy());
    assert_eq!(rel.url_level, Level::Repo);
    let list: Vec<String> = c
        .remote_list(None)
        .unwrap()
        .iter()
        .map(|e| e.to_line())
        .collect();
    assert_eq!(list[0], "storage\t/srv/dvc-storage\t(default)");
    assert_eq!(list[1], "s3remote\ts3://bucket/path");
}

#[test]
fn rewriting_an_unchanged_value_keeps_the_file_identical() {
    let env = Env::new();
    let text = fs::read_to_string(Path::new(VECTORS).join("dot-dvc-config")).unwrap();
    env.write("repo/.dvc/config", &text);
    let mut c = env.config();
    c.set(None, "core.autostage", "true").unwrap();
    assert_eq!(env.read("repo/.dvc/config"), text);
}

#[test]
fn init_no_scm_writes_python_true() {
    let env = Env::new();
    let mut c = env.config();
    c.set(Some(Level::Repo), "core.no_scm", "True").unwrap();
    assert_eq!(env.read("repo/.dvc/config"), "[core]\n    no_scm = True\n");
    assert!(env.config().core_no_scm().unwrap());
}

#[test]
fn reads_all_named_section_spellings_and_lowercases() {
    let env = Env::new();
    env.write(
        "repo/.dvc/config",
        "# comment\n[CORE]\nRemote = MyRemote # inline\n\
         ['remote \"a\"']\nurl = /a\n[remote \"MyRemote\"]\nURL = /b\n\
         [ remote \"c\" ]\n  url = s3://x/y\n[machine \"M\"]\ncloud = aws\n[db \"d\"]\nurl = u\n",
    );
    let c = env.config();
    assert_eq!(c.remote_names(), vec!["a", "myremote", "c"]);
    assert_eq!(c.core_remote().unwrap().as_deref(), Some("myremote"));
    assert_eq!(c.remote("myremote").unwrap().url, "/b");
    // Raw value keeps its case, as in `dvc config core.remote`.
    let got = c.get(None, "core.remote").unwrap().unwrap();
    assert_eq!(got.value, Value::from("MyRemote"));
    let keys: Vec<String> = c
        .list(Some(Level::Repo))
        .unwrap()
        .into_iter()
        .map(|s| s.key)
        .collect();
    assert_eq!(
        keys,
        vec![
            "remote.a.url",
            "remote.myremote.url",
            "remote.c.url",
            "machine.m.cloud",
            "db.d.url",
            "core.remote"
        ]
    );
}

#[test]
fn rewrite_drops_comments_orders_sections_and_indents() {
    let env = Env::new();
    env.write(
        "repo/.dvc/config",
        "# top\n[remote \"r\"]\nurl = /r\n[cache]\ndir = foo\n[core]\nremote = r\n",
    );
    let mut c = env.config();
    c.set(None, "plots.auto_open", "true").unwrap();
    c.set(None, "exp.git_remote", "origin").unwrap();
    assert_eq!(
        env.read("repo/.dvc/config"),
        "[cache]\n    dir = foo\n[core]\n    remote = r\n[plots]\n    auto_open = true\n\
         [exp]\n    git_remote = origin\n['remote \"r\"']\n    url = /r\n"
    );
}

#[test]
fn new_sections_in_one_edit_follow_schema_order() {
    let env = Env::new();
    let mut c = env.config();
    // One edit touching `remote` and `core`: core comes from the schema order.
    c.remote_add(None, "x", "/x", true, false).unwrap();
    assert_eq!(
        env.read("repo/.dvc/config"),
        "[core]\n    remote = x\n['remote \"x\"']\n    url = /x\n"
    );
}

#[test]
fn quoting_follows_configobj() {
    let env = Env::new();
    let mut c = env.config();
    c.set(None, "core.remote", "a'b\"c").unwrap();
    c.set(None, "core.site_cache_dir", " lead").unwrap();
    c.set(None, "hydra.config_name", "x#y").unwrap();
    c.set(None, "plots.out_dir", "it's").unwrap();
    c.set(None, "plots.html_template", "").unwrap();
    c.set(None, "studio.token", "x\ny").unwrap();
    let text = env.read("repo/.dvc/config");
    assert_eq!(
        text,
        "[core]\n    remote = '''a'b\"c'''\n    site_cache_dir = \" lead\"\n\
         [hydra]\n    config_name = \"x#y\"\n\
         [plots]\n    out_dir = it's\n    html_template = \"\"\n\
         [studio]\n    token = '''x\ny'''\n"
    );
    let c = env.config();
    assert_eq!(
        c.get(None, "studio.token").unwrap().unwrap().value,
        Value::from("x\ny")
    );
    assert_eq!(
        c.get(None, "core.site_cache_dir").unwrap().unwrap().value,
        Value::from(" lead")
    );
}

#[test]
fn list_values_are_kept_and_shown_like_python() {
    let env = Env::new();
    env.write("repo/.dvc/config", "[cache]\ntype = reflink, copy\n");
    let mut c = env.config();
    let got = c.get(None, "cache.type").unwrap().unwrap();
    assert_eq!(got.value.to_string(), "['reflink', 'copy']");
    assert_eq!(
        c.cache_types().unwrap(),
        Some(vec![LinkType::Reflink, LinkType::Copy])
    );
    c.set(None, "core.autostage", "false").unwrap();
    assert_eq!(
        env.read("repo/.dvc/config"),
        "[cache]\n    type = reflink, copy\n[core]\n    autostage = false\n"
    );
}

#[test]
fn relative_paths_are_rebased_on_the_config_dir() {
    let env = Env::new();
    fs::create_dir_all(env.repo().join("sub")).unwrap();
    let mut c = env.config_in(&env.repo().join("sub"));
    c.set(None, "cache.dir", "../mycache").unwrap();
    c.remote_add(None, "rel", "../../elsewhere", false, false)
        .unwrap();
    c.remote_add(None, "abs", "/abs/path", false, false)
        .unwrap();
    c.remote_add(None, "url", "ssh://host/p", false, false)
        .unwrap();
    c.remote_add(None, "home", "~/store", false, false).unwrap();
    c.remote_add(Some(Level::Global), "g", "gstore", false, false)
        .unwrap();
    assert_eq!(
        env.read("repo/.dvc/config"),
        "[cache]\n    dir = ../mycache\n['remote \"rel\"']\n    url = ../../elsewhere\n\
         ['remote \"abs\"']\n    url = /abs/path\n['remote \"url\"']\n    url = ssh://host/p\n\
         ['remote \"home\"']\n    url = ~/store\n"
    );
    assert_eq!(
        env.read("glob/config"),
        "['remote \"g\"']\n    url = ../repo/sub/gstore\n"
    );
    let cache = c.cache_dir().unwrap().unwrap();
    assert_eq!(cache.value, env.repo().join("mycache"));
    assert_eq!(cache.level, Level::Repo);
    assert_eq!(
        c.remote("rel").unwrap().url,
        env.root.join("elsewhere").to_string_lossy()
    );
    assert_eq!(
        c.remote("home").unwrap().url,
        env.root.join("home/store").to_string_lossy()
    );
    assert_eq!(
        c.remote("g").unwrap().url,
        env.repo().join("sub/gstore").to_string_lossy()
    );
    assert_eq!(c.remote("g").unwrap().url_level, Level::Global);
}

#[test]
fn stored_relative_paths_are_normalized_on_rewrite() {
    let env = Env::new();
    env.write("repo/.dvc/config", "[cache]\ndir = ./a/../b/\n");
    let mut c = env.config();
    c.set(None, "core.autostage", "true").unwrap();
    assert!(
        env.read("repo/.dvc/config")
            .starts_with("[cache]\n    dir = b\n")
    );
}

#[test]
fn merge_precedence_and_origins() {
    let env = Env::new();
    env.write(
        "sys/config",
        "[core]\nautostage = true\ncheck_update = false\n",
    );
    env.write(
        "glob/config",
        "[core]\nautostage = false\nanalytics = false\n",
    );
    env.write("repo/.dvc/config", "[core]\nautostage = true\n");
    env.write("repo/.dvc/config.local", "[core]\nautostage = false\n");
    let c = env.config();
    assert!(!c.core_autostage().unwrap());
    assert_eq!(c.value(&["core", "autostage"]).unwrap().1, Level::Local);
    assert_eq!(c.value(&["core", "check_update"]).unwrap().1, Level::System);
    assert_eq!(c.value(&["core", "analytics"]).unwrap().1, Level::Global);
    let got = c.get(None, "core.autostage").unwrap().unwrap();
    assert_eq!(got.level, Level::Local);
    assert_eq!(got.file, env.root.join("repo/.dvc/config.local"));
    let got = c.get(Some(Level::Repo), "core.autostage").unwrap().unwrap();
    assert_eq!(got.value, Value::from("true"));
    let listed: Vec<(Level, String, String)> = c
        .list(None)
        .unwrap()
        .into_iter()
        .map(|s| (s.level, s.key, s.value.to_string()))
        .collect();
    assert_eq!(listed.len(), 6);
    assert_eq!(
        listed[0],
        (Level::System, "core.autostage".into(), "true".into())
    );
    assert_eq!(
        listed[5],
        (Level::Local, "core.autostage".into(), "false".into())
    );
    // Merging is key by key: a remote split over two levels.
    env.write("repo/.dvc/config", "['remote \"r\"']\n    url = s3://b/p\n");
    env.write(
        "repo/.dvc/config.local",
        "['remote \"r\"']\n    profile = p\n",
    );
    let r = env.config().remote("r").unwrap();
    assert_eq!(r.url, "s3://b/p");
    assert_eq!(r.option("profile"), Some(&Value::from("p")));
}

#[test]
fn validation_messages_match_dvc() {
    let cases = [
        (
            "[core]\nbogus = 1\n",
            "config file error: extra keys not allowed @ data['core']['bogus']",
        ),
        (
            "[core]\nautostage = maybe\n",
            "config file error: expected true or false for dictionary value @ data['core']['autostage']",
        ),
        (
            "[bogus]\na = 1\n",
            "config file error: extra keys not allowed @ data['bogus']",
        ),
        (
            "[core]\nzzz = 1\n[cache]\naaa = 2\n",
            "config file error: extra keys not allowed @ data['core']['zzz']",
        ),
        (
            "[cache]\ntype = foo\n",
            "config file error: Unsupported cache type(s): foo for dictionary value @ data['cache']['type']",
        ),
        (
            "[cache]\ntype = foo, bar\n",
            "config file error: Unsupported cache type(s): foo, bar for dictionary value @ data['cache']['type']",
        ),
        (
            "[cache]\nshared = other\n",
            "config file error: expected one of group for dictionary value @ data['cache']['shared']",
        ),
        (
            "[remote \"x\"]\nport = 1\n",
            "config file error: expected 'url' for dictionary value @ data['remote']['x']",
        ),
        (
            "[remote \"x\"]\nurl = s3://b/p\nport = 1\n",
            "config file error: extra keys not allowed @ data['remote']['x']['port']",
        ),
        (
            "[remote \"x\"]\nurl = foo://b/p\n",
            "config file error: Unsupported URL type foo:// for dictionary value @ data['remote']['x']",
        ),
        (
            "[remote \"x\"]\nurl = ssh://b/p\nport = abc\n",
            "config file error: expected int for dictionary value @ data['remote']['x']['port']",
        ),
        (
            "[remote \"x\"]\nurl = /a\nregion = x\n",
            "config file error: extra keys not allowed @ data['remote']['x']['region']",
        ),
        (
            "[core]\nchecksum_jobs = 0\n",
            "config file error: value must be at least 1 for dictionary value @ data['core']['checksum_jobs']",
        ),
        (
            "[core]\nchecksum_jobs = x\n",
            "config file error: expected int for dictionary value @ data['core']['checksum_jobs']",
        ),
        (
            "[machine \"m\"]\ncloud = gcp\n",
            "config file error: expected one of aws, azure for dictionary value @ data['machine']['m']['cloud']",
        ),
        (
            "[machine \"m\"]\nfoo = gcp\n",
            "config file error: extra keys not allowed @ data['machine']['m']['foo']",
        ),
        (
            "[db \"d\"]\nurl = x\nfoo = 1\n",
            "config file error: extra keys not allowed @ data['db']['d']['foo']",
        ),
        (
            "[core]\n[[sub]]\na = 1\n",
            "config file error: extra keys not allowed @ data['core']['sub']",
        ),
        (
            "top = 1\n",
            "config file error: extra keys not allowed @ data['top']",
        ),
        (
            "[foo \"x\"]\na=1\n",
            "config file error: extra keys not allowed @ data['foo \"x\"']",
        ),
        (
            "[hydra]\nconfig_dir = a\nconfig_module = b\n",
            "config file error: two or more values in the same group of exclusion 'config_source' @ data['hydra'][<config_source>]",
        ),
    ];
    for (text, want) in cases {
        let env = Env::new();
        env.write("repo/.dvc/config", text);
        let err = Config::load(env.paths(), env.repo()).unwrap_err();
        assert_eq!(invalid_message(err), want, "for {text:?}");
    }
}

#[test]
fn accepted_configs() {
    for text in [
        "[core]\nautostage = TRUE\n",
        "[cache]\ntype = reflink, copy\nshared = Group\n",
        "[remote \"x\"]\nurl = remote://other/x\nregion = x\n[remote \"other\"]\nurl = s3://b\n",
        "[remote \"x\"]\nurl = /a\n[remote \"X\"]\nurl = /b\n",
        "[core]\nremote = a, b\n",
    ] {
        let env = Env::new();
        env.write("repo/.dvc/config", text);
        Config::load(env.paths(), env.repo()).unwrap();
    }
    let env = Env::new();
    env.write("repo/.dvc/config", "[feature]\nfoo = 1\nmachine = true\n");
    let c = Config::load(env.paths(), env.repo()).unwrap();
    assert_eq!(
        c.warnings()[0].to_string(),
        "'feature.foo' config option is unsupported"
    );
}

#[test]
fn validation_error_names_the_file() {
    let env = Env::new();
    env.write("repo/.dvc/config.local", "[core]\nbogus = 1\n");
    match Config::load(env.paths(), env.repo()).unwrap_err() {
        ConfigError::Invalid { file, key, .. } => {
            assert_eq!(file, Some(env.root.join("repo/.dvc/config.local")));
            assert_eq!(key, vec!["core", "bogus"]);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn invalid_edits_are_rejected_and_not_written() {
    let env = Env::new();
    let mut c = env.config();
    let err = c.set(None, "core.bogus", "1").unwrap_err();
    assert_eq!(
        err.to_string(),
        "config file error: extra keys not allowed @ data['core']['bogus']"
    );
    let err = c.set(None, "cache.type", "reflink,bogus").unwrap_err();
    assert!(err.to_string().contains("Unsupported cache type(s): bogus"));
    assert_eq!(env.read("repo/.dvc/config"), "");
    // No url yet: the remote fails validation.
    let err = c.set(None, "remote.r.region", "x").unwrap_err();
    assert_eq!(
        err.to_string(),
        "config file error: expected 'url' for dictionary value @ data['remote']['r']"
    );
}

#[test]
fn get_and_unset_report_missing_like_dvc() {
    let env = Env::new();
    let mut c = env.config();
    assert_eq!(c.get(None, "core.remote").unwrap(), None);
    assert_eq!(
        c.get(Some(Level::Repo), "core.remote")
            .unwrap_err()
            .to_string(),
        "config file error: option 'remote' doesn't exist in section 'core'"
    );
    assert_eq!(
        c.get(Some(Level::Repo), "foo.bar").unwrap_err().to_string(),
        "config file error: section 'foo' doesn't exist"
    );
    assert_eq!(
        c.unset(None, "remote.nope.url").unwrap_err().to_string(),
        "config file error: remote 'nope' doesn't exist"
    );
    assert!(matches!(
        c.get(None, "a.b.c"),
        Err(ConfigError::BadName { .. })
    ));
    c.set(None, "Core.AutoStage", "true").unwrap();
    assert_eq!(
        env.read("repo/.dvc/config"),
        "[core]\n    autostage = true\n"
    );
    c.unset(None, "core.autostage").unwrap();
    assert_eq!(env.read("repo/.dvc/config"), "\n");
}

#[test]
fn remote_add_force_default_and_case() {
    let env = Env::new();
    let mut c = env.config();
    c.remote_add(None, "MyRemote", "/a", true, false).unwrap();
    assert_eq!(
        env.read("repo/.dvc/config"),
        "[core]\n    remote = myremote\n['remote \"myremote\"']\n    url = /a\n"
    );
    assert_eq!(
        c.remote_add(None, "myremote", "/b", false, false)
            .unwrap_err()
            .to_string(),
        "config file error: remote 'myremote' already exists. Use `-f|--force` to overwrite it."
    );
    c.remote_add(None, "myremote", "/b", false, true).unwrap();
    assert_eq!(c.remote("MYREMOTE").unwrap().url, "/b");
    assert_eq!(c.remote_default(None).unwrap().as_deref(), Some("myremote"));
    assert_eq!(
        c.remote("nope").unwrap_err().to_string(),
        "config file error: remote 'nope' doesn't exist"
    );
}

#[test]
fn remote_modify_unset_and_missing() {
    let env = Env::new();
    let mut c = env.config();
    assert_eq!(
        c.remote_modify(None, "r", "url", Some("/x"))
            .unwrap_err()
            .to_string(),
        "config file error: remote 'r' doesn't exist."
    );
    c.remote_add(None, "r", "ssh://h/p", false, false).unwrap();
    c.remote_modify(None, "r", "port", Some("22")).unwrap();
    c.remote_modify(None, "r", "user", Some("me")).unwrap();
    c.remote_modify(None, "r", "port", None).unwrap();
    assert_eq!(
        env.read("repo/.dvc/config"),
        "['remote \"r\"']\n    url = ssh://h/p\n    user = me\n"
    );
    assert_eq!(
        c.remote_modify(None, "r", "Region", Some("x"))
            .unwrap_err()
            .to_string(),
        "config file error: extra keys not allowed @ data['remote']['r']['Region']"
    );
    // A remote defined in the repo config can get local-only options.
    c.remote_modify(Some(Level::Local), "r", "password", Some("pw"))
        .unwrap();
    assert_eq!(
        env.read("repo/.dvc/config.local"),
        "['remote \"r\"']\n    password = pw\n"
    );
}

#[test]
fn remote_remove_clears_default_and_rewrites_levels() {
    let env = Env::new();
    let mut c = env.config();
    c.remote_add(None, "x", "/a", true, false).unwrap();
    c.remote_remove(None, "X").unwrap();
    assert_eq!(env.read("repo/.dvc/config"), "\n");
    // DVC rewrites config.local on the way down, creating it.
    assert_eq!(env.read("repo/.dvc/config.local"), "\n");
    assert!(!env.root.join("glob/config").exists());
    assert_eq!(
        c.remote_remove(None, "x").unwrap_err().to_string(),
        "config file error: remote 'x' doesn't exist."
    );
}

#[test]
fn remote_rename_keeps_new_name_case_like_dvc() {
    let env = Env::new();
    let mut c = env.config();
    c.remote_add(None, "y", "/b", true, false).unwrap();
    c.remote_add(None, "other", "/o", false, false).unwrap();
    assert_eq!(
        c.remote_rename(None, "y", "other").unwrap_err().to_string(),
        "config file error: Rename failed. Remote name 'other' already exists."
    );
    c.remote_rename(None, "y", "Zed").unwrap();
    assert_eq!(
        env.read("repo/.dvc/config"),
        "[core]\n    remote = Zed\n['remote \"other\"']\n    url = /o\n['remote \"Zed\"']\n    url = /b\n"
    );
    let c = env.config();
    let list = c.remote_list(None).unwrap();
    assert_eq!(list[1].name, "zed");
    assert!(!list[1].is_default);
}

#[test]
fn remote_default_set_and_unset() {
    let env = Env::new();
    let mut c = env.config();
    assert_eq!(c.remote_default(None).unwrap(), None);
    assert_eq!(
        c.remote_set_default(None, "x").unwrap_err().to_string(),
        "config file error: default remote must be present in remote list."
    );
    c.remote_add(Some(Level::Global), "x", "/x", false, false)
        .unwrap();
    c.remote_set_default(Some(Level::Local), "x").unwrap();
    assert_eq!(
        env.read("repo/.dvc/config.local"),
        "[core]\n    remote = x\n"
    );
    assert_eq!(
        c.remote_list(None).unwrap()[0].to_line(),
        "x\t/x\t(default)"
    );
    c.remote_unset_default(Some(Level::Local)).unwrap();
    assert_eq!(c.remote_default(None).unwrap(), None);
}

#[test]
fn remote_refs_are_resolved() {
    let env = Env::new();
    env.write(
        "repo/.dvc/config",
        "['remote \"server\"']\nurl = ssh://localhost\nuser = root\n\
         ['remote \"images\"']\nurl = remote://server/tmp/pictures\nuser = alice\n",
    );
    let r = env.config().remote("images").unwrap();
    assert_eq!(r.url, "ssh://localhost/tmp/pictures");
    assert_eq!(r.option("user"), Some(&Value::from("alice")));
    env.write(
        "repo/.dvc/config",
        "['remote \"a\"']\nurl = remote://b/x\n['remote \"b\"']\nurl = remote://a/y\n",
    );
    assert!(matches!(
        env.config().remote("a"),
        Err(ConfigError::RemoteCycle { .. })
    ));
}

#[test]
fn repo_levels_need_a_repo() {
    let env = Env::new();
    let paths = ConfigPaths::new(env.root.join("sys"), env.root.join("glob"), None);
    let mut c = Config::load(paths, &env.root).unwrap();
    assert!(matches!(
        c.set(Some(Level::Local), "core.autostage", "true"),
        Err(ConfigError::NotInRepo { .. })
    ));
    assert!(matches!(
        c.set(None, "core.autostage", "true"),
        Err(ConfigError::NotInRepo { .. })
    ));
    c.set(Some(Level::Global), "core.autostage", "true")
        .unwrap();
    assert!(c.core_autostage().unwrap());
}

#[test]
fn parse_errors_name_the_file() {
    let env = Env::new();
    env.write("repo/.dvc/config", "[core\n");
    let err = Config::load(env.paths(), env.repo()).unwrap_err();
    let msg = err.to_string();
    assert!(msg.starts_with("config file error: "), "{msg}");
    assert!(msg.contains("repo/.dvc/config"), "{msg}");
    env.write("repo/.dvc/config", "[core]\nremote = a\nremote = b\n");
    assert!(matches!(
        Config::load(env.paths(), env.repo()),
        Err(ConfigError::Parse { .. })
    ));
    fs::write(
        env.root.join("repo/.dvc/config"),
        b"[core]\nremote = \xff\n",
    )
    .unwrap();
    assert!(Config::load(env.paths(), env.repo()).is_err());
}

#[test]
fn typed_accessors() {
    let env = Env::new();
    env.write(
        "repo/.dvc/config",
        "[core]\nchecksum_jobs = 4\nhardlink_lock = True\nsite_cache_dir = /var/x\n",
    );
    let c = env.config();
    assert_eq!(c.core_checksum_jobs().unwrap(), Some(4));
    assert!(c.core_hardlink_lock().unwrap());
    assert_eq!(
        c.core_site_cache_dir().unwrap(),
        Some(PathBuf::from("/var/x"))
    );
    assert_eq!(c.cache_dir().unwrap(), None);
    assert_eq!(c.cache_types().unwrap(), None);
    assert!(!c.cache_shared_group().unwrap());
    // Unvalidated loads still report bad values through the accessors.
    env.write("repo/.dvc/config", "[core]\nautostage = maybe\n");
    let c = Config::load_unvalidated(env.paths(), env.repo()).unwrap();
    assert_eq!(
        c.core_autostage().unwrap_err().to_string(),
        "config file error: expected true or false for dictionary value @ data['core']['autostage']"
    );
}

#[test]
fn paths_follow_dvc_env_rules() {
    let vars = |pairs: &'static [(&'static str, &'static str)]| {
        move |name: &str| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| std::ffi::OsString::from(v))
        }
    };
    let p = ConfigPaths::from_vars(None, vars(&[("HOME", "/home/u")]), None);
    assert_eq!(p.system, PathBuf::from("/etc/xdg/dvc/config"));
    assert_eq!(p.global, PathBuf::from("/home/u/.config/dvc/config"));
    let p = ConfigPaths::from_vars(
        Some(PathBuf::from("/r/.dvc")),
        vars(&[
            ("HOME", "/home/u"),
            ("XDG_CONFIG_DIRS", "rel:/a/b:/c"),
            ("XDG_CONFIG_HOME", "/x/y"),
        ]),
        None,
    );
    assert_eq!(p.system, PathBuf::from("/a/b/dvc/config"));
    assert_eq!(p.global, PathBuf::from("/x/y/dvc/config"));
    assert_eq!(
        p.file(Level::Local),
        Some(PathBuf::from("/r/.dvc/config.local"))
    );
    let p = ConfigPaths::from_vars(
        None,
        vars(&[
            ("DVC_SYSTEM_CONFIG_DIR", "/s"),
            ("DVC_GLOBAL_CONFIG_DIR", "/g"),
            ("XDG_CONFIG_HOME", "relative"),
        ]),
        Some(PathBuf::from("/fallback")),
    );
    assert_eq!(p.system, PathBuf::from("/s/config"));
    assert_eq!(p.global, PathBuf::from("/g/config"));
    assert_eq!(p.file(Level::Repo), None);
    let p = ConfigPaths::from_vars(
        None,
        vars(&[
            ("DVC_GLOBAL_CONFIG_DIR", ""),
            ("XDG_CONFIG_HOME", "relative"),
        ]),
        Some(PathBuf::from("/fallback")),
    );
    assert_eq!(p.global, PathBuf::from("/fallback/.config/dvc/config"));
}
