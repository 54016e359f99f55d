use super::*;
use crate::path::PathProblem;
use crate::yaml::Location;

fn loc(e: &SchemaError) -> Option<Location> {
    match e {
        SchemaError::UnknownKey { at, .. }
        | SchemaError::MissingKey { at, .. }
        | SchemaError::InvalidValue { at, .. }
        | SchemaError::UnsafePath { at, .. } => at.location,
    }
}

fn schema_err(text: &str) -> SchemaError {
    match DvcFile::parse(text, "x.dvc") {
        Err(DvcFileError::Schema(e)) => e,
        other => panic!("expected schema error, got {other:?}"),
    }
}

#[test]
fn unknown_out_key_names_key_path_and_position() {
    let e = schema_err("outs:\n- bad: 1\n  md5: abc\n  path: x\n");
    let SchemaError::UnknownKey { key, path, .. } = &e else {
        panic!("{e:?}")
    };
    assert_eq!(key, "bad");
    assert_eq!(path, "outs -> 0 -> bad");
    assert_eq!(loc(&e), Some(Location { line: 2, column: 3 }));
    assert_eq!(
        e.to_string(),
        "x.dvc:2:3: extra keys not allowed, in outs -> 0 -> bad"
    );
}

#[test]
fn unknown_top_key_is_error() {
    let e = schema_err("outs: []\nfoo: 1\n");
    assert!(matches!(&e, SchemaError::UnknownKey { key, .. } if key == "foo"));
    assert_eq!(loc(&e), Some(Location { line: 2, column: 1 }));
}

#[test]
fn unknown_dep_key_is_error() {
    let e = schema_err("deps:\n- path: x\n  cache: false\nouts: []\n");
    assert!(matches!(&e, SchemaError::UnknownKey { path, .. } if path == "deps -> 0 -> cache"));
    assert_eq!(loc(&e), Some(Location { line: 3, column: 3 }));
}

#[test]
fn cmd_is_legacy_stage() {
    let text = "cmd: python train.py\nouts:\n- md5: abc\n  path: x\n";
    match DvcFile::parse(text, "old.dvc") {
        Err(DvcFileError::LegacyStage { at, stage }) => {
            assert_eq!(at.location, Some(Location { line: 1, column: 1 }));
            assert_eq!(stage.cmd, Value::from("python train.py"));
            assert!(stage.document.contains_key("outs"));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn md5_int_becomes_string_and_is_lowercased() {
    let f = DvcFile::parse(
        "outs:\n- md5: 12345678901234567890123456789012\n  path: a\n- md5: ABCDEF0123456789ABCDEF0123456789\n  path: b\n",
        "x.dvc",
    )
    .unwrap();
    assert_eq!(
        f.outs[0].md5.as_deref(),
        Some("12345678901234567890123456789012")
    );
    assert_eq!(
        f.outs[1].md5.as_deref(),
        Some("abcdef0123456789abcdef0123456789")
    );
    // Written back quoted, so it stays a string.
    assert!(
        f.to_yaml()
            .contains("- md5: '12345678901234567890123456789012'\n")
    );
}

#[test]
fn leading_zero_digits_md5_is_read_as_string() {
    // Known deviation: ruamel reads an unquoted `000…0` as the int 0 (and DVC then
    // rejects the file); serde_yaml_ng follows strict YAML 1.2 and yields a string.
    let f = DvcFile::parse(
        "outs:\n- md5: 00000000000000000000000000000000\n  path: a\n",
        "x",
    )
    .unwrap();
    assert_eq!(
        f.outs[0].md5.as_deref(),
        Some("00000000000000000000000000000000")
    );
}

#[test]
fn short_int_md5_is_invalid() {
    let e = schema_err("outs:\n- md5: 0\n  path: a\n");
    assert!(matches!(&e, SchemaError::InvalidValue { path, .. } if path == "outs -> 0 -> md5"));
    assert_eq!(loc(&e), Some(Location { line: 2, column: 8 }));
    let f = DvcFile::parse("outs:\n- md5: ''\n  path: a\n", "x.dvc").unwrap();
    assert_eq!(f.outs[0].md5, None);
}

#[test]
fn wrong_types_are_errors() {
    let e = schema_err("outs:\n- path: a\n  size: big\n");
    assert!(matches!(
        &e,
        SchemaError::InvalidValue {
            expected: "an int",
            ..
        }
    ));
    assert_eq!(loc(&e), Some(Location { line: 3, column: 9 }));
    let e = schema_err("outs:\n- path: a\n  cache: 'no'\n");
    assert!(matches!(
        &e,
        SchemaError::InvalidValue {
            expected: "a bool",
            ..
        }
    ));
    let e = schema_err("outs: 5\n");
    assert!(matches!(
        &e,
        SchemaError::InvalidValue {
            expected: "a list",
            ..
        }
    ));
    let e = schema_err("outs:\n- md5: abc\n");
    assert!(matches!(&e, SchemaError::MissingKey { path, .. } if path == "outs -> 0 -> path"));
}

#[test]
fn unsafe_out_paths_are_refused() {
    let cases = [
        ("../x", PathProblem::EscapesBase),
        ("a/../../x", PathProblem::EscapesBase),
        ("/etc/passwd", PathProblem::NotRelative),
        ("''", PathProblem::Empty),
        ("\"a\\0b\"", PathProblem::ContainsNul),
    ];
    for (p, want) in cases {
        let text = format!("outs:\n- md5: abc\n  path: {p}\n");
        let e = schema_err(&text);
        match &e {
            SchemaError::UnsafePath { problem, at, .. } => {
                assert_eq!(*problem, want, "{p}");
                assert_eq!(at.location, Some(Location { line: 3, column: 9 }));
            }
            other => panic!("{p}: {other:?}"),
        }
    }
    let e = schema_err("wdir: ../..\nouts: []\n");
    assert!(matches!(&e, SchemaError::UnsafePath { .. }));
}

#[test]
fn dep_paths_may_be_absolute_or_urls() {
    let text = "md5: a9a701dd03c7982e2cb55d85ebaf3100\nfrozen: true\ndeps:\n- path: data\n  repo:\n    url: /abs/src\n    rev_lock: ad46dcf2658543996ee5fe9444b4aac1eb21cf8f\n- md5: abc\n  size: 3\n  hash: md5\n  path: https://example.com/x\nouts:\n- md5: b803b75482bc52230b4d26a8cd7cdcbb.dir\n  size: 9\n  nfiles: 1\n  hash: md5\n  path: data\n";
    let f = DvcFile::parse(text, "data.dvc").unwrap();
    assert_eq!(f.deps[1].path, "https://example.com/x");
    assert!(f.deps[0].repo.is_some() && f.deps[0].is_legacy());
    assert!(f.frozen);
    assert_eq!(f.to_yaml(), text);
}

#[test]
fn fresh_file_key_order_and_defaults() {
    let mut o = Output::new("exe.sh");
    o.md5 = Some("ef11c513cab40c919d44ea60888f03ca".into());
    o.size = Some(5);
    o.isexec = true;
    o.push = false;
    o.cache = false;
    o.persist = true;
    o.remote = Some("r".into());
    o.desc = Some(Value::from("my exe"));
    let f = DvcFile {
        desc: Some("top".into()),
        wdir: Some(".".into()),
        outs: vec![o],
        ..DvcFile::default()
    };
    assert_eq!(
        f.to_yaml(),
        "desc: top\nouts:\n- md5: ef11c513cab40c919d44ea60888f03ca\n  size: 5\n  isexec: true\n  hash: md5\n  path: exe.sh\n  desc: my exe\n  cache: false\n  persist: true\n  remote: r\n  push: false\n"
    );
    let back = DvcFile::parse(&f.to_yaml(), "x").unwrap();
    assert_eq!(back.outs, f.outs);
}

#[test]
fn empty_file_is_empty_dvcfile() {
    assert_eq!(DvcFile::parse("", "e.dvc").unwrap(), DvcFile::default());
    assert!(matches!(
        DvcFile::parse("- a\n", "e.dvc"),
        Err(DvcFileError::NotAMapping { .. })
    ));
    assert!(matches!(
        DvcFile::parse("outs: [\n", "e.dvc"),
        Err(DvcFileError::Yaml(_))
    ));
}

const SPEC_2_6_AFTER: &str = "# top comment
outs:
- md5: ef11c513cab40c919d44ea60888f03ca   # inline
  size: 5
  isexec: true
  hash: md5
  path: exe.sh
  desc: my exe
  type: script
  labels: [a, b]
  meta: {owner: me}
  push: false
meta:
  author: x
desc: top-level desc
";

#[test]
fn update_keeps_comments_flow_style_and_order() {
    let before = SPEC_2_6_AFTER
        .replace(
            "ef11c513cab40c919d44ea60888f03ca",
            "0123456789abcdef0123456789abcdef",
        )
        .replace("size: 5", "size: 4");
    let mut f = DvcFile::parse(&before, "exe.sh.dvc").unwrap();
    f.outs[0].md5 = Some("ef11c513cab40c919d44ea60888f03ca".into());
    f.outs[0].size = Some(5);
    assert_eq!(update_text(&before, &f).unwrap(), SPEC_2_6_AFTER);
    // Unchanged content is byte-identical.
    let same = DvcFile::parse(SPEC_2_6_AFTER, "x").unwrap();
    assert_eq!(update_text(SPEC_2_6_AFTER, &same).unwrap(), SPEC_2_6_AFTER);
}

#[test]
fn update_of_legacy_file_appends_hash_after_path() {
    let before =
        "outs:\n- md5: 0cc175b9c0f1b6a831c399e269772661.dir\n  size: 15\n  nfiles: 3\n  path: d\n";
    let mut f = DvcFile::parse(before, "d.dvc").unwrap();
    f.outs[0].md5 = Some("ff2c9407e590df4994b7c0a962e0647b.dir".into());
    f.outs[0].size = Some(16);
    f.outs[0].hash = Some("md5".into());
    assert_eq!(
        update_text(before, &f).unwrap(),
        "outs:\n- md5: ff2c9407e590df4994b7c0a962e0647b.dir\n  size: 16\n  nfiles: 3\n  path: d\n  hash: md5\n"
    );
}

#[test]
fn update_removes_keys_and_replaces_lists() {
    let before = "# c\nouts:\n- md5: abcabcabcabcabcabcabcabcabcabcab\n  size: 5\n  isexec: true\n  hash: md5\n  path: a\n  labels: [x, y]\n";
    let mut f = DvcFile::parse(before, "a.dvc").unwrap();
    f.outs[0].isexec = false;
    f.outs[0].labels = Some(Value::Seq(vec!["x".into(), "y".into(), "z".into()]));
    assert_eq!(
        update_text(before, &f).unwrap(),
        "# c\nouts:\n- md5: abcabcabcabcabcabcabcabcabcabcab\n  size: 5\n  hash: md5\n  path: a\n  labels: [x, y, z]\n"
    );
    // A second output replaces the whole list.
    f.outs.push(Output::new("b"));
    let text = update_text(before, &f).unwrap();
    let back = DvcFile::parse(&text, "a.dvc").unwrap();
    assert_eq!(back.outs, f.outs, "{text}");
    assert!(text.starts_with("# c\nouts:\n"), "{text}");
}

#[test]
fn update_of_empty_text_writes_fresh_file() {
    let f = DvcFile {
        outs: vec![Output::new("x")],
        ..DvcFile::default()
    };
    assert_eq!(update_text("", &f).unwrap(), f.to_yaml());
}
