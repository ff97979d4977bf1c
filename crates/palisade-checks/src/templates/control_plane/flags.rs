//! Command-line flags read the way the control-plane components read them.
//!
//! The Kubernetes components parse with spf13/pflag, etcd with Go's `flag` package. Both accept
//! `--name=value` and `--name value` (the next word is the value, whatever it looks like),
//! boolean flags given alone (`--profiling` means true), and Go's boolean spellings (`1`, `t`,
//! `TRUE`, `false`, …). They differ in two places this parser follows: Go's `flag` also accepts
//! one dash (`-name`) and stops at the first word that is not a flag, while pflag skips such
//! words and keeps going; both stop at `--`.
//!
//! A scalar flag given twice takes its last value; list flags (pflag's string slices, such as
//! `--enable-admission-plugins`) accumulate every occurrence, each comma-separated.

/// Which flag syntax a component's binary uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Syntax {
    /// spf13/pflag (kube-apiserver, kube-controller-manager, kube-scheduler).
    Pflag,
    /// Go's standard `flag` package (etcd).
    GoFlag,
}

/// One flag as given: its name, its value (`None` when a non-boolean flag ended the command
/// line without one) and the index of the word that named it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Given {
    pub name: String,
    pub value: Option<String>,
    pub word: usize,
}

/// The flags of one command line, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Flags(Vec<Given>);

impl Flags {
    /// Parses `words` (the arguments after the executable) with `syntax`; `is_bool` says which
    /// flags are booleans (they never take the next word as their value).
    pub fn parse<S: AsRef<str>>(
        words: &[S],
        syntax: Syntax,
        is_bool: impl Fn(&str) -> bool,
    ) -> Flags {
        let mut out = Vec::new();
        let mut i = 0;
        while i < words.len() {
            let word = words[i].as_ref();
            let index = i;
            i += 1;
            if word == "--" {
                break;
            }
            let body = match (word.strip_prefix("--"), syntax) {
                (Some(body), _) => body,
                (None, Syntax::GoFlag) if word.len() > 1 && word.starts_with('-') => &word[1..],
                // Positional words, and pflag shorthands (`-v=2`), which name no flag read here.
                (None, Syntax::Pflag) => continue,
                (None, Syntax::GoFlag) => break,
            };
            let (name, value) = match body.split_once('=') {
                Some((name, value)) => (name, Some(value.to_string())),
                None if is_bool(body) => (body, Some("true".to_string())),
                None => {
                    let value = words.get(i).map(|w| w.as_ref().to_string());
                    if value.is_some() {
                        i += 1;
                    }
                    (body, value)
                }
            };
            if name.is_empty() {
                continue;
            }
            out.push(Given {
                name: name.to_string(),
                value,
                word: index,
            });
        }
        Flags(out)
    }

    /// The last occurrence of `name`.
    pub fn last(&self, name: &str) -> Option<&Given> {
        self.0.iter().rev().find(|g| g.name == name)
    }

    /// Every occurrence of `name`, in order.
    pub fn all<'s>(&'s self, name: &'s str) -> impl Iterator<Item = &'s Given> + 's {
        self.0.iter().filter(move |g| g.name == name)
    }
}

/// The items of a comma-separated list value, trimmed, empty ones dropped.
pub(crate) fn list_items(value: &str) -> impl Iterator<Item = &str> {
    value.split(',').map(str::trim).filter(|s| !s.is_empty())
}

/// Go's `strconv.ParseBool`.
pub(crate) fn parse_bool(s: &str) -> Option<bool> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

/// `--feature-gates` values merged in order (`A=true,B=false`; a later setting wins): the
/// setting of `gate`, if any occurrence names it.
pub(crate) fn feature_gate<'v>(values: impl Iterator<Item = &'v str>, gate: &str) -> Option<bool> {
    let mut state = None;
    for value in values {
        for item in list_items(value) {
            if let Some((name, setting)) = item.split_once('=')
                && name.trim() == gate
            {
                state = parse_bool(setting.trim());
            }
        }
    }
    state
}

/// A Go `time.Duration` string (`1m0s`, `300s`, `1.5h`, `0`) in nanoseconds, as
/// `time.ParseDuration` reads it (no sign: a timeout is never negative).
pub(crate) fn go_duration_nanos(s: &str) -> Option<f64> {
    if s == "0" {
        return Some(0.0);
    }
    let mut rest = s;
    let mut total = 0.0;
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let number_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let number: f64 = rest[..number_len].parse().ok()?;
        rest = &rest[number_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let unit = match &rest[..unit_len] {
            "ns" => 1.0,
            "us" | "µs" | "μs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            _ => return None,
        };
        rest = &rest[unit_len..];
        total += number * unit;
    }
    Some(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(words: &[&str], syntax: Syntax) -> Flags {
        Flags::parse(words, syntax, |n| {
            matches!(n, "profiling" | "client-cert-auth")
        })
    }

    fn value<'f>(flags: &'f Flags, name: &str) -> Option<&'f str> {
        flags.last(name).and_then(|g| g.value.as_deref())
    }

    #[test]
    fn equals_and_space_separated_values() {
        let f = parse(
            &[
                "--secure-port=6443",
                "--audit-log-path",
                "/var/log/audit.log",
                "--x=",
            ],
            Syntax::Pflag,
        );
        assert_eq!(value(&f, "secure-port"), Some("6443"));
        assert_eq!(value(&f, "audit-log-path"), Some("/var/log/audit.log"));
        assert_eq!(value(&f, "x"), Some(""));
        assert_eq!(f.last("audit-log-path").unwrap().word, 1);
    }

    #[test]
    fn the_next_word_is_a_value_even_when_it_looks_like_a_flag() {
        let f = parse(&["--token-auth-file", "--profiling"], Syntax::Pflag);
        assert_eq!(value(&f, "token-auth-file"), Some("--profiling"));
        assert!(f.last("profiling").is_none());
        let f = parse(&["--token-auth-file"], Syntax::Pflag);
        assert_eq!(f.last("token-auth-file").unwrap().value, None);
    }

    #[test]
    fn a_boolean_alone_is_true_and_does_not_take_the_next_word() {
        let f = parse(
            &["--profiling", "false", "--client-cert-auth=false"],
            Syntax::Pflag,
        );
        assert_eq!(value(&f, "profiling"), Some("true"));
        assert_eq!(value(&f, "client-cert-auth"), Some("false"));
    }

    #[test]
    fn repeated_flags_keep_every_occurrence_and_the_last_wins() {
        let f = parse(&["--profiling=true", "--profiling=false"], Syntax::Pflag);
        assert_eq!(value(&f, "profiling"), Some("false"));
        let f = parse(
            &[
                "--enable-admission-plugins=A, B",
                "--enable-admission-plugins",
                "C,,",
            ],
            Syntax::Pflag,
        );
        let items: Vec<&str> = f
            .all("enable-admission-plugins")
            .filter_map(|g| g.value.as_deref())
            .flat_map(list_items)
            .collect();
        assert_eq!(items, ["A", "B", "C"]);
    }

    #[test]
    fn pflag_skips_positionals_and_shorthands_and_stops_at_double_dash() {
        let f = parse(&["-v=2", "serve", "--a=1", "--", "--b=2"], Syntax::Pflag);
        assert_eq!(value(&f, "a"), Some("1"));
        assert!(f.last("v").is_none() && f.last("b").is_none());
    }

    #[test]
    fn go_flag_takes_one_dash_and_stops_at_the_first_positional() {
        let f = parse(
            &["-client-cert-auth", "-name", "m1", "extra", "--a=1"],
            Syntax::GoFlag,
        );
        assert_eq!(value(&f, "client-cert-auth"), Some("true"));
        assert_eq!(value(&f, "name"), Some("m1"));
        assert!(f.last("a").is_none());
    }

    #[test]
    fn go_booleans() {
        for t in ["1", "t", "T", "TRUE", "true", "True"] {
            assert_eq!(parse_bool(t), Some(true), "{t}");
        }
        for f in ["0", "f", "F", "FALSE", "false", "False"] {
            assert_eq!(parse_bool(f), Some(false), "{f}");
        }
        assert_eq!(parse_bool("yes"), None);
        assert_eq!(parse_bool("tRUE"), None);
    }

    #[test]
    fn feature_gates_merge_in_order() {
        let values = [
            "A=true,RotateKubeletServerCertificate=false",
            "RotateKubeletServerCertificate=true",
        ];
        assert_eq!(
            feature_gate(values.into_iter(), "RotateKubeletServerCertificate"),
            Some(true)
        );
        assert_eq!(
            feature_gate(
                values[..1].iter().copied(),
                "RotateKubeletServerCertificate"
            ),
            Some(false)
        );
        assert_eq!(feature_gate(values.into_iter(), "Other"), None);
    }

    #[test]
    fn go_durations() {
        assert_eq!(go_duration_nanos("1m0s"), Some(60e9));
        assert_eq!(go_duration_nanos("300s"), Some(300e9));
        assert_eq!(go_duration_nanos("1h30m"), Some(5400e9));
        assert_eq!(go_duration_nanos("1.5h"), Some(5400e9));
        assert_eq!(go_duration_nanos("0"), Some(0.0));
        assert_eq!(go_duration_nanos("60"), None);
        assert_eq!(go_duration_nanos(""), None);
        assert_eq!(go_duration_nanos("5 m"), None);
    }
}
