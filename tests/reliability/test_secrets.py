"""No secret leaks: after a whole run (register, sync with a token refresh, build, digest over
SMTP with a password, webhook processing), no token, client secret or SMTP password appears
in any command output, log, warehouse file, replica, outbox or inbox; token files are
readable by their owner only."""

from __future__ import annotations

import os
import stat

import pytest
from aiosmtpd.smtp import AuthResult, LoginPassword
from cli_support import cli, env_for
from loopback_support import running_smtp

from pipeline.strava_stub.demo_data import DEMO_CLIENT_SECRET, synthetic_world

pytestmark = pytest.mark.slow
SMTP_PASSWORD = "smtp-pa55word-do-not-leak"


def authenticator(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and auth_data.password == SMTP_PASSWORD.encode()
    return AuthResult(success=ok)


@pytest.fixture
def smtp_with_login():
    with running_smtp(authenticator=authenticator, auth_require_tls=False) as server:
        yield server.mailbox, f"smtp://digest:{SMTP_PASSWORD}@127.0.0.1:{server.port}"


def test_no_secret_appears_anywhere_after_a_full_run(tmp_path, start_stub, smtp_with_login, record):
    mailbox, smtp_url = smtp_with_login
    world = synthetic_world(2, 20)
    server = start_stub(world, access_token_ttl_s=1)  # every sync must refresh
    home = tmp_path / "home"
    env = env_for(home, server.base_url, smtp_url)
    initial = [a.refresh_token for a in world.athletes.values()]

    outputs = []
    for a in world.athletes.values():
        outputs.append(cli(env, "athletes", "add", "--refresh-token", a.refresh_token, "--email", a.email))
    outputs.append(cli(env, "run"))
    outputs.append(cli(env, "sync"))
    outputs.append(cli(env, "webhook", "process"))
    outputs.append(cli(env, "sql", "select * from landing", "--format", "csv"))
    outputs.append(cli(env, "athletes", "list"))
    assert all(p.returncode == 0 for p in outputs), [
        (p.args[1:], p.stdout[-800:], p.stderr[-800:]) for p in outputs if p.returncode
    ]
    assert len(mailbox.messages) == 2  # the password worked

    token_files = sorted((home / "secrets" / "tokens").glob("*.json"))
    assert len(token_files) == 2
    secrets = {DEMO_CLIENT_SECRET, SMTP_PASSWORD, *initial}
    for path in token_files:
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
        import json

        data = json.loads(path.read_text())
        secrets |= {data["access_token"], data["refresh_token"]}
    assert stat.S_IMODE(os.stat(home / "secrets").st_mode) == 0o700

    text = "".join(p.stdout + p.stderr for p in outputs)
    files_checked = 0
    for path in home.rglob("*"):
        if path.is_file() and "secrets" not in path.parts:
            blob = path.read_bytes()
            files_checked += 1
            for secret in secrets:
                assert secret.encode() not in blob, f"{secret[:4]}... found in {path}"
    for secret in secrets:
        assert secret not in text, f"{secret[:4]}... found in command output"
    record.update(secrets_checked=len(secrets), files_scanned=files_checked, leaks=0)
