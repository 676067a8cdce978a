"""Sending the week's digests: each athlete's email exactly once, one failure never stopping the rest.

`send_digests` reads everything it needs through a read-only connection, then for each
athlete renders one multipart email (plain text + HTML with inline PNG charts), hands it to a
transport and records the outcome in `digest_log` straight away with a short writer section
(`journal`), with the lake snapshot the email was computed from (`snapshot_id`, so
`backstride sql --snapshot N` can show later what it saw). No lock is held while talking to
the mail server. A failed athlete
is recorded and retried by the next run, and never stops the others.

Never an all-clear built on missing data (`data_gaps` reads what is missing):

- **Held** (no email, nothing recorded, the report says why): the athlete's last sync failed
  (error, needs_reauth) or has not listed the whole week (deferred mid-listing, or no sync since
  the week ended). Which runs there were is unknown, so any email would be a guess. The next
  run after a sync that succeeds sends it, once.
- **Sent, saying what it could not see**: the week is fully listed but details or streams are
  still queued, rows are quarantined, a shoe is missing on Strava or a window rule lacks
  history. The runs and distances are known, so most factors are judged; the factors a gap
  blinds get no "nothing to report" line and are named as not judged. Holding instead would
  tie the whole email to the quota (a new athlete's backlog takes hours to days), and the week
  is sent once: what arrives later counts in the next weeks' windows.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

from pipeline.config import Settings
from pipeline.digest import journal
from pipeline.digest.content import compose
from pipeline.digest.inputs import (
    AthleteRow,
    DigestInputs,
    check_relations,
    read_athletes,
    read_inputs,
    read_logged,
    read_rule_sources,
)
from pipeline.digest.mailer import DeliveryError, Transport, transport_for
from pipeline.digest.render import render_digest
from pipeline.digest.report import DigestReport, DigestResult
from pipeline.digest.weeks import last_complete_week
from pipeline.files import file_lock
from pipeline.lake import snapshot_id
from pipeline.warehouse import connect_reader

# After this many delivery failures in a row that are not about one address, the mail server
# is taken to be down: the rest of the batch is left for the next run instead of timing out.
MAX_CONSECUTIVE_TRANSPORT_FAILURES = 3


@dataclass
class Batch:
    """What one run will send: every athlete considered, their weeks, and the inputs of those due."""

    athletes: list[AthleteRow]
    weeks: dict[int, dt.date]
    inputs: dict[int, DigestInputs]
    sources: dict[str, str]
    snapshot_id: int | None = None  # every input was read from this one lake snapshot


def send_digests(
    settings: Settings,
    week: dt.date | None = None,
    athlete_id: int | None = None,
    resend: bool = False,
    transport: Transport | None = None,
) -> DigestReport:
    """Send each athlete's digest for `week` (default: their last complete week) exactly once.

    Returns what happened per athlete; `report.ok` is False when any athlete failed.
    """
    if week is not None and week.weekday() != 0:
        raise ValueError(f"--week must be a Monday; {week.isoformat()} is a {week:%A}")
    report = DigestReport()
    with _digest_run_lock(settings):
        journal.replay_journal(settings)  # deliveries a killed run made but could not record
        batch = read_batch(settings, week, athlete_id, resend)
        own_transport = transport is None
        transport = transport or transport_for(settings)
        try:
            _send_batch(settings, batch, transport, resend, report)
            journal.journal_path(settings).unlink(missing_ok=True)  # every delivery is in digest_log now
        finally:
            if own_transport:
                transport.close()
    return report


@contextlib.contextmanager
def _digest_run_lock(settings: Settings, wait_s: float = 600.0) -> Iterator[None]:
    """One digest run at a time, so a retried task cannot send alongside a still-running one."""
    with file_lock(
        settings.home / "digest.lock", wait_s, "another `backstride digest` run is still sending; try again later"
    ):
        yield


def read_batch(settings: Settings, week: dt.date | None, athlete_id: int | None, resend: bool) -> Batch:
    """Everything the run needs, read at once through a read-only connection."""
    con = connect_reader(settings)
    try:
        con.execute("begin")  # one read transaction: every input comes from the same snapshot
        check_relations(con)
        athletes = read_athletes(con, athlete_id)
        weeks = {a.athlete_id: week or last_complete_week(a.timezone) for a in athletes}
        logged = read_logged(con)
        todo = [
            a
            for a in athletes
            if a.digest_enabled and (resend or logged.get((a.athlete_id, weeks[a.athlete_id])) != "sent")
        ]
        return Batch(athletes, weeks, read_inputs(con, todo, weeks), read_rule_sources(con), snapshot_id(con))
    finally:
        con.close()


def _send_batch(settings: Settings, batch: Batch, transport: Transport, resend: bool, report: DigestReport) -> None:
    transport_name = str(getattr(transport, "name", type(transport).__name__))
    consecutive_failures = 0
    for athlete in batch.athletes:
        result = _not_due(athlete, batch)
        report.results.append(result)
        if result.status != "failed":
            continue
        if consecutive_failures >= MAX_CONSECUTIVE_TRANSPORT_FAILURES:
            result.error = "not attempted: the mail server failed repeatedly; the next run will retry"
            continue
        consecutive_failures = _send_one(settings, batch, athlete, transport, resend, result, consecutive_failures)
        journal.record(settings, result, transport_name)


def _not_due(athlete: AthleteRow, batch: Batch) -> DigestResult:
    """The athlete's result before sending: disabled, already sent, held, or (to be sent) failed."""
    week_start = batch.weeks[athlete.athlete_id]
    if not athlete.digest_enabled:
        return DigestResult(athlete.athlete_id, week_start, "disabled")
    if athlete.athlete_id not in batch.inputs:
        return DigestResult(athlete.athlete_id, week_start, "skipped_already_sent")
    gaps = batch.inputs[athlete.athlete_id].gaps
    if gaps.hold:  # no "nothing found" email on a failed or unfinished sync
        reason = f"{gaps.hold}; nothing sent, a later run sends it once the data is there"
        return DigestResult(athlete.athlete_id, week_start, "held", reason=reason)
    return DigestResult(
        athlete.athlete_id, week_start, "failed", gaps=gaps.summary() or None, snapshot_id=batch.snapshot_id
    )


def _send_one(
    settings: Settings,
    batch: Batch,
    athlete: AthleteRow,
    transport: Transport,
    resend: bool,
    result: DigestResult,
    consecutive_failures: int,
) -> int:
    """Render and hand over one digest, filling `result`; returns the updated run of transport failures."""
    try:
        context = compose(batch.inputs[athlete.athlete_id], batch.sources)
        context["email"] = athlete.email
        result.subject = context["subject"]
        message = render_digest(context, settings, resend=resend)
    except ValueError as err:  # an unusable address or header value
        result.error = str(err)
        return consecutive_failures
    except Exception as err:  # a bug must not cost the other athletes their digest
        result.error = f"could not render the digest: {type(err).__name__}: {err}"
        return consecutive_failures
    transport_name = str(getattr(transport, "name", type(transport).__name__))
    try:
        delivered = transport.send(message)
    except DeliveryError as err:
        result.error = str(err)
        return 0 if err.permanent else consecutive_failures + 1
    except Exception as err:  # e.g. an adapted transport raising its own errors: not accepted
        result.error = f"delivery failed: {type(err).__name__}: {err}"
        return consecutive_failures + 1
    result.status = "sent"
    result.message_id = str(message["Message-ID"])
    if transport_name == "outbox":
        result.path = delivered
    journal.journal_sent(settings, result, transport_name)
    return 0
