"""The weekly digest: decide what to tell each runner, render it, send it exactly once.

One module per job:

- `inputs`: reading the marts for a batch of athletes; `data_gaps`: what the warehouse could
  not see of a week (held syncs, pending details, quarantine, missing shoes, short history);
- `wording`: the seven factors, grades and rule labels; `formatting`, `weeks`: numbers and dates;
- `content`: the template context for one athlete and week (`compose`);
- `charts`: the inline PNG charts; `render`: Jinja2 templates and the MIME message;
- `mailer`: transports (SMTP, the outbox folder); `delivery`: the run (`send_digests`);
  `journal`: the exactly-once record (`digest_log` and its journal); `report`: what a run did;
- `preferences`: turning an athlete's email on or off.

Wording follows shared/evidence.md "How to word it": findings ranked by severity then evidence
grade, the grade said in words, patterns "linked to higher injury risk in studies", never a
diagnosis, closing with the persistent-pain and red-flag advice.
"""

from __future__ import annotations

from pipeline.digest.content import compose
from pipeline.digest.delivery import send_digests
from pipeline.digest.inputs import AthleteRow, DigestInputs, read_inputs
from pipeline.digest.preferences import set_digest_enabled
from pipeline.digest.render import render_digest
from pipeline.digest.report import DigestReport, DigestResult
from pipeline.digest.weeks import last_complete_week
from pipeline.digest.wording import FACTORS

__all__ = [
    "FACTORS",
    "AthleteRow",
    "DigestInputs",
    "DigestReport",
    "DigestResult",
    "compose",
    "last_complete_week",
    "read_inputs",
    "render_digest",
    "send_digests",
    "set_digest_enabled",
]
