"""The bundled demo snapshots load, are consistent, and tell the attack story."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from policyengine.demo import DEMO_FILES, demo_snapshot_paths
from policyengine.model.kinds import LIST_KEYS, REFERENCES
from policyengine.snapshot.reader import open_snapshot

COLLECTED_AT = "2026-11-01T06:00:00Z"
EXPECTED_CONNECTORS = {
    "corp-ad": "ldap",
    "salesforce-prod": "salesforce",
    "okta": "okta",
    "google-workspace": "google",
    "github": "github",
    "entra": "entra",
}


def _load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def _resources(doc: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for kind, key in LIST_KEYS.items():
        for record in doc.get(key, []):
            yield kind, record


@pytest.fixture(scope="module")
def docs() -> dict[str, dict[str, Any]]:
    return {p.name: _load(p) for p in demo_snapshot_paths()}


def test_paths_exist_in_stable_order() -> None:
    paths = demo_snapshot_paths()
    assert [p.name for p in paths] == list(DEMO_FILES)
    assert all(p.is_file() for p in paths)


def test_headers(docs: dict[str, dict[str, Any]]) -> None:
    instances = {}
    for name, doc in docs.items():
        assert doc["snapshot_version"] == 1, name
        source = doc["source"]
        assert set(source) >= {"connector", "instance", "collected_at", "complete", "errors"}
        assert source["collected_at"] == COLLECTED_AT
        assert source["complete"] is True and source["errors"] == []
        instances[source["instance"]] = source["connector"]
    assert instances == EXPECTED_CONNECTORS


def test_only_known_list_keys(docs: dict[str, dict[str, Any]]) -> None:
    allowed = {"snapshot_version", "source", *LIST_KEYS.values()} - {"persons"}
    for name, doc in docs.items():
        assert set(doc) <= allowed, (name, set(doc) - allowed)


def test_reader_accepts_every_record(docs: dict[str, dict[str, Any]]) -> None:
    """The project's own reader validates each record against the model."""
    for path in demo_snapshot_paths():
        reader = open_snapshot(path)
        records = list(reader.records())
        expected = sum(1 for _ in _resources(docs[path.name]))
        assert len(records) == expected > 0
        assert reader.source.complete


def test_ids_unique_per_kind(docs: dict[str, dict[str, Any]]) -> None:
    for name, doc in docs.items():
        seen: set[tuple[str, str]] = set()
        for kind, record in _resources(doc):
            assert record.get("kind", kind) == kind, (name, record.get("id"))
            key = (kind, record["id"])
            assert key not in seen, (name, key)
            seen.add(key)


def test_references_resolve_within_each_snapshot(docs: dict[str, dict[str, Any]]) -> None:
    for name, doc in docs.items():
        ids = {(kind, r["id"]) for kind, r in _resources(doc)}
        for kind, record in _resources(doc):
            for (ref_kind, field), target in REFERENCES.items():
                if ref_kind != kind or field not in record or field == "person":
                    continue
                value = record[field]
                for ref in value if isinstance(value, list) else [value]:
                    if (kind, field, ref) == ("session_policy", "applies_to", "everyone"):
                        continue  # the one non-reference value applies_to may hold
                    targets = {target, "role"} if target == "group" else {target}
                    assert any((t, ref) in ids for t in targets), (
                        f"{name}: {kind} {record['id']} {field} -> {ref}"
                    )


def test_session_policies_apply_to_known_groups_or_roles(docs: dict[str, dict[str, Any]]) -> None:
    for name, doc in docs.items():
        groups = {r["id"] for k, r in _resources(doc) if k in ("group", "role")}
        for policy in doc.get("session_policies", []):
            for target in policy["applies_to"]:
                assert target == "everyone" or target in groups, (name, policy["id"], target)


def test_group_members_list_the_group_back(docs: dict[str, dict[str, Any]]) -> None:
    """An account that a group lists as a direct member has the group among its groups."""
    for name, doc in docs.items():
        accounts = {r["id"]: r for r in doc.get("accounts", [])}
        for group in doc.get("groups", []):
            for member in group["members"]:
                assert group["id"] in accounts[member].get("groups", []), (
                    name,
                    group["name"],
                    member,
                )


def test_no_secret_values(docs: dict[str, dict[str, Any]]) -> None:
    """Credentials carry metadata and a salted fingerprint only."""
    banned = {"secret", "token", "password", "sharedkey", "private_key", "value"}
    for name, doc in docs.items():
        for credential in doc.get("credentials", []):
            keys = {k.lower() for k in credential} | {k.lower() for k in credential.get("raw", {})}
            assert not keys & banned, (name, credential["id"], keys & banned)


def _by_email(docs: dict[str, dict[str, Any]], email: str) -> dict[str, dict[str, Any]]:
    out = {}
    for doc in docs.values():
        for account in doc.get("accounts", []):
            if account.get("email", "").lower() == email:
                out[doc["source"]["instance"]] = account
    return out


def test_people_correlate_across_sources(docs: dict[str, dict[str, Any]]) -> None:
    julien = _by_email(docs, "julien.moreau@maisonverlaine.example")
    assert set(julien) == {
        "corp-ad",
        "salesforce-prod",
        "okta",
        "google-workspace",
        "github",
        "entra",
    }
    assert julien["google-workspace"]["employee_id"] == "MV-1002"  # the same id as corp-ad
    marc = _by_email(docs, "marc.petit@maisonverlaine.example")
    assert marc["corp-ad"]["enabled"] is False
    assert marc["salesforce-prod"]["enabled"] is True  # the leaver still has a live SaaS login
    live = [
        c
        for c in docs["salesforce-prod.json"]["credentials"]
        if c.get("owner") == marc["salesforce-prod"]["id"] and c.get("enabled")
    ]
    assert live and live[0]["created_at"].startswith("2023-")


def test_attack_chain_is_present(docs: dict[str, dict[str, Any]]) -> None:
    sf = docs["salesforce-prod.json"]
    fake = next(i for i in sf["integrations"] if i["name"] == "Data Loader")
    assert fake["publisher"] != "Salesforce" and fake["admin_approved"] is False
    assert {"full", "api", "refresh_token"} <= set(fake["scopes"])
    helpdesk = _by_email(docs, "sophie.laurent@maisonverlaine.example")
    assert fake["authorized_users"] == [helpdesk["salesforce-prod"]["id"]]
    assert any(s["name"] == "api_access_control" and s["value"] is False for s in sf["settings"])
    okta = docs["okta.json"]
    seeds = [c for c in okta["credentials"] if c["type"] == "totp_seed"]
    breakglass = next(a for a in okta["accounts"] if a["type"] == "break_glass")
    weak = next(s for s in seeds if s["owner"] == breakglass["id"])
    assert weak["strength"] == {"bits": 80, "algorithm": "SHA1", "digits": 6, "period": 30}
    assert sum(s["fingerprint"] == weak["fingerprint"] for s in seeds) == 2


def test_demo_findings_cover_integrations_credentials_and_directory() -> None:
    from policyengine.api import evaluate_snapshots, load_policy_set
    from policyengine.policy.loader import builtin_policy_dir

    root = builtin_policy_dir()
    paths = [root / family for family in ("integrations", "credentials", "directory")]
    result = evaluate_snapshots(demo_snapshot_paths(), load_policy_set(paths))
    # a finding folded into a broader one (supersedes) still counts as found
    hits = {(pid, f.resource.name) for f in result.findings for pid in (f.policy_id, *f.supersedes)}
    for expected in [
        ("PE-INT-001", "Data Loader"),
        ("PE-INT-002", "Data Loader"),
        ("PE-INT-005", "Data Loader / sophie.laurent"),
        ("PE-INT-008", "api_access_control"),
        ("PE-INT-009", "Data Loader"),
        # the rest of the chain: its exports, its live session, its recent approval
        ("PE-INT-011", "Data Loader"),
        ("PE-INT-012", "Data Loader"),
        ("PE-INT-013", "Data Loader"),
        ("PE-CRED-007", "Workday provisioning script"),
        ("PE-CRED-012", "Maison ERP Sync / marc.petit"),
        ("PE-DIR-001", "adm-jmoreau"),
        ("PE-DIR-006", "svc-sql"),
        ("PE-DIR-010", "Domain Admins"),
    ]:
        assert expected in hits, expected
    clean = {
        "Dataloader Bulk",
        "Salesforce for Outlook",
        "adm-cdubois",
        "svc-backup",
        "SIEM export",
    }
    assert not {name for _, name in hits} & clean


def test_demo_shows_every_policy_family() -> None:
    """The whole built-in library finds something in every family on the demo."""
    from policyengine.api import evaluate_snapshots, load_policy_set

    result = evaluate_snapshots(demo_snapshot_paths(), load_policy_set())
    families = {f.policy_id.rsplit("-", 1)[0] for f in result.findings}
    library = {p.id.rsplit("-", 1)[0] for p in result.policies}
    assert library <= families, sorted(library - families)
    assert {
        "PE-MFA",
        "PE-PRIV",
        "PE-SES",
        "PE-INT",
        "PE-CRED",
        "PE-DIR",
        "PE-TOTP",
        "PE-XSRC",
    } <= families
