"""HTTPS callbacks: the connection goes to the validated IP, yet TLS still checks the certificate against the name."""

from __future__ import annotations

import datetime
import ssl

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from qagen.webhooks import deliver, event_for, verify
from tests.webhooks.conftest import finished_session
from tests.webhooks.receiver import Receiver


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    """A self-signed certificate for hooks.lms.test, and a client context that trusts only it."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "hooks.lms.test")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("hooks.lms.test")]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    folder = tmp_path_factory.mktemp("tls")
    (folder / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "key.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                       serialization.NoEncryption()))
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(folder / "cert.pem", folder / "key.pem")
    client = ssl.create_default_context(cafile=str(folder / "cert.pem"))
    return server, client


def record_for(url: str) -> dict:
    event_id, body = event_for(finished_session(), "acme")
    return {"event_id": event_id, "type": "session.complete", "url": url, "tenant": "acme", "body": body.decode()}


def test_https_to_a_pinned_address_verifies_the_certificate_for_the_name(certificate, hosts):
    server, client = certificate
    hosts["hooks.lms.test"] = ["127.0.0.1"]  # /etc/hosts: the system resolver answers loopback
    hosts["wrong.lms.test"] = ["127.0.0.1"]
    with Receiver(tls=server) as receiver:
        good = deliver(record_for(f"https://hooks.lms.test:{receiver.port}/hook"), "whsec_x", 2.0,
                       allow="loopback", verify_tls=client)
        wrong = deliver(record_for(f"https://wrong.lms.test:{receiver.port}/hook"), "whsec_x", 2.0,
                        allow="loopback", verify_tls=client)
        untrusted = deliver(record_for(f"https://hooks.lms.test:{receiver.port}/hook"), "whsec_x", 2.0,
                            allow="loopback")  # certifi's CAs don't know our certificate
        refused = deliver(record_for(f"https://hooks.lms.test:{receiver.port}/hook"), "whsec_x", 2.0,
                          verify_tls=client)  # production's rule: a name resolving to loopback is not called

    assert good.delivered and good.status_code == 200
    assert not wrong.delivered and wrong.retryable and "could not connect" in wrong.error
    assert not untrusted.delivered and untrusted.retryable
    assert not refused.delivered and "resolves to a loopback address" in refused.error
    [request] = receiver.requests
    assert request.headers["Host"] == f"hooks.lms.test:{receiver.port}"
    assert verify("whsec_x", request.headers["Qagen-Signature"], request.body)
