//! Keys: sha256 over the canonical JSON of what an entry is made from.

use anyhow::{bail, Result};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

/// A store key: 64 lowercase hex digits (a sha256).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Key(String);

impl Key {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The key of the store entry that `file` lies in (`<store>/<shard>/<key>/<file>`), after
    /// resolving links; `None` for a file outside an entry.
    pub fn of_entry_file(file: &std::path::Path) -> Option<Key> {
        let file = file.canonicalize().ok()?;
        file.parent()?.file_name()?.to_str()?.parse().ok()
    }

    /// The two-digit shard directory the entry lives under.
    pub fn shard(&self) -> &str {
        &self.0[..2]
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for Key {
    type Err = anyhow::Error;

    fn from_str(s: &str) -> Result<Self> {
        let valid = s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        if !valid {
            bail!("invalid store key {s:?}: expected 64 lowercase hex digits");
        }
        Ok(Key(s.to_owned()))
    }
}

impl TryFrom<String> for Key {
    type Error = anyhow::Error;

    fn try_from(s: String) -> Result<Self> {
        s.parse()
    }
}

impl From<Key> for String {
    fn from(key: Key) -> String {
        key.0
    }
}

/// What an entry is made from: the stage, its parameters, its inputs (name to key or
/// content sha256) and the identity of the tool that builds it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KeySpec {
    pub stage: String,
    pub params: Value,
    pub inputs: BTreeMap<String, String>,
    pub tool: String,
}

impl KeySpec {
    /// `canonical_json({"inputs", "params", "stage", "tool"})`: the exact bytes the key hashes.
    pub fn canonical(&self) -> String {
        let inputs = self
            .inputs
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect();
        let doc = serde_json::json!({
            "stage": self.stage,
            "params": self.params,
            "inputs": Value::Object(inputs),
            "tool": self.tool,
        });
        canonical_json(&doc)
    }

    pub fn key(&self) -> Key {
        Key(crate::atomic::sha256_bytes(self.canonical().as_bytes()))
    }
}

/// JSON with object keys sorted (recursively, by bytes) and no whitespace; numbers and
/// strings are formatted by serde_json. Sorting is done here because the workspace
/// enables serde_json's `preserve_order`, so map order would otherwise leak into keys.
pub fn canonical_json(v: &Value) -> String {
    let mut out = String::new();
    write_canonical(v, &mut out);
    out
}

fn write_canonical(v: &Value, out: &mut String) {
    match v {
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut entries: Vec<_> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            out.push('{');
            for (i, (k, item)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(k.clone()).to_string());
                out.push(':');
                write_canonical(item, out);
            }
            out.push('}');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn spec(params: Value, inputs: &[(&str, &str)]) -> KeySpec {
        KeySpec {
            stage: "train".into(),
            params,
            inputs: inputs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            tool: "tool-1".into(),
        }
    }

    #[test]
    fn canonical_json_sorts_nested_keys_and_strips_whitespace() {
        let a: Value =
            serde_json::from_str(r#"{"b": {"y": 1, "x": [ {"q": 2, "p": 1} ]}, "a": "s"}"#)
                .unwrap();
        let b: Value =
            serde_json::from_str(r#"{"a":"s","b":{"x":[{"p":1,"q":2}],"y":1}}"#).unwrap();
        let expected = r#"{"a":"s","b":{"x":[{"p":1,"q":2}],"y":1}}"#;
        assert_eq!(canonical_json(&a), expected);
        assert_eq!(canonical_json(&b), expected);
    }

    #[test]
    fn canonical_json_keeps_array_order_and_escapes() {
        let v = json!({"s": "quote\" slash\\ nl\n é", "arr": [3, 1, 2], "f": 0.01, "n": null});
        assert_eq!(
            canonical_json(&v),
            r#"{"arr":[3,1,2],"f":0.01,"n":null,"s":"quote\" slash\\ nl\n é"}"#
        );
    }

    #[test]
    fn key_is_stable_under_key_order() {
        let a = spec(
            json!({"lr": 0.01, "net": {"width": 1000, "depth": 5}}),
            &[("data", "k1"), ("aux", "k2")],
        );
        let b = spec(
            json!({"net": {"depth": 5, "width": 1000}, "lr": 0.01}),
            &[("aux", "k2"), ("data", "k1")],
        );
        assert_eq!(a.key(), b.key());
        let c = spec(
            json!({"net": {"depth": 4, "width": 1000}, "lr": 0.01}),
            &[("aux", "k2"), ("data", "k1")],
        );
        assert_ne!(a.key(), c.key());
    }

    #[test]
    fn key_format_is_pinned_by_a_known_vector() {
        let s = spec(
            json!({"b": 1, "a": [true, null, "x"]}),
            &[("z", "k1"), ("a", "k2")],
        );
        let canonical = r#"{"inputs":{"a":"k2","z":"k1"},"params":{"a":[true,null,"x"],"b":1},"stage":"train","tool":"tool-1"}"#;
        assert_eq!(s.canonical(), canonical);
        // Computed independently: printf '%s' "$canonical" | sha256sum
        assert_eq!(
            s.key().as_str(),
            "b272adca53a1347510120a4c6e5d407f38283e580dce13fe7295e6af50d6129b"
        );
    }

    #[test]
    fn key_parsing_validates() {
        let hex = "a".repeat(64);
        assert_eq!(hex.parse::<Key>().unwrap().as_str(), hex);
        for bad in ["", "abc", &"A".repeat(64), &"g".repeat(64), &"a".repeat(65)] {
            let err = bad.parse::<Key>().unwrap_err();
            assert!(err.to_string().contains("invalid store key"), "{err}");
        }
        let key: Key = serde_json::from_str(&format!("\"{hex}\"")).unwrap();
        assert_eq!(serde_json::to_string(&key).unwrap(), format!("\"{hex}\""));
        assert!(serde_json::from_str::<Key>("\"xyz\"").is_err());
    }
}
