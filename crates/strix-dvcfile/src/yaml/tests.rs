use super::*;

fn dump_k(v: Value) -> String {
    let mut m = Mapping::new();
    m.insert("k", v);
    to_string(&Value::Map(m))
}

/// Expected output from ruamel.yaml 0.19.1 via DVC's dumper (`k: <value>`).
#[test]
fn quoting_table_matches_ruamel() {
    let cases: &[(&str, &str)] = &[
        ("123", "'123'"),
        ("1.0", "'1.0'"),
        ("1e3", "'1e3'"),
        ("0x1F", "'0x1F'"),
        ("0o17", "'0o17'"),
        ("1_000", "'1_000'"),
        ("null", "'null'"),
        ("NULL", "'NULL'"),
        ("~", "'~'"),
        ("True", "'True'"),
        ("2024-01-01", "'2024-01-01'"),
        ("2024-1-1 1:00:00", "'2024-1-1 1:00:00'"),
        (".nan", "'.nan'"),
        ("+1", "'+1'"),
        ("yes", "yes"),
        ("no", "no"),
        ("on", "on"),
        ("Yes", "Yes"),
        ("@a", "'@a'"),
        ("`a", "'`a'"),
        ("%a", "'%a'"),
        ("!a", "'!a'"),
        ("&a", "'&a'"),
        ("*a", "'*a'"),
        ("#a", "'#a'"),
        ("|a", "'|a'"),
        (">a", "'>a'"),
        ("'a", "\"'a\""),
        ("\"a", "'\"a'"),
        ("{a", "'{a'"),
        ("[a", "'[a'"),
        (",a", "',a'"),
        ("- a", "'- a'"),
        ("-a", "-a"),
        ("? a", "'? a'"),
        ("?a", "?a"),
        ("=", "'='"),
        ("<<", "'<<'"),
        ("a: b", "'a: b'"),
        ("a #b", "'a #b'"),
        ("a#b", "a#b"),
        (" a", "' a'"),
        ("a ", "'a '"),
        ("tab\tx", "\"tab\\tx\""),
        ("a\nb", "\"a\\nb\""),
        ("ctrl\u{1}", "\"ctrl\\x01\""),
        ("it's", "it's"),
        ("dq\"q", "dq\"q"),
        ("x,y", "x,y"),
        ("1:20", "1:20"),
        ("x,", "x,"),
        ("ünï.txt", "ünï.txt"),
        ("", "''"),
        (" it's", "\" it's\""),
        ("a:b", "a:b"),
        ("a:", "'a:'"),
        ("a -", "a -"),
        ("-", "'-'"),
        ("?", "'?'"),
        (":", "':'"),
        ("a]", "a]"),
        ("a  b", "a  b"),
        ("0777", "'0777'"),
        ("0b101", "'0b101'"),
        ("012", "'012'"),
        ("1e", "1e"),
        ("1.", "'1.'"),
        (".5", "'.5'"),
        ("-.inf", "'-.inf'"),
        ("0", "'0'"),
        ("-0", "'-0'"),
        ("08", "'08'"),
        ("0o8", "0o8"),
        ("1__", "'1__'"),
        ("_1", "_1"),
        ("1:2:3", "1:2:3"),
        ("12:30:45.5", "12:30:45.5"),
        ("abc\u{a0}", "abc\u{a0}"),
        ("\u{7f}", "\"\\x7F\""),
        ("a\r\nb", "\"a\\r\\nb\""),
        ("a\n", "\"a\\n\""),
        ("\u{feff}x", "\"\\uFEFFx\""),
        ("-1", "'-1'"),
        ("--", "--"),
        ("---", "'---'"),
        ("...", "'...'"),
        ("a...", "a..."),
        ("!", "'!'"),
        ("a|b", "a|b"),
        ("%", "'%'"),
        ("a\tb 😀", "\"a\\tb 😀\""),
        ("😀", "😀"),
    ];
    for (input, want) in cases {
        assert_eq!(
            dump_k(Value::from(*input)),
            format!("k: {want}\n"),
            "input {input:?}"
        );
    }
}

#[test]
fn quoted_strings_read_back() {
    for s in [
        "123", "a: b", "tab\tx", "a\nb", " it's", "\u{7f}", "'q'", "\\", "x\"y",
    ] {
        let text = dump_k(Value::from(s));
        let back = parse(&text, "t").unwrap();
        assert_eq!(
            back.as_map().unwrap().get("k"),
            Some(&Value::from(s)),
            "{text}"
        );
    }
}

#[test]
fn floats_use_python_repr() {
    let cases = [
        (0.001, "0.001"),
        (1e-05, "1e-05"),
        (1e16, "1e+16"),
        (15000000000.0, "15000000000.0"),
        (-0.0, "-0.0"),
        (f64::INFINITY, ".inf"),
        (f64::NEG_INFINITY, "-.inf"),
        (f64::NAN, ".nan"),
        (1e-07, "1e-07"),
        (0.1, "0.1"),
        (100.0, "100.0"),
        (1.2345678901234568e17, "1.2345678901234568e+17"),
        (123456789012345.0, "123456789012345.0"),
        (1e15, "1000000000000000.0"),
        (5e-324, "5e-324"),
        (1.7976931348623157e308, "1.7976931348623157e+308"),
        (0.30000000000000004, "0.30000000000000004"),
        (2.5e-4, "0.00025"),
        (-1.5, "-1.5"),
    ];
    for (f, want) in cases {
        assert_eq!(format_float(f), want);
    }
}

#[test]
fn block_structure_matches_ruamel() {
    let text = "a: []\nb: {}\nc:\nd: true\ne:\n- - 1\n  - 2\n- - 3\nf:\n- x: 1\n  y:\n  - 1\n  - z:\ng:\n  h:\n    i: []\n1: int key\n'': empty key\na b: 1\n'12': 2\n";
    let v = parse(text, "t").unwrap();
    assert_eq!(to_string(&v), text);
    let seq = "a:\n- \n- ''\n- []\n- {}\n- - []\n- x:\nb:\n- c:\n    d: 1\n";
    assert_eq!(to_string(&parse(seq, "t").unwrap()), seq);
}

#[test]
fn reads_ints_floats_and_big_checksums() {
    let v = parse(
        "a: 12\nb: 1.5\nc: 12345678901234567890123456789012\nd: '7'\ne: ~\n",
        "t",
    )
    .unwrap();
    let m = v.as_map().unwrap();
    assert_eq!(m.get("a"), Some(&Value::Int(12)));
    assert_eq!(m.get("b"), Some(&Value::Float(1.5)));
    assert_eq!(
        m.get("c"),
        Some(&Value::Int(12345678901234567890123456789012))
    );
    assert_eq!(m.get("d"), Some(&Value::from("7")));
    assert_eq!(m.get("e"), Some(&Value::Null));
}

#[test]
fn syntax_errors_carry_position() {
    let err = parse("outs:\n- md5: x\n  size: [1\n", "f.dvc").unwrap_err();
    let YamlError::Syntax { at, .. } = &err;
    assert_eq!(at.name, "f.dvc");
    assert!(at.location.is_some(), "{err}");
    assert!(err.to_string().starts_with("f.dvc:"), "{err}");
}

#[test]
fn duplicate_keys_are_errors_at_the_key() {
    let err = parse("a: 1\nb: 2\na: 3\n", "d.yaml").unwrap_err();
    let YamlError::Syntax { at, message } = &err;
    assert_eq!(at.location, Some(Location { line: 3, column: 1 }), "{err}");
    assert!(message.contains("duplicate"), "{message}");
}

#[test]
fn locate_finds_keys_and_values() {
    let text = "outs:\n- md5: abc\n  bad: 1\n";
    let p = [
        PathSeg::Key("outs".into()),
        PathSeg::Index(0),
        PathSeg::KeyItself("bad".into()),
    ];
    assert_eq!(locate(text, &p), Some(Location { line: 3, column: 3 }));
    let p = [
        PathSeg::Key("outs".into()),
        PathSeg::Index(0),
        PathSeg::Key("md5".into()),
    ];
    assert_eq!(locate(text, &p), Some(Location { line: 2, column: 8 }));
    assert_eq!(locate(text, &[PathSeg::Key("nope".into())]), None);
}

#[test]
fn flow_output() {
    let v = parse("a: [x, 'y z', '1']\nb: {k: v}\n", "t").unwrap();
    let m = v.as_map().unwrap();
    assert_eq!(to_flow_string(m.get("a").unwrap()), "[x, y z, '1']");
    assert_eq!(to_flow_string(m.get("b").unwrap()), "{k: v}");
}

#[test]
fn wrapped_emission_matches_ruamel() {
    let long1 = "a very long file name with many words that will certainly exceed the eighty column limit of ruamel.txt";
    let long2 = "averylongfilenamewithoutanyspacesthatwillcertainlyexceedtheeightycolumnlimitofruamelyaml.txt";
    let cmd = "mkdir -p model && cat prep.txt > model/weights && echo '{\"acc\": 0.9, \"loss\": 0.1}' > metrics.json && printf 'x,y\\n1,2\\n2,3\\n' > plot.csv";
    let mut out1 = Mapping::new();
    out1.insert("path", long1);
    out1.insert("md5", "x");
    let mut flags = Mapping::new();
    flags.insert("cache", false);
    let mut out2 = Mapping::new();
    out2.insert(long2, flags);
    let mut s = Mapping::new();
    s.insert("cmd", long1);
    s.insert("deps", vec![Value::from(long1), Value::from(long2)]);
    s.insert("outs", vec![Value::Map(out1), Value::Map(out2)]);
    s.insert("c2", cmd);
    s.insert(
        "c3",
        "python train.py --epochs 10 --lr 0.001 --batch-size 64 --output-dir models/final --seed 42",
    );
    s.insert(
        "c4",
        "'quoted start that is long enough to wrap around the eighty column limit of ruamel yaml'",
    );
    let mut stages = Mapping::new();
    stages.insert("s", s);
    let mut top = Mapping::new();
    top.insert("stages", stages);
    top.insert("top", long1);
    top.insert("top2", cmd);
    let expected = r#"stages:
  s:
    cmd: a very long file name with many words that will certainly exceed the 
      eighty column limit of ruamel.txt
    deps:
    - a very long file name with many words that will certainly exceed the 
      eighty column limit of ruamel.txt
    - averylongfilenamewithoutanyspacesthatwillcertainlyexceedtheeightycolumnlimitofruamelyaml.txt
    outs:
    - path: a very long file name with many words that will certainly exceed the
        eighty column limit of ruamel.txt
      md5: x
    - averylongfilenamewithoutanyspacesthatwillcertainlyexceedtheeightycolumnlimitofruamelyaml.txt:
        cache: false
    c2: "mkdir -p model && cat prep.txt > model/weights && echo '{\"acc\": 0.9, \"\
      loss\": 0.1}' > metrics.json && printf 'x,y\\n1,2\\n2,3\\n' > plot.csv"
    c3: python train.py --epochs 10 --lr 0.001 --batch-size 64 --output-dir 
      models/final --seed 42
    c4: "'quoted start that is long enough to wrap around the eighty column limit
      of ruamel yaml'"
top: a very long file name with many words that will certainly exceed the eighty
  column limit of ruamel.txt
top2: "mkdir -p model && cat prep.txt > model/weights && echo '{\"acc\": 0.9, \"loss\"\
  : 0.1}' > metrics.json && printf 'x,y\\n1,2\\n2,3\\n' > plot.csv"
"#;
    assert_eq!(to_string_wrapped(&Value::Map(top)), expected);
}
