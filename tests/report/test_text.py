"""Text output: nothing from the data reaches the terminal as a control character."""

from __future__ import annotations

import re

import pytest

from policyengine.findings.model import PolicyInfo, Result, SourceStatus
from policyengine.report import ReportOptions, render
from tests.findings.samples import diffed_result, finding, result, waived_status

# what a terminal would interpret: C0/C1 controls (ESC, CR, BEL, ...), bidi overrides,
# line separators; "\n" is allowed only as our own line end
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")

HOSTILE = (
    "evil\x1b[2J\x1b]0;pwned\x07",
    "line1\nCRITICAL (0)\n0 findings",
    "carriage\rreturn",
    "tab\there",
    "bidi \u202eoverride",
    "nel\x85sep\u2028par\u2029",
)


def hostile(text: str) -> Result:
    f = finding("u1", name=text, message=f"msg {text}", source=text).with_changes(
        title=f"title {text}", remediation=f"fix {text}"
    )
    w = waived_status()
    waived = finding("u2", name=text).with_changes(
        waived=True, waiver=type(w)(reason=text, owner=text, expires=text, ticket=text)
    )
    bad = SourceStatus(
        connector=text, instance=text, collected_at=text, complete=False, errors=(text,)
    )
    policy = PolicyInfo(
        id="PE-MFA-002", title=f"title {text}", severity="critical", resource="account"
    )
    return Result((f, waived), (policy,), (bad,), text, (text,))


@pytest.mark.parametrize("text", HOSTILE)
@pytest.mark.parametrize("diff", [False, True])
def test_no_control_character_reaches_the_terminal(text: str, diff: bool) -> None:
    res = hostile(text)
    if diff:
        res = Result(
            tuple(
                f.with_changes(change=c)
                for f, c in zip(res.findings, ("new", "resolved"), strict=True)
            ),
            res.policies,
            res.sources,
            res.now,
            res.warnings,
        )
    out = render("text", res, ReportOptions(diff=diff))
    assert not _CONTROL.findall(out), repr(out)
    lines = out.splitlines()
    # a newline in the data did not start a line of its own
    assert not any(line.startswith(("CRITICAL (0)", "0 findings")) for line in lines)


def test_control_characters_are_shown_not_dropped() -> None:
    out = render("text", result(finding("u1", name="a\x1b[2Jb\nc")), ReportOptions())
    assert "a\\x1b[2Jb\\x0ac" in out


def test_colour_codes_are_still_ours_to_add() -> None:
    out = render("text", diffed_result(), ReportOptions(color=True))
    assert "\x1b[1;31m" in out  # the critical header
