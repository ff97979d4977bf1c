//! Tokenizer and parser for rule conditions (the grammar is documented in `docs/runtime.md`
//! and on [`crate::rules`]).

use std::fmt;

/// A condition as written, before fields, lists and macros are resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ast {
    /// All must hold.
    And(Vec<Ast>),
    /// At least one must hold.
    Or(Vec<Ast>),
    /// Negation.
    Not(Box<Ast>),
    /// A reference to a macro by name.
    Macro {
        /// Macro name.
        name: String,
        /// Byte offset in the condition text.
        at: usize,
    },
    /// `FIELD OP [VALUE]`.
    Compare {
        /// Field name as written (`proc.name`).
        field: String,
        /// Operator.
        op: Op,
        /// Operand (`None` only for `exists`).
        value: Option<Operand>,
        /// Byte offset of the field in the condition text.
        at: usize,
    },
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `=` or `==`.
    Eq,
    /// `!=`.
    Ne,
    /// `<`.
    Lt,
    /// `<=`.
    Le,
    /// `>`.
    Gt,
    /// `>=`.
    Ge,
    /// `in`: equal to one of the values.
    In,
    /// `contains`: has one of the values as a substring.
    Contains,
    /// `icontains`: like `contains`, ignoring ASCII case.
    IContains,
    /// `startswith`.
    StartsWith,
    /// `endswith`.
    EndsWith,
    /// `glob`: whole-value match with `*` and `?`.
    Glob,
    /// `matches`: regular-expression search.
    Matches,
    /// `cidr`: IP address inside one of the networks.
    Cidr,
    /// `exists`: the field has a non-empty value.
    Exists,
}

impl Op {
    fn from_word(w: &str) -> Option<Op> {
        Some(match w {
            "in" => Op::In,
            "contains" => Op::Contains,
            "icontains" => Op::IContains,
            "startswith" => Op::StartsWith,
            "endswith" => Op::EndsWith,
            "glob" => Op::Glob,
            "matches" => Op::Matches,
            "cidr" => Op::Cidr,
            "exists" => Op::Exists,
            _ => return None,
        })
    }

    /// The operator as written.
    pub fn as_str(self) -> &'static str {
        match self {
            Op::Eq => "=",
            Op::Ne => "!=",
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::In => "in",
            Op::Contains => "contains",
            Op::IContains => "icontains",
            Op::StartsWith => "startswith",
            Op::EndsWith => "endswith",
            Op::Glob => "glob",
            Op::Matches => "matches",
            Op::Cidr => "cidr",
            Op::Exists => "exists",
        }
    }
}

/// Words that cannot name a macro, list or field.
pub const RESERVED_WORDS: &[&str] = &[
    "and",
    "or",
    "not",
    "in",
    "contains",
    "icontains",
    "startswith",
    "endswith",
    "glob",
    "matches",
    "cidr",
    "exists",
];

/// One operand value: a word or a quoted string (quoted strings never expand as list names).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Atom {
    /// The text (quotes removed, escapes resolved).
    pub text: String,
    /// Whether it was quoted.
    pub quoted: bool,
}

/// The right-hand side of a comparison.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Operand {
    /// One value.
    Single(Atom),
    /// A parenthesized, comma-separated list.
    List(Vec<Atom>),
}

/// A syntax error with its byte offset in the condition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    /// Byte offset where the problem is.
    pub at: usize,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "at character {}: {}", self.at + 1, self.message)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Word(String),
    Str(String),
    LParen,
    RParen,
    Comma,
    Sym(Op),
}

impl Tok {
    fn describe(&self) -> String {
        match self {
            Tok::Word(w) => format!("'{w}'"),
            Tok::Str(s) => format!("string \"{s}\""),
            Tok::LParen => "'('".into(),
            Tok::RParen => "')'".into(),
            Tok::Comma => "','".into(),
            Tok::Sym(op) => format!("'{}'", op.as_str()),
        }
    }
}

/// Longest condition accepted, against pathological input.
pub const MAX_CONDITION_LEN: usize = 64 * 1024;
/// Deepest nesting of parentheses and `not` accepted.
pub const MAX_DEPTH: usize = 64;

fn tokenize(src: &str) -> Result<Vec<(Tok, usize)>, SyntaxError> {
    let bytes = src.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        let start = i;
        match c {
            b' ' | b'\t' | b'\n' | b'\r' => i += 1,
            b'(' => {
                out.push((Tok::LParen, start));
                i += 1;
            }
            b')' => {
                out.push((Tok::RParen, start));
                i += 1;
            }
            b',' => {
                out.push((Tok::Comma, start));
                i += 1;
            }
            b'=' => {
                i += if bytes.get(i + 1) == Some(&b'=') {
                    2
                } else {
                    1
                };
                out.push((Tok::Sym(Op::Eq), start));
            }
            b'!' => {
                if bytes.get(i + 1) == Some(&b'=') {
                    out.push((Tok::Sym(Op::Ne), start));
                    i += 2;
                } else {
                    return Err(SyntaxError {
                        at: start,
                        message: "'!' must be followed by '=' (use 'not' for negation)".into(),
                    });
                }
            }
            b'<' | b'>' => {
                let eq = bytes.get(i + 1) == Some(&b'=');
                let op = match (c, eq) {
                    (b'<', false) => Op::Lt,
                    (b'<', true) => Op::Le,
                    (_, false) => Op::Gt,
                    (_, true) => Op::Ge,
                };
                out.push((Tok::Sym(op), start));
                i += if eq { 2 } else { 1 };
            }
            b'\'' | b'"' => {
                let quote = c;
                let mut text = String::new();
                i += 1;
                loop {
                    let Some(ch) = src[i..].chars().next() else {
                        return Err(SyntaxError {
                            at: start,
                            message: "unterminated string".into(),
                        });
                    };
                    i += ch.len_utf8();
                    if ch as u32 == quote as u32 {
                        break;
                    }
                    if ch == '\\' {
                        let Some(next) = src[i..].chars().next() else {
                            return Err(SyntaxError {
                                at: start,
                                message: "unterminated string".into(),
                            });
                        };
                        i += next.len_utf8();
                        match next {
                            '\\' | '\'' | '"' => text.push(next),
                            other => {
                                // Keep unknown escapes verbatim (regexes use them).
                                text.push('\\');
                                text.push(other);
                            }
                        }
                    } else {
                        text.push(ch);
                    }
                }
                out.push((Tok::Str(text), start));
            }
            _ => {
                while i < bytes.len() && !is_word_break(bytes[i]) {
                    i += 1;
                }
                // i > start always: the current byte is not a word break.
                out.push((Tok::Word(src[start..i].to_string()), start));
            }
        }
    }
    Ok(out)
}

fn is_word_break(b: u8) -> bool {
    matches!(
        b,
        b' ' | b'\t'
            | b'\n'
            | b'\r'
            | b'('
            | b')'
            | b','
            | b'='
            | b'!'
            | b'<'
            | b'>'
            | b'\''
            | b'"'
    )
}

/// Parses a condition into its syntax tree.
pub fn parse_condition(src: &str) -> Result<Ast, SyntaxError> {
    if src.len() > MAX_CONDITION_LEN {
        return Err(SyntaxError {
            at: 0,
            message: format!("condition longer than {MAX_CONDITION_LEN} bytes"),
        });
    }
    let tokens = tokenize(src)?;
    let mut p = Parser {
        tokens,
        pos: 0,
        end: src.len(),
        depth: 0,
    };
    if p.tokens.is_empty() {
        return Err(SyntaxError {
            at: 0,
            message: "empty condition".into(),
        });
    }
    let ast = p.parse_or()?;
    if let Some((tok, at)) = p.tokens.get(p.pos) {
        return Err(SyntaxError {
            at: *at,
            message: format!(
                "unexpected {} (expected 'and', 'or' or the end)",
                tok.describe()
            ),
        });
    }
    Ok(ast)
}

struct Parser {
    tokens: Vec<(Tok, usize)>,
    pos: usize,
    end: usize,
    depth: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.tokens.get(self.pos).map(|(t, _)| t)
    }

    fn here(&self) -> usize {
        self.tokens.get(self.pos).map_or(self.end, |(_, at)| *at)
    }

    fn peek_word(&self, w: &str) -> bool {
        matches!(self.peek(), Some(Tok::Word(x)) if x == w)
    }

    fn parse_or(&mut self) -> Result<Ast, SyntaxError> {
        let mut items = vec![self.parse_and()?];
        while self.peek_word("or") {
            self.pos += 1;
            items.push(self.parse_and()?);
        }
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            Ast::Or(items)
        })
    }

    fn parse_and(&mut self) -> Result<Ast, SyntaxError> {
        let mut items = vec![self.parse_not()?];
        while self.peek_word("and") {
            self.pos += 1;
            items.push(self.parse_not()?);
        }
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            Ast::And(items)
        })
    }

    fn enter(&mut self) -> Result<(), SyntaxError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(SyntaxError {
                at: self.here(),
                message: format!("nested deeper than {MAX_DEPTH} levels"),
            });
        }
        Ok(())
    }

    fn parse_not(&mut self) -> Result<Ast, SyntaxError> {
        if self.peek_word("not") {
            self.pos += 1;
            self.enter()?;
            let inner = self.parse_not()?;
            self.depth -= 1;
            return Ok(Ast::Not(Box::new(inner)));
        }
        self.parse_primary()
    }

    fn parse_primary(&mut self) -> Result<Ast, SyntaxError> {
        let at = self.here();
        match self.tokens.get(self.pos).cloned() {
            None => Err(SyntaxError {
                at,
                message: "unexpected end of condition (expected a field, macro or '(')".into(),
            }),
            Some((Tok::LParen, _)) => {
                self.pos += 1;
                self.enter()?;
                let inner = self.parse_or()?;
                self.depth -= 1;
                match self.peek() {
                    Some(Tok::RParen) => {
                        self.pos += 1;
                        Ok(inner)
                    }
                    _ => Err(SyntaxError {
                        at: self.here(),
                        message: format!("expected ')' to close the '(' at character {}", at + 1),
                    }),
                }
            }
            Some((Tok::Word(w), _)) => {
                if RESERVED_WORDS.contains(&w.as_str()) {
                    return Err(SyntaxError {
                        at,
                        message: format!("unexpected '{w}' (expected a field, macro or '(')"),
                    });
                }
                self.pos += 1;
                let op = match self.peek() {
                    Some(Tok::Sym(op)) => Some(*op),
                    Some(Tok::Word(x)) => Op::from_word(x),
                    _ => None,
                };
                let Some(op) = op else {
                    return Ok(Ast::Macro { name: w, at });
                };
                self.pos += 1;
                let value = if op == Op::Exists {
                    None
                } else {
                    Some(self.parse_operand(op)?)
                };
                Ok(Ast::Compare {
                    field: w,
                    op,
                    value,
                    at,
                })
            }
            Some((tok, _)) => Err(SyntaxError {
                at,
                message: format!(
                    "unexpected {} (expected a field, macro or '(')",
                    tok.describe()
                ),
            }),
        }
    }

    fn parse_atom(&mut self, op: Op) -> Result<Atom, SyntaxError> {
        let at = self.here();
        match self.tokens.get(self.pos).cloned() {
            Some((Tok::Word(w), _)) => {
                self.pos += 1;
                Ok(Atom {
                    text: w,
                    quoted: false,
                })
            }
            Some((Tok::Str(s), _)) => {
                self.pos += 1;
                Ok(Atom {
                    text: s,
                    quoted: true,
                })
            }
            other => Err(SyntaxError {
                at,
                message: format!(
                    "expected a value after '{}', found {}",
                    op.as_str(),
                    other.map_or("the end".to_string(), |(t, _)| t.describe())
                ),
            }),
        }
    }

    fn parse_operand(&mut self, op: Op) -> Result<Operand, SyntaxError> {
        if self.peek() != Some(&Tok::LParen) {
            return Ok(Operand::Single(self.parse_atom(op)?));
        }
        let open = self.here();
        self.pos += 1;
        let mut items = Vec::new();
        if self.peek() == Some(&Tok::RParen) {
            self.pos += 1;
            return Ok(Operand::List(items));
        }
        loop {
            items.push(self.parse_atom(op)?);
            match self.peek() {
                Some(Tok::Comma) => self.pos += 1,
                Some(Tok::RParen) => {
                    self.pos += 1;
                    return Ok(Operand::List(items));
                }
                _ => {
                    return Err(SyntaxError {
                        at: self.here(),
                        message: format!(
                            "expected ',' or ')' in the list opened at character {}",
                            open + 1
                        ),
                    });
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn word(s: &str) -> Atom {
        Atom {
            text: s.into(),
            quoted: false,
        }
    }

    #[test]
    fn precedence_not_binds_tighter_than_and_than_or() {
        let ast = parse_condition("a or not b and c").unwrap();
        assert_eq!(
            ast,
            Ast::Or(vec![
                Ast::Macro {
                    name: "a".into(),
                    at: 0
                },
                Ast::And(vec![
                    Ast::Not(Box::new(Ast::Macro {
                        name: "b".into(),
                        at: 9
                    })),
                    Ast::Macro {
                        name: "c".into(),
                        at: 15
                    },
                ]),
            ])
        );
    }

    #[test]
    fn comparisons_lists_and_strings() {
        let ast = parse_condition("proc.name in (sh, 'ba sh', \"z\\\"sh\")").unwrap();
        assert_eq!(
            ast,
            Ast::Compare {
                field: "proc.name".into(),
                op: Op::In,
                value: Some(Operand::List(vec![
                    word("sh"),
                    Atom {
                        text: "ba sh".into(),
                        quoted: true
                    },
                    Atom {
                        text: "z\"sh".into(),
                        quoted: true
                    },
                ])),
                at: 0,
            }
        );
        let ast = parse_condition("proc.uid>=1000").unwrap();
        assert!(matches!(ast, Ast::Compare { op: Op::Ge, .. }));
        let ast = parse_condition("container.id exists and proc.args = -e").unwrap();
        let Ast::And(items) = ast else { panic!() };
        assert!(matches!(
            &items[0],
            Ast::Compare {
                op: Op::Exists,
                value: None,
                ..
            }
        ));
        assert!(
            matches!(&items[1], Ast::Compare { value: Some(Operand::Single(a)), .. } if a.text == "-e")
        );
    }

    #[test]
    fn regex_escapes_survive_quoting() {
        let ast = parse_condition(r"proc.args matches '^\d+\.\d+$'").unwrap();
        let Ast::Compare {
            value: Some(Operand::Single(a)),
            ..
        } = ast
        else {
            panic!()
        };
        assert_eq!(a.text, r"^\d+\.\d+$");
    }

    #[test]
    fn errors_name_the_position() {
        let e = parse_condition("proc.name = ").unwrap_err();
        assert!(e.message.contains("expected a value after '='"), "{e}");
        let e = parse_condition("(a and b").unwrap_err();
        assert!(e.message.contains("expected ')'"), "{e}");
        let e = parse_condition("a b").unwrap_err();
        assert_eq!(e.at, 2);
        let e = parse_condition("proc.name ! sh").unwrap_err();
        assert!(e.message.contains("'not'"));
        let e = parse_condition("proc.name = 'sh").unwrap_err();
        assert!(e.message.contains("unterminated"));
        let e = parse_condition("   ").unwrap_err();
        assert!(e.message.contains("empty"));
        let e = parse_condition("and a").unwrap_err();
        assert_eq!(e.at, 0);
        let e = parse_condition("proc.name in (a b)").unwrap_err();
        assert!(e.message.contains("expected ',' or ')'"));
    }

    #[test]
    fn nesting_is_bounded() {
        let deep = format!("{}a{}", "(".repeat(200), ")".repeat(200));
        let e = parse_condition(&deep).unwrap_err();
        assert!(e.message.contains("nested deeper"));
        let nots = format!("{}a", "not ".repeat(200));
        assert!(parse_condition(&nots).is_err());
    }

    #[test]
    fn utf8_in_strings_and_words() {
        let ast = parse_condition("proc.cwd = '/tmp/é' or proc.name = żółw").unwrap();
        assert!(matches!(ast, Ast::Or(_)));
    }
}
