"""Rendering one digest: Jinja2 text and HTML parts, inline PNG charts, the MIME message.

Athletes' own text (names, shoe names, messages quoting activity titles) arrives as text:
autoescaping is on for every template but the plain-text part.
"""

from __future__ import annotations

import datetime as dt
import functools
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Any

import jinja2

from pipeline.config import Settings
from pipeline.digest.addresses import content_id, domain_of, valid_address
from pipeline.digest.charts import CSS_WIDTH, ShoeBar, shoe_mileage_png, weekly_distance_png
from pipeline.digest.inputs import CHART_WEEKS
from pipeline.digest.mailer import ATHLETE_HEADER, WEEK_HEADER

TEMPLATES_DIR = Path(__file__).resolve().parent.parent.parent / "templates"


@functools.lru_cache(maxsize=1)
def template_env() -> jinja2.Environment:
    """Autoescaping on for everything but the plain-text part: athletes' own text arrives as text."""
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=lambda name: not (name or "").endswith(".txt"),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render_digest(
    context: dict[str, Any], settings: Settings, now: dt.datetime | None = None, resend: bool = False
) -> EmailMessage:
    """One multipart/alternative message: plain text, then HTML with related inline PNG charts.

    Raises ValueError when the athlete's address is unusable (never sent, nor half-built).
    """
    domain = domain_of(settings.mail_from)
    charts = chart_images(context, domain)
    env = template_env()
    full = {**context, "charts": charts}
    text = env.get_template("digest.txt").render(full)
    html = env.get_template("digest.html").render(full)

    message = EmailMessage()
    set_headers(message, context, settings.mail_from, domain, now, resend)
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    html_part = message.get_payload()[1]
    for chart in charts:
        html_part.add_related(chart["png"], "image", "png", cid=chart["cid"], filename=None, disposition="inline")
    return message


def chart_images(context: dict[str, Any], domain: str) -> list[dict[str, Any]]:
    """The weekly-distance chart, and the shoe chart when there are active pairs, as inline PNGs."""
    charts = [
        {
            "cid": content_id("weekly-distance", domain),
            "alt": context["distance_alt"],
            "png": weekly_distance_png(context["bars"]),
            "title": f"Weekly distance, last {CHART_WEEKS} weeks",
            "width": CSS_WIDTH,
        }
    ]
    if context["active_shoes"]:
        charts.append(
            {
                "cid": content_id("shoe-mileage", domain),
                "alt": context["shoes_alt"],
                "png": shoe_mileage_png(
                    [ShoeBar(s["name"], s["km"], s["watch_km"], s["warning_km"]) for s in context["active_shoes"]]
                ),
                "title": "Shoe mileage",
                "width": CSS_WIDTH,
            }
        )
    for chart in charts:
        chart["src"] = "cid:" + chart["cid"][1:-1]
    return charts


def set_headers(
    message: EmailMessage,
    context: dict[str, Any],
    mail_from: str,
    domain: str,
    now: dt.datetime | None,
    resend: bool,
) -> None:
    message["Subject"] = context["subject"]
    message["From"] = mail_from
    email = context.get("email")
    if email:
        if not valid_address(email):
            raise ValueError("the athlete's email address is not valid")
        message["To"] = Address(display_name=context["firstname"], addr_spec=email)
    message["Date"] = format_datetime(now or dt.datetime.now(dt.UTC))
    # The same athlete and week always get the same Message-ID, so that if a crash falls
    # between the SMTP server accepting a message and our record of it, the re-sent copy is
    # recognised as the same message by mail clients; an explicit --resend is a new message.
    message["Message-ID"] = (
        make_msgid("digest-resend", domain=domain)
        if resend
        else f"<digest.{int(context['athlete_id'])}.{context['week_start'].isoformat()}@{domain}>"
    )
    message["Auto-Submitted"] = "auto-generated"
    message[ATHLETE_HEADER] = str(context["athlete_id"])
    message[WEEK_HEADER] = context["week_start"].isoformat()
