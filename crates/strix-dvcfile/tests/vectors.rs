//! Byte-equality against the DVC-generated vectors in testdata/dvc-vectors (copied from shared/spec/vectors).

use std::fs;
use std::path::Path;

use strix_dvcfile::DvcFile;

const VECTORS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../testdata/dvc-vectors/expected"
);

fn dvc_files(dir: &str) -> Vec<(String, String)> {
    let dir = Path::new(VECTORS).join(dir);
    let mut out = Vec::new();
    for entry in fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "dvc") {
            let text = fs::read_to_string(&path).unwrap();
            out.push((path.display().to_string(), text));
        }
    }
    out.sort();
    out
}

#[test]
fn dvc3_vectors_round_trip_byte_identical() {
    let files = dvc_files("dvc3/dvcfiles");
    assert_eq!(files.len(), 6);
    for (name, text) in files {
        let f = DvcFile::parse(&text, &name).unwrap();
        assert_eq!(f.outs.len(), 1, "{name}");
        assert!(!f.outs[0].is_legacy(), "{name}");
        assert_eq!(f.to_yaml(), text, "{name}");
        assert_eq!(
            strix_dvcfile::update_text(&text, &f).unwrap(),
            text,
            "{name}"
        );
    }
}

#[test]
fn legacy_vectors_round_trip_byte_identical() {
    let files = dvc_files("legacy-2.x/dvcfiles");
    assert_eq!(files.len(), 6);
    for (name, text) in files {
        let f = DvcFile::parse(&text, &name).unwrap();
        assert!(f.outs[0].is_legacy(), "{name}");
        assert_eq!(f.to_yaml(), text, "{name}");
    }
}

#[test]
fn dir_and_exec_vectors_have_expected_fields() {
    let text = fs::read_to_string(format!("{VECTORS}/dvc3/dvcfiles/data.dvc")).unwrap();
    let f = DvcFile::parse(&text, "data.dvc").unwrap();
    let o = &f.outs[0];
    assert!(o.is_dir_hash());
    assert_eq!(
        o.md5.as_deref(),
        Some("bf8385e2b15aea0801b306267fe382bc.dir")
    );
    assert_eq!((o.size, o.nfiles), (Some(57), Some(13)));
    let text = fs::read_to_string(format!("{VECTORS}/dvc3/dvcfiles/run.sh.dvc")).unwrap();
    let f = DvcFile::parse(&text, "run.sh.dvc").unwrap();
    assert!(f.outs[0].isexec && !f.outs[0].is_dir_hash());
}
