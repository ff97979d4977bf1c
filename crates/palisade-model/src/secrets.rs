//! Recognising credentials: by the name they are stored under (an environment variable, a
//! ConfigMap key, an image's `ENV`) and by the shape of the value. One module for every check
//! and fact that looks for secrets, so they agree. Values are inspected, never returned: the
//! functions answer with a description of the kind of credential only.

/// Words that make a name a credential's, matched against the name's words (split at `_`, `-`,
/// `.`, spaces and lower-to-upper case changes, compared case-insensitively).
const SECRET_WORDS: [&str; 12] = [
    "password",
    "passwd",
    "pwd",
    "passphrase",
    "secret",
    "token",
    "credential",
    "credentials",
    "apikey",
    "privatekey",
    "accesskey",
    "sas",
];

/// The last words of names that point at a credential instead of holding one
/// (`DB_PASSWORD_FILE`, `API_TOKEN_PATH`, `SECRET_NAME`), or hold a public part of it.
const POINTER_WORDS: [&str; 14] = [
    "file", "path", "dir", "name", "user", "username", "url", "template", "ref", "id", "type",
    "length", "version", "public",
];

/// Splits a name into lower-case words at separators and case changes (`azureBatchKey` and
/// `AZURE_BATCH_KEY` both give `azure`, `batch`, `key`).
fn words(name: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut previous_lower = false;
    for c in name.chars() {
        if !c.is_alphanumeric() {
            if !current.is_empty() {
                out.push(std::mem::take(&mut current));
            }
            previous_lower = false;
            continue;
        }
        if c.is_uppercase() && previous_lower && !current.is_empty() {
            out.push(std::mem::take(&mut current));
        }
        previous_lower = c.is_lowercase() || c.is_ascii_digit();
        current.extend(c.to_lowercase());
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// Whether a name (environment variable, ConfigMap or Secret key) says it holds a credential:
/// one of its words is a credential word (`password`, `pwd`, `token`, `secret`, …), or `key`
/// comes after another word (`AZURE_BATCH_KEY`, `OCI_CLI_KEY_CONTENT`, `stripeKey`), and the
/// name does not end in a word that makes it a pointer (`…_FILE`, `…_PATH`, `…_NAME`, `…_ID`).
pub fn is_credential_name(name: &str) -> bool {
    let words = words(name);
    let Some(last) = words.last() else {
        return false;
    };
    if POINTER_WORDS.contains(&last.as_str()) {
        return false;
    }
    let joined: String = words.concat();
    words.iter().any(|w| SECRET_WORDS.contains(&w.as_str()))
        || [
            "apikey",
            "privatekey",
            "accesskey",
            "clientsecret",
            "authkey",
        ]
        .iter()
        .any(|j| joined.contains(j))
        || words.iter().skip(1).any(|w| w == "key" || w == "keys")
}

/// The kind of credential a value has the form of (`a private key`, `an AWS access key ID`, …),
/// from the formats' published prefixes and shapes. The value is never returned or copied.
pub fn credential_value_kind(value: &str) -> Option<&'static str> {
    let v = value.trim();
    if v.contains("-----BEGIN") && v.contains("PRIVATE KEY") {
        return Some("a private key");
    }
    if v.contains("\"private_key\"") && v.contains("\"client_email\"") {
        return Some("a Google service account key");
    }
    let upper_alnum = |s: &str| {
        s.bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
    };
    let aws_key_id = |w: &str| {
        w.len() == 20
            && ["AKIA", "ASIA", "AGPA", "AIDA", "AROA"]
                .iter()
                .any(|p| w.starts_with(p))
            && upper_alnum(w)
    };
    if v.split(|c: char| !c.is_ascii_alphanumeric())
        .any(aws_key_id)
    {
        return Some("an AWS access key ID");
    }
    if (v.contains("AccountKey=") || v.contains("SharedAccessKey="))
        && v.contains("EndpointSuffix=")
        || v.contains("SharedAccessSignature=")
    {
        return Some("an Azure connection string");
    }
    const PREFIXES: [(&str, usize, &str); 16] = [
        ("ghp_", 36, "a GitHub token"),
        ("gho_", 36, "a GitHub token"),
        ("ghs_", 36, "a GitHub token"),
        ("ghu_", 36, "a GitHub token"),
        ("ghr_", 36, "a GitHub token"),
        ("github_pat_", 40, "a GitHub token"),
        ("glpat-", 20, "a GitLab token"),
        ("xoxb-", 20, "a Slack token"),
        ("xoxp-", 20, "a Slack token"),
        ("xoxa-", 20, "a Slack token"),
        ("sk_live_", 20, "a Stripe live key"),
        ("rk_live_", 20, "a Stripe live key"),
        ("npm_", 36, "an npm token"),
        ("pypi-", 50, "a PyPI token"),
        ("hf_", 30, "a Hugging Face token"),
        ("dop_v1_", 64, "a DigitalOcean token"),
    ];
    for (prefix, min_len, kind) in PREFIXES {
        if v.starts_with(prefix)
            && v.len() >= min_len
            && v[prefix.len()..]
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        {
            return Some(kind);
        }
    }
    if v.starts_with("AIza") && v.len() == 39 {
        return Some("a Google API key");
    }
    if v.starts_with("SG.") && v.len() == 69 {
        return Some("a SendGrid API key");
    }
    if v.starts_with("AGE-SECRET-KEY-1") {
        return Some("an age private key");
    }
    let parts: Vec<&str> = v.split('.').collect();
    if parts.len() == 3
        && v.starts_with("eyJ")
        && parts[1].starts_with("eyJ")
        && parts[2].len() > 10
    {
        return Some("a JSON Web Token");
    }
    if url_with_password(v) {
        return Some("a URL with an embedded password");
    }
    None
}

/// `scheme://user:password@host…` with a literal (not `$(VAR)`) password.
fn url_with_password(v: &str) -> bool {
    let Some(idx) = v.find("://") else {
        return false;
    };
    let rest = &v[idx + 3..];
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    match authority.rsplit_once('@') {
        Some((userinfo, _)) => userinfo.split_once(':').is_some_and(|(_, pw)| {
            !pw.is_empty() && !pw.starts_with("$(") && !pw.starts_with("${")
        }),
        None => false,
    }
}

/// Whether a literal value is a placeholder rather than a secret (empty, a variable reference,
/// a path, a boolean-like word).
pub fn is_placeholder(value: &str) -> bool {
    let t = value.trim();
    t.is_empty()
        || t.starts_with("$(")
        || t.starts_with("${")
        || t.starts_with('/')
        || matches!(
            t.to_ascii_lowercase().as_str(),
            "true" | "false" | "yes" | "no" | "none" | "null" | "changeme"
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_hold_credentials() {
        for name in [
            "DB_PASSWORD",
            "db-password",
            "PWD_HASH_SALT",
            "AZURE_BATCH_KEY",
            "azure_batch_key",
            "AzureBatchKey",
            "OCI_CLI_KEY_CONTENT",
            "api_key",
            "apiKey",
            "GITHUB_TOKEN",
            "client_secret",
            "AWS_SECRET_ACCESS_KEY",
            "STORAGE_ACCOUNT_KEY",
            "sas_token",
            "SSH_PRIVATE_KEY",
            "credentials.json",
        ] {
            assert!(is_credential_name(name), "{name}");
        }
        for name in [
            "DB_PASSWORD_FILE",
            "TOKEN_PATH",
            "SECRET_NAME",
            "AWS_ACCESS_KEY_ID",
            "SSH_PUBLIC_KEY_PUBLIC",
            "KEY",
            "MONKEY",
            "KEYCLOAK_URL",
            "LOG_LEVEL",
            "PATH",
            "HOME",
            "",
        ] {
            assert!(!is_credential_name(name), "{name}");
        }
    }

    #[test]
    fn values_with_credential_shapes() {
        for (value, kind) in [
            ("-----BEGIN RSA PRIVATE KEY-----\nMIIB…", "a private key"),
            ("-----BEGIN OPENSSH PRIVATE KEY-----", "a private key"),
            ("AKIAIOSFODNN7EXAMPLE", "an AWS access key ID"),
            ("export AWS=AKIAIOSFODNN7EXAMPLE;", "an AWS access key ID"),
            ("ghp_0123456789abcdefghijABCDEFGHIJ012345", "a GitHub token"),
            (
                "postgres://app:s3cr3t@db:5432/app",
                "a URL with an embedded password",
            ),
            (
                "DefaultEndpointsProtocol=https;AccountName=x;AccountKey=abc==;EndpointSuffix=core.windows.net",
                "an Azure connection string",
            ),
            (
                "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJlLXNpZ24",
                "a JSON Web Token",
            ),
            (
                "{\"type\": \"service_account\", \"private_key\": \"…\", \"client_email\": \"x@y\"}",
                "a Google service account key",
            ),
        ] {
            assert_eq!(credential_value_kind(value), Some(kind), "{value}");
        }
        for value in [
            "postgres://app@db:5432/app",
            "http://$(USER):$(PASS)@x",
            "hello world",
            "AKIA",
            "ghp_short",
            "https://example.com/a:b@c",
        ] {
            assert_eq!(credential_value_kind(value), None, "{value}");
        }
    }
}
