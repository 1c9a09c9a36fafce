//! Identities a client certificate carries, for `verify_and_map`.

use x509_parser::prelude::{FromDer, GeneralName, X509Certificate};

/// The names a client certificate can be mapped to a user by, in the order the reference
/// tries them: e-mail addresses of the subject alternative names, then DNS names, then URIs,
/// then the subject's distinguished name in RFC 2253 form (`CN=alice,O=Org`). Empty when the
/// certificate does not parse.
pub fn cert_identities(der: &[u8]) -> Vec<String> {
    let Ok((_, cert)) = X509Certificate::from_der(der) else {
        return Vec::new();
    };
    let mut emails = Vec::new();
    let mut dns = Vec::new();
    let mut uris = Vec::new();
    if let Ok(Some(san)) = cert.subject_alternative_name() {
        for name in &san.value.general_names {
            match name {
                GeneralName::RFC822Name(e) => emails.push(e.to_string()),
                GeneralName::DNSName(d) => dns.push(d.to_string()),
                GeneralName::URI(u) => uris.push(u.to_string()),
                _ => {}
            }
        }
    }
    let mut out = emails;
    out.extend(dns);
    out.extend(uris);
    out.push(subject_rfc2253(&cert));
    out
}

/// The subject as Go's `pkix.Name.String()` writes it: attributes in reverse order, `,`
/// between them, short names for the common attribute types.
fn subject_rfc2253(cert: &X509Certificate<'_>) -> String {
    let registry = x509_parser::objects::oid_registry();
    let mut parts: Vec<String> = Vec::new();
    for rdn in cert.subject().iter_rdn() {
        let attrs: Vec<String> = rdn
            .iter()
            .map(|a| {
                let key = x509_parser::objects::oid2abbrev(a.attr_type(), registry)
                    .map(|k| match k {
                        "serialNumber" => "SERIALNUMBER".to_string(),
                        "street" => "STREET".to_string(),
                        "postalCode" => "POSTALCODE".to_string(),
                        other => other.to_string(),
                    })
                    .unwrap_or_else(|_| a.attr_type().to_id_string());
                let value = a.as_str().unwrap_or_default();
                format!("{key}={}", escape(value))
            })
            .collect();
        parts.push(attrs.join("+"));
    }
    parts.reverse();
    parts.join(",")
}

/// RFC 2253 escaping of an attribute value.
fn escape(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for (i, c) in v.chars().enumerate() {
        let edge = i == 0 && (c == ' ' || c == '#') || i + 1 == v.chars().count() && c == ' ';
        if edge || matches!(c, ',' | '+' | '"' | '\\' | '<' | '>' | ';') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use rcgen::{CertificateParams, DnType, KeyPair, SanType};

    #[test]
    fn identities_in_the_reference_order() {
        let mut params = CertificateParams::new(vec!["host.example".to_string()]).unwrap();
        params
            .subject_alt_names
            .push(SanType::Rfc822Name("alice@example.com".try_into().unwrap()));
        params
            .subject_alt_names
            .push(SanType::URI("nats://alice".try_into().unwrap()));
        params
            .distinguished_name
            .push(DnType::OrganizationName, "Org, Inc");
        params.distinguished_name.push(DnType::CommonName, "alice");
        let key = KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap();
        assert_eq!(
            cert_identities(cert.der()),
            [
                "alice@example.com",
                "host.example",
                "nats://alice",
                // rcgen encodes CN before O; Go's String() lists them in reverse.
                "O=Org\\, Inc,CN=alice"
            ]
        );
        assert!(cert_identities(b"not a certificate").is_empty());
    }
}
