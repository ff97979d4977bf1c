//! Credentials in command lines, hidden before a record leaves the agent.
//!
//! Programs are often given secrets as arguments (`mysql -pS3cret`, `curl -u bob:pw`,
//! `--password=…`, `https://user:pw@host`, `-H "Authorization: Bearer …"`). Rules match the real
//! arguments; alerts, which are written to files and posted to webhooks, carry them with each
//! such value replaced by [`REDACTED`]. What is kept says which program was run how, which is
//! what a responder needs.

use std::borrow::Cow;
use std::sync::LazyLock;

use regex::Regex;

/// What a hidden value is replaced with.
pub const REDACTED: &str = "REDACTED";

/// Words that mark an option or variable as holding a credential.
const SECRET_WORDS: &str = r"password|passwd|passphrase|secret|token|api[-_]?key|access[-_]?key|private[-_]?key|credentials?";

/// `--password=x`, `PASSWORD=x`, `token: x`, `client_secret=x` inside any argument.
static KEY_VALUE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r"(?i)(\b[\w.-]*(?:{SECRET_WORDS})[\w.-]*\s*(?:=|:\s*))([^\s&;,'\x22]+)"
    ))
    .expect("valid pattern")
});

/// `scheme://user:password@host`.
static URL_USERINFO: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"([A-Za-z][A-Za-z0-9+.-]*://[^/\s:@]*:)([^@\s/]+)(@)").expect("valid pattern")
});

/// `Authorization: Bearer x`, `Authorization: Basic x`, `Proxy-Authorization: …`.
static AUTH_HEADER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?i)((?:proxy-)?authorization\s*:\s*)(?:[A-Za-z]+\s+)?[^\s'"]+"#)
        .expect("valid pattern")
});

/// An option name (without dashes) that announces a secret as the next argument.
static SECRET_OPTION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!("(?i)^[\\w-]*(?:{SECRET_WORDS})[\\w-]*$")).expect("valid pattern")
});

/// Whether `flag` is an option whose *next* argument is a secret (`--password`, `--api-key`,
/// `-token`), whatever the program.
fn next_is_secret(flag: &str) -> bool {
    let Some(name) = flag.strip_prefix("--").or_else(|| flag.strip_prefix('-')) else {
        return false;
    };
    name.len() > 1 && SECRET_OPTION.is_match(name)
}

/// The base name of `argv[0]`.
fn program(args: &[String]) -> &str {
    args.first()
        .map(|a| a.rsplit('/').next().unwrap_or(a))
        .unwrap_or("")
}

/// `args` with credential values replaced by [`REDACTED`]; borrowed when there were none.
pub fn redact_args(args: &[String]) -> Cow<'_, [String]> {
    let prog = program(args);
    let mysql_like = prog.starts_with("mysql") || prog.starts_with("mariadb");
    let curl_like = matches!(prog, "curl" | "wget");
    let mut changed = false;
    let redacted: Vec<Cow<'_, str>> = args
        .iter()
        .enumerate()
        .map(|(i, arg)| {
            let prev = i.checked_sub(1).map(|p| args[p].as_str());
            let value: Cow<'_, str> = match prev {
                Some(flag) if next_is_secret(flag) => Cow::Borrowed(REDACTED),
                // curl -u user:password: the user is kept.
                Some("-u" | "--user") if curl_like => match arg.split_once(':') {
                    Some((user, _)) => Cow::Owned(format!("{user}:{REDACTED}")),
                    None => Cow::Borrowed(arg),
                },
                // mysql -pPASSWORD: the password joined to the option.
                Some(_) if mysql_like && arg.len() > 2 && arg.starts_with("-p") => {
                    Cow::Owned(format!("-p{REDACTED}"))
                }
                _ => redact_text(arg),
            };
            changed |= value != arg.as_str();
            value
        })
        .collect();
    if changed {
        Cow::Owned(redacted.into_iter().map(Cow::into_owned).collect())
    } else {
        Cow::Borrowed(args)
    }
}

/// One argument (or a whole `sh -c` script) with key=value secrets, URL passwords and
/// authorization headers replaced.
pub fn redact_text(text: &str) -> Cow<'_, str> {
    let a = AUTH_HEADER.replace_all(text, format!("${{1}}{REDACTED}").as_str());
    let b = URL_USERINFO.replace_all(&a, format!("${{1}}{REDACTED}${{3}}").as_str());
    let c = KEY_VALUE.replace_all(&b, format!("${{1}}{REDACTED}").as_str());
    if c == text {
        Cow::Borrowed(text)
    } else {
        Cow::Owned(c.into_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(args: &[&str]) -> Vec<String> {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        redact_args(&args).into_owned()
    }

    #[test]
    fn credential_values_are_replaced_and_the_rest_kept() {
        assert_eq!(
            r(&["mysql", "-u", "root", "-pS3cret", "db"]),
            ["mysql", "-u", "root", "-pREDACTED", "db"]
        );
        assert_eq!(
            r(&["app", "--password=S3cret", "--port=80"]),
            ["app", "--password=REDACTED", "--port=80"]
        );
        assert_eq!(
            r(&["app", "--db-password", "S3cret", "-v"]),
            ["app", "--db-password", "REDACTED", "-v"]
        );
        assert_eq!(
            r(&["app", "--api-key", "abc123"]),
            ["app", "--api-key", "REDACTED"]
        );
        assert_eq!(
            r(&["curl", "-u", "bob:pw", "https://x"]),
            ["curl", "-u", "bob:REDACTED", "https://x"]
        );
        assert_eq!(
            r(&[
                "curl",
                "-H",
                "Authorization: Bearer eyJhbGciOi",
                "https://api"
            ]),
            ["curl", "-H", "Authorization: REDACTED", "https://api"]
        );
        assert_eq!(
            r(&["git", "clone", "https://bob:ghp_secret@github.com/x/y"]),
            ["git", "clone", "https://bob:REDACTED@github.com/x/y"]
        );
        assert_eq!(
            r(&["env", "AWS_SECRET_ACCESS_KEY=abc/def", "aws"]),
            ["env", "AWS_SECRET_ACCESS_KEY=REDACTED", "aws"]
        );
        assert_eq!(
            r(&[
                "kubectl",
                "create",
                "secret",
                "generic",
                "db",
                "--from-literal=password=abc"
            ]),
            [
                "kubectl",
                "create",
                "secret",
                "generic",
                "db",
                "--from-literal=password=REDACTED"
            ]
        );
        // Quotes around a header stay balanced.
        assert_eq!(
            r(&[
                "sh",
                "-c",
                "curl -H 'Authorization: Bearer x.y.z' https://api"
            ]),
            ["sh", "-c", "curl -H 'Authorization: REDACTED' https://api"]
        );
        // A shell script keeps its shape.
        assert_eq!(
            r(&["sh", "-c", "mysql --password=S3cret -e 'select 1'; echo ok"]),
            [
                "sh",
                "-c",
                "mysql --password=REDACTED -e 'select 1'; echo ok"
            ]
        );
    }

    #[test]
    fn ordinary_command_lines_are_borrowed_unchanged() {
        for args in [
            vec!["sh", "-c", "echo hello; sleep 1; echo bye"],
            vec!["nc", "-l", "-p", "5555", "-e", "sh"],
            vec!["curl", "http://203.0.113.7/x"],
            vec!["apt-get", "install", "curl"],
            vec!["passwd"],
            vec!["mysql", "-p"],
            vec!["sh", "-c", "cd $PWD && OLDPWD=/tmp ls"],
        ] {
            let owned: Vec<String> = args.iter().map(|s| s.to_string()).collect();
            assert!(matches!(redact_args(&owned), Cow::Borrowed(_)), "{args:?}");
        }
    }
}
