use super::*;

/// Expands `dvc_yaml` in a temporary repo holding `files`; returns
/// `name: flow-yaml body` lines, or the error text.
fn expand(files: &[(&str, &str)], dvc_yaml: &str) -> Result<Vec<String>, String> {
    let t = tempfile::tempdir().unwrap();
    for (name, text) in files {
        let p = t.path().join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    let doc = yaml::parse(dvc_yaml, "dvc.yaml").unwrap();
    let r = Resolver::new(t.path(), dvc_yaml, "dvc.yaml", &doc, Unpack::default())
        .map_err(|e| e.to_string())?;
    let out = r.expand(&doc).map_err(|e| e.to_string())?;
    Ok(out
        .into_iter()
        .map(|e| format!("{}: {}", e.name, yaml::to_flow_string(&Value::Map(e.body))))
        .collect())
}

const PARAMS: &str = "models:\n  us: {lr: 0.1, layers: [1, 2]}\n  eu: {lr: 0.2, layers: [3]}\nopts:\n  epochs: 3\n  verbose: true\n  quiet: false\n  name: a b\n  tags: [x, y z]\nflag: true\nn: 5\n";

#[test]
fn foreach_over_dict_list_and_composites() {
    let y = r#"vars:
- prefix: out
stages:
  build:
    foreach: ${models}
    do:
      cmd: echo ${key} ${item.lr} ${item.layers[0]}
      outs:
      - ${prefix}-${key}.txt
  simple:
    foreach: [a, 1, 2.5, true, null]
    do:
      cmd: echo ${item}
  comp:
    foreach:
    - {n: 1}
    - [2]
    do:
      cmd: echo ${item}
"#;
    let got = expand(&[("params.yaml", PARAMS)], y);
    // `${item}` of a dict in cmd unpacks it; of a list it is an error.
    assert_eq!(
        got.unwrap_err(),
        "dvc.yaml:19:12: failed to parse 'stages.comp@1.cmd' in 'dvc.yaml':\nCannot interpolate data of type 'list'"
    );
    let y = y.replace("    - [2]\n", "    - {n: 2}\n");
    let got = expand(&[("params.yaml", PARAMS)], &y).unwrap();
    assert_eq!(
        got,
        [
            "build@us: {cmd: echo us 0.1 1, outs: [out-us.txt]}",
            "build@eu: {cmd: echo eu 0.2 3, outs: [out-eu.txt]}",
            "simple@a: {cmd: echo a}",
            "simple@1: {cmd: echo 1}",
            "simple@2.5: {cmd: echo 2.5}",
            "simple@true: {cmd: echo true}",
            "simple@None: {cmd: echo None}",
            "comp@0: {cmd: echo --n 1}",
            "comp@1: {cmd: echo --n 2}",
        ]
    );
}

#[test]
fn matrix_names_and_items() {
    let y = r#"stages:
  train:
    matrix:
      lr: [0.1, 0.01]
      cfg: [{a: 1}, [1, 2]]
      flag: ${flags}
    cmd: run ${item.lr} ${key} ${item.flag}
"#;
    let got = expand(&[("params.yaml", "flags: [true, false]\n")], y).unwrap();
    assert_eq!(got.len(), 8);
    assert_eq!(
        got[0],
        "train@0.1-cfg0-true: {cmd: run 0.1 0.1-cfg0-true true}"
    );
    assert_eq!(
        got[7],
        "train@0.01-cfg1-false: {cmd: run 0.01 0.01-cfg1-false false}"
    );
}

#[test]
fn whole_values_keep_their_type_and_escapes_stay() {
    let y = r#"stages:
  s:
    cmd: echo ${opts} \${n} ${n}
    desc: ${n}
    meta: {a: "${flag}", b: "x${flag}", c: "${opts.tags}"}
"#;
    let err = expand(&[("params.yaml", PARAMS)], y).unwrap_err();
    assert!(
        err.contains("'stages.s.meta'") && err.contains("Cannot interpolate data of type 'list'"),
        "{err}"
    );
    let y = y.replace(", c: \"${opts.tags}\"", "");
    let got = expand(&[("params.yaml", PARAMS)], &y).unwrap();
    assert_eq!(
        got,
        [
            r#"s: {cmd: "echo --epochs 3 --verbose --name 'a b' --tags x 'y z' ${n} 5", desc: 5, meta: {a: true, b: xtrue}}"#
        ]
    );
}

#[test]
fn vars_files_and_stage_vars() {
    let files = [
        ("params.yaml", "n: 1\n"),
        ("cfg.json", r#"{"j": {"k": [10, 20]}, "other": 1}"#),
        ("cfg.toml", "[t]\nv = 'tv'\n"),
        ("cfg.py", "P = 3\nclass C:\n    x = 'cx'\n"),
        ("sub/local.yaml", "loc: here\n"),
    ];
    let y = r#"vars:
- cfg.json:j
- cfg.toml
- cfg.py
stages:
  s:
    wdir: sub
    vars:
    - local.yaml
    - {mine: 7}
    cmd: echo ${n} ${j.k[1]} ${t.v} ${P} ${C.x} ${loc} ${mine}
"#;
    let got = expand(&files, y).unwrap();
    assert_eq!(got, ["s: {wdir: sub, cmd: echo 1 20 tv 3 cx here 7}"]);
    let e = expand(&files, "vars: [cfg.json:nope]\nstages: {}\n").unwrap_err();
    assert_eq!(
        e,
        "dvc.yaml:1:7: failed to parse 'vars' in 'dvc.yaml': could not find 'nope' in 'cfg.json'"
    );
    let e = expand(&files, "vars: [missing.yaml]\nstages: {}\n").unwrap_err();
    assert_eq!(
        e,
        "dvc.yaml:1:7: failed to parse 'vars' in 'dvc.yaml': 'missing.yaml' does not exist"
    );
    let e = expand(&files, "vars: [{n: 2}]\nstages: {}\n").unwrap_err();
    assert_eq!(
        e,
        "dvc.yaml:1:7: failed to parse 'vars' in 'dvc.yaml':\ncannot redefine 'n' from 'vars[0]' as it already exists in 'params.yaml'"
    );
    let e = expand(&files, "vars: [\"${n}.yaml\"]\nstages: {}\n").unwrap_err();
    assert_eq!(
        e,
        "dvc.yaml:1:7: failed to parse 'vars' in 'dvc.yaml': interpolating is not allowed"
    );
}

#[test]
fn bad_input_errors() {
    let files = [("params.yaml", PARAMS)];
    let e = expand(&files, "stages:\n  s:\n    cmd: echo ${nope}\n").unwrap_err();
    assert_eq!(
        e,
        "dvc.yaml:3:10: failed to parse 'stages.s.cmd' in 'dvc.yaml': Could not find 'nope'"
    );
    let e = expand(&files, "stages:\n  s:\n    cmd: echo ${n.}\n").unwrap_err();
    assert_eq!(
        e,
        "dvc.yaml:3:10: failed to parse 'stages.s.cmd' in 'dvc.yaml':\n${n.}\n   ^\nexpected end of expression, found '.'"
    );
    let e = expand(
        &files,
        "stages:\n  s:\n    foreach: ${n}\n    do:\n      cmd: echo ${item}\n",
    )
    .unwrap_err();
    assert_eq!(
        e,
        "dvc.yaml:3:14: failed to resolve 'stages.s.foreach' in 'dvc.yaml': expected list/dictionary, got int"
    );
    // Items giving the same name and the same stage are kept once, as in
    // DVC (which keeps one of any duplicates).
    let got = expand(
        &files,
        "stages:\n  s:\n    foreach: [1, '1', a, 1]\n    do:\n      cmd: echo ${item}\n  m:\n    matrix:\n      x: [1, '1']\n    cmd: echo ${item.x}\n",
    )
    .unwrap();
    assert_eq!(
        got,
        [
            "s@1: {cmd: echo 1}",
            "s@a: {cmd: echo a}",
            "m@1: {cmd: echo 1}"
        ]
    );
    // Different stages under one name: DVC would silently drop one.
    let e = expand(
        &files,
        "stages:\n  s:\n    foreach: [1, '1']\n    do:\n      cmd: echo ${item}\n      outs: ['${item}']\n",
    )
    .unwrap_err();
    assert!(e.contains("stage name 's@1'"), "{e}");
    let e = expand(
        &files,
        "stages:\n  s@1:\n    cmd: x\n  s:\n    foreach: [1]\n    do:\n      cmd: echo ${item}\n",
    )
    .unwrap_err();
    assert_eq!(
        e,
        "dvc.yaml:5:5: stage name 's@1' in 'dvc.yaml' is defined more than once, differently (by 's@1' and 's'): DVC would run only one of them"
    );
    let e = expand(
        &files,
        "stages:\n  s:\n    foreach: [1]\n    do:\n      vars: [{item: 2}]\n      cmd: echo ${item}\n",
    )
    .unwrap_err();
    assert_eq!(
        e,
        "dvc.yaml:5:13: failed to parse stage 's@1' in 'dvc.yaml': attempted to modify reserved key 'item'"
    );
}

/// Resolves the top-level sections of `dvc_yaml`, as flow YAML per
/// section, or the error text.
fn top(files: &[(&str, &str)], dvc_yaml: &str) -> Result<Vec<String>, String> {
    let t = tempfile::tempdir().unwrap();
    for (name, text) in files {
        std::fs::write(t.path().join(name), text).unwrap();
    }
    let doc = yaml::parse(dvc_yaml, "dvc.yaml").unwrap();
    let r = Resolver::new(t.path(), dvc_yaml, "dvc.yaml", &doc, Unpack::default())
        .map_err(|e| e.to_string())?;
    let t = r.resolve_top(&doc).map_err(|e| e.to_string())?;
    let flow = |v: Vec<Value>| yaml::to_flow_string(&Value::Seq(v));
    Ok(vec![
        flow(t.metrics),
        flow(t.plots),
        flow(t.params),
        yaml::to_flow_string(&Value::Map(t.artifacts)),
        flow(t.datasets),
    ])
}

/// The expectations are what DVC 3.67.1's `load_file(...).metrics` etc.
/// return for the same files.
#[test]
fn top_level_sections_are_interpolated_like_dvc() {
    let params = "name: m\nn: 3\nplot:\n  x: step\n  y: loss\nflag: true\nlr: 0.001\n";
    let y = r#"vars:
  - dir: res
params:
  - ${dir}/p.yaml
  - ${n}
metrics:
  - ${dir}/${name}.json
  - ${dir}/${n}-${flag}-${lr}.json
plots:
  - ${dir}/plot.csv:
      x: ${plot.x}
      y: ${plot.y}
  - ${dir}/loss-${n}.png
  - whole:
      template: ${name}
      x: ${plot}
artifacts:
  ${name}-model:
    path: ${dir}/model.pkl
    labels: ['${name}', '${n}']
datasets:
  - name: ${name}-ds
    url: ${dir}/x
stages:
  s:
    cmd: echo hi
"#;
    let got = top(&[("params.yaml", params)], y).unwrap();
    assert_eq!(
        got,
        [
            "[res/m.json, res/3-true-0.001.json]",
            "[{res/plot.csv: {x: step, y: loss}}, res/loss-3.png, {whole: {template: m, x: {x: step, y: loss}}}]",
            "[res/p.yaml, 3]",
            "{m-model: {path: res/model.pkl, labels: [m, 3]}}",
            "[{name: m-ds, url: res/x}]",
        ]
    );
    // Errors name the section and item as DVC does, stages first.
    let bad = |from: &str, to: &str| top(&[("params.yaml", params)], &y.replace(from, to));
    assert_eq!(
        bad("${name}.json", "${nope}.json").unwrap_err(),
        "dvc.yaml:7:5: failed to parse 'metrics.0' in 'dvc.yaml': Could not find 'nope'"
    );
    assert_eq!(
        bad("x: ${plot.x}", "x: ${plot.z}").unwrap_err(),
        "dvc.yaml:11:10: failed to parse 'plots.0' in 'dvc.yaml': Could not find 'plot.z'"
    );
    assert!(
        bad("${dir}/p.yaml", "${dir..x}/p.yaml")
            .unwrap_err()
            .starts_with("dvc.yaml:4:5: failed to parse 'params.0' in 'dvc.yaml':"),
    );
    assert_eq!(
        bad("${name}-model:", "${n}:").unwrap_err(),
        "dvc.yaml:19:5: failed to resolve 'artifacts.${n}' in 'dvc.yaml': expected str, got int"
    );
    assert_eq!(
        bad("url: ${dir}/x", "url: ${nope}").unwrap_err(),
        "dvc.yaml:23:10: failed to parse 'datasets.0' in 'dvc.yaml': Could not find 'nope'"
    );
}
