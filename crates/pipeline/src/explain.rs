//! `paper explain <figure>`: the chain of keys behind a figure and, stage by stage, why it would
//! rerun: which parameter, input or tool source changed since `MANIFEST.json` was written.

use crate::exec::Context;
use crate::manifest::Manifest;
use crate::plan::Plan;
use crate::status::{list, resolve, state, Resolved};
use crate::tool::ToolId;
use anyhow::{bail, Result};
use spec::FigureId;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use store::KeySpec;

/// The stage `target` names: a stage name, a figure id, or a published file (path or name).
pub fn find_stage(plan: &Plan, manifest: Option<&Manifest>, target: &str) -> Result<usize> {
    let stem = Path::new(target)
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or(target)
        .to_lowercase();
    let candidates = [
        Some(target.to_string()),
        manifest
            .and_then(|m| m.stage_of_file(target))
            .map(String::from),
        FigureId::ALL
            .iter()
            .any(|f| f.id() == stem)
            .then(|| format!("render/{stem}")),
    ];
    for name in candidates.into_iter().flatten() {
        if let Some(i) = plan.find(&name) {
            return Ok(i);
        }
    }
    let ids: Vec<&str> = FigureId::ALL.iter().map(|f| f.id()).collect();
    bail!(
        "{target:?} names no stage of profile {}: give an output id ({}), a published file or a stage name",
        plan.profile,
        ids.join(", ")
    )
}

/// The explanation of stage `i` and, below it, of every stage it reads.
pub fn explain(plan: &Plan, ctx: &Context, manifest: Option<&Manifest>, i: usize) -> String {
    let resolved = resolve(plan, ctx);
    let mut out = String::new();
    if manifest.is_none() {
        out.push_str("no MANIFEST.json yet: nothing published to compare with\n");
    }
    let mut seen = BTreeSet::new();
    walk(plan, manifest, &resolved, i, 0, &mut seen, &mut out);
    out
}

fn walk(
    plan: &Plan,
    manifest: Option<&Manifest>,
    resolved: &[Resolved],
    i: usize,
    depth: usize,
    seen: &mut BTreeSet<usize>,
    out: &mut String,
) {
    let stage = &plan.stages[i];
    let pad = "  ".repeat(depth);
    let r = &resolved[i];
    let published = manifest.and_then(|m| m.stages.get(&stage.name));
    let key = r
        .key
        .as_ref()
        .map_or_else(|| "(no key yet)".to_string(), |(_, k)| k.to_string());
    if !seen.insert(i) {
        out.push_str(&format!("{pad}{}  {key}  (see above)\n", stage.name));
        return;
    }
    out.push_str(&format!(
        "{pad}{}  {key}  {}\n",
        stage.name,
        state(r, published.map(|p| &p.key))
    ));
    if let Some(result) = r.result.as_ref().filter(|res| res.output_key != res.key) {
        out.push_str(&format!("{pad}  output entry {}\n", result.output_key));
    }
    for reason in reasons(plan, manifest, r, i) {
        out.push_str(&format!("{pad}  - {reason}\n"));
    }
    for &dep in &stage.deps {
        walk(plan, manifest, resolved, dep, depth + 1, seen, out);
    }
}

/// Why stage `i` would (or would not) run, compared with what the manifest recorded.
pub(crate) fn reasons(
    plan: &Plan,
    manifest: Option<&Manifest>,
    r: &Resolved,
    i: usize,
) -> Vec<String> {
    let stage = &plan.stages[i];
    let mut reasons = Vec::new();
    if !r.waits_on.is_empty() {
        reasons.push(format!(
            "waits on {} (not in the store yet)",
            list(&r.waits_on)
        ));
    }
    let Some(old) = manifest.and_then(|m| m.stages.get(&stage.name)) else {
        if manifest.is_some() {
            reasons.push("not in MANIFEST.json: this stage was never published".into());
        }
        return reasons;
    };
    let now = match &r.key {
        Some((_, key)) if *key == old.key => {
            reasons.push(match r.result {
                Some(_) => "up to date: same key as published, entry in the store".into(),
                None => "same key as published, but the store lacks the entry (gc'd or built elsewhere): would rebuild".into(),
            });
            return reasons;
        }
        Some((spec, _)) => spec.clone(),
        // Without all inputs, parameters and tool can still be compared.
        None => plan.spec(i, BTreeMap::new()),
    };
    reasons.extend(param_changes(&old.spec, &now));
    if r.key.is_some() {
        reasons.extend(input_changes(&old.spec, &now));
    }
    if old.spec.tool != now.tool {
        let before = manifest.and_then(|m| m.tools.get(&old.spec.tool));
        reasons.push(tool_change(
            &stage.tool,
            &old.spec.tool,
            &now.tool,
            before,
            &plan.tools[&stage.tool],
        ));
    }
    if reasons.is_empty() {
        reasons.push("key differs from the published one".into());
    }
    reasons
}

fn param_changes(old: &KeySpec, now: &KeySpec) -> Vec<String> {
    let (empty_old, empty_now) = (serde_json::Map::new(), serde_json::Map::new());
    let old = old.params.as_object().unwrap_or(&empty_old);
    let now = now.params.as_object().unwrap_or(&empty_now);
    let fields: BTreeSet<&String> = old.keys().chain(now.keys()).collect();
    let show =
        |v: Option<&serde_json::Value>| v.map_or_else(|| "unset".into(), ToString::to_string);
    fields
        .into_iter()
        .filter(|f| old.get(*f) != now.get(*f))
        .map(|f| format!("param {f}: {} -> {}", show(old.get(f)), show(now.get(f))))
        .collect()
}

fn input_changes(old: &KeySpec, now: &KeySpec) -> Vec<String> {
    let names: BTreeSet<&String> = old.inputs.keys().chain(now.inputs.keys()).collect();
    let short = |k: &str| k[..12.min(k.len())].to_string();
    names
        .into_iter()
        .filter_map(|name| match (old.inputs.get(name), now.inputs.get(name)) {
            (Some(a), Some(b)) if a != b => Some(format!(
                "input {name} changed: {} -> {}",
                short(a),
                short(b)
            )),
            (Some(_), None) => Some(format!("input {name} is gone")),
            (None, Some(_)) => Some(format!("input {name} is new")),
            _ => None,
        })
        .collect()
}

/// Lists at most this many changed files of a tool.
const LISTED_FILES: usize = 8;

fn tool_change(
    binary: &str,
    old: &str,
    now: &str,
    before: Option<&BTreeMap<String, String>>,
    after: &ToolId,
) -> String {
    let mut parts = Vec::new();
    // `train` identities end in ` runtime=<versions> device=<class>`.
    let runtime = |id: &str| id.split_once(" runtime=").map(|(_, rt)| rt.to_string());
    if runtime(old) != runtime(now) {
        parts.push(format!(
            "runtime {} -> {}",
            runtime(old).unwrap_or_default(),
            runtime(now).unwrap_or_default()
        ));
    }
    if let Some(before) = before {
        let paths: BTreeSet<&String> = before.keys().chain(after.files.keys()).collect();
        let changed: Vec<String> = paths
            .into_iter()
            .filter_map(|p| match (before.get(p), after.files.get(p)) {
                (Some(a), Some(b)) if a != b => Some(format!("{p} modified")),
                (Some(_), None) => Some(format!("{p} removed")),
                (None, Some(_)) => Some(format!("{p} added")),
                _ => None,
            })
            .collect();
        let more = changed.len().saturating_sub(LISTED_FILES);
        parts.extend(changed.into_iter().take(LISTED_FILES));
        if more > 0 {
            parts.push(format!("and {more} more files"));
        }
    }
    if parts.is_empty() {
        parts.push("identity differs".into());
    }
    format!("tool {binary} changed: {}", parts.join(", "))
}
