"""`backstride thresholds`: list the risk rules' parameters, set or unset an athlete's own values."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from pipeline.cli.app import fail, out, print_rows, settings
from pipeline.cli.checks import athlete_id_argument, athlete_id_option

thresholds_app = typer.Typer(help="The risk rules' thresholds, and per-athlete overrides.", no_args_is_help=True)


@thresholds_app.command("list")
def thresholds_list(
    athlete: Annotated[Optional[int], athlete_id_option("Also show this athlete's own values.")] = None,
) -> None:
    """Every rule parameter with its default, unit and evidence grade (sql/seeds/rule_thresholds.csv)."""
    from pipeline.thresholds import threshold_table

    columns, rows = threshold_table(settings(), athlete)
    print_rows(columns, rows, title="Rule thresholds")


@thresholds_app.command("set")
def thresholds_set(
    athlete_id: Annotated[int, athlete_id_argument()],
    rule_id: Annotated[str, typer.Argument(help="For example shoes.mileage.")],
    param: Annotated[str, typer.Argument(help="For example warning_km.")],
    value: Annotated[float, typer.Argument(help="The athlete's own value, in the parameter's unit.")],
) -> None:
    """Give one athlete their own value for a rule parameter (applies from the next build).

    The value must mean something in the parameter's unit (`thresholds list`): a share is
    0 to 1, a ratio above 0, days a whole number from 1; NaN and infinity are refused (exit 2).
    """
    from pipeline.thresholds import ThresholdValueError, save_override

    s = settings()
    try:
        default = save_override(s, athlete_id, rule_id, param, value)
    except KeyError as e:
        fail(str(e.args[0]))
    except ThresholdValueError as e:
        fail(str(e), 2)
    out.print(f"athlete {athlete_id}: {rule_id}.{param} = {value:g} (default {default:g}); run `backstride build`")


@thresholds_app.command("unset")
def thresholds_unset(
    athlete_id: Annotated[int, athlete_id_argument()],
    rule_id: Annotated[str, typer.Argument(help="For example shoes.mileage.")],
    param: Annotated[str, typer.Argument(help="For example warning_km.")],
) -> None:
    """Remove an athlete's own value: the default applies again from the next build."""
    from pipeline.thresholds import remove_override

    s = settings()
    try:
        removed = remove_override(s, athlete_id, rule_id, param)
    except KeyError as e:
        fail(str(e.args[0]))
    if not removed:
        fail(f"athlete {athlete_id} has no override for {rule_id}.{param}")  # a known name: plain text
    out.print(f"athlete {athlete_id}: {rule_id}.{param} back to the default; run `backstride build`")
