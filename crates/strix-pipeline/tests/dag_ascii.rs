//! The ASCII `dag` drawing against DVC's own: `fixtures/dag_ascii.jsonl`
//! holds random pipelines and the drawing `dvc.dagascii.draw` (DVC 3.67.1,
//! grandalf 0.8) made of each; `fixtures/dag_ascii.py` regenerates it.

use strix_pipeline::render::ascii::draw;

#[test]
fn drawings_match_dvc() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/dag_ascii.jsonl"
    );
    let text = std::fs::read_to_string(path).unwrap();
    let mut failed = Vec::new();
    let mut count = 0;
    for (line, json) in text.lines().enumerate() {
        let case: serde_json::Value = serde_json::from_str(json).unwrap();
        let nodes: Vec<String> = case["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n.as_str().unwrap().to_owned())
            .collect();
        let edges: Vec<(usize, usize)> = case["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                (
                    e[0].as_u64().unwrap() as usize,
                    e[1].as_u64().unwrap() as usize,
                )
            })
            .collect();
        let want = case["drawing"].as_str().unwrap();
        let got = draw(&nodes, &edges);
        count += 1;
        if got != want {
            failed.push(format!(
                "case {} ({nodes:?}, {edges:?}):\n--- dvc\n{want}\n--- strix\n{got}\n",
                line + 1
            ));
        }
    }
    assert!(count >= 80, "only {count} cases");
    assert!(
        failed.is_empty(),
        "{} of {count} drawings differ:\n{}",
        failed.len(),
        failed.join("\n")
    );
}
