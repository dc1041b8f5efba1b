"""The streaming, multi-process evaluation gives exactly the in-memory answer."""

from __future__ import annotations

import io
import random
from dataclasses import replace

import pytest

from policyengine.api import evaluate_resources, evaluate_snapshots, load_policy_set
from policyengine.engine import stream
from policyengine.engine.packed import PackedFindings
from policyengine.errors import SnapshotError
from policyengine.findings.model import SourceStatus

POLICIES = {
    "owner.yaml": """\
        id: PE-S-001
        title: credentials of disabled owners
        severity: high
        resource: credential
        require: {owner.enabled: true}
        remediation: Revoke {name} of {owner.name}.
        """,
    "mfa.yaml": """\
        id: PE-S-002
        title: admins use webauthn
        severity: critical
        resource: account
        match: {enabled: true, privileged: true}
        require: {mfa.methods: {contains: webauthn}}
        remediation: Fix {name}.
        """,
    "person.yaml": """\
        id: PE-S-003
        title: a person disabled somewhere has no enabled account elsewhere
        severity: high
        resource: person
        match: {accounts: {count: {where: {enabled: false}, gte: 1}}}
        require: {accounts: {count: {where: {enabled: true}, eq: 0}}}
        remediation: Disable every account of {name}.
        """,
    "enrolled.yaml": """\
        id: PE-S-005
        title: enabled accounts use webauthn
        severity: critical
        resource: account
        match: {enabled: true}
        require: {mfa.methods: {contains: webauthn}}
        supersedes: [PE-S-002]
        remediation: Enrol {name}.
        """,
    "ldap-only.yaml": """\
        id: PE-S-006
        title: directory accounts are not privileged
        severity: low
        resource: account
        match: {source_type: {in: [ldap]}, enabled: true}
        require: {privileged: false}
        remediation: Review {name}.
        """,
    "peer.yaml": """\
        id: PE-S-004
        title: accounts whose person has a disabled account elsewhere
        severity: medium
        resource: account
        match: {enabled: true}
        require: {person.accounts: {count: {where: {enabled: false}, eq: 0}}}
        on_missing: pass
        remediation: Check {name}.
        """,
}


def _data(n: int) -> tuple[list[dict], list[dict]]:
    rng = random.Random(7)
    ad, sf = [], []
    for i in range(n):
        email = f"user{i}@x.example"
        ad.append(
            {
                "kind": "account",
                "id": f"a{i}",
                "name": f"ad{i}",
                "email": email,
                "enabled": rng.random() < 0.8,
                "privileged": rng.random() < 0.2,
                "mfa": {"methods": rng.sample(["sms", "webauthn", "push"], 1)},
            }
        )
        sf.append(
            {
                "kind": "account",
                "id": f"s{i}",
                "name": f"sf{i}",
                "email": email.upper(),
                "enabled": rng.random() < 0.9,
            }
        )
        if i % 3 == 0:
            sf.append({"kind": "credential", "id": f"c{i}", "name": f"tok{i}", "owner": f"s{i}"})
    return ad, sf


def _json(result) -> bytes:
    from policyengine.report import ReportOptions, write

    buffer = io.BytesIO()
    write("json", result, ReportOptions(), buffer)
    return buffer.getvalue()


@pytest.fixture
def policy_dir(write_policy):
    import textwrap

    for name, text in POLICIES.items():
        path = write_policy(textwrap.dedent(text), name)
    return path.parent


@pytest.mark.parametrize("workers", [1, 2])
def test_parallel_streaming_equals_in_memory(policy_dir, write_snapshot, monkeypatch, workers):
    ad, sf = _data(3000)
    monkeypatch.setattr(stream, "CHUNK_BYTES", 64 * 1024)  # many small ranges
    monkeypatch.setattr(stream, "PERSONS_PER_TASK", 500)  # persons spread over workers too
    monkeypatch.setattr(stream, "PARALLEL_MIN_BYTES", 0 if workers > 1 else 1 << 40)
    monkeypatch.setattr(PackedFindings, "KEEP_PACKED_ABOVE", 0)  # stay packed: streamed reads
    monkeypatch.setattr(stream, "PACK_EVERY", 50)  # several sorted runs per task to merge
    monkeypatch.setattr(stream, "WARM_ABOVE", 0)  # owners built before forking, as at scale
    ad_path = write_snapshot(ad, "corp-ad.jsonl", connector="ldap")
    sf_path = write_snapshot(sf, "sf.jsonl", connector="salesforce")
    policy_set = load_policy_set([policy_dir])
    streamed = evaluate_snapshots([ad_path, sf_path], policy_set)

    records = [{**r, "source": "corp-ad", "source_type": "ldap"} for r in ad]
    records += [{**r, "source": "sf", "source_type": "salesforce"} for r in sf]
    in_memory = evaluate_resources(
        records,
        policy_set,
        now=streamed.now,
        sources=[SourceStatus("ldap", "corp-ad", streamed.now, True)],
    )
    assert isinstance(streamed.findings, PackedFindings)
    # the JSON report of packed findings is the workers' items, byte for byte the same
    assert _json(streamed) == _json(replace(in_memory, sources=streamed.sources))
    assert [f.to_dict() for f in streamed.findings] == [f.to_dict() for f in in_memory.findings]
    # read again, in batches as the JSON report reads, and counted without reading
    batches = [streamed.findings[i : i + 100] for i in range(0, len(streamed.findings), 100)]
    assert [f for b in batches for f in b] == list(in_memory.findings)
    assert streamed.summary() == in_memory.summary()
    assert streamed.fails("high") is bool(in_memory.failing("high")) is True
    assert streamed.findings[3] == in_memory.findings[3]
    assert any(f.folded for f in streamed.findings)  # PE-S-005 folds PE-S-002 in the workers
    by_policy = {
        p: sum(g.policy_id == p for f in streamed.findings for g in (f, *f.folded))
        for p in ("PE-S-001", "PE-S-002", "PE-S-003", "PE-S-004", "PE-S-005", "PE-S-006")
    }
    assert all(by_policy.values()), by_policy
    assert {p.id: p.evaluated for p in streamed.policies} == {
        p.id: p.evaluated for p in in_memory.policies
    }


@pytest.mark.parametrize(
    "which, field, bad_value",
    [
        ("account", "enabled", "yes"),
        # the projection pass skips validating credentials (no policy follows a
        # reference to one); the evaluation pass still names the bad one
        ("credential", "last_used_at", "not a time"),
    ],
)
def test_a_bad_record_in_a_worker_is_named_by_line_and_field(
    policy_dir, write_snapshot, monkeypatch, which, field, bad_value
):
    ad, sf = _data(2000)
    records = ad if which == "account" else sf
    bad = next(i for i, r in enumerate(records) if r["kind"] == which and i > 1000)
    records[bad][field] = bad_value
    monkeypatch.setattr(stream, "CHUNK_BYTES", 32 * 1024)
    monkeypatch.setattr(stream, "PARALLEL_MIN_BYTES", 0)
    # lenient writer: the mistyped record is the point (a strict one refuses it at write time)
    path = write_snapshot(records, "data.jsonl", connector="ldap", strict=False)
    with pytest.raises(SnapshotError) as err:
        evaluate_snapshots([path], load_policy_set([policy_dir]))
    assert f"{path}:{bad + 2}" in str(err.value) and f"field '{field}'" in str(err.value)


def test_duplicate_ids_across_ranges_are_refused(policy_dir, write_snapshot, monkeypatch, tmp_path):
    ad, _ = _data(2000)
    path = write_snapshot(ad, "corp-ad.jsonl", connector="ldap")
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(
        b"".join(
            [lines[0].replace(b'"record_count":2000', b'"record_count":2001'), *lines[1:], lines[5]]
        )
    )
    monkeypatch.setattr(stream, "CHUNK_BYTES", 32 * 1024)
    monkeypatch.setattr(stream, "PARALLEL_MIN_BYTES", 0)
    # the message names both lines (the ranges only carry hashes; the file is re-read on error)
    where = r"corp-ad\.jsonl:2002: S005 field 'id': duplicate account id 'a4' in one snapshot"
    with pytest.raises(SnapshotError, match=where + r" \(first at line 6\)"):
        evaluate_snapshots([path], load_policy_set([policy_dir]))
