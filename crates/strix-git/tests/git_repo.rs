//! `GitRepo` against scratch repositories made with the real `git` CLI.
//!
//! Every `git` call runs without global or system config. Each repository
//! points `core.excludesFile` at a file inside its tempdir so the user's
//! own ignore rules cannot leak into gix's answers.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use strix_git::{GitRepo, RevisionError, StageError, gitignore};
use tempfile::TempDir;

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args([
            "-c",
            "user.name=strix",
            "-c",
            "user.email=strix@example.com",
        ])
        .args([
            "-c",
            "init.defaultBranch=main",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .env_remove("GIT_INDEX_FILE")
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// A fresh repository in `<tmp>/repo`; `<tmp>/excludes` is its
/// `core.excludesFile` (empty).
fn init() -> (TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("repo");
    fs::create_dir(&root).unwrap();
    git(&root, &["init", "-q"]);
    let excludes = tmp.path().join("excludes");
    fs::write(&excludes, "").unwrap();
    git(
        &root,
        &["config", "core.excludesFile", excludes.to_str().unwrap()],
    );
    (tmp, root)
}

fn write(root: &Path, rel: &str, content: &str) {
    let path = root.join(rel);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, content).unwrap();
}

fn commit_all(root: &Path, msg: &str) {
    git(root, &["add", "-A"]);
    git(root, &["commit", "-q", "-m", msg]);
}

fn open(root: &Path) -> GitRepo {
    GitRepo::discover(root).unwrap().expect("a git work tree")
}

#[test]
fn discover_finds_root_from_subdir_and_none_outside() {
    let (tmp, root) = init();
    write(&root, "sub/deeper/f", "x");
    let repo = GitRepo::discover(&root.join("sub/deeper"))
        .unwrap()
        .unwrap();
    assert_eq!(repo.workdir(), root);
    let outside = tmp.path().join("outside");
    fs::create_dir(&outside).unwrap();
    assert!(GitRepo::discover(&outside).unwrap().is_none());
}

#[test]
fn reads_files_at_head_and_parent_revision() {
    let (_tmp, root) = init();
    write(&root, "data.dvc", "v1\n");
    write(&root, "dir/keep", "k");
    commit_all(&root, "one");
    write(&root, "data.dvc", "v2\n");
    commit_all(&root, "two");
    let repo = open(&root);

    let at = |rev: &str, rel: &str| repo.read_file_at(rev, Path::new(rel)).unwrap();
    assert_eq!(at("HEAD", "data.dvc").as_deref(), Some(&b"v2\n"[..]));
    assert_eq!(at("HEAD~1", "data.dvc").as_deref(), Some(&b"v1\n"[..]));
    assert_eq!(at("main~1", "./data.dvc").as_deref(), Some(&b"v1\n"[..]));
    assert_eq!(at("HEAD", "missing"), None);
    assert_eq!(at("HEAD", "dir"), None, "a directory is not a file");
    assert_eq!(at("HEAD", "dir/keep/below"), None);
    let abs = root.join("data.dvc");
    assert_eq!(
        repo.read_file_at("HEAD", &abs).unwrap().as_deref(),
        Some(&b"v2\n"[..])
    );

    let expected = git(&root, &["rev-parse", "HEAD~1"]);
    assert_eq!(repo.resolve_rev("HEAD~1").unwrap(), expected.trim());
    let short = &expected[..7];
    assert_eq!(repo.resolve_rev(short).unwrap(), expected.trim());
    assert!(matches!(
        repo.resolve_rev("no-such-branch"),
        Err(RevisionError::Resolve { .. })
    ));
    assert!(matches!(
        repo.read_file_at("HEAD~5", Path::new("data.dvc")),
        Err(RevisionError::Resolve { .. })
    ));
}

#[test]
fn annotated_tags_resolve_to_their_commit() {
    let (_tmp, root) = init();
    write(&root, "a", "1");
    commit_all(&root, "one");
    git(&root, &["tag", "-a", "v1", "-m", "tag"]);
    let repo = open(&root);
    let head = git(&root, &["rev-parse", "HEAD"]);
    assert_eq!(repo.resolve_rev("v1").unwrap(), head.trim());
}

#[test]
fn walk_collects_matching_files_below_prefix() {
    let (_tmp, root) = init();
    write(&root, "outside.dvc", "no");
    write(&root, "proj/dvc.yaml", "stages: {}\n");
    write(&root, "proj/dvc.lock", "schema: '2.0'\n");
    write(&root, "proj/data/a.dvc", "outs: a\n");
    write(&root, "proj/data/deep/b.dvc", "outs: b\n");
    write(&root, "proj/data/deep/b.csv", "1,2\n");
    write(&root, "proj/readme.md", "hi");
    commit_all(&root, "one");
    let repo = open(&root);
    let is_meta = |p: &str| {
        let name = p.rsplit('/').next().unwrap_or(p);
        name.ends_with(".dvc") || name == "dvc.yaml" || name == "dvc.lock"
    };

    let found = repo
        .walk_files_at("HEAD", Path::new("proj"), is_meta)
        .unwrap();
    let paths: Vec<&str> = found.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(
        paths,
        [
            "proj/data/a.dvc",
            "proj/data/deep/b.dvc",
            "proj/dvc.lock",
            "proj/dvc.yaml"
        ]
    );
    assert_eq!(found[1].1, b"outs: b\n");

    let all = repo.walk_files_at("HEAD", Path::new(""), is_meta).unwrap();
    assert_eq!(all.len(), 5);
    assert_eq!(all[0].0, "outside.dvc");

    let none = repo
        .walk_files_at("HEAD", Path::new("no/such/dir"), is_meta)
        .unwrap();
    assert!(none.is_empty());
    let file_prefix = repo
        .walk_files_at("HEAD", Path::new("proj/readme.md"), |_| true)
        .unwrap();
    assert!(file_prefix.is_empty());
}

#[test]
fn unborn_head_reads_as_empty_tree() {
    let (_tmp, root) = init();
    write(&root, "a.dvc", "x");
    let repo = open(&root);
    assert!(!repo.head_exists());
    assert_eq!(repo.read_file_at("HEAD", Path::new("a.dvc")).unwrap(), None);
    assert!(
        repo.walk_files_at("HEAD", Path::new(""), |_| true)
            .unwrap()
            .is_empty()
    );
    assert!(repo.resolve_rev("HEAD").is_err());
    assert!(!repo.is_tracked(Path::new("a.dvc")).unwrap());

    commit_all(&root, "first");
    assert!(repo.head_exists());
    assert_eq!(
        repo.read_file_at("HEAD", Path::new("a.dvc"))
            .unwrap()
            .as_deref(),
        Some(&b"x"[..])
    );
}

#[test]
fn tracked_files_and_directories() {
    let (_tmp, root) = init();
    write(&root, "top.txt", "t");
    write(&root, "data/sub/f.txt", "f");
    write(&root, "database", "not a dir");
    git(&root, &["add", "top.txt", "data/sub/f.txt"]);
    write(&root, "untracked.txt", "u");
    let repo = open(&root);
    let tracked = |p: &str| repo.is_tracked(Path::new(p)).unwrap();

    assert!(tracked("top.txt"));
    assert!(tracked("data"));
    assert!(tracked("data/sub"));
    assert!(tracked("data/sub/f.txt"));
    assert!(tracked("./data/"));
    assert!(!tracked("database"), "prefix of a name is not a directory");
    assert!(!tracked("dat"));
    assert!(!tracked("untracked.txt"));
    assert!(!tracked("data/sub/f.txt/x"));
    assert!(tracked(""));
    assert!(repo.is_tracked(Path::new("../escape")).is_err());
}

#[test]
fn ignore_rules_from_all_sources() {
    let (tmp, root) = init();
    write(&root, ".gitignore", "*.log\n/build/\n");
    write(&root, "sub/.gitignore", "/model.pkl\n!keep.log\n");
    write(&root, ".git/info/exclude", "secret.txt\n");
    fs::write(tmp.path().join("excludes"), "*.bak\n").unwrap();
    let repo = open(&root);
    let ignored = |p: &str, dir: bool| repo.is_ignored(Path::new(p), dir).unwrap();

    assert!(ignored("a.log", false));
    assert!(ignored("sub/deep/a.log", false));
    assert!(!ignored("a.txt", false));
    assert!(ignored("build", true));
    assert!(!ignored("build", false), "dir-only pattern");
    assert!(
        ignored("build/out/x.o", false),
        "inside an ignored directory"
    );
    assert!(ignored("sub/model.pkl", false));
    assert!(!ignored("model.pkl", false), "anchored to sub/");
    assert!(!ignored("sub/keep.log", false), "negated in sub/.gitignore");
    assert!(ignored("secret.txt", false), "info/exclude");
    assert!(ignored("sub/secret.txt", false));
    assert!(ignored("old.bak", false), "core.excludesFile");
    assert!(!ignored("", true));
}

#[test]
fn ignore_checks_see_fresh_edits_and_agree_with_git() {
    let (_tmp, root) = init();
    let name = "we ird#[1]!*?.txt";
    write(&root, &format!("data/{name}"), "x");
    write(&root, "data/we ird#1.txt", "y");
    let repo = open(&root);
    let rel = format!("data/{name}");
    assert!(!repo.is_ignored(Path::new(&rel), false).unwrap());

    assert!(gitignore::add_entry(&root.join("data"), name).unwrap());
    assert_eq!(
        fs::read_to_string(root.join("data/.gitignore")).unwrap(),
        "/we ird\\#\\[1\\]\\!\\*\\?.txt\n"
    );
    assert!(repo.is_ignored(Path::new(&rel), false).unwrap());
    assert!(
        !repo
            .is_ignored(Path::new("data/we ird#1.txt"), false)
            .unwrap(),
        "escaped entry matches only the literal name"
    );
    let check = git(&root, &["check-ignore", "--", &rel]);
    assert_eq!(check.trim(), rel);

    assert!(gitignore::remove_entry(&root.join("data"), name).unwrap());
    assert!(!root.join("data/.gitignore").exists());
    assert!(!repo.is_ignored(Path::new(&rel), false).unwrap());
}

#[test]
fn add_stages_files_and_reports_git_errors() {
    let (_tmp, root) = init();
    write(&root, "a.dvc", "a");
    write(&root, "sub/.gitignore", "/x\n");
    let repo = open(&root);
    repo.add(&[PathBuf::from("a.dvc"), root.join("sub/.gitignore")])
        .unwrap();
    let staged = git(&root, &["ls-files"]);
    assert_eq!(staged, "a.dvc\nsub/.gitignore\n");
    assert!(repo.is_tracked(Path::new("a.dvc")).unwrap());
    repo.add(&[]).unwrap();

    let err = repo.add(&[PathBuf::from("missing.dvc")]).unwrap_err();
    match &err {
        StageError::Failed { stderr, .. } => assert!(stderr.contains("missing.dvc"), "{stderr}"),
        other => panic!("unexpected error {other:?}"),
    }
    assert!(err.to_string().contains("missing.dvc"));
}

#[test]
fn subdir_dvc_root_paths_are_repo_relative() {
    let (_tmp, root) = init();
    write(&root, "proj/.dvc/config", "");
    write(&root, "proj/x.dvc", "x");
    commit_all(&root, "one");
    let repo = GitRepo::discover(&root.join("proj")).unwrap().unwrap();
    assert_eq!(
        repo.relative(&root.join("proj/x.dvc")).unwrap(),
        "proj/x.dvc"
    );
    assert!(repo.is_tracked(Path::new("proj/.dvc")).unwrap());
    let found = repo
        .walk_files_at("HEAD", Path::new("proj"), |p| p.ends_with(".dvc"))
        .unwrap();
    assert_eq!(found, vec![("proj/x.dvc".to_owned(), b"x".to_vec())]);
}

#[test]
fn linked_worktree_is_a_work_tree_of_its_own() {
    let (tmp, root) = init();
    write(&root, "a.dvc", "main");
    commit_all(&root, "one");
    let linked = tmp.path().join("linked");
    git(
        &root,
        &[
            "worktree",
            "add",
            "-q",
            "-b",
            "side",
            linked.to_str().unwrap(),
        ],
    );
    write(&linked, "b.dvc", "side");
    git(&linked, &["add", "b.dvc"]);
    let repo = GitRepo::discover(&linked).unwrap().unwrap();
    assert_eq!(repo.workdir(), linked);
    assert!(repo.head_exists());
    assert!(repo.is_tracked(Path::new("b.dvc")).unwrap());
    assert!(!open(&root).is_tracked(Path::new("b.dvc")).unwrap());
    assert_eq!(
        repo.read_file_at("main", Path::new("a.dvc"))
            .unwrap()
            .as_deref(),
        Some(&b"main"[..])
    );
}
