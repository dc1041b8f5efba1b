"""Waivers: loading with positions, matching, expiry against the evaluation clock."""

from __future__ import annotations

from pathlib import Path

import pytest

from policyengine.errors import ConfigError
from policyengine.findings.waivers import apply_waivers, load_waivers, orphans, parse_waivers
from tests.findings.samples import finding, result

DATA = Path(__file__).parent.parent / "data" / "waivers"

ONE = """\
waivers:
  - policy: PE-MFA-002
    resource: {{source: corp-ad, id: "u9"}}
    reason: hardware key on order
    owner: secops@example.com
    ticket: SEC-123
    expires: {expires}
"""


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "waivers.yaml"
    p.write_text(text, encoding="utf-8")
    return p


def test_example_file_loads_every_selector_form() -> None:
    ws = load_waivers(DATA / "waivers.yaml")
    assert [w.policy for w in ws.waivers] == ["PE-MFA-002", "PE-SES-001", "PE-INT-001"]
    first, second, third = ws.waivers
    assert first.selector is not None and first.selector.id == "u9"
    assert first.ticket == "SEC-123" and first.expires == "2026-07-01T00:00:00Z"
    assert first.line == 3 and first.col == 5
    assert second.selector is not None and second.selector.name == "svc-*"
    assert third.fingerprint == "0123456789abcdef0123456789abcdef"
    assert third.expires == "2026-06-25T12:00:00Z"


def test_active_waiver_marks_finding_waived_not_hidden(tmp_path: Path) -> None:
    ws = load_waivers(write(tmp_path, ONE.format(expires="2026-09-01")))
    out = apply_waivers(result(finding("u9"), finding("u1")), ws)
    by_id = {f.resource.id: f for f in out.findings}
    assert len(out.findings) == 2
    assert by_id["u9"].waived is True
    assert by_id["u9"].waiver is not None
    assert by_id["u9"].waiver.reason == "hardware key on order"
    assert by_id["u9"].waiver.expired is False
    assert by_id["u1"].waived is False and by_id["u1"].waiver is None
    assert out.summary()["waived"] == 1
    d = by_id["u9"].to_dict()
    assert d["waived"] is True and d["waiver"]["ticket"] == "SEC-123"
    assert out.warnings == ()


def test_expired_waiver_stops_waiving_and_says_so(tmp_path: Path) -> None:
    ws = load_waivers(write(tmp_path, ONE.format(expires="2026-07-01")))
    out = apply_waivers(result(finding("u9"), now="2026-07-01T00:00:00Z"), ws)
    (f,) = out.findings
    assert f.waived is False
    assert f.waiver is not None and f.waiver.expired is True
    assert any("expired 2026-07-01" in w and "PE-MFA-002" in w for w in out.warnings)
    assert any(str(tmp_path / "waivers.yaml") + ":2:5" in w for w in out.warnings)


def test_expiry_uses_the_result_clock_not_the_wall_clock(tmp_path: Path) -> None:
    # expires long before "today": still active because the snapshot is older
    ws = load_waivers(write(tmp_path, ONE.format(expires="2001-01-10")))
    out = apply_waivers(result(finding("u9"), now="2001-01-09T23:59:59Z"), ws)
    assert out.findings[0].waived is True


def test_waiver_expiring_within_14_days_is_warned_about(tmp_path: Path) -> None:
    ws = load_waivers(write(tmp_path, ONE.format(expires="2026-07-01")))
    out = apply_waivers(result(finding("u9"), now="2026-06-20T00:00:00Z"), ws)
    (f,) = out.findings
    assert f.waived is True and f.waiver is not None and f.waiver.expiring_soon is True
    assert len(out.warnings) == 1 and "expires 2026-07-01" in out.warnings[0]
    far = apply_waivers(result(finding("u9"), now="2026-06-01T00:00:00Z"), ws)
    assert far.findings[0].waiver is not None and far.findings[0].waiver.expiring_soon is False
    assert far.warnings == ()


def test_waiver_beyond_horizon_still_applies_but_warns(tmp_path: Path) -> None:
    ws = load_waivers(write(tmp_path, ONE.format(expires="2027-06-01")), max_days=90)
    out = apply_waivers(result(finding("u9")), ws)
    assert out.findings[0].waived is True
    assert any("maximum horizon" in w for w in out.warnings)


def test_one_warning_per_waiver_not_per_finding(tmp_path: Path) -> None:
    text = ONE.format(expires="2026-07-01").replace(
        '{source: corp-ad, id: "u9"}', "{name: 'adm-*'}"
    )
    ws = load_waivers(write(tmp_path, text))
    out = apply_waivers(
        result(finding("a1", name="adm-alice"), finding("a2", name="adm-bob"), finding("u3")), ws
    )
    assert [f.waived for f in out.findings] == [True, True, False]
    assert len(out.warnings) == 1


def test_selector_fields_must_all_match(tmp_path: Path) -> None:
    text = ONE.format(expires="2026-09-01").replace(
        '{source: corp-ad, id: "u9"}', '{source: okta, id: "u9"}'
    )
    out = apply_waivers(result(finding("u9")), load_waivers(write(tmp_path, text)))
    assert out.findings[0].waived is False


def test_waiver_for_another_policy_does_not_match(tmp_path: Path) -> None:
    text = ONE.format(expires="2026-09-01").replace("PE-MFA-002", "PE-SES-001")
    out = apply_waivers(result(finding("u9")), load_waivers(write(tmp_path, text)))
    assert out.findings[0].waived is False


def test_fingerprint_waiver(tmp_path: Path) -> None:
    target = finding("u9")
    text = ONE.format(expires="2026-09-01").replace(
        'resource: {source: corp-ad, id: "u9"}', f'fingerprint: "{target.fingerprint}"'
    )
    out = apply_waivers(result(target, finding("u1")), load_waivers(write(tmp_path, text)))
    assert [(f.resource.id, f.waived) for f in out.findings] == [("u1", False), ("u9", True)]


def test_active_waiver_wins_over_an_expired_one(tmp_path: Path) -> None:
    text = ONE.format(expires="2026-01-01") + ONE.format(expires="2026-08-01").replace(
        "waivers:\n", ""
    )
    out = apply_waivers(result(finding("u9")), load_waivers(write(tmp_path, text)))
    f = out.findings[0]
    assert f.waived is True and f.waiver is not None and f.waiver.expires.startswith("2026-08-01")
    assert out.warnings == ()


def test_resolved_findings_are_left_alone(tmp_path: Path) -> None:
    ws = load_waivers(write(tmp_path, ONE.format(expires="2026-01-01")))  # expired
    gone = finding("u9").with_changes(change="resolved")
    out = apply_waivers(result(gone), ws)
    assert out.findings[0].waiver is None and out.warnings == ()


def test_stale_waiver_from_a_saved_result_is_dropped() -> None:
    from policyengine.findings.model import WaiverStatus
    from policyengine.findings.waivers import WaiverSet

    old = finding("u9").with_changes(
        waived=True, waiver=WaiverStatus("r", "o", "2026-09-01T00:00:00Z")
    )
    out = apply_waivers(result(old), WaiverSet.of(()))
    assert out.findings[0].waived is False and out.findings[0].waiver is None


# ----------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("text", "where", "words"),
    [
        (
            ONE.format(expires="2026-07-01").replace("    owner: secops@example.com\n", ""),
            ":2:5",
            "'owner' is required",
        ),
        (
            ONE.format(expires="2026-07-01").replace("    expires: 2026-07-01\n", ""),
            ":2:5",
            "no expiry",
        ),
        (ONE.format(expires="next tuesday"), ":7:14", "not a date"),
        (
            ONE.format(expires="2026-07-01").replace('id: "u9"', "colour: red"),
            ":3:33",
            "unknown field",
        ),
        (
            ONE.format(expires="2026-07-01").replace(
                'resource: {source: corp-ad, id: "u9"}', "fingerprint: xyz"
            ),
            ":3:18",
            "regex",
        ),
        (
            ONE.format(expires="2026-07-01").replace(
                "    reason:", '    fingerprint: "0123456789abcdef0123456789abcdef"\n    reason:'
            ),
            ":4:5",
            "",
        ),
        # blank (empty or whitespace-only) reason/owner: no accountable person, no reason
        (
            ONE.format(expires="2026-07-01").replace("hardware key on order", '"   "'),
            ":4:13",
            "'reason' must not be blank",
        ),
        (
            ONE.format(expires="2026-07-01").replace("secops@example.com", '"\\t "'),
            ":5:12",
            "'owner' must not be blank",
        ),
        (
            ONE.format(expires="2026-07-01").replace("secops@example.com", '""'),
            ":5:12",
            "'owner' must not be blank",
        ),
        ("waivers: {policy: x}\n", ":1:10", "must be a list"),
        ("waiver:\n  - policy: x\n", ":1:1", "unknown top-level"),
        ("x: &a {policy: x}\nwaivers: [*a]\n", ":1:4", "aliases"),
        (
            "waivers:\n  - {reason: r, owner: o, expires: 2026-01-01, policy: P}\n",
            ":2:5",
            "needs 'resource' (a selector) or 'fingerprint'",
        ),
    ],
)
def test_invalid_waivers_name_file_line_col(
    tmp_path: Path, text: str, where: str, words: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_waivers(path)
    message = str(info.value)
    assert message.startswith(str(path) + where), message
    assert words in message


@pytest.mark.parametrize("expires", ["2026-02-30", "~"])
def test_impossible_or_null_expiry_is_an_error_not_a_traceback(
    tmp_path: Path, expires: str
) -> None:
    path = write(tmp_path, ONE.format(expires=expires))
    with pytest.raises(ConfigError) as info:
        load_waivers(path)
    assert str(info.value).startswith(str(path))
    assert info.value.code in ("E001", "E301", "E302")


def test_parse_waivers_keeps_valid_entries_and_reports_bad_ones(tmp_path: Path) -> None:
    bad = ONE.format(expires="2026-07-01").replace("    expires: 2026-07-01\n", "")
    good = ONE.format(expires="2026-08-01").replace("waivers:\n", "")
    ws, problems = parse_waivers(write(tmp_path, bad + good))
    assert len(ws) == 1 and ws.waivers[0].expires.startswith("2026-08-01")
    assert [(p.code, p.line) for p in problems] == [("E302", 2)]


def test_empty_file_is_no_waivers(tmp_path: Path) -> None:
    assert len(load_waivers(write(tmp_path, ""))) == 0
    assert len(load_waivers(write(tmp_path, "waivers: []\n"))) == 0


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_waivers(tmp_path / "nope.yaml")


# ----------------------------------------------------------------------- orphans


def test_orphans_against_a_result_and_against_resources() -> None:
    ws = load_waivers(DATA / "waivers.yaml")
    res = result(finding("u9"))
    assert [w.policy for w in orphans(ws, res)] == ["PE-SES-001", "PE-INT-001"]
    resources = [
        {"kind": "account", "source": "corp-ad", "id": "u9", "name": "alice"},
        {"kind": "account", "source": "corp-ad", "id": "s1", "name": "svc-backup"},
    ]
    assert [w.policy for w in orphans(ws, resources)] == ["PE-INT-001"]


def test_first_matching_waiver_in_file_order_wins_across_selector_forms(tmp_path: Path) -> None:
    target = finding("u9", name="adm-u9")
    entry = (
        "  - policy: PE-MFA-002\n    {sel}\n    reason: {reason}\n"
        "    owner: o@example.com\n    expires: 2026-08-01\n"
    )
    text = "waivers:\n" + "".join(
        entry.format(sel=sel, reason=reason)
        for sel, reason in [
            ("resource: {kind: account, source: corp-ad}", "by kind and source"),
            ("resource: {name: 'adm-*'}", "by glob"),
            ("resource: {id: u9}", "by id"),
            (f"fingerprint: {target.fingerprint}", "by fingerprint"),
        ]
    )
    ws = load_waivers(write(tmp_path, text))
    assert [w.reason for w in ws.matching(target)] == [
        "by kind and source",
        "by glob",
        "by id",
        "by fingerprint",
    ]
    other = finding("u1", name="bob", source="okta")
    assert ws.matching(other) == []
    out = apply_waivers(result(target), ws)
    assert out.findings[0].waiver is not None
    assert out.findings[0].waiver.reason == "by kind and source"
