//! What the store holds for a plan, found without running anything: `paper status`, and the
//! keys `paper explain` and `paper gc` work from.

use crate::exec::{work_dir, Context};
use crate::manifest::Manifest;
use crate::plan::{Kind, Plan, StageResult};
use store::{Key, KeySpec};

/// One stage as the store sees it.
#[derive(Debug, Clone)]
pub struct Resolved {
    /// The key, when every input it needs is in the store (a render keys on the runs there are).
    pub key: Option<(KeySpec, Key)>,
    /// What the store holds under that key.
    pub result: Option<StageResult>,
    /// Direct dependencies that are not in the store yet.
    pub waits_on: Vec<String>,
}

/// Every stage of `plan`, in plan order.
pub fn resolve(plan: &Plan, ctx: &Context) -> Vec<Resolved> {
    resolve_with(plan, |_, key| ctx.result(key))
}

/// Every stage of `plan`, in plan order, with `result(i, key)` saying what stage `i` holds
/// under its key.
pub fn resolve_with(
    plan: &Plan,
    result: impl Fn(usize, &Key) -> Option<StageResult>,
) -> Vec<Resolved> {
    let mut results: Vec<Option<StageResult>> = vec![None; plan.stages.len()];
    let mut resolved = Vec::with_capacity(plan.stages.len());
    for (i, stage) in plan.stages.iter().enumerate() {
        let key = plan.key(i, &results).ok();
        let held = key.as_ref().and_then(|(_, k)| result(i, k));
        let waits_on = stage
            .deps
            .iter()
            .filter(|&&d| results[d].is_none())
            .map(|&d| plan.stages[d].name.clone())
            .collect();
        results[i] = held.clone();
        resolved.push(Resolved {
            key,
            result: held,
            waits_on,
        });
    }
    resolved
}

/// The state word `paper status` prints for a stage.
pub fn state(resolved: &Resolved, published: Option<&Key>) -> &'static str {
    match (&resolved.result, &resolved.key) {
        (Some(_), _) => "cached",
        _ if !resolved.waits_on.is_empty() => "waiting",
        (None, Some((_, key))) if published.is_some_and(|p| p != key) => "stale",
        _ => "missing",
    }
}

/// The `paper status` report: one line per stage, then a count per state.
pub fn report(plan: &Plan, ctx: &Context, manifest: Option<&Manifest>) -> String {
    let resolved = resolve(plan, ctx);
    let width = plan.stages.iter().map(|s| s.name.len()).max().unwrap_or(0);
    let mut counts: std::collections::BTreeMap<&str, usize> = Default::default();
    let mut out = format!("profile {}: {}\n", plan.profile, plan.description.trim());
    for (stage, r) in plan.stages.iter().zip(&resolved) {
        let published = manifest
            .and_then(|m| m.stages.get(&stage.name))
            .map(|s| &s.key);
        let state = state(r, published);
        *counts.entry(state).or_default() += 1;
        let short = |k: &Key| k.as_str()[..12].to_string();
        let detail = match state {
            "waiting" => format!("on {}", list(&r.waits_on)),
            _ => {
                let key = r.key.as_ref().map_or_else(|| "-".into(), |(_, k)| short(k));
                let mut detail = key;
                if state == "stale" {
                    detail.push_str(&format!(
                        "  (published from {})",
                        short(published.expect("stale means published"))
                    ));
                }
                let resumable = matches!(stage.kind, Kind::Train { .. })
                    && r.result.is_none()
                    && r.key
                        .as_ref()
                        .is_some_and(|(_, k)| holds_files(&work_dir(&ctx.store, k)));
                if resumable {
                    detail.push_str("  (resumable: a killed run left checkpoints)");
                }
                detail
            }
        };
        out.push_str(&format!("{state:<8} {:<width$}  {detail}\n", stage.name));
    }
    let tally: Vec<String> = ["cached", "stale", "missing", "waiting"]
        .iter()
        .filter_map(|s| counts.get(s).map(|n| format!("{n} {s}")))
        .collect();
    out.push_str(&format!(
        "status: {} stages of profile {}: {}\n",
        plan.stages.len(),
        plan.profile,
        tally.join(", ")
    ));
    out
}

/// Whether a work dir holds anything to resume from: what `train --resume` is given for (an
/// empty one starts over).
pub fn holds_files(work: &std::path::Path) -> bool {
    std::fs::read_dir(work).is_ok_and(|mut d| d.next().is_some())
}

/// At most three names, then how many more.
pub fn list(names: &[String]) -> String {
    match names.len() {
        0..=3 => names.join(", "),
        n => format!("{} and {} more", names[..3].join(", "), n - 3),
    }
}
