//! A test Sigstore (feature `testing`, and this crate's own tests; never in a build): a
//! Fulcio-like CA, a Rekor-like log key and a CT log key generated in the test (rcgen), the
//! `trusted_root.json` naming them, and keyless signatures they vouch for, in both layouts:
//!
//! - [`TestSigstore::image_bundle`]: a bundle (v0.3, DSSE in-toto statement over an image
//!   digest) with a log entry, its inclusion proof, checkpoint and signed entry timestamp;
//! - [`TestSigstore::classic`]: cosign's classic keyless layer (simple-signing payload with
//!   signature, certificate, chain and Rekor bundle annotations).
//!
//! Signing certificates are issued to a fresh key with the identity (SAN URI), the OIDC issuer
//! extension, digitalSignature and code-signing usage, and an SCT from the CT log.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use rcgen::{
    BasicConstraints, CertificateParams, CustomExtension, ExtendedKeyUsagePurpose, IsCa, Issuer,
    KeyPair, KeyUsagePurpose, SanType, SerialNumber,
};
use serde_json::json;
use sha2::{Digest, Sha256};
use time::{Duration, OffsetDateTime};

use crate::bundle::{IN_TOTO_PAYLOAD_TYPE, pae};
use crate::classic::{
    ClassicSignature, Descriptor, SIGNATURE_ANNOTATION, SIMPLE_SIGNING_MEDIA_TYPE,
};
use crate::keys::{KeyAlgorithm, hex, sha256_digest};
use crate::payload::simple_signing_payload;
use crate::private::SigningKey;
use crate::sigstore::classic_keyless::{
    BUNDLE_ANNOTATION, CERTIFICATE_ANNOTATION, CHAIN_ANNOTATION,
};
use crate::sigstore::der::{Tlv, encode};
use crate::sigstore::merkle::leaf_hash;

/// The host name the test log signs checkpoints with.
pub const LOG_HOST: &str = "rekor.test.invalid";

/// The SubjectPublicKeyInfo of a certificate (DER).
fn spki_of(cert: &[u8]) -> Vec<u8> {
    let tbs = Tlv::parse_all(cert).unwrap().children().unwrap()[0];
    tbs.children().unwrap()[6].raw.to_vec()
}

fn pem(der: &[u8]) -> String {
    pem_rfc7468::encode_string("CERTIFICATE", pem_rfc7468::LineEnding::LF, der).unwrap()
}

fn now() -> i64 {
    OffsetDateTime::now_utc().unix_timestamp()
}

/// How a signing certificate is issued (the default is what Fulcio issues).
#[derive(Debug, Clone, Copy)]
pub struct LeafOptions {
    /// The code-signing extended key usage.
    pub code_signing: bool,
}

impl Default for LeafOptions {
    fn default() -> Self {
        LeafOptions { code_signing: true }
    }
}

/// How a classic keyless signature is made (the default: everything as cosign and the test
/// Sigstore would make it, now).
#[derive(Debug, Clone, Default)]
pub struct ClassicOptions<'a> {
    /// The signing certificate.
    pub leaf: LeafOptions,
    /// The integrated time of the log entry (Unix seconds); now when `None`.
    pub integrated_time: Option<i64>,
    /// A log key other than the root's that logs the entry and signs the SET.
    pub log: Option<&'a SigningKey>,
}

/// A classic keyless signature: the payload layer's bytes and its annotations.
#[derive(Debug, Clone)]
pub struct ClassicKeyless {
    /// The simple-signing payload.
    pub payload: Vec<u8>,
    /// The layer annotations (signature, certificate, chain, bundle).
    pub annotations: BTreeMap<String, String>,
}

impl ClassicKeyless {
    /// The layer as the `.sig` manifest lists it.
    pub fn signature(&self) -> ClassicSignature {
        ClassicSignature {
            signature_b64: self.annotations.get(SIGNATURE_ANNOTATION).cloned(),
            layer: Descriptor {
                media_type: SIMPLE_SIGNING_MEDIA_TYPE.into(),
                digest: sha256_digest(&self.payload),
                size: self.payload.len() as u64,
                annotations: self.annotations.clone(),
            },
        }
    }
}

/// A log entry: its body, the log's ID and the signed entry timestamp.
struct Logged {
    body_b64: String,
    log_id: Vec<u8>,
    time: i64,
    set: Vec<u8>,
}

/// The test authorities.
pub struct TestSigstore {
    ca: Issuer<'static, KeyPair>,
    ca_der: Vec<u8>,
    log: SigningKey,
    ct: SigningKey,
}

impl Default for TestSigstore {
    fn default() -> Self {
        TestSigstore::new()
    }
}

impl TestSigstore {
    /// Fresh keys and a CA as Fulcio's (basicConstraints cA, keyCertSign).
    pub fn new() -> TestSigstore {
        TestSigstore::with_ca_usages(&[KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign])
    }

    /// Fresh keys and a CA certificate with these key usages.
    pub fn with_ca_usages(usages: &[KeyUsagePurpose]) -> TestSigstore {
        let ca_key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = usages.to_vec();
        params.not_before = OffsetDateTime::now_utc() - Duration::days(1);
        params.not_after = OffsetDateTime::now_utc() + Duration::days(365);
        let ca_der = params.self_signed(&ca_key).unwrap().der().to_vec();
        TestSigstore {
            ca: Issuer::new(params, ca_key),
            ca_der,
            log: SigningKey::generate(KeyAlgorithm::EcdsaP256).unwrap(),
            ct: SigningKey::generate(KeyAlgorithm::EcdsaP256).unwrap(),
        }
    }

    /// The trusted root naming the CA, the log and the CT log.
    pub fn trusted_root(&self) -> String {
        let key = |k: &SigningKey, url: &str| {
            json!({
                "baseUrl": url,
                "hashAlgorithm": "SHA2_256",
                "publicKey": {
                    "rawBytes": B64.encode(k.public_key().spki_der()),
                    "keyDetails": "PKIX_ECDSA_P256_SHA_256",
                    "validFor": {"start": "2020-01-01T00:00:00Z"},
                },
                "logId": {"keyId": B64.encode(Sha256::digest(k.public_key().spki_der()))},
            })
        };
        json!({
            "mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
            "tlogs": [key(&self.log, &format!("https://{LOG_HOST}"))],
            "ctlogs": [key(&self.ct, "https://ct.test.invalid")],
            "certificateAuthorities": [{
                "subject": {"organization": "test", "commonName": "test-fulcio"},
                "uri": "https://fulcio.test.invalid",
                "certChain": {"certificates": [{"rawBytes": B64.encode(&self.ca_der)}]},
                "validFor": {"start": "2020-01-01T00:00:00Z"},
            }],
            "timestampAuthorities": [],
        })
        .to_string()
    }

    /// A certificate for `key` with `identity` (SAN URI) and `issuer`, valid from a minute ago
    /// for ten minutes, with an SCT.
    pub fn certificate(
        &self,
        key: &KeyPair,
        identity: &str,
        issuer: &str,
        options: LeafOptions,
    ) -> Vec<u8> {
        let now = OffsetDateTime::now_utc();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.subject_alt_names = vec![SanType::URI(identity.try_into().unwrap())];
        params.serial_number = Some(SerialNumber::from(vec![0x42, 0x17]));
        params.not_before = now - Duration::minutes(1);
        params.not_after = now + Duration::minutes(10);
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        if options.code_signing {
            params.extended_key_usages = vec![ExtendedKeyUsagePurpose::CodeSigning];
        }
        params.custom_extensions = vec![CustomExtension::from_oid_content(
            &[1, 3, 6, 1, 4, 1, 57264, 1, 8],
            encode(0x0c, issuer.as_bytes()),
        )];
        // The precertificate: the same certificate without the SCT extension.
        let pre = params.signed_by(key, &self.ca).unwrap().der().to_vec();
        let tbs = Tlv::parse_all(&pre).unwrap().children().unwrap()[0]
            .raw
            .to_vec();
        let timestamp = (now.unix_timestamp() as u64) * 1000;
        let mut signed = vec![0u8, 0];
        signed.extend(timestamp.to_be_bytes());
        signed.extend([0, 1]);
        signed.extend(Sha256::digest(spki_of(&self.ca_der)));
        signed.extend(&(tbs.len() as u32).to_be_bytes()[1..]);
        signed.extend(&tbs);
        signed.extend([0, 0]);
        let sig = self.ct.sign(&signed);
        let mut sct = vec![0u8];
        sct.extend(Sha256::digest(self.ct.public_key().spki_der()));
        sct.extend(timestamp.to_be_bytes());
        sct.extend([0, 0, 4, 3]);
        sct.extend((sig.len() as u16).to_be_bytes());
        sct.extend(&sig);
        let mut list = ((sct.len() + 2) as u16).to_be_bytes().to_vec();
        list.extend((sct.len() as u16).to_be_bytes());
        list.extend(&sct);
        params
            .custom_extensions
            .push(CustomExtension::from_oid_content(
                &[1, 3, 6, 1, 4, 1, 11129, 2, 4, 2],
                encode(0x04, &list),
            ));
        params.signed_by(key, &self.ca).unwrap().der().to_vec()
    }

    /// A fresh signing key and its certificate.
    fn signer(&self, identity: &str, issuer: &str, options: LeafOptions) -> (SigningKey, Vec<u8>) {
        let key_pair = KeyPair::generate().unwrap();
        let signer = SigningKey::from_pkcs8_der(&key_pair.serialize_der(), "test key").unwrap();
        let cert = self.certificate(&key_pair, identity, issuer, options);
        (signer, cert)
    }

    /// `body` logged at index 0 by `log` (the root's log unless given) at `time`, with the
    /// signed entry timestamp over the canonical JSON of body, time, log ID and index.
    fn log_entry(&self, body: &str, time: i64, log: Option<&SigningKey>) -> Logged {
        let log = log.unwrap_or(&self.log);
        let body_b64 = B64.encode(body);
        let log_id = Sha256::digest(log.public_key().spki_der()).to_vec();
        let set_payload = format!(
            r#"{{"body":"{body_b64}","integratedTime":{time},"logID":"{}","logIndex":0}}"#,
            hex(&log_id)
        );
        Logged {
            set: log.sign(set_payload.as_bytes()),
            body_b64,
            log_id,
            time,
        }
    }

    /// A keyless bundle (v0.3, DSSE in-toto statement) for the image `digest`, signed by
    /// `identity` from `issuer`.
    pub fn image_bundle(&self, digest: &str, identity: &str, issuer: &str) -> Vec<u8> {
        let (signer, cert) = self.signer(identity, issuer, LeafOptions::default());
        let statement = json!({
            "_type": "https://in-toto.io/Statement/v1",
            "subject": [{"name": "image", "digest": {"sha256": digest.trim_start_matches("sha256:")}}],
            "predicateType": "https://sigstore.dev/cosign/sign/v1",
            "predicate": {},
        });
        let payload = serde_json::to_vec(&statement).unwrap();
        let sig = signer.sign(&pae(IN_TOTO_PAYLOAD_TYPE, &payload));
        let body = json!({
            "apiVersion": "0.0.1",
            "kind": "dsse",
            "spec": {
                "payloadHash": {"algorithm": "sha256", "value": hex(&Sha256::digest(&payload))},
                "signatures": [{"signature": B64.encode(&sig), "verifier": B64.encode(pem(&cert))}],
            },
        })
        .to_string();
        let logged = self.log_entry(&body, now(), None);
        let root = leaf_hash(body.as_bytes());
        let note = format!("{LOG_HOST} - 1\n1\n{}\n", B64.encode(root));
        let mut note_sig = logged.log_id[..4].to_vec();
        note_sig.extend(self.log.sign(note.as_bytes()));
        let checkpoint = format!("{note}\n— {LOG_HOST} {}\n", B64.encode(note_sig));
        let bundle = json!({
            "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
            "verificationMaterial": {
                "certificate": {"rawBytes": B64.encode(&cert)},
                "tlogEntries": [{
                    "logIndex": "0",
                    "logId": {"keyId": B64.encode(&logged.log_id)},
                    "kindVersion": {"kind": "dsse", "version": "0.0.1"},
                    "integratedTime": logged.time.to_string(),
                    "inclusionPromise": {"signedEntryTimestamp": B64.encode(&logged.set)},
                    "inclusionProof": {
                        "logIndex": "0",
                        "rootHash": B64.encode(root),
                        "treeSize": "1",
                        "hashes": [],
                        "checkpoint": {"envelope": checkpoint},
                    },
                    "canonicalizedBody": logged.body_b64,
                }],
            },
            "dsseEnvelope": {
                "payload": B64.encode(&payload),
                "payloadType": IN_TOTO_PAYLOAD_TYPE,
                "signatures": [{"sig": B64.encode(&sig)}],
            },
        });
        serde_json::to_vec(&bundle).unwrap()
    }

    /// A classic keyless signature (cosign without `--new-bundle-format`) of the image
    /// `digest` in `repository`, signed by `identity` from `issuer`.
    pub fn classic(
        &self,
        repository: &str,
        digest: &str,
        identity: &str,
        issuer: &str,
    ) -> ClassicKeyless {
        self.classic_with(
            repository,
            digest,
            identity,
            issuer,
            &ClassicOptions::default(),
        )
    }

    /// [`TestSigstore::classic`] made as `options` say.
    pub fn classic_with(
        &self,
        repository: &str,
        digest: &str,
        identity: &str,
        issuer: &str,
        options: &ClassicOptions<'_>,
    ) -> ClassicKeyless {
        let (signer, cert) = self.signer(identity, issuer, options.leaf);
        let payload = simple_signing_payload(repository, digest, None);
        let sig = signer.sign(&payload);
        let body = json!({
            "apiVersion": "0.0.1",
            "kind": "hashedrekord",
            "spec": {
                "data": {"hash": {"algorithm": "sha256", "value": hex(&Sha256::digest(&payload))}},
                "signature": {
                    "content": B64.encode(&sig),
                    "publicKey": {"content": B64.encode(pem(&cert))},
                },
            },
        })
        .to_string();
        let logged = self.log_entry(
            &body,
            options.integrated_time.unwrap_or_else(now),
            options.log,
        );
        let bundle = json!({
            "SignedEntryTimestamp": B64.encode(&logged.set),
            "Payload": {
                "body": logged.body_b64,
                "integratedTime": logged.time,
                "logIndex": 0,
                "logID": hex(&logged.log_id),
            },
        });
        ClassicKeyless {
            payload,
            annotations: BTreeMap::from([
                (SIGNATURE_ANNOTATION.to_string(), B64.encode(&sig)),
                (CERTIFICATE_ANNOTATION.to_string(), pem(&cert)),
                (CHAIN_ANNOTATION.to_string(), pem(&self.ca_der)),
                (BUNDLE_ANNOTATION.to_string(), bundle.to_string()),
            ]),
        }
    }
}
