//! `paper dag`: the plan as a graph, in Graphviz DOT or Mermaid, for the people who read a
//! pipeline as a picture (what DVC's `dag` and Snakemake's `--dag` give).
//!
//! One node per stage, one edge per dependency (input → the stage that reads it). Nodes are
//! shaped by kind (dataset, training run, figure render; the report last) and, when the caller
//! passes each stage's state from the store ([`crate::status::resolve`]), coloured by it:
//! cached, to run (its inputs are there) or waiting (an input is missing).

use crate::plan::{Kind, Plan};
use crate::status::Resolved;
use std::fmt::Write as _;
use std::str::FromStr;

/// Output syntax.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Graphviz: `paper dag --format dot | dot -Tsvg > dag.svg`.
    Dot,
    /// Mermaid `flowchart`, which GitHub renders inside a ```mermaid block.
    Mermaid,
}

impl FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Format, String> {
        match s {
            "dot" => Ok(Format::Dot),
            "mermaid" => Ok(Format::Mermaid),
            other => Err(format!("unknown dag format {other:?} (dot or mermaid)")),
        }
    }
}

/// Where a stage stands against the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Its key is in the store: nothing to do.
    Cached,
    /// Keyed (every input is there) but not built.
    Missing,
    /// An input is not in the store yet, so it has no key.
    Waiting,
}

impl State {
    pub fn of(r: &Resolved) -> State {
        match (&r.key, &r.result) {
            (_, Some(_)) => State::Cached,
            (Some(_), None) => State::Missing,
            (None, None) => State::Waiting,
        }
    }

    fn word(self) -> &'static str {
        match self {
            State::Cached => "cached",
            State::Missing => "missing",
            State::Waiting => "waiting",
        }
    }
}

/// The graph of `plan`; `states`, when given, has one entry per stage in plan order.
pub fn render(plan: &Plan, format: Format, states: Option<&[State]>) -> String {
    if let Some(states) = states {
        assert_eq!(states.len(), plan.stages.len(), "one state per stage");
    }
    let state = |i: usize| states.map(|s| s[i]);
    match format {
        Format::Dot => dot(plan, &state),
        Format::Mermaid => mermaid(plan, &state),
    }
}

/// The second line of a node's label: what the stage is, in a few words.
fn detail(kind: &Kind) -> String {
    match kind {
        Kind::Dataset { dataset } => format!("dataset {dataset}"),
        Kind::Train { run, device, pack } => {
            let rate = run
                .lr
                .known()
                .map_or_else(|| "lr selected".to_string(), |rate| format!("lr {rate}"));
            let engine = if pack.is_some() { ", in a pack" } else { "" };
            format!(
                "{} {} {}x{} {} updates, {rate}, {device}{engine}",
                run.activation, run.init, run.hidden_layers, run.width, run.updates
            )
        }
        Kind::Select { updates, .. } => format!("train select ({updates}-update trials)"),
        Kind::Render { id, .. } => format!("figures render --only {id}"),
    }
}

fn dot(plan: &Plan, state: &dyn Fn(usize) -> Option<State>) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "digraph paper {{");
    let _ = writeln!(
        s,
        "  label={};",
        dot_quote(&format!("profile {}", plan.profile))
    );
    let _ = writeln!(s, "  rankdir=LR;");
    let _ = writeln!(s, "  node [fontname=\"Helvetica\", fontsize=10];");
    for (i, stage) in plan.stages.iter().enumerate() {
        let shape = match stage.kind {
            Kind::Dataset { .. } => "cylinder",
            Kind::Train { .. } => "box",
            Kind::Select { .. } => "diamond",
            Kind::Render { .. } => "note",
        };
        let mut label = format!("{}\n{}", stage.name, detail(&stage.kind));
        let mut style = String::new();
        if let Some(st) = state(i) {
            label.push_str(&format!("\n[{}]", st.word()));
            let fill = match st {
                State::Cached => "#c7e9c0",
                State::Missing => "#fdd0a2",
                State::Waiting => "#e0e0e0",
            };
            style = format!(", style=filled, fillcolor=\"{fill}\"");
        }
        let _ = writeln!(
            s,
            "  n{i} [label={}, shape={shape}{style}];",
            dot_quote(&label)
        );
    }
    for (i, stage) in plan.stages.iter().enumerate() {
        for &d in &stage.deps {
            let _ = writeln!(s, "  n{d} -> n{i};");
        }
    }
    s.push_str("}\n");
    s
}

fn mermaid(plan: &Plan, state: &dyn Fn(usize) -> Option<State>) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "---\ntitle: profile {}\n---",
        mermaid_text(&plan.profile)
    );
    s.push_str("flowchart LR\n");
    for (i, stage) in plan.stages.iter().enumerate() {
        let label = format!(
            "\"{}<br/><small>{}</small>\"",
            mermaid_text(&stage.name),
            mermaid_text(&detail(&stage.kind))
        );
        let node = match stage.kind {
            Kind::Dataset { .. } => format!("[({label})]"),
            Kind::Train { .. } => format!("[{label}]"),
            Kind::Select { .. } => format!("{{{label}}}"),
            Kind::Render { .. } => format!("[/{label}/]"),
        };
        let class = state(i)
            .map(|st| format!(":::{}", st.word()))
            .unwrap_or_default();
        let _ = writeln!(s, "  n{i}{node}{class}");
    }
    for (i, stage) in plan.stages.iter().enumerate() {
        for &d in &stage.deps {
            let _ = writeln!(s, "  n{d} --> n{i}");
        }
    }
    if (0..plan.stages.len()).any(|i| state(i).is_some()) {
        s.push_str("  classDef cached fill:#c7e9c0,stroke:#31a354\n");
        s.push_str("  classDef missing fill:#fdd0a2,stroke:#e6550d\n");
        s.push_str("  classDef waiting fill:#e0e0e0,stroke:#969696\n");
    }
    s
}

/// A DOT string literal (`\n` stays a DOT line break).
fn dot_quote(text: &str) -> String {
    let mut q = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => q.push_str("\\\""),
            '\\' => q.push_str("\\\\"),
            '\n' => q.push_str("\\n"),
            c => q.push(c),
        }
    }
    q.push('"');
    q
}

/// Text inside a quoted Mermaid label: quotes and angle brackets as entities.
fn mermaid_text(text: &str) -> String {
    text.replace('&', "#amp;")
        .replace('"', "#quot;")
        .replace('<', "#lt;")
        .replace('>', "#gt;")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::tests::plan;
    use crate::plan::Plan;

    fn edges(plan: &Plan) -> usize {
        plan.stages.iter().map(|s| s.deps.len()).sum()
    }

    #[test]
    fn dot_has_every_stage_and_every_dependency() {
        let plan = plan();
        let dot = render(&plan, Format::Dot, None);
        assert!(
            dot.starts_with("digraph paper {\n") && dot.ends_with("}\n"),
            "{dot}"
        );
        for (i, stage) in plan.stages.iter().enumerate() {
            assert!(
                dot.contains(&format!("  n{i} [label=\"{}\\n", stage.name)),
                "{} missing:\n{dot}",
                stage.name
            );
            for d in &stage.deps {
                assert!(dot.contains(&format!("  n{d} -> n{i};\n")), "{dot}");
            }
        }
        assert_eq!(dot.matches(" -> ").count(), edges(&plan));
        let fig6 = plan.find("render/fig6").unwrap();
        let tanh = plan.find("train/shapeset-tanh-standard-l5-w32-s0").unwrap();
        assert!(dot.contains(&format!("n{tanh} -> n{fig6};")), "{dot}");
        assert!(dot.contains("shape=cylinder") && dot.contains("shape=note"));
        assert!(!dot.contains("fillcolor"), "no states, no colours");
    }

    #[test]
    fn mermaid_is_a_flowchart_with_one_line_per_node_and_edge() {
        let plan = plan();
        let m = render(&plan, Format::Mermaid, None);
        assert!(m.contains("\nflowchart LR\n"), "{m}");
        let nodes = m
            .lines()
            .filter(|l| l.starts_with("  n") && l.contains('['))
            .count();
        assert_eq!(nodes, plan.stages.len(), "{m}");
        assert_eq!(m.matches(" --> ").count(), edges(&plan), "{m}");
        assert!(!m.contains("classDef"));
        // Every label is quoted, so names with `/` and `-` cannot break the syntax.
        for line in m
            .lines()
            .filter(|l| l.starts_with("  n") && l.contains('['))
        {
            assert_eq!(line.matches('"').count(), 2, "{line}");
        }
    }

    #[test]
    fn states_colour_the_nodes() {
        let plan = plan();
        let states: Vec<State> = (0..plan.stages.len())
            .map(|i| match i {
                0 => State::Cached,
                1 => State::Missing,
                _ => State::Waiting,
            })
            .collect();
        let dot = render(&plan, Format::Dot, Some(&states));
        assert_eq!(dot.matches("style=filled").count(), plan.stages.len());
        assert!(dot.contains("[cached]") && dot.contains("[missing]") && dot.contains("[waiting]"));
        let m = render(&plan, Format::Mermaid, Some(&states));
        assert!(
            m.contains(":::cached") && m.contains("classDef waiting"),
            "{m}"
        );
    }

    #[test]
    fn labels_are_escaped() {
        assert_eq!(dot_quote("a\"b\\c\nd"), r#""a\"b\\c\nd""#);
        assert_eq!(mermaid_text("<a \"b\">"), "#lt;a #quot;b#quot;#gt;");
        assert_eq!("dot".parse::<Format>(), Ok(Format::Dot));
        assert!("svg".parse::<Format>().is_err());
    }
}
