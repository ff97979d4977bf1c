//! Turns a parsed condition into an evaluable one: fields resolved and type-checked, list
//! names expanded, macros inlined, regexes and networks compiled. Also evaluates it.

use std::collections::{BTreeMap, HashSet};

use regex::Regex;

use super::fields::{Field, FieldType, Value};
use super::matchers::{Glob, IpNet, normalize_ip};
use super::syntax::{Ast, Atom, Op, Operand, SyntaxError, parse_condition};
use crate::event::Event;

/// Most values one comparison may have after list expansion.
pub const MAX_OPERAND_VALUES: usize = 10_000;
/// Size limit of one compiled regular expression (bytes of the compiled program).
const REGEX_SIZE_LIMIT: usize = 1 << 20;

/// A compiled condition.
#[derive(Debug, Clone)]
pub enum Cond {
    /// All hold.
    And(Vec<Cond>),
    /// One holds.
    Or(Vec<Cond>),
    /// Negation.
    Not(Box<Cond>),
    /// A test of one field.
    Test(Field, Test),
}

/// A test of one field's value.
#[derive(Debug, Clone)]
pub enum Test {
    /// Present and non-empty.
    Exists,
    /// Equal to the value.
    Eq(String),
    /// Present and not equal (for lists: no element equal).
    Ne(String),
    /// Equal to one of the values.
    In(HashSet<String>),
    /// Has one of the values as a substring.
    Contains(Vec<String>),
    /// Has one of the (lower-cased) values as a substring, ignoring ASCII case.
    IContains(Vec<String>),
    /// Starts with one of the values.
    StartsWith(Vec<String>),
    /// Ends with one of the values.
    EndsWith(Vec<String>),
    /// Matches one of the globs.
    Glob(Vec<Glob>),
    /// The regex finds a match.
    Matches(Regex),
    /// Numeric comparison.
    Num(Op, u64),
    /// Number equal to one of the values.
    NumIn(Vec<u64>),
    /// Boolean equality (`!= x` is compiled as `= !x`).
    Bool(bool),
    /// Address inside one of the networks.
    Cidr(Vec<IpNet>),
}

/// What compilation needs to know about the rule set.
pub struct Context<'a> {
    /// Lists by name (already flattened).
    pub lists: &'a BTreeMap<String, Vec<String>>,
    /// Macro conditions by name (parsed).
    pub macros: &'a BTreeMap<String, Result<Ast, SyntaxError>>,
}

/// A compilation error: the message and, when known, the byte offset in the condition text
/// where it applies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompileError {
    /// What is wrong.
    pub message: String,
    /// Offset in the condition being compiled (not inside a macro).
    pub at: Option<usize>,
}

impl CompileError {
    fn at(at: usize, message: impl Into<String>) -> CompileError {
        CompileError {
            message: message.into(),
            at: Some(at),
        }
    }
}

impl std::fmt::Display for CompileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.at {
            Some(at) => write!(f, "at character {}: {}", at + 1, self.message),
            None => f.write_str(&self.message),
        }
    }
}

/// Parses and compiles a condition text.
pub fn compile_text(text: &str, ctx: &Context<'_>) -> Result<Cond, CompileError> {
    let ast = parse_condition(text).map_err(|e| CompileError::at(e.at, e.message))?;
    let mut stack = Vec::new();
    compile(&ast, ctx, &mut stack)
}

fn compile(ast: &Ast, ctx: &Context<'_>, stack: &mut Vec<String>) -> Result<Cond, CompileError> {
    match ast {
        Ast::And(items) => Ok(Cond::And(
            items
                .iter()
                .map(|a| compile(a, ctx, stack))
                .collect::<Result<_, _>>()?,
        )),
        Ast::Or(items) => Ok(Cond::Or(
            items
                .iter()
                .map(|a| compile(a, ctx, stack))
                .collect::<Result<_, _>>()?,
        )),
        Ast::Not(inner) => Ok(Cond::Not(Box::new(compile(inner, ctx, stack)?))),
        Ast::Macro { name, at } => {
            let Some(parsed) = ctx.macros.get(name) else {
                let hint = if name.contains('.') {
                    format!(
                        "unknown field '{name}' or missing operator (fields: {})",
                        field_names()
                    )
                } else {
                    format!("unknown macro '{name}'")
                };
                return Err(CompileError::at(*at, hint));
            };
            if stack.iter().any(|n| n == name) {
                stack.push(name.clone());
                return Err(CompileError::at(
                    *at,
                    format!("macro cycle: {}", stack.join(" -> ")),
                ));
            }
            let ast = parsed.as_ref().map_err(|e| {
                CompileError::at(*at, format!("macro '{name}' does not parse: {e}"))
            })?;
            stack.push(name.clone());
            let compiled = compile(ast, ctx, stack).map_err(|e| {
                // Offsets inside a macro refer to the macro's text, not this condition.
                CompileError::at(*at, format!("in macro '{name}': {e}"))
            });
            stack.pop();
            compiled
        }
        Ast::Compare {
            field,
            op,
            value,
            at,
        } => {
            let Some(f) = Field::from_name(field) else {
                return Err(CompileError::at(
                    *at,
                    format!("unknown field '{field}' (fields: {})", field_names()),
                ));
            };
            let values = match value {
                None => Vec::new(),
                Some(v) => expand(v, ctx)?,
            };
            let test = compile_test(f, *op, values).map_err(|m| CompileError::at(*at, m))?;
            Ok(Cond::Test(f, test))
        }
    }
}

fn field_names() -> String {
    Field::ALL
        .iter()
        .map(|f| f.name())
        .collect::<Vec<_>>()
        .join(", ")
}

fn expand(operand: &Operand, ctx: &Context<'_>) -> Result<Vec<String>, CompileError> {
    let atoms: &[Atom] = match operand {
        Operand::Single(a) => std::slice::from_ref(a),
        Operand::List(items) => items,
    };
    let mut out = Vec::new();
    for a in atoms {
        match ctx.lists.get(&a.text).filter(|_| !a.quoted) {
            Some(items) => out.extend(items.iter().cloned()),
            None => out.push(a.text.clone()),
        }
        if out.len() > MAX_OPERAND_VALUES {
            return Err(CompileError {
                message: format!("more than {MAX_OPERAND_VALUES} values in one comparison"),
                at: None,
            });
        }
    }
    Ok(out)
}

fn one(field: Field, op: Op, mut values: Vec<String>) -> Result<String, String> {
    if values.len() != 1 {
        return Err(format!(
            "'{} {}' takes exactly one value, got {} (use 'in' for several)",
            field.name(),
            op.as_str(),
            values.len()
        ));
    }
    Ok(values.remove(0))
}

fn compile_test(field: Field, op: Op, values: Vec<String>) -> Result<Test, String> {
    let ty = field.field_type();
    let bad_op = || {
        Err(format!(
            "operator '{}' does not apply to {} ({})",
            op.as_str(),
            field.name(),
            match ty {
                FieldType::Str | FieldType::StrList =>
                    "text: use =, !=, in, contains, icontains, startswith, endswith, glob, matches, exists",
                FieldType::Num => "a number: use =, !=, <, <=, >, >=, in, exists",
                FieldType::Bool => "true/false: use =, !=, exists",
                FieldType::Ip => "an IP address: use cidr or the text operators",
            }
        ))
    };
    if op == Op::Exists {
        return Ok(Test::Exists);
    }
    match ty {
        FieldType::Num => {
            let nums = values
                .iter()
                .map(|v| {
                    v.parse::<u64>()
                        .map_err(|_| format!("{} is a number; '{v}' is not", field.name()))
                })
                .collect::<Result<Vec<u64>, String>>()?;
            match op {
                Op::In => Ok(Test::NumIn(nums)),
                Op::Eq | Op::Ne | Op::Lt | Op::Le | Op::Gt | Op::Ge => {
                    one(field, op, values)?;
                    Ok(Test::Num(op, nums[0]))
                }
                _ => bad_op(),
            }
        }
        FieldType::Bool => {
            let v = one(field, op, values)?;
            let b = match v.as_str() {
                "true" => true,
                "false" => false,
                _ => {
                    return Err(format!(
                        "{} is true or false; '{v}' is neither",
                        field.name()
                    ));
                }
            };
            match op {
                Op::Eq => Ok(Test::Bool(b)),
                Op::Ne => Ok(Test::Bool(!b)),
                _ => bad_op(),
            }
        }
        FieldType::Str | FieldType::StrList | FieldType::Ip => {
            let is_ip = ty == FieldType::Ip;
            let canon = |v: String| -> String {
                if is_ip {
                    v.parse::<std::net::IpAddr>()
                        .map(|ip| normalize_ip(ip).to_string())
                        .unwrap_or(v)
                } else {
                    v
                }
            };
            match op {
                Op::Eq => Ok(Test::Eq(canon(one(field, op, values)?))),
                Op::Ne => Ok(Test::Ne(canon(one(field, op, values)?))),
                Op::In => Ok(Test::In(values.into_iter().map(canon).collect())),
                Op::Contains => Ok(Test::Contains(values)),
                Op::IContains => Ok(Test::IContains(
                    values.iter().map(|v| v.to_ascii_lowercase()).collect(),
                )),
                Op::StartsWith => Ok(Test::StartsWith(values)),
                Op::EndsWith => Ok(Test::EndsWith(values)),
                Op::Glob => Ok(Test::Glob(values.iter().map(|v| Glob::new(v)).collect())),
                Op::Matches => {
                    if values.is_empty() {
                        return Err("'matches' needs at least one pattern".into());
                    }
                    for v in &values {
                        regex::RegexBuilder::new(v)
                            .size_limit(REGEX_SIZE_LIMIT)
                            .build()
                            .map_err(|e| format!("invalid regular expression '{v}': {e}"))?;
                    }
                    let joined = values
                        .iter()
                        .map(|v| format!("(?:{v})"))
                        .collect::<Vec<_>>()
                        .join("|");
                    let re = regex::RegexBuilder::new(&joined)
                        .size_limit(REGEX_SIZE_LIMIT * 4)
                        .build()
                        .map_err(|e| format!("regular expressions too large together: {e}"))?;
                    Ok(Test::Matches(re))
                }
                Op::Cidr if is_ip => Ok(Test::Cidr(
                    values
                        .iter()
                        .map(|v| IpNet::parse(v))
                        .collect::<Result<_, _>>()?,
                )),
                _ => bad_op(),
            }
        }
    }
}

impl Cond {
    /// Evaluates the condition against an event.
    pub fn eval(&self, event: &Event) -> bool {
        match self {
            Cond::And(items) => items.iter().all(|c| c.eval(event)),
            Cond::Or(items) => items.iter().any(|c| c.eval(event)),
            Cond::Not(inner) => !inner.eval(event),
            Cond::Test(field, test) => test.eval(&field.read(event)),
        }
    }
}

impl Test {
    fn eval(&self, value: &Value<'_>) -> bool {
        match value {
            Value::Absent => false,
            Value::Str(s) => self.eval_str(s),
            Value::Owned(s) => self.eval_str(s),
            Value::List(items) => match self {
                Test::Exists => !items.is_empty(),
                Test::Ne(v) => !items.iter().any(|i| i == v),
                _ => items.iter().any(|i| self.eval_str(i)),
            },
            Value::Num(n) => match self {
                Test::Exists => true,
                Test::Num(op, v) => match op {
                    Op::Eq => n == v,
                    Op::Ne => n != v,
                    Op::Lt => n < v,
                    Op::Le => n <= v,
                    Op::Gt => n > v,
                    Op::Ge => n >= v,
                    _ => false,
                },
                Test::NumIn(vs) => vs.contains(n),
                _ => false,
            },
            Value::Bool(b) => match self {
                Test::Exists => true,
                Test::Bool(v) => b == v,
                _ => false,
            },
            Value::Ip(ip) => match self {
                Test::Exists => true,
                Test::Cidr(nets) => nets.iter().any(|n| n.contains(*ip)),
                _ => self.eval_str(&normalize_ip(*ip).to_string()),
            },
        }
    }

    fn eval_str(&self, s: &str) -> bool {
        match self {
            Test::Exists => !s.is_empty(),
            Test::Eq(v) => s == v,
            Test::Ne(v) => s != v,
            Test::In(set) => set.contains(s),
            Test::Contains(vs) => vs.iter().any(|v| s.contains(v.as_str())),
            Test::IContains(vs) => {
                let lower = s.to_ascii_lowercase();
                vs.iter().any(|v| lower.contains(v.as_str()))
            }
            Test::StartsWith(vs) => vs.iter().any(|v| s.starts_with(v.as_str())),
            Test::EndsWith(vs) => vs.iter().any(|v| s.ends_with(v.as_str())),
            Test::Glob(gs) => gs.iter().any(|g| g.is_match(s)),
            Test::Matches(re) => re.is_match(s),
            Test::Num(..) | Test::NumIn(_) | Test::Bool(_) | Test::Cidr(_) => false,
        }
    }
}
