//! CLI wiring of the `strix` binary: arguments, exit codes, output and files of each command.
//! These tests do not need DVC.

mod common;

use std::collections::BTreeSet;
use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

use common::{
    TestEnv, assert_exit_code, assert_failure, assert_success, md5_hex, stderr, stdout,
    tree_listing,
};
use serde_json::{Value, json};

fn meta(env: &TestEnv, path: &str) -> fs::Metadata {
    let p = env.repo().join(path);
    fs::symlink_metadata(&p).unwrap_or_else(|e| panic!("stat {}: {e}", p.display()))
}

fn mode(env: &TestEnv, path: &str) -> u32 {
    meta(env, path).permissions().mode() & 0o7777
}

fn object_path(md5: &str) -> String {
    format!(".dvc/cache/files/md5/{}/{}", &md5[..2], &md5[2..])
}

#[track_caller]
fn parse(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("invalid JSON ({e}): {text}"))
}

// ---------------------------------------------------------------------------------------------
// init
// ---------------------------------------------------------------------------------------------

#[test]
fn init_in_git_repo() {
    let env = TestEnv::new();
    env.git(&["init", "--quiet"]);
    let out = env.strix_ok(&["init"]);
    assert!(out.contains("Initialized DVC repository."), "{out}");
    assert!(
        out.contains("You can now commit the changes to git."),
        "{out}"
    );
    let init =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/dvc-vectors/expected/init");
    assert_eq!(
        env.read(".dvc/.gitignore"),
        fs::read(init.join("dot-dvc-gitignore")).unwrap()
    );
    assert_eq!(
        env.read(".dvcignore"),
        fs::read(init.join("dvcignore")).unwrap()
    );
    assert_eq!(env.read(".dvc/config"), b"");
    assert!(env.repo().join(".dvc/tmp").is_dir());
    assert!(!env.repo().join(".dvc/cache").exists());
    // init stages its files in git, like DVC.
    let staged = stdout(&env.git(&["diff", "--cached", "--name-only"]));
    let staged: BTreeSet<&str> = staged.lines().collect();
    assert_eq!(
        staged,
        BTreeSet::from([".dvc/.gitignore", ".dvc/config", ".dvcignore"])
    );

    // A second init fails with exit 1 and leaves the repo alone; -f starts over.
    env.write(".dvc/config", "[core]\n    autostage = true\n");
    let out = env.strix(&["init"]);
    assert_exit_code(&out, 1);
    assert!(
        stderr(&out).contains("'.dvc' exists. Use `-f` to force."),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        env.read_string(".dvc/config"),
        "[core]\n    autostage = true\n"
    );
    env.strix_ok(&["init", "-f", "-q"]);
    assert_eq!(env.read(".dvc/config"), b"");
}

#[test]
fn init_outside_git_needs_no_scm() {
    let env = TestEnv::new();
    let out = env.strix(&["init"]);
    assert_exit_code(&out, 1);
    assert!(
        stderr(&out).contains("is not tracked by any supported SCM tool"),
        "{}",
        stderr(&out)
    );
    assert!(!env.repo().join(".dvc").exists());

    let out = env.strix_ok(&["init", "--no-scm"]);
    assert!(out.contains("Initialized DVC repository."), "{out}");
    assert!(!out.contains("You can now commit"), "{out}");
    assert_eq!(
        env.read_string(".dvc/config"),
        "[core]\n    no_scm = True\n"
    );
    assert!(!env.repo().join(".dvc/.gitignore").exists());
    assert!(env.repo().join(".dvcignore").is_file());

    // Later commands write no .gitignore in a --no-scm repo.
    env.write("a.txt", "a\n");
    env.strix_ok(&["add", "-q", "a.txt"]);
    assert!(env.repo().join("a.txt.dvc").is_file());
    assert!(!env.repo().join(".gitignore").exists());
    assert!(env.repo().join(object_path(&md5_hex(b"a\n"))).is_file());
}

#[test]
fn init_subdir() {
    let env = TestEnv::new();
    env.git(&["init", "--quiet"]);
    let sub = env.mkdir("repo/sub");
    // Without --subdir, init in a subdirectory of a git repo fails.
    let out = env.strix_in(&sub, &["init"]);
    assert_exit_code(&out, 1);
    assert!(!sub.join(".dvc").exists());

    let out = env.strix_in(&sub, &["init", "--subdir"]);
    assert_success(&out);
    assert!(sub.join(".dvc/config").is_file());
    assert!(sub.join(".dvc/.gitignore").is_file());
    assert!(sub.join(".dvcignore").is_file());
    assert!(!env.repo().join(".dvc").exists());

    // The DVC root is the subdirectory: outputs go there and root prints it.
    fs::write(sub.join("x.txt"), "x\n").unwrap();
    let out = env.strix_in(&sub, &["add", "-q", "x.txt"]);
    assert_success(&out);
    assert!(sub.join("x.txt.dvc").is_file());
    assert_eq!(
        fs::read_to_string(sub.join(".gitignore")).unwrap(),
        "/x.txt\n"
    );
    assert!(sub.join(object_path(&md5_hex(b"x\n"))).is_file());
    let deep = env.mkdir("repo/sub/a/b");
    assert_eq!(stdout(&env.strix_in(&deep, &["root"])).trim(), "../..");

    // --no-scm together with --subdir is rejected.
    let other = env.mkdir("repo/other");
    let out = env.strix_in(&other, &["init", "--subdir", "--no-scm"]);
    assert_failure(&out);
    assert!(!other.join(".dvc").exists());
}

#[test]
fn not_in_a_repo_exits_253() {
    let env = TestEnv::new();
    for args in [
        &["status"][..],
        &["add", "x"][..],
        &["checkout"][..],
        &["root"][..],
        &["cache", "dir"][..],
    ] {
        let out = env.strix(args);
        assert_exit_code(&out, 253);
        assert!(
            stderr(&out).contains("you are not inside of a DVC repository"),
            "{args:?}: {}",
            stderr(&out)
        );
    }
}

#[test]
fn bad_arguments_exit_254() {
    let env = TestEnv::initialized();
    let out = env.strix(&["status", "--bogus"]);
    assert_exit_code(&out, 254);
    let out = env.strix(&["no-such-command"]);
    assert_exit_code(&out, 254);
}

// ---------------------------------------------------------------------------------------------
// add, status, commit
// ---------------------------------------------------------------------------------------------

#[test]
fn add_no_commit_then_commit() {
    let env = TestEnv::initialized();
    env.write("n.txt", "hi\n");
    env.strix_ok(&["add", "-q", "--no-commit", "n.txt"]);
    let md5 = md5_hex(b"hi\n");
    assert_eq!(
        env.read_string("n.txt.dvc"),
        format!("outs:\n- md5: {md5}\n  size: 3\n  hash: md5\n  path: n.txt\n")
    );
    assert!(!env.repo().join(object_path(&md5)).exists());
    let text = env.strix_ok(&["status"]);
    assert!(
        text.contains("n.txt.dvc:\n\tchanged outs:\n\t\tnot in cache:       n.txt\n"),
        "{text}"
    );
    assert_eq!(
        parse(&env.strix_ok(&["status", "--json"])),
        json!({"n.txt.dvc": [{"changed outs": {"n.txt": "not in cache"}}]})
    );

    env.strix_ok(&["commit", "-q", "n.txt.dvc"]);
    let obj = object_path(&md5);
    assert_eq!(env.read(&obj), b"hi\n");
    assert_eq!(mode(&env, &obj), 0o444);
    assert_eq!(parse(&env.strix_ok(&["status", "--json"])), json!({}));
}

#[test]
fn status_json_and_quiet_exit_code() {
    let env = TestEnv::initialized();
    let out = env.strix_ok(&["status"]);
    assert_eq!(
        out,
        "There are no data or pipelines tracked in this project yet.\nSee <https://dvc.org/doc/start> to get started!\n"
    );
    if let Some(d) = env.dvc(&["status"]) {
        assert_eq!(stdout(&d), out);
    }
    env.write("a.txt", "a\n");
    env.write("d/x", "x\n");
    env.write("d/y", "y\n");
    env.strix_ok(&["add", "-q", "a.txt", "d"]);

    let out = env.strix(&["status", "-q"]);
    assert_exit_code(&out, 0);
    assert_eq!(stdout(&out), "");
    assert_eq!(
        env.strix_ok(&["status"]).trim(),
        "Data and pipelines are up to date."
    );

    env.write("a.txt", "changed\n");
    fs::remove_file(env.repo().join("d/y")).unwrap();
    let out = env.strix(&["status", "-q"]);
    assert_exit_code(&out, 1);
    assert_eq!(stdout(&out), "");
    assert_eq!(stderr(&out), "");
    // Without -q, changes are not an error.
    let json_out = env.strix(&["status", "--json"]);
    assert_exit_code(&json_out, 0);
    assert_eq!(
        parse(&stdout(&json_out)),
        json!({
            "a.txt.dvc": [{"changed outs": {"a.txt": "modified"}}],
            "d.dvc": [{"changed outs": {"d": "modified"}}],
        })
    );
    // Targets narrow the report.
    assert_eq!(
        parse(&env.strix_ok(&["status", "--json", "a.txt.dvc"])),
        json!({"a.txt.dvc": [{"changed outs": {"a.txt": "modified"}}]})
    );
    let text = env.strix_ok(&["status", "a.txt"]);
    assert!(text.contains("modified:           a.txt"), "{text}");
    assert!(!text.contains("d.dvc"), "{text}");

    fs::remove_file(env.repo().join("a.txt")).unwrap();
    assert_eq!(
        parse(&env.strix_ok(&["status", "--json", "a.txt.dvc"])),
        json!({"a.txt.dvc": [{"changed outs": {"a.txt": "deleted"}}]})
    );
}

#[test]
fn commit_requires_force_for_changed_data() {
    let env = TestEnv::initialized();
    env.write("a.txt", "one\n");
    env.strix_ok(&["add", "-q", "a.txt"]);
    let before = env.read("a.txt.dvc");
    env.write("a.txt", "two\n");

    let out = env.strix(&["commit", "a.txt.dvc"]);
    assert_exit_code(&out, 1);
    assert!(
        stderr(&out)
            .contains("unable to commit changed stage: 'a.txt.dvc'. Use `-f|--force` to force."),
        "{}",
        stderr(&out)
    );
    assert_eq!(env.read("a.txt.dvc"), before);
    assert!(!env.repo().join(object_path(&md5_hex(b"two\n"))).exists());

    env.strix_ok(&["commit", "-q", "-f", "a.txt.dvc"]);
    let md5 = md5_hex(b"two\n");
    assert_eq!(
        env.read_string("a.txt.dvc"),
        format!("outs:\n- md5: {md5}\n  size: 4\n  hash: md5\n  path: a.txt\n")
    );
    assert_eq!(env.read(object_path(&md5)), b"two\n");
    assert_eq!(parse(&env.strix_ok(&["status", "--json"])), json!({}));

    // commit with nothing changed is fine without -f, and by output path too.
    env.strix_ok(&["commit", "-q", "a.txt"]);
    env.strix_ok(&["commit", "-q"]);
}

#[test]
fn add_to_out_from_external_path() {
    let env = TestEnv::initialized();
    let ext = env.mkdir("external");
    fs::write(ext.join("e.txt"), "external\n").unwrap();
    let ext_file = ext.join("e.txt");
    env.strix_ok(&["add", "-q", "-o", "copied.txt", ext_file.to_str().unwrap()]);
    let md5 = md5_hex(b"external\n");
    assert_eq!(env.read("copied.txt"), b"external\n");
    assert_eq!(
        env.read_string("copied.txt.dvc"),
        format!("outs:\n- md5: {md5}\n  size: 9\n  hash: md5\n  path: copied.txt\n")
    );
    assert_eq!(env.read_string(".gitignore"), "/copied.txt\n");
    assert_eq!(env.read(object_path(&md5)), b"external\n");
    // The source is left alone.
    assert_eq!(fs::read(&ext_file).unwrap(), b"external\n");

    // Into an existing subdirectory: the .dvc file and .gitignore go there.
    env.mkdir("repo/sub");
    env.strix_ok(&[
        "add",
        "-q",
        "--out",
        "sub/e.txt",
        ext_file.to_str().unwrap(),
    ]);
    assert_eq!(env.read("sub/e.txt"), b"external\n");
    assert!(env.read_string("sub/e.txt.dvc").contains("  path: e.txt\n"));
    assert_eq!(env.read_string("sub/.gitignore"), "/e.txt\n");

    // A directory.
    fs::create_dir_all(ext.join("dir/inner")).unwrap();
    fs::write(ext.join("dir/inner/f"), "f\n").unwrap();
    env.strix_ok(&["add", "-q", "-o", "dd", ext.join("dir").to_str().unwrap()]);
    assert_eq!(env.read("dd/inner/f"), b"f\n");
    assert!(env.read_string("dd.dvc").contains("  nfiles: 1\n"));
    assert_eq!(parse(&env.strix_ok(&["status", "--json"])), json!({}));

    // A large file (above the size strix adopts inside the workspace): the
    // external source keeps its inode, and the cache gets its own copy.
    use std::os::unix::fs::MetadataExt;
    let big: Vec<u8> = (0..(6usize << 20)).map(|i| (i % 253) as u8).collect();
    let big_src = ext.join("big.bin");
    fs::write(&big_src, &big).unwrap();
    let ino = fs::metadata(&big_src).unwrap().ino();
    env.strix_ok(&["add", "-q", "-o", "big.bin", big_src.to_str().unwrap()]);
    assert_eq!(fs::metadata(&big_src).unwrap().ino(), ino);
    assert_eq!(fs::read(&big_src).unwrap(), big);
    let obj = env.repo().join(object_path(&md5_hex(&big)));
    assert_ne!(fs::metadata(&obj).unwrap().ino(), ino);
    assert_eq!(env.read("big.bin"), big);
}

/// As DVC 3.67.1: a glob's `*` skips hidden files (Python's glob), a `.dvc` file or `dvc.yaml`
/// is never an output (so `add 'dir/*' --glob` over a folder of `.dvc` files is refused whole),
/// paths inside `.git` are refused with DVC's words, and `diff` in a Git repository without
/// commits shows nothing.
#[test]
fn add_refuses_metafiles_and_globs_skip_hidden_files_like_dvc() {
    let env = TestEnv::initialized();
    let dvc = TestEnv::initialized_with_dvc();
    let envs: Vec<(&TestEnv, bool)> = match &dvc {
        Some(d) => vec![(&env, false), (d, true)],
        None => vec![(&env, false)],
    };
    for (e, is_dvc) in envs {
        let run = |args: &[&str]| {
            if is_dvc {
                e.dvc(args).unwrap()
            } else {
                e.strix(args)
            }
        };
        let who = if is_dvc { "dvc" } else { "strix" };
        for args in [&["diff"][..], &["diff", "--json"]] {
            let out = run(args);
            assert_success(&out);
            let expected = if args.len() == 2 { "{}\n" } else { "" };
            assert_eq!(
                stdout(&out).trim_start_matches('\n'),
                expected,
                "{who} {args:?}"
            );
        }
        e.write("g/a", "a\n");
        e.write("g/.hidden", "h\n");
        assert_success(&run(&["add", "-q", "g/a"]));
        let out = run(&["add", "--glob", "g/*"]);
        assert_exit_code(&out, 1);
        assert!(
            stderr(&out).contains("DVC file 'a.dvc' cannot be an output."),
            "{who}: {}",
            stderr(&out)
        );
        assert!(!e.repo().join("g/a.dvc.dvc").exists(), "{who}");
        assert!(!e.repo().join("g/.hidden.dvc").exists(), "{who}");
        e.write("g/b", "b\n");
        assert_success(&run(&["add", "-q", "--glob", "g/[b-z]*"]));
        assert!(e.repo().join("g/b.dvc").is_file(), "{who}");
        assert!(!e.repo().join("g/.hidden.dvc").exists(), "{who}");
        e.write("s/dvc.yaml", "stages: {}\n");
        let out = run(&["add", "s/dvc.yaml"]);
        assert_exit_code(&out, 1);
        assert!(
            stderr(&out).contains("DVC file 'dvc.yaml' cannot be an output."),
            "{who}: {}",
            stderr(&out)
        );
        let out = run(&["add", ".git/config"]);
        assert_exit_code(&out, 1);
        assert!(
            stderr(&out).contains("is ignored by :.git"),
            "{who}: {}",
            stderr(&out)
        );
    }
}

#[test]
fn add_glob_and_multiple_targets() {
    let env = TestEnv::initialized();
    env.write("g/a.csv", "1\n");
    env.write("g/b.csv", "2\n");
    env.write("g/c.txt", "3\n");
    env.strix_ok(&["add", "-q", "--glob", "g/*.csv"]);
    assert!(env.repo().join("g/a.csv.dvc").is_file());
    assert!(env.repo().join("g/b.csv.dvc").is_file());
    assert!(!env.repo().join("g/c.txt.dvc").exists());
    assert_eq!(env.read_string("g/.gitignore"), "/a.csv\n/b.csv\n");

    // Without --glob the pattern is a literal (missing) path.
    let out = env.strix(&["add", "g/*.txt"]);
    assert_exit_code(&out, 1);
    assert!(!env.repo().join("g/c.txt.dvc").exists());

    env.write("x", "x\n");
    env.write("y", "y\n");
    env.strix_ok(&["add", "-q", "x", "y"]);
    assert_eq!(env.read_string(".gitignore"), "/x\n/y\n");
    // A path tracked by git cannot be added.
    env.write("tracked.txt", "t\n");
    env.git(&["add", "tracked.txt"]);
    let out = env.strix(&["add", "tracked.txt"]);
    assert_exit_code(&out, 1);
    assert!(
        stderr(&out).contains("already tracked by SCM"),
        "{}",
        stderr(&out)
    );
    // --force re-adds an unchanged output without complaint.
    env.strix_ok(&["add", "-q", "--force", "x"]);
}

// ---------------------------------------------------------------------------------------------
// checkout and link types
// ---------------------------------------------------------------------------------------------

#[test]
fn checkout_summary_relink_force() {
    let env = TestEnv::initialized();
    env.write("a.txt", "a\n");
    env.write("d/x", "x\n");
    env.strix_ok(&["add", "-q", "a.txt", "d"]);

    fs::remove_file(env.repo().join("a.txt")).unwrap();
    assert_eq!(
        env.strix_ok(&["checkout", "--summary"]).trim(),
        "1 file added"
    );
    assert_eq!(
        env.strix_ok(&["checkout", "--summary"]).trim(),
        "No changes."
    );
    fs::remove_file(env.repo().join("d/x")).unwrap();
    let out = env.strix_ok(&["checkout"]);
    assert_eq!(out, "M\td/\n");
    fs::remove_dir_all(env.repo().join("d")).unwrap();
    fs::remove_file(env.repo().join("a.txt")).unwrap();
    let out = env.strix_ok(&["checkout", "a.txt.dvc"]);
    assert_eq!(out, "A\ta.txt\n");
    assert!(
        !env.repo().join("d").exists(),
        "checkout of one target restored another"
    );
    assert_eq!(env.strix_ok(&["checkout"]), "A\td/\n");

    // --force overwrites changes that are not in the cache.
    env.write("a.txt", "local\n");
    let out = env.strix(&["checkout"]);
    assert_failure(&out);
    assert_eq!(env.read("a.txt"), b"local\n");
    let untouched = meta(&env, "d/x").ino();
    env.strix_ok(&["checkout", "--force", "-q"]);
    assert_eq!(env.read("a.txt"), b"a\n");
    assert_eq!(
        meta(&env, "d/x").ino(),
        untouched,
        "--force rewrote a file that had not changed (DVC leaves those alone)"
    );

    // --relink re-creates links with the current cache.type.
    env.strix_ok(&["config", "cache.type", "hardlink"]);
    assert_eq!(meta(&env, "a.txt").nlink(), 1);
    let out = env.strix_ok(&["checkout", "--relink"]);
    assert!(out.ends_with("Relinked successfully\n"), "{out}");
    assert_eq!(meta(&env, "a.txt").nlink(), 2);
    assert_eq!(meta(&env, "d/x").nlink(), 2);
    assert_eq!(
        meta(&env, "a.txt").ino(),
        meta(&env, &object_path(&md5_hex(b"a\n"))).ino()
    );

    // A missing target is an error.
    // A missing target is an error: exit 255 like DVC, and nothing else is touched.
    fs::remove_file(env.repo().join("a.txt")).unwrap();
    let out = env.strix(&["checkout", "nonexist.dvc"]);
    assert_exit_code(&out, 255);
    assert!(!env.repo().join("a.txt").exists());
    // status and commit of a missing target exit 1.
    assert_exit_code(&env.strix(&["status", "nonexist.dvc"]), 1);
    assert_exit_code(&env.strix(&["commit", "nonexist.dvc"]), 1);
}

/// Re-linking unchanged data is not a change: DVC prints no `M` line for `checkout --relink`,
/// nor for a plain checkout of a directory whose files are symlinks into the cache.
#[test]
fn relink_and_symlinked_dirs_are_not_changes() {
    let env = TestEnv::initialized();
    env.write("a.txt", "a\n");
    env.write("d/x", "x\n");
    env.strix_ok(&["add", "-q", "a.txt", "d"]);
    env.strix_ok(&["config", "cache.type", "hardlink"]);
    assert_eq!(
        env.strix_ok(&["checkout", "--relink"]),
        "Relinked successfully\n"
    );
    assert_eq!(meta(&env, "d/x").nlink(), 2);

    env.strix_ok(&["config", "cache.type", "symlink"]);
    assert_eq!(
        env.strix_ok(&["checkout", "--relink"]),
        "Relinked successfully\n"
    );
    assert!(meta(&env, "d/x").file_type().is_symlink());
    assert_eq!(env.strix_ok(&["checkout"]), "");
    assert_eq!(
        env.strix_ok(&["checkout", "--summary"]).trim(),
        "No changes."
    );
}

#[test]
fn hardlink_symlink_and_unprotect() {
    let env = TestEnv::initialized();
    env.strix_ok(&["config", "cache.type", "hardlink"]);
    env.write("h.txt", "h\n");
    env.write("d/x", "x\n");
    env.strix_ok(&["add", "-q", "h.txt", "d"]);
    for f in ["h.txt", "d/x"] {
        assert_eq!(mode(&env, f), 0o444, "{f}");
        assert_eq!(meta(&env, f).nlink(), 2, "{f}");
    }
    let h_obj = object_path(&md5_hex(b"h\n"));
    assert_eq!(meta(&env, "h.txt").ino(), meta(&env, &h_obj).ino());

    // A large file is moved into the cache, not copied: its own inode
    // becomes the object, and no temporary is left behind.
    let big: Vec<u8> = (0..(5u32 << 20)).map(|i| (i % 251) as u8).collect();
    fs::write(env.repo().join("big.bin"), &big).unwrap();
    let ino = meta(&env, "big.bin").ino();
    env.strix_ok(&["add", "-q", "big.bin"]);
    let big_obj = object_path(&md5_hex(&big));
    assert_eq!(meta(&env, &big_obj).ino(), ino);
    assert_eq!(meta(&env, "big.bin").ino(), ino);
    assert_eq!(meta(&env, "big.bin").nlink(), 2);
    assert_eq!(mode(&env, "big.bin"), 0o444);
    assert_eq!(env.read("big.bin"), big);
    let temps: Vec<String> = fs::read_dir(env.repo())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(temps.is_empty(), "temporaries left: {temps:?}");
    assert_eq!(parse(&env.strix_ok(&["status", "--json"])), json!({}));

    env.strix_ok(&["config", "cache.type", "symlink"]);
    env.write("s.txt", "s\n");
    env.strix_ok(&["add", "-q", "s.txt"]);
    let s_obj = env.repo().join(object_path(&md5_hex(b"s\n")));
    assert!(meta(&env, "s.txt").file_type().is_symlink());
    assert_eq!(fs::read_link(env.repo().join("s.txt")).unwrap(), s_obj);
    assert_eq!(env.read("s.txt"), b"s\n");
    assert_eq!(parse(&env.strix_ok(&["status", "--json"])), json!({}));

    // unprotect: private writable copies, the cache untouched.
    let cache_before = tree_listing(env.repo().join(".dvc/cache"));
    env.strix_ok(&["unprotect", "h.txt", "s.txt", "d"]);
    for f in ["h.txt", "s.txt", "d/x"] {
        let m = meta(&env, f);
        assert!(m.file_type().is_file(), "{f} is not a regular file");
        assert_eq!(m.nlink(), 1, "{f}");
        assert_eq!(m.permissions().mode() & 0o7777, 0o644, "{f}");
    }
    assert_eq!(env.read("s.txt"), b"s\n");
    assert_eq!(tree_listing(env.repo().join(".dvc/cache")), cache_before);
    // Editing the unprotected file does not touch the cache.
    env.write("h.txt", "edited\n");
    assert_eq!(env.read(&h_obj), b"h\n");
    assert_eq!(
        parse(&env.strix_ok(&["status", "--json"])),
        json!({"h.txt.dvc": [{"changed outs": {"h.txt": "modified"}}]})
    );
}

/// `cache.shared = group`: every cache directory is 2775 (setgid, group-writable), like DVC;
/// objects stay 0444.
#[test]
fn shared_group_cache_modes() {
    let env = TestEnv::initialized();
    env.strix_ok(&["config", "cache.shared", "group"]);
    env.write("a.txt", "a\n");
    env.write("d/x", "x\n");
    env.strix_ok(&["add", "-q", "a.txt", "d"]);
    let cache = env.repo().join(".dvc/cache");
    let mut dirs = vec![cache.clone()];
    let mut checked = 0;
    while let Some(dir) = dirs.pop() {
        let m = fs::metadata(&dir).unwrap().permissions().mode() & 0o7777;
        assert_eq!(m, 0o2775, "mode of {}", dir.display());
        checked += 1;
        for e in fs::read_dir(&dir).unwrap() {
            let e = e.unwrap();
            if e.file_type().unwrap().is_dir() {
                dirs.push(e.path());
            } else {
                let m = e.metadata().unwrap().permissions().mode() & 0o7777;
                assert_eq!(m, 0o444, "mode of {}", e.path().display());
            }
        }
    }
    // cache, files, md5 and three object dirs.
    assert_eq!(checked, 6);
}

// ---------------------------------------------------------------------------------------------
// move, remove, destroy, root, check-ignore, cache dir
// ---------------------------------------------------------------------------------------------

#[test]
fn move_renames_data_dvcfile_and_gitignore() {
    let env = TestEnv::initialized();
    env.write("a.txt", "a\n");
    env.write("keep.txt", "k\n");
    env.strix_ok(&["add", "-q", "a.txt", "keep.txt"]);
    let md5 = md5_hex(b"a\n");
    env.strix_ok(&["move", "a.txt", "b.txt"]);
    assert!(!env.repo().join("a.txt").exists());
    assert!(!env.repo().join("a.txt.dvc").exists());
    assert_eq!(env.read("b.txt"), b"a\n");
    assert_eq!(
        env.read_string("b.txt.dvc"),
        format!("outs:\n- md5: {md5}\n  size: 2\n  hash: md5\n  path: b.txt\n")
    );
    assert_eq!(env.read_string(".gitignore"), "/keep.txt\n/b.txt\n");

    // Into another directory: the .gitignore entries move too.
    env.mkdir("repo/sub");
    env.strix_ok(&["mv", "b.txt", "sub/c.txt"]);
    assert_eq!(env.read("sub/c.txt"), b"a\n");
    assert!(env.read_string("sub/c.txt.dvc").contains("  path: c.txt\n"));
    assert_eq!(env.read_string("sub/.gitignore"), "/c.txt\n");
    assert_eq!(env.read_string(".gitignore"), "/keep.txt\n");
    assert_eq!(parse(&env.strix_ok(&["status", "--json"])), json!({}));
}

#[test]
fn remove_with_and_without_outs() {
    let env = TestEnv::initialized();
    env.write("a.txt", "a\n");
    env.write("b.txt", "b\n");
    env.strix_ok(&["add", "-q", "a.txt", "b.txt"]);
    assert_eq!(
        env.strix_ok(&["remove", "a.txt.dvc"]),
        "",
        "DVC says nothing"
    );
    assert!(!env.repo().join("a.txt.dvc").exists());
    assert_eq!(env.read("a.txt"), b"a\n");
    assert_eq!(env.read_string(".gitignore"), "/b.txt\n");

    env.strix_ok(&["remove", "--outs", "b.txt.dvc"]);
    assert!(!env.repo().join("b.txt.dvc").exists());
    assert!(!env.repo().join("b.txt").exists());
    // The last entry gone, the .gitignore is deleted.
    assert!(!env.repo().join(".gitignore").exists());
    // The cache keeps the object.
    assert_eq!(env.read(object_path(&md5_hex(b"b\n"))), b"b\n");

    // Data changed since it was recorded is not in the cache: `--outs` refuses to delete it
    // (DVC deletes it), and nothing changes.
    env.write("c.txt", "c\n");
    env.strix_ok(&["add", "-q", "c.txt"]);
    env.write("c.txt", "edited\n");
    let out = env.strix(&["remove", "--outs", "c.txt.dvc"]);
    assert_exit_code(&out, 1);
    let err = stderr(&out);
    assert!(
        err.contains("cannot remove 'c.txt': its current content is not in the cache"),
        "{err}"
    );
    assert!(
        err.contains("hint: save it first with `strix commit`"),
        "{err}"
    );
    assert_eq!(env.read("c.txt"), b"edited\n");
    assert!(env.repo().join("c.txt.dvc").exists());
    assert_eq!(env.read_string(".gitignore"), "/c.txt\n");
}

#[test]
fn destroy_needs_force() {
    let env = TestEnv::initialized();
    env.write("a.txt", "a\n");
    env.write("d/x", "x\n");
    env.strix_ok(&["add", "-q", "a.txt", "d"]);
    let out = env.strix(&["destroy"]);
    assert_exit_code(&out, 1);
    assert!(env.repo().join(".dvc").is_dir());
    assert!(env.repo().join("a.txt.dvc").is_file());

    env.strix_ok(&["destroy", "-f"]);
    for gone in [".dvc", ".dvcignore", "a.txt.dvc", "d.dvc", ".gitignore"] {
        assert!(!env.repo().join(gone).exists(), "{gone} still exists");
    }
    // Data stays, as regular writable files.
    assert_eq!(env.read("a.txt"), b"a\n");
    assert_eq!(env.read("d/x"), b"x\n");
    assert!(meta(&env, "a.txt").file_type().is_file());
    assert_exit_code(&env.strix(&["status"]), 253);
}

#[test]
fn root_from_subdirs_and_cd() {
    let env = TestEnv::initialized();
    assert_eq!(env.strix_ok(&["root"]), ".\n");
    let deep = env.mkdir("repo/a/b/c");
    assert_eq!(stdout(&env.strix_in(&deep, &["root"])), "../../..\n");
    // --cd changes the directory first.
    assert_eq!(env.strix_ok(&["--cd", "a/b", "root"]), "../..\n");
    let out = env.strix_in(env.root(), &["--cd", "repo/a", "root"]);
    assert_success(&out);
    assert_eq!(stdout(&out), "..\n");
    // --cd works with other commands: add from the root of another directory.
    env.write("a/f.txt", "f\n");
    let out = env.strix_in(env.root(), &["--cd", "repo", "add", "-q", "a/f.txt"]);
    assert_success(&out);
    assert!(env.repo().join("a/f.txt.dvc").is_file());
    assert_eq!(env.read_string("a/.gitignore"), "/f.txt\n");
    let out = env.strix(&["--cd", "does-not-exist", "root"]);
    assert_failure(&out);
}

#[test]
fn check_ignore_details() {
    let env = TestEnv::initialized();
    let mut ignore = env.read_string(".dvcignore");
    ignore.push_str("*.tmp\n");
    env.write(".dvcignore", ignore);
    env.write("d/x.tmp", "");
    env.write("d/keep.txt", "");

    let out = env.strix(&["check-ignore", "-d", "d/x.tmp"]);
    assert_exit_code(&out, 0);
    assert_eq!(stdout(&out), ".dvcignore:4:*.tmp\td/x.tmp\n");
    let out = env.strix(&["check-ignore", "d/x.tmp", "d/keep.txt"]);
    assert_exit_code(&out, 0);
    assert_eq!(stdout(&out), "d/x.tmp\n");
    // Nothing ignored: exit 1, no output.
    let out = env.strix(&["check-ignore", "d/keep.txt"]);
    assert_exit_code(&out, 1);
    assert_eq!(stdout(&out), "");
    // -n lists non-matching paths too.
    let out = env.strix_ok(&["check-ignore", "-d", "-n", "d/x.tmp", "d/keep.txt"]);
    assert_eq!(out, ".dvcignore:4:*.tmp\td/x.tmp\n::\td/keep.txt\n");
    // --stdin reads the paths.
    let mut cmd = env.command(common::strix_bin());
    cmd.args(["check-ignore", "-d", "--stdin"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(b"d/x.tmp\nd/keep.txt\n").unwrap();
    }
    let out = child.wait_with_output().unwrap();
    assert_eq!(stdout(&out), ".dvcignore:4:*.tmp\td/x.tmp\n");

    // Options that only go with --details are refused as DVC refuses them (exit 255).
    for (args, msg) in [
        (
            &["check-ignore", "-n", "d/x.tmp"][..],
            "`--non-matching` is only valid with `--details`",
        ),
        (
            &["check-ignore", "-a", "d/x.tmp"],
            "`--all` is only valid with `--details`",
        ),
        (
            &["check-ignore", "-q", "-d", "d/x.tmp"],
            "cannot use both `--details` and `--quiet`",
        ),
        (
            &["check-ignore", "--stdin", "d/x.tmp"],
            "cannot have both `targets` and `--stdin`",
        ),
    ] {
        let out = env.strix(args);
        assert_exit_code(&out, 255);
        if args.contains(&"-q") {
            assert_eq!(stderr(&out), "", "{args:?}");
        } else {
            assert!(stderr(&out).contains(msg), "{args:?}: {}", stderr(&out));
        }
        if let Some(d) = env.dvc(args) {
            assert_exit_code(&d, 255);
            // Both tools say nothing under -q.
            if !args.contains(&"-q") {
                assert!(stderr(&d).contains(msg), "dvc {args:?}: {}", stderr(&d));
            }
        }
    }
}

#[test]
fn cache_dir_shows_and_sets() {
    let env = TestEnv::initialized();
    let default = env.repo().join(".dvc/cache");
    assert_eq!(
        env.strix_ok(&["cache", "dir"]).trim(),
        default.to_str().unwrap()
    );
    let sub = env.mkdir("repo/sub");
    assert_eq!(
        stdout(&env.strix_in(&sub, &["cache", "dir"])).trim(),
        default.to_str().unwrap()
    );
    let elsewhere = env.mkdir("elsewhere");
    env.strix_ok(&["cache", "dir", elsewhere.to_str().unwrap()]);
    assert_eq!(
        env.strix_ok(&["cache", "dir"]).trim(),
        elsewhere.to_str().unwrap()
    );
    assert!(
        env.read_string(".dvc/config")
            .contains("[cache]\n    dir = ")
    );
    env.write("a.txt", "a\n");
    env.strix_ok(&["add", "-q", "a.txt"]);
    let md5 = md5_hex(b"a\n");
    assert!(
        elsewhere
            .join(format!("files/md5/{}/{}", &md5[..2], &md5[2..]))
            .is_file()
    );
    assert!(!env.repo().join(".dvc/cache").exists());
    env.strix_ok(&["cache", "dir", "--unset"]);
    assert_eq!(
        env.strix_ok(&["cache", "dir"]).trim(),
        default.to_str().unwrap()
    );
}

// ---------------------------------------------------------------------------------------------
// config
// ---------------------------------------------------------------------------------------------

#[test]
fn config_levels_get_set_unset_list() {
    let env = TestEnv::initialized();
    let system = env.root().join("dvc-system/config");
    let global = env.root().join("dvc-global/config");
    for (flag, value) in [
        ("--system", "rsystem"),
        ("--global", "rglobal"),
        ("--project", "rproject"),
        ("--local", "rlocal"),
    ] {
        env.strix_ok(&["config", flag, "core.remote", value]);
        assert_eq!(env.strix_ok(&["config", flag, "core.remote"]).trim(), value);
    }
    assert!(
        fs::read_to_string(&system)
            .unwrap()
            .contains("    remote = rsystem\n")
    );
    assert!(
        fs::read_to_string(&global)
            .unwrap()
            .contains("    remote = rglobal\n")
    );
    assert!(
        env.read_string(".dvc/config")
            .contains("[core]\n    remote = rproject\n")
    );
    assert_eq!(
        env.read_string(".dvc/config.local"),
        "[core]\n    remote = rlocal\n"
    );
    // The merged value comes from the most specific level.
    assert_eq!(env.strix_ok(&["config", "core.remote"]).trim(), "rlocal");
    let out = env.strix_ok(&["config", "--show-origin", "core.remote"]);
    assert_eq!(out, ".dvc/config.local\trlocal\n");

    let list = env.strix_ok(&["config", "--list", "--show-origin"]);
    let lines: Vec<&str> = list.lines().collect();
    for want in [
        format!("{}\tcore.remote=rsystem", rel_to_repo(&env, &system)),
        format!("{}\tcore.remote=rglobal", rel_to_repo(&env, &global)),
        ".dvc/config\tcore.remote=rproject".to_owned(),
        ".dvc/config.local\tcore.remote=rlocal".to_owned(),
    ] {
        assert!(
            lines.contains(&want.as_str()),
            "missing {want:?} in\n{list}"
        );
    }
    assert_eq!(
        env.strix_ok(&["config", "-l", "--local"]),
        "core.remote=rlocal\n"
    );

    env.strix_ok(&["config", "--local", "--unset", "core.remote"]);
    assert_eq!(env.strix_ok(&["config", "core.remote"]).trim(), "rproject");
    let out = env.strix(&["config", "--local", "core.remote"]);
    assert_exit_code(&out, 251);
    env.strix_ok(&["config", "--unset", "core.remote"]);
    assert_eq!(env.strix_ok(&["config", "core.remote"]).trim(), "rglobal");
    env.strix_ok(&["config", "--global", "--unset", "core.remote"]);
    assert_eq!(env.strix_ok(&["config", "core.remote"]).trim(), "rsystem");
    env.strix_ok(&["config", "--system", "--unset", "core.remote"]);
    // Set nowhere: DVC 3.67.1 prints nothing and succeeds unless a level is given.
    assert_eq!(env.strix_ok(&["config", "core.remote"]), "");
    if let Some(d) = env.dvc(&["config", "core.remote"]) {
        assert_success(&d);
        assert_eq!(stdout(&d), "");
    }
    assert_exit_code(&env.strix(&["config", "--project", "core.remote"]), 251);

    // No name and no --list: DVC's words and exit code.
    for out in [Some(env.strix(&["config"])), env.dvc(&["config"])]
        .into_iter()
        .flatten()
    {
        assert_exit_code(&out, 1);
        assert!(
            stderr(&out).contains("name argument is required"),
            "{}",
            stderr(&out)
        );
    }

    // Unknown keys and unsetting missing ones are configuration errors (251).
    let out = env.strix(&["config", "core.bogus", "x"]);
    assert_exit_code(&out, 251);
    assert!(
        stderr(&out).contains("extra keys not allowed"),
        "{}",
        stderr(&out)
    );
    assert!(!env.read_string(".dvc/config").contains("bogus"));
    assert_exit_code(&env.strix(&["config", "--unset", "core.nothing"]), 251);

    // Values with commas are quoted, remote sections use DVC's spelling.
    env.strix_ok(&["config", "cache.type", "reflink,copy"]);
    env.strix_ok(&["config", "remote.storage.url", "/srv/store"]);
    let text = env.read_string(".dvc/config");
    assert!(
        text.contains("[cache]\n    type = \"reflink,copy\"\n"),
        "{text}"
    );
    assert!(
        text.contains("['remote \"storage\"']\n    url = /srv/store\n"),
        "{text}"
    );
    assert_eq!(
        env.strix_ok(&["config", "cache.type"]).trim(),
        "reflink,copy"
    );
}

fn rel_to_repo(env: &TestEnv, path: &Path) -> String {
    let rel = path.strip_prefix(env.root()).unwrap();
    format!("../{}", rel.display())
}

#[test]
fn autostage_stages_metafiles() {
    let env = TestEnv::initialized();
    env.git(&["commit", "--quiet", "-m", "init"]);
    env.strix_ok(&["config", "core.autostage", "true"]);
    env.git(&["add", ".dvc/config"]);
    env.git(&["commit", "--quiet", "-m", "autostage"]);
    env.write("a.txt", "a\n");
    env.write("d/x", "x\n");
    let out = env.strix_ok(&["add", "a.txt", "d"]);
    assert!(
        !out.contains("git add"),
        "hint printed with autostage on: {out}"
    );
    let staged = stdout(&env.git(&["diff", "--cached", "--name-only"]));
    let staged: BTreeSet<&str> = staged.lines().collect();
    assert_eq!(staged, BTreeSet::from([".gitignore", "a.txt.dvc", "d.dvc"]));
    env.git(&["commit", "--quiet", "-m", "add"]);

    env.strix_ok(&["move", "a.txt", "b.txt"]);
    let staged = stdout(&env.git(&["diff", "--cached", "--name-status"]));
    assert!(staged.contains("M\t.gitignore"), "{staged}");
    assert!(staged.contains("b.txt.dvc"), "{staged}");
    assert!(staged.contains("a.txt.dvc"), "{staged}");
    // The data itself is never staged.
    assert!(!staged.lines().any(|l| l.ends_with("\tb.txt")), "{staged}");

    // Without autostage, add only prints the hint.
    env.git(&["commit", "--quiet", "-m", "move"]);
    env.strix_ok(&["config", "core.autostage", "false"]);
    env.write("c.txt", "c\n");
    let out = env.strix_ok(&["add", "c.txt"]);
    assert!(out.contains("git add"), "{out}");
    let staged = stdout(&env.git(&["diff", "--cached", "--name-only"]));
    assert!(!staged.contains("c.txt.dvc"), "{staged}");

    // `commit` neither stages nor hints, with autostage on or off (as DVC 3.67.1).
    env.git(&["add", "-A"]);
    env.git(&["commit", "--quiet", "-m", "c"]);
    for autostage in ["true", "false"] {
        env.strix_ok(&["config", "core.autostage", autostage]);
        env.git(&["add", ".dvc/config"]);
        env.write("c.txt", format!("c {autostage}\n"));
        assert_eq!(
            env.strix_ok(&["commit", "-f", "c.txt.dvc"]),
            "",
            "{autostage}"
        );
        let staged = stdout(&env.git(&["diff", "--cached", "--name-only"]));
        assert!(!staged.contains("c.txt.dvc"), "{autostage}: {staged}");
        if let Some(d) = env.dvc(&["commit", "-f", "c.txt.dvc"]) {
            assert_success(&d);
            assert_eq!(stdout(&d), "");
        }
    }
}

#[test]
fn quiet_prints_nothing() {
    let env = TestEnv::new();
    env.git(&["init", "--quiet"]);
    let check = |args: &[&str], code: i32| {
        let out = env.strix(args);
        assert_exit_code(&out, code);
        assert_eq!(stdout(&out), "", "stdout of {args:?}");
        assert_eq!(stderr(&out), "", "stderr of {args:?}");
    };
    check(&["-q", "init"], 0);
    env.write("a.txt", "a\n");
    check(&["-q", "add", "a.txt"], 0);
    check(&["add", "-q", "missing.txt"], 1);
    check(&["-q", "status"], 0);
    fs::remove_file(env.repo().join("a.txt")).unwrap();
    check(&["-q", "status"], 1);
    check(&["-q", "checkout"], 0);
    assert_eq!(env.read("a.txt"), b"a\n");
    check(&["-q", "init"], 1);
    check(&["-q", "config", "core.bogus", "x"], 251);
    // Not quiet: the same error is reported on stderr.
    let out = env.strix(&["add", "missing.txt"]);
    assert_exit_code(&out, 1);
    assert!(!stderr(&out).is_empty());
}

#[test]
fn version_and_doctor() {
    let env = TestEnv::new();
    let out = env.strix_ok(&["version"]);
    assert!(!out.trim().is_empty());
    let out2 = env.strix_ok(&["doctor"]);
    assert!(!out2.trim().is_empty());
    let out = env.strix_ok(&["--version"]);
    assert!(out.starts_with("strix "), "{out}");
}

/// Runs `strix ARGS` on a pseudo-terminal (util-linux `script`), returning everything the
/// terminal showed (stdout and stderr together).
fn strix_on_tty(env: &TestEnv, args: &str) -> String {
    let cmd = format!("'{}' {args}", common::strix_bin().display());
    let out = env
        .command("script")
        .args(["-q", "-e", "-c", &cmd, "/dev/null"])
        .output()
        .expect("run script(1)");
    assert_success(&out);
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn progress_bars_only_on_a_terminal_and_never_with_quiet() {
    let env = TestEnv::initialized();
    let make = |dir: &str| {
        for i in 0..3000 {
            env.write(format!("{dir}/{}/f{i}", i % 30), format!("{dir} {i}"));
        }
    };
    // On a terminal: a bar for hashing (add) and one for checking out.
    make("shown");
    let shown = strix_on_tty(&env, "add shown");
    assert!(
        shown.contains("Computing hashes"),
        "no progress bar on a tty: {shown:?}"
    );
    assert!(shown.contains("files ("), "no counts in the bar: {shown:?}");
    fs::rename(env.repo().join("shown"), env.root().join("shown-aside")).unwrap();
    let restored = strix_on_tty(&env, "checkout shown.dvc");
    assert!(
        restored.contains("Checking out"),
        "no checkout bar: {restored:?}"
    );
    // -q on a terminal: nothing at all.
    make("quiet");
    let quiet = strix_on_tty(&env, "-q add quiet");
    assert!(quiet.trim().is_empty(), "-q printed: {quiet:?}");
    // Not a terminal: the normal messages, but no bar on stderr.
    make("piped");
    let out = env.strix(&["add", "piped"]);
    assert_success(&out);
    let err = stderr(&out);
    assert!(
        !err.contains("Computing hashes") && !err.contains('\u{1b}'),
        "bar off a tty: {err:?}"
    );
    assert!(env.repo().join("piped.dvc").is_file());
}

/// `add --no-relink` and `commit --no-relink` save the data to the cache but leave each
/// workspace file the writable inode it was, with `cache.type hardlink` too, as DVC 3.67.1
/// does (checked by hand: `nlink` 1, mode 0644, the object 0444). A large file goes through
/// the path that otherwise adopts its inode into the cache.
#[test]
fn no_relink_leaves_workspace_files_alone() {
    let env = TestEnv::initialized();
    env.strix_ok(&["config", "cache.type", "hardlink"]);
    let big: Vec<u8> = (0..5u32 << 20).map(|i| (i % 251) as u8).collect();
    env.write("a.txt", "a\n");
    env.write("big.bin", &big);
    env.write("d/x", "x\n");
    env.strix_ok(&["add", "-q", "--no-relink", "a.txt", "big.bin", "d"]);
    let untouched = |f: &str| {
        assert_eq!(meta(&env, f).nlink(), 1, "{f}");
        assert_eq!(mode(&env, f), 0o644, "{f}");
    };
    for (f, content) in [("a.txt", &b"a\n"[..]), ("big.bin", &big), ("d/x", b"x\n")] {
        untouched(f);
        let obj = object_path(&md5_hex(content));
        assert_eq!(mode(&env, &obj), 0o444, "{obj}");
        assert_eq!(env.read(&obj), content, "{obj}");
    }
    assert_eq!(
        env.strix_ok(&["status"]),
        "Data and pipelines are up to date.\n"
    );

    env.write("big.bin", b"changed\n".repeat(1 << 20));
    env.strix_ok(&["commit", "-q", "-f", "--no-relink", "big.bin.dvc"]);
    untouched("big.bin");
    let obj = object_path(&md5_hex(&b"changed\n".repeat(1 << 20)));
    assert_eq!(mode(&env, &obj), 0o444);
    // Without the flag, commit links the file to the cache.
    env.write("a.txt", "a2\n");
    env.strix_ok(&["commit", "-q", "-f", "a.txt.dvc"]);
    env.strix_ok(&["checkout", "-q", "--relink", "a.txt.dvc"]);
    assert_eq!(meta(&env, "a.txt").nlink(), 2);
}
