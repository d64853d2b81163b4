//! Comparing the binary's flows with a case's expected lines
//! (`expected*.jsonl`): flows are matched by (client, server, repeat) as
//! `../shared/tools/conformance.py` does, and every field an expected
//! line carries is compared.

use serde_json::Value;
use std::collections::BTreeMap;

/// Keys of expected lines that annotate the line rather than state a field
/// of the tool's output: how the line was set (`by_construction`), what a
/// damaged capture may lose (`optional`, `partial`), what the client of a
/// scripted capture did (`kind`, testdata/audit-*).
pub const ANNOTATIONS: &[&str] = &["by_construction", "optional", "partial", "kind"];

/// A flow's (client, server) as text.
pub fn pair(v: &Value) -> (String, String) {
    let s = |k: &str| v[k].as_str().unwrap_or("?").to_string();
    (s("client"), s("server"))
}

/// Flows keyed by (client, server, n-th flow of that pair).
pub fn keyed(flows: Vec<Value>) -> BTreeMap<(String, String, usize), Value> {
    let mut seen: BTreeMap<(String, String), usize> = BTreeMap::new();
    let mut out = BTreeMap::new();
    for f in flows {
        let (c, s) = pair(&f);
        let n = seen.entry((c.clone(), s.clone())).or_default();
        out.insert((c, s, *n), f);
        *n += 1;
    }
    out
}

/// The fields where `got` differs from `expected`: every field the
/// expected line carries (annotations aside; `"any"` matches anything), as
/// `(field, expected, got)`.
pub fn differences(expected: &Value, got: &Value) -> Vec<(String, Value, Value)> {
    let Some(fields) = expected.as_object() else {
        return vec![("(line)".into(), expected.clone(), got.clone())];
    };
    fields
        .iter()
        .filter(|(k, v)| !ANNOTATIONS.contains(&k.as_str()) && *v != "any")
        .filter(|(k, v)| got.get(k.as_str()) != Some(v))
        .map(|(k, v)| (k.clone(), v.clone(), got[k.as_str()].clone()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_carried_field_counts_and_annotations_do_not() {
        let e = json!({"client": "a:1", "server": "b:2", "ending": "rst", "gap": true,
                       "sni": "any", "by_construction": true});
        let g = json!({"client": "a:1", "server": "b:2", "ending": "rst", "gap": false,
                       "sni": "x"});
        let d = differences(&e, &g);
        assert_eq!(d, vec![("gap".into(), json!(true), json!(false))]);
        let k = keyed(vec![g.clone(), g]);
        assert_eq!(k.len(), 2);
    }
}
