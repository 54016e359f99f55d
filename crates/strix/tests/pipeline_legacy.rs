//! Legacy single-stage `.dvc` files with a `cmd` (DVC 2 format): directory
//! outputs are cached in DVC 2's layout and runs go to (and come back from)
//! the run-cache with DVC 2's entries, checked against DVC 2.58.2. A
//! `dvc.lock` DVC 2 wrote is read with its dos2unix hashes, as DVC 3 does.
//!
//! Needs `STRIX_TEST_DVC2`; skipped without it unless `STRIX_REQUIRE_DVC=1`.

mod common;

use common::{TestEnv, assert_success, stdout};
use std::path::Path;

const GEN: &str =
    "cmd: mkdir -p d && cp in.txt d/a && echo b > d/b\ndeps:\n- path: in.txt\nouts:\n- path: d\n";

fn legacy_repo() -> TestEnv {
    let env = TestEnv::new();
    env.git(&["init", "-q"]);
    // `dvc init` of DVC 2 fails on its own scm step here; the layout strix
    // writes is the same.
    assert_success(&env.strix(&["init", "-q"]));
    env.write("in.txt", "src\n");
    env.write("gen.dvc", GEN);
    env
}

/// Files under `dir`, relative and sorted.
fn files(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p.strip_prefix(dir).unwrap().display().to_string());
            }
        }
    }
    out.sort();
    out
}

/// Removes the output and the recorded hashes, then reproduces with strix:
/// the run is restored from the run-cache.
fn restored_by_strix(env: &TestEnv, recorded: &str) {
    std::fs::remove_dir_all(env.repo().join("d")).unwrap();
    env.write("gen.dvc", GEN);
    let out = env.strix(&["repro", "gen.dvc"]);
    assert_success(&out);
    assert!(
        stdout(&out)
            .starts_with("Stage 'gen.dvc' is cached - skipping run, checking out outputs\n"),
        "{}",
        stdout(&out)
    );
    assert_eq!(env.read_string("d/a"), "src\n");
    assert_eq!(env.read_string("d/b"), "b\n");
    assert_eq!(env.read_string("gen.dvc"), recorded);
}

#[test]
fn legacy_directory_outputs_and_run_cache_match_dvc2() {
    if common::dvc2_bin().is_none() {
        common::skip("DVC 2 is not installed (set STRIX_TEST_DVC2)");
        return;
    }
    let mut seen = Vec::new();
    let mut envs = Vec::new();
    for with_dvc2 in [false, true] {
        let env = legacy_repo();
        let out = if with_dvc2 {
            env.dvc2(&["repro", "gen.dvc"]).unwrap()
        } else {
            env.strix(&["repro", "gen.dvc"])
        };
        assert_success(&out);
        seen.push((
            env.read_string("gen.dvc"),
            files(&env.repo().join(".dvc/cache")),
            env.read_string(".gitignore"),
        ));
        envs.push(env);
    }
    assert_eq!(seen[0], seen[1]);
    let (recorded, cache, _) = &seen[0];
    assert!(
        recorded.contains("  md5: d721211bca77229fe30bb84df01ae4b6.dir\n  size: 6\n  nfiles: 2\n"),
        "{recorded}"
    );
    // The two files, the listing and one run-cache entry.
    assert_eq!(cache.len(), 4, "{cache:?}");
    assert!(cache.contains(&"d7/21211bca77229fe30bb84df01ae4b6.dir".to_owned()));
    assert!(cache.iter().any(|f| f.starts_with("runs/")), "{cache:?}");
    // DVC 2 finds strix's run up to date.
    let st = envs[0].dvc2(&["status"]).unwrap();
    assert_eq!(stdout(&st).trim(), "Data and pipelines are up to date.");
    // strix restores from its own run-cache entry and from DVC 2's.
    for env in &envs {
        restored_by_strix(env, recorded);
    }
    // And DVC 2 restores from the entry strix saved.
    let env = &envs[0];
    std::fs::remove_dir_all(env.repo().join("d")).unwrap();
    env.write("gen.dvc", GEN);
    let out = env.dvc2(&["repro", "gen.dvc"]).unwrap();
    assert_success(&out);
    assert!(
        stdout(&out).contains("is cached - skipping run"),
        "{}",
        stdout(&out)
    );
    assert_eq!(env.read_string("d/a"), "src\n");
}

/// A repository where DVC 2 ran stage `s` (`cp in.txt out.txt`) on a CRLF
/// text file: its `dvc.lock` entries have no `hash: md5`.
fn dvc2_ran_a_crlf_copy() -> TestEnv {
    let env = TestEnv::initialized();
    env.write("in.txt", "a\r\nb\r\n");
    env.write(
        "dvc.yaml",
        "stages:\n  s:\n    cmd: cp in.txt out.txt\n    deps:\n    - in.txt\n    outs:\n    - out.txt\n",
    );
    assert_success(&env.dvc2(&["repro", "-q"]).unwrap());
    env
}

/// A `dvc.lock` written by DVC 2 (entries without `hash: md5`, holding
/// dos2unix MD5s) is read as DVC 3 reads it: a CRLF text dependency and
/// output are unchanged, `commit` leaves the entries alone, and a change
/// reruns the stage, whose new entries are DVC 3's.
#[test]
fn dvc2_lock_entries_are_read_with_their_hash() {
    if !common::have_dvc() || !common::have_dvc2() {
        return;
    }
    let env = dvc2_ran_a_crlf_copy();
    let lock = env.read_string("dvc.lock");
    assert!(!lock.contains("hash:"), "{lock}");
    let clean = "Data and pipelines are up to date.\n";
    assert_eq!(env.strix_ok(&["status"]), clean);
    assert_eq!(stdout(&env.dvc(&["status"]).unwrap()), clean);
    assert_eq!(env.strix_ok(&["commit"]), "");
    assert_eq!(env.read_string("dvc.lock"), lock);
    let rp = env.strix_ok(&["repro"]);
    assert!(!rp.contains("Running stage"), "{rp}");
    assert_eq!(env.read_string("dvc.lock"), lock);

    env.write("in.txt", "a\r\nc\r\n");
    let rp = env.strix_ok(&["repro"]);
    assert!(rp.contains("Running stage 's'"), "{rp}");
    let lock = env.read_string("dvc.lock");
    assert!(
        lock.contains(&format!(
            "hash: md5\n      md5: {}",
            common::md5_hex(b"a\r\nc\r\n")
        )),
        "{lock}"
    );
    assert_eq!(env.strix_ok(&["status"]), clean);
    assert_eq!(stdout(&env.dvc(&["status"]).unwrap()), clean);
}

/// An output that a DVC 2 `dvc.lock` records is pushed to and pulled from a remote in the 2.x
/// layout (`xx/…` by its dos2unix hash), where DVC 3 finds it too: `dvc status -c` is in sync
/// after `strix push`, and `strix pull` restores the CRLF bytes after the cache and the output
/// are gone.
#[test]
fn dvc2_lock_outputs_travel_in_the_2x_remote_layout() {
    if !common::have_dvc() || !common::have_dvc2() {
        return;
    }
    let env = dvc2_ran_a_crlf_copy();
    let remote = env.mkdir("remote");
    assert_success(&env.strix(&["remote", "add", "-d", "r", remote.to_str().unwrap()]));

    let push = env.strix(&["push"]);
    assert_success(&push);
    assert_eq!(stdout(&push), "1 file pushed\n");
    // The dos2unix hash of "a\r\nb\r\n" is the MD5 of "a\nb\n".
    let legacy = common::md5_hex(b"a\nb\n");
    assert_eq!(
        files(&remote),
        [format!("{}/{}", &legacy[..2], &legacy[2..])]
    );
    let in_sync = "Cache and remote 'r' are in sync.\n";
    assert_eq!(stdout(&env.dvc(&["status", "-c"]).unwrap()), in_sync);
    assert_eq!(env.strix_ok(&["status", "-c"]), in_sync);

    std::fs::remove_dir_all(env.repo().join(".dvc/cache")).unwrap();
    std::fs::remove_file(env.repo().join("out.txt")).unwrap();
    assert_success(&env.strix(&["pull"]));
    assert_eq!(env.read("out.txt"), b"a\r\nb\r\n");
    let clean = "Data and pipelines are up to date.\n";
    assert_eq!(env.strix_ok(&["status"]), clean);
    assert_eq!(stdout(&env.dvc(&["status"]).unwrap()), clean);
}
