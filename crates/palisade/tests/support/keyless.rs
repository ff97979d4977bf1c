//! A test Sigstore: a Fulcio-like CA, a Rekor-like log key and a CT log key generated in the
//! test (rcgen), the `trusted_root.json` naming them, and keyless bundles they vouch for — a
//! DSSE in-toto statement over an image digest, signed with a fresh key whose certificate
//! carries the identity, an SCT, and a log entry with its inclusion proof, checkpoint and
//! signed entry timestamp.
#![allow(dead_code)]

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use palisade_trust::bundle::{IN_TOTO_PAYLOAD_TYPE, pae};
use palisade_trust::sigstore::der::{Tlv, encode};
use palisade_trust::sigstore::merkle::leaf_hash;
use palisade_trust::{KeyAlgorithm, SigningKey};
use rcgen::{
    BasicConstraints, CertificateParams, CustomExtension, IsCa, Issuer, KeyPair, SanType,
    SerialNumber,
};
use serde_json::json;
use sha2::{Digest, Sha256};
use time::{Duration, OffsetDateTime};

const LOG_HOST: &str = "rekor.test.invalid";

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The SubjectPublicKeyInfo of a certificate (DER).
fn spki_of(cert: &[u8]) -> Vec<u8> {
    let tbs = Tlv::parse_all(cert).unwrap().children().unwrap()[0];
    tbs.children().unwrap()[6].raw.to_vec()
}

/// The test authorities.
pub struct TestSigstore {
    ca: Issuer<'static, KeyPair>,
    ca_der: Vec<u8>,
    log: SigningKey,
    ct: SigningKey,
}

impl TestSigstore {
    /// Fresh keys and CA.
    pub fn new() -> TestSigstore {
        let ca_key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
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

    /// A certificate for `key` with `identity` (SAN URI) and `issuer`, with an SCT.
    fn certificate(&self, key: &KeyPair, identity: &str, issuer: &str) -> Vec<u8> {
        let now = OffsetDateTime::now_utc();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.subject_alt_names = vec![SanType::URI(identity.try_into().unwrap())];
        params.serial_number = Some(SerialNumber::from(vec![0x42, 0x17]));
        params.not_before = now - Duration::minutes(1);
        params.not_after = now + Duration::minutes(10);
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

    /// A keyless bundle (v0.3, DSSE in-toto statement) for the image `digest`, signed by
    /// `identity` from `issuer`.
    pub fn image_bundle(&self, digest: &str, identity: &str, issuer: &str) -> Vec<u8> {
        let key_pair = KeyPair::generate().unwrap();
        let signer = SigningKey::from_pkcs8_der(&key_pair.serialize_der(), "test key").unwrap();
        let cert = self.certificate(&key_pair, identity, issuer);
        let statement = json!({
            "_type": "https://in-toto.io/Statement/v1",
            "subject": [{"name": "image", "digest": {"sha256": digest.trim_start_matches("sha256:")}}],
            "predicateType": "https://sigstore.dev/cosign/sign/v1",
            "predicate": {},
        });
        let payload = serde_json::to_vec(&statement).unwrap();
        let sig = signer.sign(&pae(IN_TOTO_PAYLOAD_TYPE, &payload));
        let cert_pem = format!(
            "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
            B64.encode(&cert)
        );
        let body = json!({
            "apiVersion": "0.0.1",
            "kind": "dsse",
            "spec": {
                "payloadHash": {"algorithm": "sha256", "value": hex(&Sha256::digest(&payload))},
                "signatures": [{"signature": B64.encode(&sig), "verifier": B64.encode(cert_pem)}],
            },
        })
        .to_string();
        let body_b64 = B64.encode(&body);
        let log_id = Sha256::digest(self.log.public_key().spki_der());
        let root = leaf_hash(body.as_bytes());
        let note = format!("{LOG_HOST} - 1\n1\n{}\n", B64.encode(root));
        let mut note_sig = log_id[..4].to_vec();
        note_sig.extend(self.log.sign(note.as_bytes()));
        let checkpoint = format!("{note}\n— {LOG_HOST} {}\n", B64.encode(note_sig));
        let time = OffsetDateTime::now_utc().unix_timestamp();
        let set_payload = format!(
            r#"{{"body":"{body_b64}","integratedTime":{time},"logID":"{}","logIndex":0}}"#,
            hex(&log_id)
        );
        let bundle = json!({
            "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
            "verificationMaterial": {
                "certificate": {"rawBytes": B64.encode(&cert)},
                "tlogEntries": [{
                    "logIndex": "0",
                    "logId": {"keyId": B64.encode(log_id)},
                    "kindVersion": {"kind": "dsse", "version": "0.0.1"},
                    "integratedTime": time.to_string(),
                    "inclusionPromise": {"signedEntryTimestamp": B64.encode(self.log.sign(set_payload.as_bytes()))},
                    "inclusionProof": {
                        "logIndex": "0",
                        "rootHash": B64.encode(root),
                        "treeSize": "1",
                        "hashes": [],
                        "checkpoint": {"envelope": checkpoint},
                    },
                    "canonicalizedBody": body_b64,
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
}
