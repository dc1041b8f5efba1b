"""Remediation keys are open to every registered connector; lint warns on one not installed."""

from __future__ import annotations

from pathlib import Path

from policyengine.cli.main import main
from policyengine.policy.loader import load_definitions

POLICY = """\
id: ACME-MFA-001
title: Acme admins have MFA
severity: high
resource: account
description: d
rationale: r
references: [https://example.com]
frameworks: {cis-v8: ["6.5"]}
match:
  source_type: acme
require:
  mfa.enrolled: true
remediation:
  default: Enrol MFA for {name}.
  %s: Acme console > Users > {name} > MFA.
"""


def write(tmp_path: Path, key: str) -> Path:
    path = tmp_path / "acme-mfa.yaml"
    path.write_text(POLICY % key, encoding="utf-8")
    (tmp_path / "acme-mfa.test.yaml").write_text(
        "policy: ACME-MFA-001\ncases:\n"
        "  - name: an acme account without MFA\n"
        "    resources:\n"
        "      - {kind: account, id: a1, name: a, source: acme, mfa: {enrolled: false}}\n"
        "    expect: [a1]\n",
        encoding="utf-8",
    )
    return path


def test_a_third_party_connector_name_is_a_remediation_key(tmp_path):
    # was E101 "not a connector type": a closed list of seven names
    definitions, errors = load_definitions([write(tmp_path, "acme")])
    assert not errors
    assert definitions[0].remediation["acme"].startswith("Acme console")


def test_a_key_that_cannot_be_a_connector_name_is_still_an_error(tmp_path):
    _, errors = load_definitions([write(tmp_path, "Not A Name")])
    assert [e.code for e in errors] == ["E101"]
    assert "remediation key 'Not A Name' is not a connector name" in str(errors[0])


def test_lint_warns_on_a_key_no_installed_connector_provides(tmp_path, capsys):
    write(tmp_path, "salesfroce")
    assert main(["lint", "--strict", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert (
        "acme-mfa.yaml:15:3: W209 remediation key 'salesfroce' names no installed connector" in out
    )
    assert "(did you mean 'salesforce'?)" in out


def test_lint_accepts_an_installed_connector_key(tmp_path, capsys):
    write(tmp_path, "okta")
    assert main(["lint", "--strict", str(tmp_path)]) == 0, capsys.readouterr().out


def test_a_test_case_source_is_its_connector_type_for_any_connector(tmp_path, capsys):
    # was: source_type 'test' for any source outside a closed list, so the match missed
    write(tmp_path, "acme")
    assert main(["test", str(tmp_path)]) == 0, capsys.readouterr().out
