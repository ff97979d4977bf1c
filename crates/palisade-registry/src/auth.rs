//! Where credentials come from: explicit options, a docker `config.json` (including credential
//! helpers, through `docker_credential`), or none (anonymous; the client still performs the
//! anonymous bearer-token dance when a registry asks for it).

use std::path::PathBuf;

use oci_client::secrets::RegistryAuth;

/// How to authenticate.
#[derive(Debug, Clone, Default)]
pub enum AuthSource {
    /// Look the registry up in the docker config (`$DOCKER_CONFIG/config.json` or
    /// `~/.docker/config.json`); anonymous when absent.
    #[default]
    DockerConfig,
    /// Look the registry up in this docker config file.
    DockerConfigFile(PathBuf),
    /// Username and password (basic auth, exchanged for a token when the registry uses tokens).
    Basic {
        /// Username.
        username: String,
        /// Password.
        password: String,
    },
    /// A ready bearer token.
    Bearer(String),
    /// No credentials.
    Anonymous,
}

/// The key docker uses for a registry in `config.json`.
fn config_key(registry: &str) -> String {
    match registry {
        "docker.io" | "index.docker.io" | "registry-1.docker.io" => {
            "https://index.docker.io/v1/".into()
        }
        other => other.to_string(),
    }
}

fn from_credential(c: docker_credential::DockerCredential) -> RegistryAuth {
    match c {
        docker_credential::DockerCredential::UsernamePassword(u, p) => RegistryAuth::Basic(u, p),
        docker_credential::DockerCredential::IdentityToken(t) => RegistryAuth::Bearer(t),
    }
}

/// Resolves the credentials for `registry`. A missing config file or entry means anonymous; an
/// unreadable or malformed config is an error naming the file.
pub fn resolve(source: &AuthSource, registry: &str) -> Result<RegistryAuth, String> {
    let key = config_key(registry);
    match source {
        AuthSource::Anonymous => Ok(RegistryAuth::Anonymous),
        AuthSource::Basic { username, password } => {
            Ok(RegistryAuth::Basic(username.clone(), password.clone()))
        }
        AuthSource::Bearer(t) => Ok(RegistryAuth::Bearer(t.clone())),
        AuthSource::DockerConfigFile(path) => {
            let file = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
            match docker_credential::get_credential_from_reader(file, &key) {
                Ok(c) => Ok(from_credential(c)),
                Err(docker_credential::CredentialRetrievalError::NoCredentialConfigured) => {
                    Ok(RegistryAuth::Anonymous)
                }
                Err(e) => Err(format!("{}: {e}", path.display())),
            }
        }
        AuthSource::DockerConfig => match docker_credential::get_credential(&key) {
            Ok(c) => Ok(from_credential(c)),
            Err(
                docker_credential::CredentialRetrievalError::NoCredentialConfigured
                | docker_credential::CredentialRetrievalError::ConfigNotFound
                | docker_credential::CredentialRetrievalError::ConfigReadError,
            ) => Ok(RegistryAuth::Anonymous),
            Err(e) => Err(format!("docker config: {e}")),
        },
    }
}
