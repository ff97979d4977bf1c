//! Private keys: cosign's encrypted key file and plain PKCS #8, signing, and creation of
//! encrypted key pairs.
//!
//! # cosign's encrypted private key format
//!
//! A PEM block labelled `ENCRYPTED SIGSTORE PRIVATE KEY` (cosign ≥ 2) or `ENCRYPTED COSIGN
//! PRIVATE KEY` (cosign 1) whose body is a JSON document:
//!
//! ```json
//! {"kdf":{"name":"scrypt","params":{"N":32768,"r":8,"p":1},"salt":"<base64, 32 bytes>"},
//!  "cipher":{"name":"nacl/secretbox","nonce":"<base64, 24 bytes>"},
//!  "ciphertext":"<base64>"}
//! ```
//!
//! The 32-byte secretbox key is `scrypt(password, salt, N, r, p)`; the ciphertext is NaCl
//! `secretbox` (XSalsa20-Poly1305, 16-byte tag first) of the PKCS #8 DER private key. The
//! password comes from `COSIGN_PASSWORD` at the edges (may be empty).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use crypto_secretbox::aead::{Aead, KeyInit};
use ecdsa::signature::Signer as _;
use pkcs8::{DecodePrivateKey, EncodePrivateKey};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use spki::EncodePublicKey;

use crate::TrustError;
use crate::keys::{KeyAlgorithm, PublicKey, first_pem_block};

/// PEM label of cosign ≥ 2 encrypted private keys.
pub const SIGSTORE_PRIVATE_KEY_LABEL: &str = "ENCRYPTED SIGSTORE PRIVATE KEY";
/// PEM label of cosign 1 encrypted private keys.
pub const COSIGN_PRIVATE_KEY_LABEL: &str = "ENCRYPTED COSIGN PRIVATE KEY";

/// Largest scrypt memory cost accepted when decrypting (128 · r · N bytes): 512 MiB.
const MAX_SCRYPT_MEMORY: u64 = 512 << 20;

enum Inner {
    P256(p256::ecdsa::SigningKey),
    P384(p384::ecdsa::SigningKey),
    Rsa(Box<rsa::PrivateKey>),
    Ed25519(ed25519_dalek::SigningKey),
}

/// A private key that makes cosign signatures.
pub struct SigningKey {
    inner: Inner,
    public: PublicKey,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("public", &self.public)
            .finish_non_exhaustive()
    }
}

/// scrypt parameters of an encrypted key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScryptParams {
    /// CPU/memory cost (a power of two).
    #[serde(rename = "N")]
    pub n: u64,
    /// Block size.
    pub r: u32,
    /// Parallelism.
    pub p: u32,
}

impl ScryptParams {
    /// What cosign writes (`N` = 32768, `r` = 8, `p` = 1).
    pub const COSIGN: ScryptParams = ScryptParams {
        n: 32768,
        r: 8,
        p: 1,
    };
}

#[derive(Serialize, Deserialize)]
struct Envelope {
    kdf: Kdf,
    cipher: Cipher,
    ciphertext: String,
}

#[derive(Serialize, Deserialize)]
struct Kdf {
    name: String,
    params: ScryptParams,
    salt: String,
}

#[derive(Serialize, Deserialize)]
struct Cipher {
    name: String,
    nonce: String,
}

fn derive_key(
    password: &[u8],
    salt: &[u8],
    params: ScryptParams,
    what: &str,
) -> Result<[u8; 32], TrustError> {
    if !params.n.is_power_of_two() || params.n < 2 {
        return Err(TrustError::key(
            what,
            format!("scrypt N = {} is not a power of two", params.n),
        ));
    }
    let memory = 128u64
        .saturating_mul(u64::from(params.r))
        .saturating_mul(params.n);
    if memory > MAX_SCRYPT_MEMORY || params.p > 16 {
        return Err(TrustError::key(
            what,
            format!(
                "scrypt parameters N={} r={} p={} exceed the accepted cost",
                params.n, params.r, params.p
            ),
        ));
    }
    let log_n = params.n.trailing_zeros() as u8;
    let p = scrypt::Params::new(log_n, params.r, params.p)
        .map_err(|e| TrustError::key(what, format!("scrypt parameters: {e}")))?;
    let mut key = [0u8; 32];
    scrypt::scrypt(password, salt, &p, &mut key)
        .map_err(|e| TrustError::key(what, format!("scrypt: {e}")))?;
    Ok(key)
}

/// Decrypts the JSON body of a cosign encrypted key into the PKCS #8 DER it holds.
pub fn decrypt_envelope(json: &[u8], password: &[u8], what: &str) -> Result<Vec<u8>, TrustError> {
    let env: Envelope = serde_json::from_slice(json)
        .map_err(|e| TrustError::key(what, format!("encrypted key JSON: {e}")))?;
    if env.kdf.name != "scrypt" {
        return Err(TrustError::key(
            what,
            format!("unsupported kdf {:?} (expected scrypt)", env.kdf.name),
        ));
    }
    if env.cipher.name != "nacl/secretbox" {
        return Err(TrustError::key(
            what,
            format!(
                "unsupported cipher {:?} (expected nacl/secretbox)",
                env.cipher.name
            ),
        ));
    }
    let salt = B64
        .decode(&env.kdf.salt)
        .map_err(|e| TrustError::key(what, format!("kdf.salt: {e}")))?;
    let nonce = B64
        .decode(&env.cipher.nonce)
        .map_err(|e| TrustError::key(what, format!("cipher.nonce: {e}")))?;
    let nonce: [u8; 24] = nonce.as_slice().try_into().map_err(|_| {
        TrustError::key(
            what,
            format!("cipher.nonce: {} bytes, expected 24", nonce.len()),
        )
    })?;
    let ciphertext = B64
        .decode(&env.ciphertext)
        .map_err(|e| TrustError::key(what, format!("ciphertext: {e}")))?;
    let key = derive_key(password, &salt, env.kdf.params, what)?;
    let cipher = crypto_secretbox::XSalsa20Poly1305::new(&key.into());
    cipher
        .decrypt(&crypto_secretbox::Nonce::from(nonce), ciphertext.as_slice())
        .map_err(|_| {
            TrustError::key(
                what,
                "decryption failed: wrong password (COSIGN_PASSWORD) or corrupted key",
            )
        })
}

/// Encrypts PKCS #8 DER `plaintext` into cosign's JSON envelope.
pub fn encrypt_envelope(
    plaintext: &[u8],
    password: &[u8],
    params: ScryptParams,
) -> Result<Vec<u8>, TrustError> {
    let mut salt = [0u8; 32];
    let mut nonce = [0u8; 24];
    random(&mut salt)?;
    random(&mut nonce)?;
    let key = derive_key(password, &salt, params, "new key")?;
    let cipher = crypto_secretbox::XSalsa20Poly1305::new(&key.into());
    let ciphertext = cipher
        .encrypt(&crypto_secretbox::Nonce::from(nonce), plaintext)
        .map_err(|_| TrustError::Artifact("secretbox encryption failed".into()))?;
    let env = Envelope {
        kdf: Kdf {
            name: "scrypt".into(),
            params,
            salt: B64.encode(salt),
        },
        cipher: Cipher {
            name: "nacl/secretbox".into(),
            nonce: B64.encode(nonce),
        },
        ciphertext: B64.encode(ciphertext),
    };
    serde_json::to_vec(&env).map_err(|e| TrustError::Artifact(e.to_string()))
}

fn random(buf: &mut [u8]) -> Result<(), TrustError> {
    getrandom::fill(buf).map_err(|e| TrustError::Artifact(format!("system random source: {e}")))
}

impl SigningKey {
    /// Reads a private key PEM: cosign's encrypted formats (decrypted with `password`) or an
    /// unencrypted PKCS #8 `PRIVATE KEY` block. `what` names the source in errors.
    pub fn from_pem(pem: &[u8], password: &[u8], what: &str) -> Result<SigningKey, TrustError> {
        let (label, body) = first_pem_block(pem, what)?;
        let der = match label.as_str() {
            SIGSTORE_PRIVATE_KEY_LABEL | COSIGN_PRIVATE_KEY_LABEL => {
                decrypt_envelope(&body, password, what)?
            }
            "PRIVATE KEY" => body,
            other => {
                return Err(TrustError::key(
                    what,
                    format!(
                        "unsupported PEM block {other} (expected {SIGSTORE_PRIVATE_KEY_LABEL}, {COSIGN_PRIVATE_KEY_LABEL} or PRIVATE KEY)"
                    ),
                ));
            }
        };
        SigningKey::from_pkcs8_der(&der, what)
    }

    /// Reads a PKCS #8 DER private key.
    pub fn from_pkcs8_der(der: &[u8], what: &str) -> Result<SigningKey, TrustError> {
        let inner = if let Ok(k) = p256::ecdsa::SigningKey::from_pkcs8_der(der) {
            Inner::P256(k)
        } else if let Ok(k) = p384::ecdsa::SigningKey::from_pkcs8_der(der) {
            Inner::P384(k)
        } else if let Ok(k) = ed25519_dalek::SigningKey::from_pkcs8_der(der) {
            Inner::Ed25519(k)
        } else if let Ok(k) = rsa::PrivateKey::from_pkcs8_der(der) {
            Inner::Rsa(Box::new(k))
        } else {
            return Err(TrustError::key(
                what,
                "unsupported or malformed PKCS #8 private key (expected ECDSA P-256/P-384, RSA or Ed25519)",
            ));
        };
        SigningKey::from_inner(inner, what)
    }

    fn from_inner(inner: Inner, what: &str) -> Result<SigningKey, TrustError> {
        let spki = match &inner {
            Inner::P256(k) => k.verifying_key().to_public_key_der(),
            Inner::P384(k) => k.verifying_key().to_public_key_der(),
            Inner::Ed25519(k) => k.verifying_key().to_public_key_der(),
            Inner::Rsa(k) => k.to_public_key().to_public_key_der(),
        }
        .map_err(|e| TrustError::key(what, format!("public key encoding: {e}")))?;
        let public = PublicKey::from_spki_der(spki.as_bytes(), what)?;
        Ok(SigningKey { inner, public })
    }

    /// The matching public key.
    pub fn public_key(&self) -> &PublicKey {
        &self.public
    }

    /// Signs `message` the way cosign does: ECDSA P-256/SHA-256 or P-384/SHA-384 with an ASN.1
    /// DER signature, RSA PKCS #1 v1.5 with SHA-256, or pure Ed25519.
    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        match &self.inner {
            Inner::P256(k) => {
                let sig: p256::ecdsa::Signature = k.sign(message);
                sig.to_der().as_bytes().to_vec()
            }
            Inner::P384(k) => {
                let sig: p384::ecdsa::Signature = k.sign(message);
                sig.to_der().as_bytes().to_vec()
            }
            Inner::Rsa(k) => {
                let signer = rsa::pkcs1v15::SigningKey::<Sha256>::new((**k).clone());
                let sig: rsa::pkcs1v15::Signature = signer.sign(message);
                Box::<[u8]>::from(sig).into_vec()
            }
            Inner::Ed25519(k) => k.sign(message).to_bytes().to_vec(),
        }
    }

    /// PKCS #8 DER of the private key.
    fn to_pkcs8_der(&self) -> Result<Vec<u8>, TrustError> {
        let doc = match &self.inner {
            Inner::P256(k) => k.to_pkcs8_der(),
            Inner::P384(k) => k.to_pkcs8_der(),
            Inner::Ed25519(k) => k.to_pkcs8_der(),
            Inner::Rsa(k) => k.to_pkcs8_der(),
        }
        .map_err(|e| TrustError::Artifact(format!("PKCS #8 encoding: {e}")))?;
        Ok(doc.as_bytes().to_vec())
    }

    /// This key in cosign's encrypted format (`ENCRYPTED SIGSTORE PRIVATE KEY` PEM).
    pub fn to_encrypted_pem(
        &self,
        password: &[u8],
        params: ScryptParams,
    ) -> Result<String, TrustError> {
        let der = self.to_pkcs8_der()?;
        let json = encrypt_envelope(&der, password, params)?;
        pem_rfc7468::encode_string(
            SIGSTORE_PRIVATE_KEY_LABEL,
            pem_rfc7468::LineEnding::LF,
            &json,
        )
        .map_err(|e| TrustError::Artifact(format!("PEM encoding: {e}")))
    }

    /// A new random key (ECDSA P-256 is cosign's default). RSA keys are not generated here:
    /// import one made by another tool with [`SigningKey::from_pem`].
    pub fn generate(algorithm: KeyAlgorithm) -> Result<SigningKey, TrustError> {
        for _ in 0..16 {
            let inner = match algorithm {
                KeyAlgorithm::EcdsaP256 => {
                    let mut b = [0u8; 32];
                    random(&mut b)?;
                    match p256::ecdsa::SigningKey::from_slice(&b) {
                        Ok(k) => Inner::P256(k),
                        Err(_) => continue,
                    }
                }
                KeyAlgorithm::EcdsaP384 => {
                    let mut b = [0u8; 48];
                    random(&mut b)?;
                    match p384::ecdsa::SigningKey::from_slice(&b) {
                        Ok(k) => Inner::P384(k),
                        Err(_) => continue,
                    }
                }
                KeyAlgorithm::Ed25519 => {
                    let mut b = [0u8; 32];
                    random(&mut b)?;
                    Inner::Ed25519(ed25519_dalek::SigningKey::from_bytes(&b))
                }
                KeyAlgorithm::Rsa => {
                    return Err(TrustError::Artifact(
                        "RSA key generation is not supported; import a PKCS #8 RSA key".into(),
                    ));
                }
            };
            return SigningKey::from_inner(inner, "new key");
        }
        Err(TrustError::Artifact(
            "could not draw a valid private scalar".into(),
        ))
    }
}

/// A cosign key pair as files hold it.
#[derive(Debug, Clone)]
pub struct KeyPair {
    /// `cosign.key`: the encrypted private key PEM.
    pub private_pem: String,
    /// `cosign.pub`: the public key PEM.
    pub public_pem: String,
    /// Fingerprint of the public key.
    pub fingerprint: String,
}

/// Creates a key pair in cosign's formats (what `cosign generate-key-pair` writes), encrypted
/// with `password`.
pub fn generate_key_pair(
    algorithm: KeyAlgorithm,
    password: &[u8],
    params: ScryptParams,
) -> Result<KeyPair, TrustError> {
    let key = SigningKey::generate(algorithm)?;
    Ok(KeyPair {
        private_pem: key.to_encrypted_pem(password, params)?,
        public_pem: key.public_key().to_pem(),
        fingerprint: key.public_key().fingerprint(),
    })
}
