"""Hostile activity names and descriptions travel through the real pipeline (Strava server,
landing, validation, models, digest) and arrive in the email as text, never as markup, and
CR/LF in a name or address never becomes a header."""

from __future__ import annotations

from datetime import timedelta
from email import message_from_bytes, policy
from html.parser import HTMLParser

import pytest
from sync_support import register_all, settings_for

from pipeline.build import run_build
from pipeline.digest import last_complete_week, send_digests
from pipeline.strava_stub.demo_data import synthetic_world
from pipeline.sync.run import sync_all
from tests.lake_support import open_lake

pytestmark = pytest.mark.slow

XSS = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "<svg/onload=alert(1)>",
    "javascript:alert(1)",
    "<iframe src=//evil.example></iframe>",
    "'\"><a href=x onmouseover=alert(1)>x</a>",
    "{{ 7*7 }} {% raw %}",
    "</style><style>body{display:none}</style>",
    "<body onload=alert(1)>",
    "\u202e<b>reversed</b>",
]
ALLOWED_TAGS = {
    "html",
    "head",
    "meta",
    "title",
    "style",
    "body",
    "table",
    "tbody",
    "thead",
    "tr",
    "td",
    "th",
    "div",
    "span",
    "p",
    "h1",
    "h2",
    "h3",
    "h4",
    "ul",
    "ol",
    "li",
    "img",
    "a",
    "strong",
    "em",
    "b",
    "small",
    "br",
    "hr",
    "center",
    "section",
    "code",
    "pre",
    "header",
    "footer",
    "main",
    "article",
    "i",
    "u",
    "caption",
    "col",
    "colgroup",
    "font",
    "sup",
    "sub",
}


class Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def test_hostile_names_arrive_as_text_and_never_as_markup_or_headers(tmp_path, start_stub):
    world = synthetic_world(1, 35)
    athlete = next(iter(world.athletes.values()))
    week = last_complete_week(athlete.timezone)
    end = str(week + timedelta(days=7))
    in_week = [a for a in athlete.activities if str(week) <= a["start_date_local"][:10] < end]
    latest_first = sorted(in_week, key=lambda a: a["start_date_local"], reverse=True)
    for activity, payload in zip(latest_first, XSS, strict=False):
        world.update_activity(
            athlete.athlete_id,
            activity["id"],
            {"name": f"{payload} tempo", "description": f"{payload} my back is sore"},
        )
    world.athletes[athlete.athlete_id].profile["firstname"] = "Eve\r\nBcc: victim@example.com"
    server = start_stub(world)
    s = settings_for(tmp_path, server, lookback_weeks=2)
    register_all(s, world)
    sync_all(s)
    run_build(s)

    report = send_digests(s, week=week)

    assert report.ok, [str(r) for r in report.results]
    con = open_lake(s, read_only=True)
    stored = {r[0] for r in con.execute("select name from activities").fetchall()}
    con.close()
    assert any("<script>alert(1)</script>" in (n or "") for n in stored)  # kept as the athlete wrote it
    [eml] = list((s.outbox_dir / week.isoformat()).glob("*.eml"))
    msg = message_from_bytes(eml.read_bytes(), policy=policy.default)
    assert msg["Bcc"] is None
    assert "\n" not in str(msg["To"]) and "\n" not in str(msg["Subject"])
    html = msg.get_body(("html",)).get_content()
    parser = Tags()
    parser.feed(html)
    assert {t for t, _ in parser.tags} <= ALLOWED_TAGS, {t for t, _ in parser.tags} - ALLOWED_TAGS
    for tag, attrs in parser.tags:
        assert not any(k.startswith("on") for k in attrs), (tag, attrs)
        assert not any(str(v).strip().lower().startswith("javascript:") for v in attrs.values()), (tag, attrs)
    assert "&lt;script&gt;alert(1)&lt;/script&gt; tempo" in html  # quoted in the pain-note finding, as text
