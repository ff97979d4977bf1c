//! A minimal view of DER for the structures x509-parser does not cover (CMS SignedData of
//! RFC 3161 timestamps, the precertificate TBS of SCTs): elements split with asn1-rs, plus
//! re-encoding of an element with new contents.

use x509_parser::asn1_rs::{Any, FromDer, Oid};

/// One DER element.
#[derive(Debug, Clone, Copy)]
pub struct Tlv<'a> {
    /// The first identifier byte (class, constructed bit, tag number < 31).
    pub tag: u8,
    /// The contents.
    pub content: &'a [u8],
    /// The whole element.
    pub raw: &'a [u8],
}

impl<'a> Tlv<'a> {
    /// Parses one element at the start of `input`; returns it and the rest.
    pub fn parse(input: &'a [u8]) -> Result<(Tlv<'a>, &'a [u8]), String> {
        let (rest, any) = Any::from_der(input).map_err(|e| format!("malformed DER: {e}"))?;
        let raw = &input[..input.len() - rest.len()];
        Ok((
            Tlv {
                tag: raw[0],
                content: any.data,
                raw,
            },
            rest,
        ))
    }

    /// Parses `input` as exactly one element.
    pub fn parse_all(input: &'a [u8]) -> Result<Tlv<'a>, String> {
        let (tlv, rest) = Tlv::parse(input)?;
        if !rest.is_empty() {
            return Err("trailing bytes after DER element".into());
        }
        Ok(tlv)
    }

    /// The elements of a constructed element's contents.
    pub fn children(&self) -> Result<Vec<Tlv<'a>>, String> {
        let mut out = Vec::new();
        let mut input = self.content;
        while !input.is_empty() {
            let (tlv, rest) = Tlv::parse(input)?;
            out.push(tlv);
            input = rest;
        }
        Ok(out)
    }

    /// The dotted form of an OBJECT IDENTIFIER element.
    pub fn oid(&self) -> Result<String, String> {
        if self.tag != 0x06 {
            return Err("expected an OBJECT IDENTIFIER".into());
        }
        Ok(Oid::new(self.content.into()).to_id_string())
    }
}

/// DER encoding of an element with identifier byte `tag` and `content`.
pub fn encode(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes: Vec<u8> = len
            .to_be_bytes()
            .into_iter()
            .skip_while(|b| *b == 0)
            .collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
    out.extend_from_slice(content);
    out
}
