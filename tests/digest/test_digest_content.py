"""What the digest says: received by a real SMTP server on 127.0.0.1 and parsed like a mail client."""

from __future__ import annotations

import datetime as dt
import io
import re
from html.parser import HTMLParser

from conftest import WEEK, Warehouse, html_of, inline_images, smtp_settings, text_of
from PIL import Image

from pipeline.digest import FACTORS, send_digests
from pipeline.digest.wording import FALLBACK_WHY


class Tags(HTMLParser):
    """Collects start tags with their attributes, and script elements, from the HTML part."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def find(self, tag: str) -> list[dict[str, str | None]]:
        return [attrs for name, attrs in self.tags if name == tag]


def parse(html: str) -> Tags:
    tags = Tags()
    tags.feed(html)
    return tags


def one_week(warehouse: Warehouse, athlete_id: int = 1, **kw) -> None:
    warehouse.athlete(athlete_id, **kw)
    for i in range(12):
        warehouse.week(athlete_id, WEEK - dt.timedelta(weeks=i), 30.0 + i, prev4_avg_km=32.0)


def deliver(warehouse: Warehouse, home, smtp_server):
    warehouse.settings = smtp_settings(home, smtp_server)
    settings = warehouse.save()
    report = send_digests(settings, week=WEEK)
    assert report.ok, report
    return smtp_server.mailbox.messages


def test_message_is_text_and_html_alternatives_with_inline_charts(warehouse, home, smtp_server):
    one_week(warehouse)
    warehouse.shoe(1, "g1", "Pegasus", 640)
    [msg] = deliver(warehouse, home, smtp_server)

    assert msg.get_content_type() == "multipart/alternative"
    plain, related = msg.get_payload()
    assert plain.get_content_type() == "text/plain"
    assert related.get_content_type() == "multipart/related"
    assert related.get_payload()[0].get_content_type() == "text/html"
    images = inline_images(msg)
    assert len(images) == 2
    for part in images.values():
        assert part.get_content_type() == "image/png"
        assert Image.open(io.BytesIO(part.get_payload(decode=True))).width > 0


def test_every_inline_image_is_referenced_by_cid_with_alt_text(warehouse, home, smtp_server):
    one_week(warehouse)
    warehouse.shoe(1, "g1", "Pegasus", 640)
    [msg] = deliver(warehouse, home, smtp_server)

    imgs = parse(html_of(msg)).find("img")
    assert {i["src"] for i in imgs} == {f"cid:{cid}" for cid in inline_images(msg)}
    for img in imgs:
        assert img["alt"] and len(img["alt"]) > 40  # says what the chart shows, in words
    weekly = next(i for i in imgs if "weekly" in (i["src"] or ""))
    assert "41.0 km" in weekly["alt"]  # the highest week is named for readers without images


def test_subject_names_the_week_and_the_top_findings(warehouse, home, smtp_server):
    one_week(warehouse)
    warehouse.flag(1, "shoes.mileage", "watch", "rule_of_thumb", "Your Pegasus have 640 km.")
    warehouse.flag(1, "distance.single_run_spike", "warning", "moderate", "Sunday's run was 35% longer.")
    [msg] = deliver(warehouse, home, smtp_server)

    assert msg["Subject"] == "Week of 16 Nov: long-run spike and worn shoes"


def test_subject_of_a_week_without_concerns_says_steady(warehouse, home, smtp_server):
    one_week(warehouse)
    warehouse.flag(1, "distance.weekly_change", "info", "limited", "55% above your 4-week average.")
    [msg] = deliver(warehouse, home, smtp_server)

    assert msg["Subject"] == "Week of 16 Nov: a steady week"


def test_each_fired_factor_gets_a_section_and_the_others_are_listed_as_fine(warehouse, home, smtp_server):
    one_week(warehouse)
    warehouse.flag(1, "posture.cadence", "watch", "limited", "Your cadence averaged 152 steps per minute.")
    warehouse.flag(1, "strength.no_strength_14d", "watch", "moderate", "No strength session in 14 days.")
    warehouse.sources["posture.cadence"] = "Heiderscheit et al., Med Sci Sports Exerc 2011;43:296-302"
    [msg] = deliver(warehouse, home, smtp_server)

    tags = parse(html_of(msg))
    fired = [a["data-factor"] for a in tags.find("div") if a.get("data-factor")]
    fine = [a["data-factor-fine"] for a in tags.find("li") if a.get("data-factor-fine")]
    assert sorted(fired) == ["posture", "strength"]
    assert sorted(fired + fine) == sorted(f.key for f in FACTORS)  # all seven, once each
    html = html_of(msg)
    assert "Your cadence averaged 152 steps per minute." in html
    assert "Source: Heiderscheit et al., Med Sci Sports Exerc 2011;43:296-302." in html  # the rule catalogue
    assert "arms at 90 degrees" in html  # the article's advice for posture
    text = text_of(msg)
    assert "== Posture and form ==" in text and "== Strength and core ==" in text


def test_sections_are_ranked_by_severity_then_evidence_grade(warehouse, home, smtp_server):
    one_week(warehouse)
    warehouse.flag(1, "surface.no_soft_surface", "info", "rule_of_thumb", "No trail, grass or track in 4 weeks.")
    warehouse.flag(1, "shoes.mileage", "watch", "rule_of_thumb", "Your Pegasus have 640 km.")
    warehouse.flag(1, "strength.no_strength_14d", "watch", "moderate", "No strength session in 14 days.")
    warehouse.flag(1, "injury.pain_notes", "warning", "strong", "You wrote 'sore back' on Tuesday.")
    [msg] = deliver(warehouse, home, smtp_server)

    fired = [a["data-factor"] for a in parse(html_of(msg)).find("div") if a.get("data-factor")]
    assert fired == ["injury", "strength", "shoes", "surface"]


def test_grade_is_said_in_words(warehouse, home, smtp_server):
    one_week(warehouse)
    warehouse.flag(1, "shoes.mileage", "watch", "rule_of_thumb", "Your Pegasus have 640 km.")
    warehouse.flag(1, "distance.single_run_spike", "warning", "moderate", "Sunday's run was 35% longer.")
    [msg] = deliver(warehouse, home, smtp_server)

    text = " ".join(text_of(msg).split())
    assert "Evidence: moderate (one large study" in text
    assert "Evidence: rule of thumb (common advice among runners" in text
    assert "rule_of_thumb" not in text


def test_weekly_change_is_never_worded_as_a_warning(warehouse, home, smtp_server):
    one_week(warehouse)
    warehouse.flag(1, "distance.weekly_change", "info", "limited", "55% above your 4-week average.")
    [msg] = deliver(warehouse, home, smtp_server)

    section = re.search(r"== Distance and recovery ==(.*?)\n\n\n", text_of(msg), re.S).group(1)
    assert "[For information]" in section and "Warning" not in section


def test_closing_advice_blind_spots_and_how_to_stop_are_always_there(warehouse, home, smtp_server):
    one_week(warehouse)
    [msg] = deliver(warehouse, home, smtp_server)

    for body in (" ".join(text_of(msg).split()), " ".join(html_of(msg).split())):
        assert "persists or gets worse needs a doctor or physiotherapist" in body
        assert "numbness" in body and "bladder or bowel" in body and "fever" in body and "night" in body
        assert "not medical advice" in body
        assert "sleep" in body and "description" in body  # what the data cannot see; note pain
        assert "backstride athletes set 1 --digest off" in body
        assert body.count("fairly uncommon in runners") == 1


def test_hostile_names_and_messages_arrive_as_text(warehouse, home, smtp_server):
    one_week(warehouse, firstname='<script>alert("x")</script>')
    hostile = '"><img src=x onerror=alert(1)> on Sunday'
    warehouse.flag(1, "injury.pain_notes", "warning", "strong", f"You wrote 'back pain' in {hostile}.")
    warehouse.shoe(1, "g1", "<b onmouseover=alert(2)>Pegasus</b>", 300)
    [msg] = deliver(warehouse, home, smtp_server)

    html = html_of(msg)
    tags = parse(html)
    assert tags.find("script") == []
    assert all(not any(k.startswith("on") for k in attrs) for _, attrs in tags.tags)
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
    assert "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;" in html
    assert "&lt;b onmouseover=alert(2)&gt;Pegasus&lt;/b&gt;" in html
    assert hostile in " ".join(text_of(msg).split())  # the plain part shows it as the athlete wrote it


def test_athlete_without_runs_gets_a_sensible_email(warehouse, home, smtp_server):
    warehouse.athlete(1)
    [msg] = deliver(warehouse, home, smtp_server)

    assert msg["Subject"] == "Week of 16 Nov: no runs logged"
    assert "No runs were logged" in text_of(msg)
    assert len(inline_images(msg)) == 1  # the (empty) distance chart; no shoes, no shoe chart
    fine = [a for a in parse(html_of(msg)).find("li") if a.get("data-factor-fine")]
    assert len(fine) == 7


def test_quarantined_activity_that_week_adds_a_data_quality_note(warehouse, home, smtp_server):
    one_week(warehouse)
    warehouse.athlete(2)
    warehouse.quarantined(1, 101, "2026-11-18T07:30:00")
    warehouse.quarantined(2, 201, "2026-11-02T07:30:00")  # an earlier week: no note this week
    deliver(warehouse, home, smtp_server)

    mailbox = smtp_server.mailbox
    [first] = mailbox.to("runner1@example.com")
    [second] = mailbox.to("runner2@example.com")
    assert 'data-note="data-quality"' in html_of(first)
    assert "1 of your activities from this week" in " ".join(text_of(first).split())
    assert 'data-note="data-quality"' not in html_of(second)


def test_spike_weeks_are_marked_in_the_text_chart_and_named_in_the_alt_text(warehouse, home, smtp_server):
    one_week(warehouse)
    spike_week = WEEK - dt.timedelta(weeks=6)
    warehouse.flag(1, "distance.single_run_spike", "watch", "moderate", "A 15% spike.", week_start=spike_week)
    [msg] = deliver(warehouse, home, smtp_server)

    weekly = next(i for i in parse(html_of(msg)).find("img") if "weekly" in (i["src"] or ""))
    assert "spikes are marked in the weeks of 5 Oct" in weekly["alt"]
    assert re.search(r"5 Oct\s+\d+\.\d km\s+<- long-run spike", text_of(msg))
    assert msg["Subject"] == "Week of 16 Nov: a steady week"  # an old spike is not this week's news


def test_a_flag_without_a_message_says_why_in_words_and_names_its_source_with_no_figure_of_its_own(
    warehouse, home, smtp_server
):
    """The reasons and numbers a runner reads come from the models' message, built from their own
    parameters; a flag without one gets a general sentence and the rule catalogue's source."""
    one_week(warehouse)
    warehouse.sources["shoes.rotation"] = "Malisoux et al., Scand J Med Sci Sports 2015;25:110-5"
    warehouse.flag(1, "shoes.rotation", "info", "limited", "")
    [msg] = deliver(warehouse, home, smtp_server)

    text = " ".join(text_of(msg).split())
    assert FALLBACK_WHY in text
    assert "Source: Malisoux et al., Scand J Med Sci Sports 2015;25:110-5." in text
    assert not re.search(r"\d", FALLBACK_WHY)


def test_the_digest_wording_holds_no_threshold_of_its_own():
    """Each rule's figures live in the rule_thresholds seed; the wording only names rules."""
    from pipeline.digest import wording
    from pipeline.thresholds import seed_params

    seed_rules = {rule for rule, _param in seed_params() if rule != "load"}
    assert sorted(seed_rules - set(wording.RULE_LABELS)) == []  # every rule has a name in the email
    assert not [label for label in wording.RULE_LABELS.values() if re.search(r"\d", label)]
    assert not hasattr(wording, "RULE_TEXT")


def test_the_models_message_is_not_repeated_by_a_second_why(warehouse, home, smtp_server):
    one_week(warehouse)
    warehouse.flag(
        1, "shoes.rotation", "info", "limited", "All your runs were in one pair. In a study of 264 runners..."
    )
    [msg] = deliver(warehouse, home, smtp_server)

    assert " ".join(text_of(msg).split()).count("264 runners") == 1


def test_subject_takes_the_most_important_findings_across_factors(warehouse, home, smtp_server):
    one_week(warehouse)
    warehouse.flag(1, "distance.single_run_spike", "warning", "moderate", "A 45% spike.")
    warehouse.flag(1, "distance.recovery_after_big_run", "watch", "rule_of_thumb", "Ran again after 25 hours.")
    warehouse.flag(1, "shoes.mileage", "warning", "rule_of_thumb", "851 km.")
    [msg] = deliver(warehouse, home, smtp_server)

    assert msg["Subject"] == "Week of 16 Nov: long-run spike, worn shoes and more"


def test_every_rule_of_the_catalogue_lands_in_its_factors_section(warehouse, home, smtp_server):
    rules = [
        "distance.single_run_spike", "distance.weekly_change", "distance.recovery_after_big_run",
        "distance.monotony", "shoes.mileage", "shoes.age", "shoes.rotation", "shoes.unknown_gear",
        "posture.cadence", "posture.form_fading", "surface.no_soft_surface", "preparation.warmup",
        "strength.no_strength_14d", "strength.low_frequency", "injury.pain_notes", "injury.return_after_break",
    ]  # fmt: skip
    one_week(warehouse)
    for rule_id in rules:
        warehouse.flag(1, rule_id, "watch", "limited", f"message of {rule_id}")
    [msg] = deliver(warehouse, home, smtp_server)

    html = html_of(msg)
    sections = re.findall(r'<div data-factor="(\w+)"(.*?)</div>', html, re.S)
    assert sorted(factor for factor, _ in sections) == sorted(f.key for f in FACTORS)
    for factor, body in sections:
        expected = [r for r in rules if r.startswith(factor + ".")]
        assert sorted(re.findall(r"message of ([\w.]+)", body)) == sorted(expected)
    assert "data-factor-fine" not in html and "The other factors" not in html


def test_a_retired_shoe_is_listed_as_retired_with_no_mileage_verdict_or_chart_bar(warehouse, home, smtp_server):
    one_week(warehouse)
    warehouse.shoe(1, "g1", "Pegasus", 300)
    warehouse.shoe(1, "g2", "Old Clifton", 900, retired=True)  # past both marks, but Strava says retired
    [msg] = deliver(warehouse, home, smtp_server)

    text = " ".join(text_of(msg).split())
    html = " ".join(html_of(msg).split())
    assert "Old Clifton: 900 km" in text and "(retired)." in text
    assert "Old Clifton</strong>: 900 km" in html and "(retired).</li>" in html
    assert "past the" not in text  # no check or replacement mark for a pair no longer in use
    shoes_chart = next(i for i in parse(html_of(msg)).find("img") if "shoe" in (i["src"] or ""))
    assert "Pegasus" in shoes_chart["alt"] and "Old Clifton" not in shoes_chart["alt"]


def test_a_shoe_strava_could_not_find_is_listed_without_a_mileage_verdict_or_chart_bar(warehouse, home, smtp_server):
    one_week(warehouse)
    warehouse.shoe(1, "g1", "Pegasus", 300)
    warehouse.shoe(1, "g404", "unknown shoe", 700, missing=True)  # only the runs logged here
    [msg] = deliver(warehouse, home, smtp_server)

    text = " ".join(text_of(msg).split())
    assert "unknown shoe: 700 km" in text
    assert "not found on Strava, so its total is unknown" in text
    assert "past the" not in text  # no check or replacement mark for a total nobody knows
    shoes_chart = next(i for i in parse(html_of(msg)).find("img") if "shoe" in (i["src"] or ""))
    assert "Pegasus" in shoes_chart["alt"] and "unknown shoe" not in shoes_chart["alt"]
