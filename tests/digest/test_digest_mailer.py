"""Mail transports: the SMTP URL forms, Airflow's smtp_default, STARTTLS and implicit TLS with login."""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
from email.message import EmailMessage
from pathlib import Path
from types import SimpleNamespace

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from loopback_support import Mailbox, free_port

from pipeline.digest.mailer import (
    ATHLETE_HEADER,
    WEEK_HEADER,
    DeliveryError,
    OutboxTransport,
    SmtpConfig,
    SmtpTransport,
    html_preview,
)


@pytest.mark.parametrize(
    ("url", "host", "port", "user", "password", "security"),
    [
        ("smtp://127.0.0.1:2525", "127.0.0.1", 2525, None, None, "plain"),
        ("smtp://me:pa%40ss@mail.example.com:587?starttls=true", "mail.example.com", 587, "me", "pa@ss", "starttls"),
        ("smtps://me:pw@mail.example.com", "mail.example.com", 465, "me", "pw", "ssl"),
        ("smtp://mail.example.com", "mail.example.com", 25, None, None, "plain"),
    ],
)
def test_smtp_url_forms(url, host, port, user, password, security):
    config = SmtpConfig.from_url(url)
    assert (config.host, config.port, config.username, config.password, config.security) == (
        host,
        port,
        user,
        password,
        security,
    )
    if password:
        assert password not in repr(config)


@pytest.mark.parametrize("url", ["http://mail.example.com", "smtp://", "smtp://host:notaport"])
def test_bad_smtp_urls_are_refused(url):
    with pytest.raises(ValueError):
        SmtpConfig.from_url(url)


@pytest.mark.parametrize(
    ("extra", "security", "port"),
    [
        ({}, "ssl", 465),
        ({"disable_ssl": True}, "starttls", 587),
        ({"disable_ssl": True, "disable_tls": True}, "plain", 587),
    ],
)
def test_airflow_smtp_default_connection_maps_to_the_same_config(extra, security, port):
    conn = SimpleNamespace(host="mail.example.com", port=None, login="me", password="pw", extra_dejson=extra)
    config = SmtpConfig.from_airflow_connection(conn)
    assert (config.host, config.port, config.security, config.username, config.password) == (
        "mail.example.com",
        port,
        security,
        "me",
        "pw",
    )


# --- TLS against a real server with a throwaway certificate --------------------------------


@pytest.fixture(scope="module")
def certificate(tmp_path_factory) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("tls")
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


def authenticator(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (b"digest", b"s3cret")
    return AuthResult(success=ok, handled=False)  # handled=False: the server answers 535 itself


def tls_server(certificate, implicit: bool):
    cert_path, key_path = certificate
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(cert_path, key_path)
    mailbox, port = Mailbox(), free_port()
    common = {
        "hostname": "127.0.0.1",
        "port": port,
        "authenticator": authenticator,
        "ready_timeout": 5,
    }
    if implicit:
        # aiosmtpd does not count implicit TLS as TLS for its AUTH check; the link is encrypted anyway.
        controller = Controller(mailbox, ssl_context=server_context, auth_require_tls=False, **common)
    else:
        controller = Controller(mailbox, tls_context=server_context, require_starttls=True, **common)
    return controller, mailbox, port


def client_context(certificate) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(certificate[0]))


def message() -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "backstride <digest@backstride.local>"
    msg["To"] = "runner@example.com"
    msg["Subject"] = "Week of 16 Nov: a steady week"
    msg["Message-ID"] = "<test.1@backstride.local>"
    msg.set_content("hello")
    return msg


@pytest.mark.parametrize(("scheme", "implicit"), [("smtp", False), ("smtps", True)])
def test_tls_with_login_delivers(certificate, scheme, implicit):
    controller, mailbox, port = tls_server(certificate, implicit)
    controller.start()
    try:
        query = "" if implicit else "?starttls=true"
        config = SmtpConfig.from_url(f"{scheme}://digest:s3cret@127.0.0.1:{port}{query}")
        transport = SmtpTransport(config, ssl_context=client_context(certificate))
        assert transport.send(message()) == "<test.1@backstride.local>"
        transport.close()
    finally:
        controller.stop()
    assert [m["Subject"] for m in mailbox.messages] == ["Week of 16 Nov: a steady week"]


def test_wrong_password_fails_without_showing_it(certificate):
    controller, mailbox, port = tls_server(certificate, implicit=False)
    controller.start()
    try:
        config = SmtpConfig.from_url(f"smtp://digest:wrong-pw-123@127.0.0.1:{port}?starttls=true")
        transport = SmtpTransport(config, ssl_context=client_context(certificate))
        with pytest.raises(DeliveryError) as caught:
            transport.send(message())
    finally:
        controller.stop()
    assert "refused" in str(caught.value) and "wrong-pw-123" not in str(caught.value)
    assert mailbox.messages == []


def test_untrusted_certificate_is_refused(certificate):
    controller, mailbox, port = tls_server(certificate, implicit=True)
    controller.start()
    try:
        transport = SmtpTransport(SmtpConfig.from_url(f"smtps://digest:s3cret@127.0.0.1:{port}"))
        with pytest.raises(DeliveryError, match="cannot reach"):
            transport.send(message())
    finally:
        controller.stop()
    assert mailbox.messages == []


def test_outbox_names_files_by_week_and_athlete_and_never_escapes_its_folder(tmp_path):
    msg = message()
    msg[ATHLETE_HEADER] = "../../etc/passwd"
    msg[WEEK_HEADER] = "2026-11-16"
    path = Path(OutboxTransport(tmp_path).send(msg))
    assert path.parent == tmp_path / "2026-11-16"
    assert path.name == ".._.._etc_passwd.eml"


def test_preview_inlines_cid_images_as_data_uris():
    msg = message()
    msg.add_alternative('<p><img src="cid:chart.1@x" alt="a chart"></p>', subtype="html")
    msg.get_payload()[1].add_related(b"\x89PNG fake", "image", "png", cid="<chart.1@x>")
    html = html_preview(msg)
    assert 'src="data:image/png;base64,iVBORyBmYWtl"' in html
