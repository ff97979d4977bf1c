//! The rule language: YAML files of lists, macros and rules whose conditions test process,
//! container and connection fields.
//!
//! ```yaml
//! lists:
//!   - name: shell_binaries
//!     items: [sh, bash, ash]
//! macros:
//!   - name: container
//!     condition: container.id exists
//! rules:
//!   - id: shell-in-container
//!     description: A shell started inside a container.
//!     severity: high            # info, low, medium (default), high, critical
//!     event: exec               # exec (default) or connect
//!     condition: container and proc.name in (shell_binaries)
//!     actions: [alert]          # alert, kill-process, kill-container, delete-pod
//!     tags: [shell]
//! ```
//!
//! Files are applied in order on top of the built-in rules: a list with `append: true` adds
//! items, otherwise a list or macro of the same name replaces the earlier one; a rule with an
//! existing `id` replaces the fields it sets (`enabled: false` turns it off), and with
//! `append: true` its `condition` is appended to the existing one as `(OLD) NEW`. Macros and
//! lists are resolved after all files are read, so a later file can change what a built-in
//! rule means.
//!
//! Condition grammar (precedence `not` > `and` > `or`):
//!
//! ```text
//! condition := or
//! or        := and ("or" and)*
//! and       := not ("and" not)*
//! not       := "not" not | "(" condition ")" | MACRO | FIELD OP [OPERAND]
//! OP        := = | == | != | < | <= | > | >= | in | contains | icontains | startswith
//!            | endswith | glob | matches | cidr | exists
//! OPERAND   := VALUE | "(" [VALUE ("," VALUE)*] ")"
//! VALUE     := WORD | 'quoted' | "quoted"
//! ```
//!
//! An unquoted word that names a list stands for that list's items. Every test on a field
//! that is absent (no container, no parent, unreadable value) is false, `!=` included; `not`
//! turns that into true. A test on a list field (`proc.args`, `parent.args`) holds when it
//! holds for any element; `!=` on a list holds when no element is equal.

mod compile;
mod document;
mod fields;
mod matchers;
mod syntax;

use std::collections::BTreeMap;
use std::fmt;

use palisade_model::Severity;
use serde::Serialize;

pub use compile::{Cond, Test};
pub use fields::{Field, FieldType, Value};
pub use matchers::{Glob, IpNet, normalize_ip};
pub use syntax::{Ast, Op, SyntaxError, parse_condition};

use crate::event::{Event, EventKind};
use crate::response::Action;
use document::RulesDocument;

/// The built-in rules, in the rule language itself.
pub const BUILTIN_RULES_YAML: &str = include_str!("builtin.yaml");

/// Name the built-in rules file is reported under in errors.
pub const BUILTIN_SOURCE: &str = "<built-in rules>";

/// Most rules, lists and macros a rule set may hold together.
pub const MAX_DEFINITIONS: usize = 10_000;
/// Largest rules file accepted, in bytes.
pub const MAX_RULES_FILE_BYTES: usize = 4 << 20;

/// A rules error naming the file and the item (rule, macro or list) concerned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct RuleError {
    /// The file (or `<built-in rules>`).
    pub source_name: String,
    /// The item, e.g. `rule 'shell-in-container'`; empty for file-level errors.
    pub item: String,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for RuleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.item.is_empty() {
            write!(f, "{}: {}", self.source_name, self.message)
        } else {
            write!(f, "{}: {}: {}", self.source_name, self.item, self.message)
        }
    }
}

/// One compiled rule.
#[derive(Debug, Clone, Serialize)]
pub struct Rule {
    /// Stable identifier (`shell-in-container`).
    pub id: String,
    /// What the rule detects.
    pub description: String,
    /// Severity of a match.
    pub severity: Severity,
    /// The events it applies to.
    pub event: EventKind,
    /// Responses beyond the alert every match emits.
    pub actions: Vec<Action>,
    /// Free-form tags (`shell`, `package-manager`, …); export-policy reads them.
    pub tags: Vec<String>,
    /// The condition as written (after `append`s).
    pub condition: String,
    /// The file that last defined or changed the rule.
    pub source: String,
    #[serde(skip)]
    compiled: Cond,
}

impl Rule {
    /// Whether the rule's condition holds for the event (the event kind is not checked).
    pub fn condition_holds(&self, event: &Event) -> bool {
        self.compiled.eval(event)
    }
}

/// A compiled, evaluable set of enabled rules.
#[derive(Debug, Clone)]
pub struct RuleSet {
    rules: Vec<Rule>,
    exec_rules: Vec<usize>,
    connect_rules: Vec<usize>,
}

impl RuleSet {
    /// The built-in rules alone.
    pub fn builtin() -> Result<RuleSet, RuleError> {
        RuleSetBuilder::with_builtin()?.build()
    }

    /// All enabled rules, in definition order.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// A rule by ID.
    pub fn get(&self, id: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| r.id == id)
    }

    /// The rules whose event kind and condition match, in definition order.
    pub fn matching<'a>(&'a self, event: &Event) -> Vec<&'a Rule> {
        let idx = match event.kind {
            EventKind::Exec => &self.exec_rules,
            EventKind::Connect => &self.connect_rules,
        };
        idx.iter()
            .map(|i| &self.rules[*i])
            .filter(|r| r.condition_holds(event))
            .collect()
    }
}

#[derive(Debug, Clone)]
struct ListDef {
    items: Vec<String>,
}

#[derive(Debug, Clone)]
struct MacroDef {
    condition: String,
    source: String,
}

#[derive(Debug, Clone)]
struct RuleDef {
    id: String,
    description: String,
    severity: Severity,
    event: EventKind,
    condition: String,
    actions: Vec<Action>,
    tags: Vec<String>,
    enabled: bool,
    source: String,
}

/// Collects rule files (built-in first, then custom ones) and compiles them into a
/// [`RuleSet`].
#[derive(Debug, Clone, Default)]
pub struct RuleSetBuilder {
    lists: BTreeMap<String, ListDef>,
    macros: BTreeMap<String, MacroDef>,
    rules: Vec<RuleDef>,
}

impl RuleSetBuilder {
    /// An empty builder (no built-in rules).
    pub fn new() -> RuleSetBuilder {
        RuleSetBuilder::default()
    }

    /// A builder holding the built-in rules.
    pub fn with_builtin() -> Result<RuleSetBuilder, RuleError> {
        let mut b = RuleSetBuilder::new();
        b.add_yaml(BUILTIN_SOURCE, BUILTIN_RULES_YAML)?;
        Ok(b)
    }

    /// Replaces (or creates) a list, e.g. from agent configuration.
    pub fn set_list(&mut self, name: &str, items: Vec<String>) {
        self.lists.insert(name.to_string(), ListDef { items });
    }

    /// Adds items to a list (creating it when missing).
    pub fn append_list(&mut self, name: &str, items: Vec<String>) {
        self.lists
            .entry(name.to_string())
            .or_insert(ListDef { items: Vec::new() })
            .items
            .extend(items);
    }

    /// Applies one rules file. `source_name` names it in errors.
    pub fn add_yaml(&mut self, source_name: &str, text: &str) -> Result<(), RuleError> {
        let err = |item: String, message: String| RuleError {
            source_name: source_name.to_string(),
            item,
            message,
        };
        if text.len() > MAX_RULES_FILE_BYTES {
            return Err(err(
                String::new(),
                format!("larger than {MAX_RULES_FILE_BYTES} bytes"),
            ));
        }
        let doc: RulesDocument = if text.trim().is_empty() {
            RulesDocument::default()
        } else {
            serde_saphyr::from_str(text).map_err(|e| err(String::new(), e.to_string()))?
        };
        for l in doc.lists {
            let item = format!("list '{}'", l.name);
            check_name(&l.name).map_err(|m| err(item.clone(), m))?;
            let items: Vec<String> = l.items.into_iter().map(|s| s.0).collect();
            if l.append {
                self.append_list(&l.name, items);
            } else {
                self.set_list(&l.name, items);
            }
        }
        for m in doc.macros {
            let item = format!("macro '{}'", m.name);
            check_name(&m.name).map_err(|msg| err(item.clone(), msg))?;
            let condition = match (m.append, self.macros.get(&m.name)) {
                (true, Some(old)) => format!("({}) {}", old.condition, m.condition),
                (true, None) => {
                    return Err(err(
                        item,
                        "append: true but no earlier macro has this name".into(),
                    ));
                }
                (false, _) => m.condition,
            };
            self.macros.insert(
                m.name,
                MacroDef {
                    condition,
                    source: source_name.to_string(),
                },
            );
        }
        for r in doc.rules {
            let item = format!("rule '{}'", r.id);
            if r.id.trim().is_empty() {
                return Err(err("rule ''".into(), "id must not be empty".into()));
            }
            let severity = r
                .severity
                .as_deref()
                .map(|s| {
                    s.parse::<Severity>()
                        .map_err(|e| err(item.clone(), e.to_string()))
                })
                .transpose()?;
            let event = r
                .event
                .as_deref()
                .map(|e| match e {
                    "exec" => Ok(EventKind::Exec),
                    "connect" => Ok(EventKind::Connect),
                    other => Err(err(
                        item.clone(),
                        format!("unknown event '{other}' (expected exec or connect)"),
                    )),
                })
                .transpose()?;
            let actions = r
                .actions
                .map(|list| {
                    list.iter()
                        .map(|a| a.parse::<Action>().map_err(|e| err(item.clone(), e)))
                        .collect::<Result<Vec<_>, _>>()
                })
                .transpose()?;
            match self.rules.iter_mut().find(|d| d.id == r.id) {
                Some(existing) => {
                    if let Some(c) = r.condition {
                        existing.condition = if r.append {
                            format!("({}) {}", existing.condition, c)
                        } else {
                            c
                        };
                    } else if r.append {
                        return Err(err(item, "append: true needs a condition to append".into()));
                    }
                    if let Some(d) = r.description {
                        existing.description = d;
                    }
                    if let Some(s) = severity {
                        existing.severity = s;
                    }
                    if let Some(e) = event {
                        existing.event = e;
                    }
                    if let Some(a) = actions {
                        existing.actions = a;
                    }
                    if let Some(t) = r.tags {
                        existing.tags = t;
                    }
                    if let Some(en) = r.enabled {
                        existing.enabled = en;
                    }
                    existing.source = source_name.to_string();
                }
                None => {
                    if r.append {
                        return Err(err(
                            item,
                            "append: true but no earlier rule has this id".into(),
                        ));
                    }
                    let Some(condition) = r.condition else {
                        return Err(err(
                            item,
                            "condition is required (no earlier rule with this id to change)".into(),
                        ));
                    };
                    self.rules.push(RuleDef {
                        id: r.id,
                        description: r.description.unwrap_or_default(),
                        severity: severity.unwrap_or(Severity::Medium),
                        event: event.unwrap_or(EventKind::Exec),
                        condition,
                        actions: actions.unwrap_or_default(),
                        tags: r.tags.unwrap_or_default(),
                        enabled: r.enabled.unwrap_or(true),
                        source: source_name.to_string(),
                    });
                }
            }
        }
        if self.lists.len() + self.macros.len() + self.rules.len() > MAX_DEFINITIONS {
            return Err(err(
                String::new(),
                format!("more than {MAX_DEFINITIONS} lists, macros and rules in all"),
            ));
        }
        Ok(())
    }

    /// Resolves lists and macros and compiles every enabled rule.
    pub fn build(self) -> Result<RuleSet, RuleError> {
        let lists = flatten_lists(&self.lists)?;
        let macros: BTreeMap<String, Result<Ast, SyntaxError>> = self
            .macros
            .iter()
            .map(|(name, m)| (name.clone(), parse_condition(&m.condition)))
            .collect();
        // Report a macro that does not compile even when no rule uses it.
        let ctx = compile::Context {
            lists: &lists,
            macros: &macros,
        };
        for (name, m) in &self.macros {
            compile::compile_text(&m.condition, &ctx).map_err(|e| RuleError {
                source_name: m.source.clone(),
                item: format!("macro '{name}'"),
                message: e.to_string(),
            })?;
        }
        let mut rules = Vec::new();
        for def in self.rules.into_iter().filter(|d| d.enabled) {
            let compiled = compile::compile_text(&def.condition, &ctx).map_err(|e| RuleError {
                source_name: def.source.clone(),
                item: format!("rule '{}'", def.id),
                message: e.to_string(),
            })?;
            rules.push(Rule {
                id: def.id,
                description: def.description,
                severity: def.severity,
                event: def.event,
                actions: def.actions,
                tags: def.tags,
                condition: def.condition,
                source: def.source,
                compiled,
            });
        }
        let pick = |k: EventKind| -> Vec<usize> {
            rules
                .iter()
                .enumerate()
                .filter(|(_, r)| r.event == k)
                .map(|(i, _)| i)
                .collect()
        };
        let exec_rules = pick(EventKind::Exec);
        let connect_rules = pick(EventKind::Connect);
        Ok(RuleSet {
            rules,
            exec_rules,
            connect_rules,
        })
    }
}

fn check_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("name must not be empty".into());
    }
    if syntax::RESERVED_WORDS.contains(&name) {
        return Err(format!("'{name}' is a reserved word"));
    }
    if Field::from_name(name).is_some() {
        return Err(format!("'{name}' is a field name"));
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        return Err("names use letters, digits, '_' and '-' only".into());
    }
    Ok(())
}

/// Expands list items that name other lists; detects cycles.
fn flatten_lists(
    lists: &BTreeMap<String, ListDef>,
) -> Result<BTreeMap<String, Vec<String>>, RuleError> {
    fn expand(
        name: &str,
        lists: &BTreeMap<String, ListDef>,
        stack: &mut Vec<String>,
        out: &mut Vec<String>,
    ) -> Result<(), RuleError> {
        if stack.iter().any(|n| n == name) {
            stack.push(name.to_string());
            return Err(RuleError {
                source_name: "rules".into(),
                item: format!("list '{}'", stack[0]),
                message: format!("list cycle: {}", stack.join(" -> ")),
            });
        }
        stack.push(name.to_string());
        if let Some(def) = lists.get(name) {
            for item in &def.items {
                if lists.contains_key(item) {
                    expand(item, lists, stack, out)?;
                } else {
                    out.push(item.clone());
                }
                if out.len() > compile::MAX_OPERAND_VALUES {
                    return Err(RuleError {
                        source_name: "rules".into(),
                        item: format!("list '{}'", stack[0]),
                        message: format!(
                            "more than {} items after expansion",
                            compile::MAX_OPERAND_VALUES
                        ),
                    });
                }
            }
        }
        stack.pop();
        Ok(())
    }
    let mut flat = BTreeMap::new();
    for name in lists.keys() {
        let mut out = Vec::new();
        expand(name, lists, &mut Vec::new(), &mut out)?;
        flat.insert(name.clone(), out);
    }
    Ok(flat)
}

#[cfg(test)]
mod tests;
