"""Rendering without a server: any text an athlete can type stays text, and never becomes a header."""

from __future__ import annotations

import datetime as dt
from email import message_from_bytes, policy
from pathlib import Path

from conftest import WEEK
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from test_digest_content import Tags

from pipeline.config import Settings
from pipeline.digest import AthleteRow, DigestInputs, compose, render_digest

SETTINGS = Settings(home=Path("unused"))
TEMPLATE_TAGS = {"html", "head", "meta", "title", "style", "body", "div", "p", "h1", "h2", "h3", "span", "strong",
                 "img", "ul", "li", "code"}  # fmt: skip


class Text(Tags):
    """Start tags plus the page's text, as a browser would show it."""

    def __init__(self) -> None:
        super().__init__()
        self.text: list[str] = []

    def handle_data(self, data):
        self.text.append(data)


athlete_text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=80)


def inputs(firstname: str, message: str, shoe: str) -> DigestInputs:
    item = DigestInputs(AthleteRow(7, firstname, "runner7@example.com", "Europe/London", True), WEEK)
    item.weeks[WEEK] = {"runs": 3, "distance_km": 30.0, "moving_time_s": 9000, "longest_run_km": 14.0}
    item.flags.append(
        {
            "week_start": WEEK,
            "factor": "injury",
            "rule_id": "injury.pain_notes",
            "severity": "warning",
            "evidence": "strong",
            "message": message,
            "metrics": {},
        }
    )
    item.shoes.append({"name": shoe, "distance_km": 700.0, "watch_km": 600.0, "warning_km": 800.0})
    return item


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(firstname=athlete_text, message=athlete_text, shoe=athlete_text)
@example(
    firstname="Eve\r\nBcc: victim@example.com", message='"><img src=x onerror=alert(1)>', shoe="<script>x</script>"
)
@example(firstname='"Ann" <a@b.c>, x@y.z', message="&lt;already escaped&gt; & 'quotes'", shoe="Pega\u2028sus")
def test_any_athlete_text_renders_as_text_and_never_as_a_header(firstname, message, shoe):
    context = compose(inputs(firstname, message, shoe))
    context["email"] = "runner7@example.com"
    raw = render_digest(context, SETTINGS, now=dt.datetime(2026, 11, 23, tzinfo=dt.UTC)).as_bytes()
    msg = message_from_bytes(raw, policy=policy.default)

    assert [a.addr_spec for a in msg["To"].addresses] == ["runner7@example.com"]
    assert "\n" not in msg["To"].addresses[0].display_name and "\r" not in msg["To"].addresses[0].display_name
    assert msg["Bcc"] is None and msg["Cc"] is None
    page = Text()
    page.feed(msg.get_body(preferencelist=("html",)).get_content())
    assert {tag for tag, _ in page.tags} <= TEMPLATE_TAGS  # nothing the athlete typed became a tag
    assert message.replace("\r\n", "\n").replace("\r", "\n") in "".join(page.text).replace("\r\n", "\n")


def test_no_runs_and_no_history_render():
    item = DigestInputs(AthleteRow(8, None, None, None, True), WEEK)
    context = compose(item)
    context["email"] = None
    msg = render_digest(context, SETTINGS)
    assert msg["To"] is None  # the outbox still gets it; SMTP refuses it as "no email address"
    assert "Hi," in msg.get_body(preferencelist=("plain",)).get_content()
