//! The test CA issues leaves that a rustls server accepts.
mod common;

#[test]
fn test_ca_issues_usable_leaves() {
    let ca = common::ca::TestCa::new("mtasts test CA");
    let leaf = ca.issue(&common::ca::LeafSpec::valid_for(&["mta-sts.example.test"]));
    let _config = common::ca::server_config(&leaf);
    let expired = ca.issue(&common::ca::LeafSpec::expired(&["mx.example.test"]));
    assert_eq!(expired.chain.len(), 1);
    assert!(ca.cert_pem.starts_with("-----BEGIN CERTIFICATE-----"));
}
