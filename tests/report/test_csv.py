"""CSV: one row per finding, defused against formula injection."""

from __future__ import annotations

import csv
import io

import pytest

from policyengine.findings.model import Result
from policyengine.report import ReportOptions, render
from policyengine.report.csv import COLUMNS
from tests.findings.samples import diffed_result, finding, result


def rows(res: Result) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(render("csv", res, ReportOptions()))))


def test_one_row_per_finding_with_header() -> None:
    out = rows(diffed_result())
    assert len(out) == len(diffed_result().findings)
    assert list(out[0]) == list(COLUMNS)
    by = {r["id"]: r for r in out}
    assert by["gone"]["change"] == "resolved"
    assert by["u5"]["waived"] == "true" and by["u5"]["waiver_ticket"] == "SEC-123"
    assert by["app1"]["waiver_expired"] == "true" and by["app1"]["waived"] == "false"
    assert by["u9"]["file"] == "access/admins.yaml" and by["u9"]["line"] == "12"
    assert "mfa.methods: ['sms']" in by["u9"]["evidence"]


@pytest.mark.parametrize("lead", ["=", "+", "-", "@", "\t", "\r"])
def test_formula_cells_are_prefixed_with_a_quote(lead: str) -> None:
    evil = finding("u1", name=f'{lead}HYPERLINK("http://evil","x")', message=f"{lead}1+1")
    (row,) = rows(result(evil))
    assert row["name"] == f'\'{lead}HYPERLINK("http://evil","x")'
    assert row["message"] == f"'{lead}1+1"
    assert row["id"] == "u1"


# OWASP "CSV Injection": = + - @ tab CR (and LF); a cell may hide them behind leading
# whitespace, NUL or a line break, or use the full-width forms that East Asian input gives
@pytest.mark.parametrize(
    "value",
    [
        "\n=1+1",
        "\r\n=1+1",
        "\x00=1+1",
        "   =1+1",
        " \t @SUM(A1)",
        "\u3000=1+1",
        "\xa0-1+1",
        '\uff1dHYPERLINK("http://evil")',
        "\uff0b1+1",
        "\uff0d1+1",
        "\uff20SUM(A1)",
        "\ufe66cmd|' /C calc'!A0",
        "\n",
        "\x00",
    ],
)
def test_hidden_and_full_width_formula_triggers_are_defused(value: str) -> None:
    (row,) = rows(result(finding("u1", name=value, message=value)))
    assert row["name"] == "'" + value.replace("\x00", "\ufffd")
    assert row["message"] == row["name"]


def test_harmless_leading_text_is_left_alone() -> None:
    (row,) = rows(result(finding("u1", name="alice =bob", message="Smith-Jones")))
    assert row["name"] == "alice =bob" and row["message"] == "Smith-Jones"


def test_commas_quotes_and_newlines_round_trip() -> None:
    odd = finding("u1", name='Smith, "Bob"\nJr')
    (row,) = rows(result(odd))
    assert row["name"] == 'Smith, "Bob"\nJr'


def test_empty_result_is_just_the_header() -> None:
    assert render("csv", result(), ReportOptions()) == ",".join(COLUMNS) + "\r\n"
