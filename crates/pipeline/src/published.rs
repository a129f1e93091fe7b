//! `paper check`: are the published figures what the code would build now? Every key of the
//! published profile is recomputed from the code, the profile and the dataset contents that
//! MANIFEST.json records, without a store and without running a stage, and compared with
//! the keys MANIFEST.json names. CI runs it, so stale figures fail CI.

use crate::explain::reasons;
use crate::manifest::Manifest;
use crate::plan::{Kind, Plan, StageResult};
use crate::status::{resolve_with, Resolved};
use std::collections::BTreeSet;
use store::Key;

/// One stage whose published key is not the key the code gives now, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stale {
    pub stage: String,
    pub reasons: Vec<String>,
}

/// Each stage of `plan` keyed as if every stage had built, with the dataset contents taken
/// from `manifest` (a dataset's content key is what its published runs were keyed on).
pub fn resolve_as_published(plan: &Plan, manifest: &Manifest) -> Vec<Resolved> {
    resolve_with(plan, |i, key| {
        let output_key = match plan.stages[i].kind {
            Kind::Dataset { .. } => published_content(plan, manifest, i, key)?,
            _ => key.clone(),
        };
        Some(StageResult {
            key: key.clone(),
            output_key,
            output: Default::default(),
        })
    })
}

/// The content key of dataset stage `i` that the published runs read: the `data` input of
/// any published run of that dataset, provided the dataset stage's key (`key`) is the
/// published one.
fn published_content(plan: &Plan, manifest: &Manifest, i: usize, key: &Key) -> Option<Key> {
    let same_stage = manifest.stages.get(&plan.stages[i].name)?.key == *key;
    let run = plan
        .stages
        .iter()
        .filter(|s| s.deps.first() == Some(&i) && matches!(s.kind, Kind::Train { .. }))
        .find_map(|s| manifest.stages.get(&s.name)?.spec.inputs.get("data"))?;
    same_stage.then(|| run.parse().ok()).flatten()
}

/// The device class the published runs were trained on (`train` identities end in
/// ` device=<class>`); `None` when no run was published.
pub fn device_class(manifest: &Manifest) -> Option<String> {
    manifest.stages.values().find_map(|s| {
        s.spec
            .tool
            .rsplit_once(" device=")
            .map(|(_, c)| c.to_string())
    })
}

/// The stages whose key differs from MANIFEST.json's, in plan order, then the published
/// stages the plan no longer has.
pub fn stale(plan: &Plan, manifest: &Manifest) -> Vec<Stale> {
    let resolved = resolve_as_published(plan, manifest);
    let mut out = Vec::new();
    for (i, (stage, r)) in plan.stages.iter().zip(&resolved).enumerate() {
        let published = manifest.stages.get(&stage.name).map(|s| &s.key);
        let now = r.key.as_ref().map(|(_, key)| key);
        if published.is_none() || published != now {
            let reasons = reasons(plan, Some(manifest), r, i)
                .into_iter()
                .filter(|why| !why.starts_with("waits on"))
                .collect();
            out.push(Stale {
                stage: stage.name.clone(),
                reasons,
            });
        }
    }
    let planned: BTreeSet<&String> = plan.stages.iter().map(|s| &s.name).collect();
    for name in manifest.stages.keys().filter(|n| !planned.contains(n)) {
        out.push(Stale {
            stage: name.clone(),
            reasons: vec!["published, but the profile no longer has this stage".into()],
        });
    }
    out
}
