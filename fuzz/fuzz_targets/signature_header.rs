//! `X-Pitchbar-Signature` parsing: any header either parses or is refused with a reason, and
//! what parses is exactly what its canonical form parses to (t, every v1 in order); headers
//! `sign` makes always parse back to what was signed.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pitchbar_core::secret::Secret;
use pitchbar_core::webhooks::signing::{
    parse_signature_header, sign, ParsedSignature, MAX_HEADER_BYTES, MAX_HEADER_PARTS,
};

fn canonical(p: &ParsedSignature) -> String {
    let mut out = format!("t={}", p.timestamp);
    for v in &p.v1 {
        out.push_str(",v1=");
        for b in v {
            out.push_str(&format!("{b:02x}"));
        }
    }
    out
}

fuzz_target!(|data: &[u8]| {
    let Ok(header) = std::str::from_utf8(data) else {
        return;
    };
    match parse_signature_header(header) {
        Ok(parsed) => {
            assert!(header.trim().len() <= MAX_HEADER_BYTES);
            assert!(header.split(',').count() <= MAX_HEADER_PARTS);
            assert!(parsed.timestamp >= 0, "{header:?}");
            assert!(!parsed.v1.is_empty());
            // Parse → format → parse.
            let again = parse_signature_header(&canonical(&parsed)).expect("canonical form");
            assert_eq!(again, parsed, "{header:?}");
        }
        Err(err) => assert!(!err.to_string().is_empty()),
    }
    // Whatever the bytes, a header signed over them with them as the secret parses back.
    let t = i64::from(u32::from_le_bytes(
        data.get(..4)
            .and_then(|b| b.try_into().ok())
            .unwrap_or([0; 4]),
    ));
    let secret = Secret::new(header.to_owned());
    let signed = sign(&[&secret, &secret], t, data);
    let parsed = parse_signature_header(&signed).expect("a signed header parses");
    assert_eq!(parsed.timestamp, t);
    assert_eq!(parsed.v1.len(), 2);
    assert_eq!(canonical(&parsed), signed);
});
