"""Delivering finished digest messages: over SMTP, or into an outbox folder.

A `Transport` takes one `EmailMessage` at a time and returns a message id (SMTP) or a file
path (outbox) once the message is really delivered; it raises `DeliveryError` otherwise.
`send_digests` records "sent" only after `send` returned, so a transport must never return
before the server accepted the message. The Airflow DAG adapts its `smtp_default` connection
to the same interface with `SmtpConfig.from_airflow_connection`.

The SMTP password lives only in `SmtpConfig.password` (hidden from repr) and is never put in
an error message: errors name the host and port only.
"""

from __future__ import annotations

import base64
import contextlib
import re
import smtplib
import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Protocol, runtime_checkable
from urllib.parse import parse_qs, unquote, urlsplit

from pipeline.files import atomic_write

# Headers that carry the digest's identity, so the outbox can name its files.
ATHLETE_HEADER = "X-Backstride-Athlete"
WEEK_HEADER = "X-Backstride-Week"
# Outbox files are for the person running backstride to open, as mail spools are: owner
# read-write, others read (a digest holds no secret; tokens never reach a message).
OUTBOX_FILE_MODE = 0o644

_TRUE = {"1", "true", "yes", "on"}


class DeliveryError(RuntimeError):
    """The message was not delivered; `permanent` is True when retrying will not help (bad address)."""

    def __init__(self, message: str, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


@runtime_checkable
class Transport(Protocol):
    """Something that delivers one message at a time."""

    name: str  # recorded in digest_log.transport: "smtp" | "outbox" | ...

    def send(self, message: EmailMessage) -> str:
        """Deliver `message`; return its message id or path; raise DeliveryError if not delivered."""
        ...

    def close(self) -> None:
        """Release connections; the transport may be used again afterwards."""
        ...


@dataclass(frozen=True)
class SmtpConfig:
    """Where and how to reach the SMTP server. `security` is plain | starttls | ssl."""

    host: str
    port: int
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    security: str = "plain"
    timeout_s: float = 30.0

    @classmethod
    def from_url(cls, url: str, timeout_s: float = 30.0) -> SmtpConfig:
        """Parse `smtp://user:password@host:port[?starttls=true]` or `smtps://...` (implicit TLS)."""
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in ("smtp", "smtps"):
            raise ValueError("BACKSTRIDE_SMTP_URL must start with smtp:// or smtps://")
        if not parts.hostname:
            raise ValueError("BACKSTRIDE_SMTP_URL has no host")
        query = {k.lower(): v[-1].lower() for k, v in parse_qs(parts.query).items()}
        if scheme == "smtps" or query.get("ssl") in _TRUE or query.get("tls") in _TRUE:
            security = "ssl"
        elif query.get("starttls") in _TRUE:
            security = "starttls"
        else:
            security = "plain"
        try:
            port = parts.port or (465 if security == "ssl" else 587 if security == "starttls" else 25)
        except ValueError as err:
            raise ValueError("BACKSTRIDE_SMTP_URL has an invalid port") from err
        return cls(
            host=parts.hostname,
            port=port,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            security=security,
            timeout_s=timeout_s,
        )

    @classmethod
    def from_airflow_connection(cls, conn: Any, timeout_s: float = 30.0) -> SmtpConfig:
        """From an Airflow `smtp_default` connection (host, port, login, password, extra_dejson).

        Follows the SMTP provider's meaning of the extras: implicit TLS unless `disable_ssl`,
        then STARTTLS unless `disable_tls`. Duck-typed so this module does not import Airflow.
        """
        extra = dict(getattr(conn, "extra_dejson", None) or {})
        if not _truthy(extra.get("disable_ssl")):
            security = "ssl"
        elif not _truthy(extra.get("disable_tls")):
            security = "starttls"
        else:
            security = "plain"
        default_port = 465 if security == "ssl" else 587
        return cls(
            host=conn.host or "localhost",
            port=int(conn.port or default_port),
            username=conn.login or None,
            password=conn.password or None,
            security=security,
            timeout_s=float(extra.get("timeout", timeout_s)),
        )

    @property
    def where(self) -> str:
        """Host and port for messages and logs (never the credentials)."""
        return f"{self.host}:{self.port}"


def _truthy(value: object) -> bool:
    return value is True or (isinstance(value, str) and value.strip().lower() in _TRUE)


def _recipients(message: EmailMessage) -> list[str]:
    addrs: list[str] = []
    for name in ("To", "Cc", "Bcc"):
        header = message.get(name)
        if header is not None and hasattr(header, "addresses"):
            addrs.extend(a.addr_spec for a in header.addresses if a.addr_spec)
    return addrs


class SmtpTransport:
    """Sends over one reused SMTP connection; reconnects once when the server dropped it."""

    name = "smtp"

    def __init__(self, config: SmtpConfig, ssl_context: ssl.SSLContext | None = None) -> None:
        self.config = config
        self._ssl_context = ssl_context
        self._smtp: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        cfg = self.config
        context = self._ssl_context or ssl.create_default_context()
        try:
            if cfg.security == "ssl":
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(cfg.host, cfg.port, timeout=cfg.timeout_s, context=context)
            else:
                smtp = smtplib.SMTP(cfg.host, cfg.port, timeout=cfg.timeout_s)
            try:
                smtp.ehlo()
                if cfg.security == "starttls":
                    smtp.starttls(context=context)
                    smtp.ehlo()
                if cfg.username:
                    smtp.login(cfg.username, cfg.password or "")
            except BaseException:
                with contextlib.suppress(Exception):
                    smtp.close()
                raise
        except smtplib.SMTPNotSupportedError as err:  # e.g. no AUTH or no STARTTLS offered
            raise DeliveryError(f"the SMTP server at {cfg.where} cannot do what the URL asks: {err}") from None
        except smtplib.SMTPAuthenticationError as err:
            raise DeliveryError(f"SMTP login to {cfg.where} was refused ({err.smtp_code})") from None
        except (OSError, smtplib.SMTPException) as err:
            raise DeliveryError(f"cannot reach the SMTP server at {cfg.where}: {_describe(err)}") from None
        return smtp

    def send(self, message: EmailMessage) -> str:
        recipients = _recipients(message)
        if not recipients:
            raise DeliveryError("the athlete has no email address", permanent=True)
        for attempt in (1, 2):
            if self._smtp is None:
                self._smtp = self._connect()
            try:
                refused = self._smtp.send_message(message)
            except smtplib.SMTPRecipientsRefused as err:
                codes = "; ".join(f"{code} {_text(msg)}" for code, msg in err.recipients.values())
                raise DeliveryError(f"the SMTP server refused the address: {codes}", permanent=True) from None
            except smtplib.SMTPSenderRefused as err:
                raise DeliveryError(
                    f"the SMTP server refused the sender: {err.smtp_code} {_text(err.smtp_error)}"
                ) from None
            except smtplib.SMTPDataError as err:
                raise DeliveryError(
                    f"the SMTP server rejected the message: {err.smtp_code} {_text(err.smtp_error)}",
                    permanent=500 <= err.smtp_code < 600,
                ) from None
            except smtplib.SMTPServerDisconnected as err:
                if self._retry_or_raise(attempt, err):
                    continue
            except smtplib.SMTPException as err:  # before OSError: SMTPException subclasses it
                self._drop()
                raise DeliveryError(f"SMTP error from {self.config.where}: {_describe(err)}") from None
            except OSError as err:  # socket errors and timeouts
                if self._retry_or_raise(attempt, err):
                    continue
            if refused:
                codes = "; ".join(f"{addr}: {code}" for addr, (code, _msg) in refused.items())
                raise DeliveryError(f"the SMTP server refused some addresses: {codes}", permanent=True)
            return str(message["Message-ID"] or "")
        raise AssertionError("unreachable")  # pragma: no cover

    def _retry_or_raise(self, attempt: int, err: BaseException) -> bool:
        """The connection died, so the message was not accepted: reconnect once (a reused
        connection may just have been idle-closed by the server), then give up."""
        self._drop()
        if attempt == 1:
            return True
        raise DeliveryError(f"the SMTP connection to {self.config.where} failed: {_describe(err)}") from None

    def _drop(self) -> None:
        if self._smtp is not None:
            with contextlib.suppress(Exception):
                self._smtp.close()
        self._smtp = None

    def close(self) -> None:
        if self._smtp is not None:
            with contextlib.suppress(Exception):
                self._smtp.quit()
        self._drop()


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _describe(err: BaseException) -> str:
    return f"{type(err).__name__}: {err}" if str(err) else type(err).__name__


_SAFE_PART = re.compile(r"[^A-Za-z0-9_.-]")


class OutboxTransport:
    """Writes `<dir>/<week_start>/<athlete_id>.eml` plus a browser preview `<athlete_id>.html`.

    Files are written to a temporary name and renamed, so a crash never leaves half a message.
    """

    name = "outbox"

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)

    def send(self, message: EmailMessage) -> str:
        athlete = _SAFE_PART.sub("_", str(message.get(ATHLETE_HEADER, "") or "unknown"))
        week = _SAFE_PART.sub("_", str(message.get(WEEK_HEADER, "") or "undated"))
        folder = self.directory / week
        try:
            folder.mkdir(parents=True, exist_ok=True)
            eml = folder / f"{athlete}.eml"
            atomic_write(eml, message.as_bytes(), mode=OUTBOX_FILE_MODE)
            preview = html_preview(message)
            if preview is not None:
                atomic_write(folder / f"{athlete}.html", preview.encode("utf-8"), mode=OUTBOX_FILE_MODE)
        except OSError as err:
            raise DeliveryError(f"cannot write to the outbox {folder}: {_describe(err)}") from None
        return str(eml)

    def close(self) -> None:
        return None


def html_preview(message: EmailMessage) -> str | None:
    """The HTML part with every `cid:` image replaced by a data URI, for opening in a browser."""
    html_part = message.get_body(preferencelist=("html",))
    if html_part is None:
        return None
    html = html_part.get_content()
    for part in message.walk():
        cid = part.get("Content-ID")
        if not cid or part.get_content_maintype() != "image":
            continue
        payload = part.get_payload(decode=True) or b""
        uri = f"data:{part.get_content_type()};base64,{base64.b64encode(payload).decode('ascii')}"
        html = html.replace(f"cid:{cid.strip().strip('<>')}", uri)
    return html


def transport_for(settings: Any) -> Transport:
    """SMTP when `settings.smtp_url` is set, else the outbox under `settings.outbox_dir`."""
    if settings.smtp_url:
        return SmtpTransport(SmtpConfig.from_url(settings.smtp_url))
    return OutboxTransport(settings.outbox_dir)
