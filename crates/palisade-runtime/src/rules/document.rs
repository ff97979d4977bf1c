//! The YAML shape of a rules file.

use serde::Deserialize;

/// A rules file: lists, macros and rules, each optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RulesDocument {
    #[serde(default)]
    pub lists: Vec<ListDoc>,
    #[serde(default)]
    pub macros: Vec<MacroDoc>,
    #[serde(default)]
    pub rules: Vec<RuleDoc>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ListDoc {
    pub name: String,
    #[serde(default)]
    pub items: Vec<ScalarText>,
    #[serde(default)]
    pub append: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct MacroDoc {
    pub name: String,
    pub condition: String,
    #[serde(default)]
    pub append: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RuleDoc {
    pub id: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub severity: Option<String>,
    #[serde(default)]
    pub event: Option<String>,
    #[serde(default)]
    pub condition: Option<String>,
    #[serde(default)]
    pub actions: Option<Vec<String>>,
    #[serde(default)]
    pub tags: Option<Vec<String>>,
    #[serde(default)]
    pub enabled: Option<bool>,
    #[serde(default)]
    pub append: bool,
}

/// A list item: any YAML scalar, kept as its text (`443` and `"443"` are the same item).
#[derive(Debug)]
pub(crate) struct ScalarText(pub String);

impl<'de> Deserialize<'de> for ScalarText {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Any {
            Str(String),
            Int(i64),
            Uint(u64),
            Float(f64),
            Bool(bool),
        }
        Ok(ScalarText(match Any::deserialize(d)? {
            Any::Str(s) => s,
            Any::Int(i) => i.to_string(),
            Any::Uint(u) => u.to_string(),
            Any::Float(f) => f.to_string(),
            Any::Bool(b) => b.to_string(),
        }))
    }
}
