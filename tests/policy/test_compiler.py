"""The policy language, end to end through the generated code and the evidence tree."""

from __future__ import annotations

import pytest

from policyengine.api import evaluate_resources, load_policy_set
from policyengine.errors import PolicyError

NOW = "2026-11-01T00:00:00Z"
HEADER = """\
id: PE-T-001
title: test policy
severity: high
resource: {kind}
remediation: Fix {{name}}.
"""


def flagged(
    write_policy, body: str, resources: list[dict], kind: str = "account", **extra
) -> list[str]:
    path = write_policy(HEADER.format(kind=kind) + body)
    policy_set = load_policy_set([path])
    records = [{"source": "s", **r} for r in resources]
    result = evaluate_resources(records, policy_set, now=NOW, **extra)
    return sorted(f.resource.id for f in result.findings)


ACCOUNTS = [
    {
        "kind": "account",
        "id": "a1",
        "enabled": True,
        "privileged": True,
        "mfa": {"methods": ["sms"]},
    },
    {
        "kind": "account",
        "id": "a2",
        "enabled": True,
        "privileged": True,
        "mfa": {"methods": ["webauthn", "sms"]},
    },
    {"kind": "account", "id": "a3", "enabled": False, "privileged": True},
    {"kind": "account", "id": "a4", "enabled": True, "privileged": True},
    {"kind": "account", "id": "a5", "enabled": True, "privileged": False, "mfa": {"methods": []}},
]


@pytest.mark.parametrize(
    ("require", "expected"),
    [
        ("require: {mfa.methods: {contains_any: [webauthn, fido2]}}", ["a1", "a4"]),
        ("require: {mfa.methods: {contains: sms}}", ["a4"]),
        ("require: {mfa.methods: {contains_all: [webauthn, sms]}}", ["a1", "a4"]),
        ("require: {mfa.methods: {subset_of: [webauthn, fido2]}}", ["a1", "a2", "a4"]),
        ("require: {mfa.methods: {count: {gte: 2}}}", ["a1", "a4"]),
        ("require: {mfa: {exists: true}}", ["a4"]),
        ("require: {not: {mfa.methods: {contains: sms}}}", ["a1", "a2", "a4"]),
        (
            "require: {any: [{mfa.methods: {contains: webauthn}}, {mfa.methods: {contains: sms}}]}",
            ["a4"],
        ),
    ],
)
def test_operators_under_require(write_policy, require, expected):
    body = "match: {enabled: true, privileged: true}\n" + require + "\n"
    assert flagged(write_policy, body, ACCOUNTS) == expected


def test_missing_field_is_a_finding_unless_on_missing_pass(write_policy):
    body = "match: {enabled: true}\nrequire: {mfa.methods: {contains: webauthn}}\n"
    assert "a4" in flagged(write_policy, body, ACCOUNTS)
    body += "on_missing: pass\n"
    assert "a4" not in flagged(write_policy, body, ACCOUNTS)


def test_kleene_logic_for_missing_values(write_policy):
    # any(true, missing) holds; any(false, missing) is missing -> finding; not(missing) stays missing
    resources = [
        {"kind": "account", "id": "t", "enabled": True, "privileged": True},
        {"kind": "account", "id": "f", "enabled": True, "privileged": False},
    ]
    assert flagged(
        write_policy,
        "require: {any: [{privileged: false}, {email: {exists: true}, type: human}]}\n",
        resources,
    ) == ["t"]
    assert flagged(write_policy, "require: {not: {type: service}}\n", resources) == ["f", "t"]
    assert (
        flagged(write_policy, "require: {not: {type: service}}\non_missing: pass\n", resources)
        == []
    )


def test_missing_field_does_not_match(write_policy):
    body = "match: {type: service}\nrequire: {enabled: false}\n"
    assert flagged(write_policy, body, ACCOUNTS) == []


def test_comparisons_and_membership(write_policy):
    sessions = [
        {
            "kind": "session_policy",
            "id": "s1",
            "idle_timeout_minutes": 15,
            "applies_to": ["admins"],
        },
        {
            "kind": "session_policy",
            "id": "s2",
            "idle_timeout_minutes": 120,
            "applies_to": ["everyone"],
        },
        {"kind": "session_policy", "id": "s3", "applies_to": ["admins"]},
    ]
    body = "params: {max_idle: 30}\nrequire: {idle_timeout_minutes: {lte: $max_idle}}\n"
    assert flagged(write_policy, body, sessions, kind="session_policy") == ["s2", "s3"]
    body = "match: {applies_to: {contains: admins}}\nrequire: {idle_timeout_minutes: {in: [5, 10, 15]}}\n"
    assert flagged(write_policy, body, sessions, kind="session_policy") == ["s3"]


def test_time_operators_use_the_snapshot_clock(write_policy):
    creds = [
        {"kind": "credential", "id": "old", "created_at": "2025-01-01T00:00:00Z"},
        {"kind": "credential", "id": "new", "created_at": "2026-10-20T00:00:00Z"},
        {
            "kind": "credential",
            "id": "soon",
            "created_at": "2026-10-20T00:00:00Z",
            "expires_at": "2026-11-10T00:00:00Z",
        },
        {
            "kind": "credential",
            "id": "later",
            "created_at": "2026-10-20T00:00:00Z",
            "expires_at": "2027-06-01T00:00:00Z",
        },
    ]
    assert flagged(
        write_policy, "require: {created_at: {newer_than: 90d}}\n", creds, kind="credential"
    ) == ["old"]
    assert flagged(
        write_policy, "require: {not: {created_at: {older_than: 90d}}}\n", creds, kind="credential"
    ) == ["old"]
    body = "match: {expires_at: {exists: true}}\nrequire: {expires_at: {newer_than: '-30d'}}\n"
    assert flagged(write_policy, body, creds, kind="credential") == ["soon"]


def test_regex_matches_strings_and_any_list_element(write_policy):
    accounts = [
        {"kind": "account", "id": "svc", "name": "svc-backup", "spns": ["MSSQLSvc/db1:1433"]},
        {"kind": "account", "id": "hum", "name": "alice", "spns": ["cifs/fs1"]},
    ]
    assert flagged(write_policy, "require: {not: {name: {matches: '^svc-'}}}\n", accounts) == [
        "svc"
    ]
    assert flagged(write_policy, "require: {not: {spns: {matches: '^cifs/'}}}\n", accounts) == [
        "hum"
    ]


def test_references_are_followed(write_policy):
    resources = [
        {"kind": "account", "id": "u1", "name": "gone", "enabled": False},
        {"kind": "account", "id": "u2", "name": "here", "enabled": True},
        {"kind": "credential", "id": "c1", "owner": "u1"},
        {"kind": "credential", "id": "c2", "owner": "u2"},
        {"kind": "credential", "id": "c3", "owner": "nobody"},
    ]
    body = "require: {owner.enabled: true}\n"
    assert flagged(write_policy, body, resources, kind="credential") == ["c1", "c3"]


def test_wildcards_over_referenced_groups(write_policy):
    resources = [
        {"kind": "group", "id": "g1", "name": "Domain Admins", "privileged": True},
        {"kind": "group", "id": "g2", "name": "Staff", "privileged": False},
        {"kind": "account", "id": "a", "groups": ["g1", "g2"]},
        {"kind": "account", "id": "b", "groups": ["g2"]},
    ]
    # `[*]` is a YAML indicator inside flow collections, so block style (or quotes) is needed
    body = "require:\n  not:\n    groups[*].name: {contains: Domain Admins}\n"
    assert flagged(write_policy, body, resources) == ["a"]


def test_person_correlation_and_count_where(write_policy):
    resources = [
        {
            "kind": "account",
            "id": "ad1",
            "source": "corp-ad",
            "email": "Eve@x.example",
            "enabled": False,
        },
        {"kind": "account", "id": "sf1", "source": "sf", "email": "eve@x.example", "enabled": True},
        {
            "kind": "account",
            "id": "ad2",
            "source": "corp-ad",
            "email": "bob@x.example",
            "enabled": True,
        },
        {"kind": "account", "id": "sf2", "source": "sf", "email": "bob@x.example", "enabled": True},
    ]
    path = write_policy(
        HEADER.format(kind="person")
        + (
            "match: {accounts: {count: {where: {enabled: false}, gte: 1}}}\n"
            "require: {accounts: {count: {where: {enabled: true}, eq: 0}}}\n"
        )
    )
    result = evaluate_resources(resources, load_policy_set([path]), now=NOW)
    assert [f.resource.id for f in result.findings] == ["email:eve@x.example"]
    assert result.findings[0].resource.source == "correlation"


@pytest.mark.parametrize(
    ("body", "code", "text"),
    [
        ("require: {enabled: {equals: true}}\n", "E104", "unknown operator 'equals'"),
        ("require: {enabld: true}\n", "E103", "did you mean 'enabled'"),
        ("require: {mfa.metods: {contains: sms}}\n", "E103", "did you mean 'methods'"),
        ("require: {name: {matches: '^(a+)\\1$'}}\n", "E106", "does not compile with RE2"),
        ("require: {name: {matches: '[unclosed'}}\n", "E106", "does not compile"),
        ("require: {created_at: {older_than: 90 days}}\n", "E106", "duration"),
        ("require: {enabled: $nope}\n", "E105", "unknown parameter $nope"),
        ("require: {enabled: {lt: 3}, bogus_op_field: 1}\n", "E103", "unknown account field"),
        ("remediation_extra: 1\nrequire: {enabled: true}\n", "E100", "unknown field"),
    ],
)
def test_bad_policies_give_one_clear_located_error(write_policy, body, code, text):
    path = write_policy(HEADER.format(kind="account") + body)
    with pytest.raises(PolicyError) as err:
        load_policy_set([path])
    message = str(err.value)
    assert code in message and text in message
    assert message.startswith(str(path) + ":")


def test_template_naming_unknown_field_is_an_error(write_policy):
    path = write_policy(
        HEADER.format(kind="account").replace("Fix {name}.", "Fix {nmae}.")
        + "require: {enabled: true}\n"
    )
    with pytest.raises(PolicyError, match="did you mean 'name'"):
        load_policy_set([path])


def test_duplicate_ids_are_reported(write_policy):
    write_policy(HEADER.format(kind="account") + "require: {enabled: true}\n", "a.yaml")
    path = write_policy(HEADER.format(kind="account") + "require: {enabled: true}\n", "b.yaml")
    with pytest.raises(PolicyError, match="duplicate policy id PE-T-001"):
        load_policy_set([path.parent])


def test_remediation_is_rendered_per_connector_without_attribute_access(write_policy):
    path = write_policy("""\
        id: PE-T-002
        title: t
        severity: low
        resource: credential
        require: {owner.enabled: true}
        remediation:
          default: Revoke {name} of {owner.name}; ignore {{braces}}.
          okta: Okta Admin > Security > API > Tokens > {name}
        """)
    resources = [
        {"kind": "account", "id": "u", "source": "s", "name": "ann", "enabled": False},
        {
            "kind": "credential",
            "id": "c",
            "source": "s",
            "name": "tok",
            "owner": "u",
            "source_type": "ldap",
        },
        {
            "kind": "credential",
            "id": "d",
            "source": "s",
            "name": "tok2",
            "owner": "u",
            "source_type": "okta",
        },
    ]
    findings = evaluate_resources(resources, load_policy_set([path]), now=NOW).findings
    assert [f.remediation for f in findings] == [
        "Revoke tok of ann; ignore {braces}.",
        "Okta Admin > Security > API > Tokens > tok2",
    ]
    assert findings[0].evidence[0].path == "owner.enabled"
    assert findings[0].evidence[0].actual is False


@pytest.mark.parametrize(
    "placeholder",
    [
        "{name.__class__}",
        "{raw.__class__}",
        "{raw.Profile.__dict__}",
        "{name.upper}",
        "{owner.name.__len__}",
        "{name!r}",
        "{name:>99}",
        "{name[0]}",
    ],
)
def test_format_attribute_access_is_not_possible(write_policy, placeholder):
    # quoted: unquoted, YAML would read `{name.__class__}` as a mapping and fail for that reason
    path = write_policy(
        HEADER.format(kind="account").replace("Fix {name}.", f'"Fix {placeholder}."')
        + "require: {enabled: true}\n"
    )
    with pytest.raises(PolicyError) as err:
        load_policy_set([path])
    message = str(err.value)
    assert message.startswith(f"{path}:5:")
    assert "E108" in message or "E103" in message
    assert placeholder.strip("{}").split(".")[0].split("!")[0].split(":")[0] in message


@pytest.mark.parametrize(
    "placeholder", ["{owner.name}", "{raw.Profile.Name}", "{mfa.methods}", "{raw.msDS-Foo}"]
)
def test_plain_field_paths_are_allowed_in_templates(write_policy, placeholder):
    path = write_policy(
        HEADER.format(kind="account").replace("Fix {name}.", f'"Fix {placeholder}."')
        + "require: {enabled: true}\n"
    )
    assert load_policy_set([path])


def test_fingerprint_and_order_are_stable(write_policy):
    body = "require: {enabled: true}\n"
    resources = [
        {"kind": "account", "id": i, "source": "s", "enabled": False} for i in ("z", "a", "m")
    ]
    path = write_policy(HEADER.format(kind="account") + body)
    first = evaluate_resources(resources, load_policy_set([path]), now=NOW)
    second = evaluate_resources(list(reversed(resources)), load_policy_set([path]), now=NOW)
    assert [f.resource.id for f in first.findings] == ["a", "m", "z"]
    assert [f.fingerprint for f in first.findings] == [f.fingerprint for f in second.findings]


def test_supersedes_folds_narrower_findings_on_the_same_resource(write_policy):
    write_policy(
        HEADER.format(kind="account").replace("PE-T-001", "PE-T-BROAD")
        + "require: {mfa.methods: {contains: webauthn}}\nsupersedes: [PE-T-NARROW]\n",
        "broad.yaml",
    )
    path = write_policy(
        HEADER.format(kind="account").replace("PE-T-001", "PE-T-NARROW")
        + "require: {not: {mfa.methods: {contains: sms}}}\n",
        "narrow.yaml",
    )
    resources = [
        {"kind": "account", "id": "both", "source": "s", "mfa": {"methods": ["sms"]}},
        {
            "kind": "account",
            "id": "narrow-only",
            "source": "s",
            "mfa": {"methods": ["webauthn", "sms"]},
        },
    ]
    result = evaluate_resources(resources, load_policy_set([path.parent]), now=NOW)
    got = [(f.policy_id, f.resource.id, f.supersedes) for f in result.findings]
    assert got == [("PE-T-BROAD", "both", ("PE-T-NARROW",)), ("PE-T-NARROW", "narrow-only", ())]
    assert result.findings[0].to_dict()["supersedes"] == ["PE-T-NARROW"]


def test_supersedes_is_transitive_and_order_independent():
    from policyengine.engine.evaluate import fold_superseded
    from policyengine.findings.model import Finding, ResourceRef

    def finding(pid):
        return Finding(
            pid, "high", pid, ResourceRef("integration", "s", "app", "app"), "", (), "", {}, pid
        )

    rules = {"A": ("B", "C"), "B": ("C",), "X": ("Y",), "Y": ("X",)}
    for order in (["A", "B", "C", "X", "Y"], ["Y", "C", "X", "B", "A"]):
        out = fold_superseded([finding(p) for p in order], rules)
        assert sorted((f.policy_id, f.supersedes) for f in out) == [
            ("A", ("B", "C")),
            ("X", ()),
            ("Y", ()),
        ]


def test_unknown_items_never_make_a_requirement_hold(write_policy):
    # a dangling reference inside a list, or an item whose field is missing, is unknown
    resources = [
        {
            "kind": "group",
            "id": "g1",
            "source": "s",
            "name": "Admins",
            "privileged": True,
            "nested_groups": ["g-gone"],
        },
        {
            "kind": "group",
            "id": "g2",
            "source": "s",
            "name": "Ops",
            "privileged": True,
            "nested_groups": ["g3"],
        },
        {"kind": "group", "id": "g3", "source": "s", "name": "Helpdesk"},
    ]
    body = "match: {privileged: true}\nrequire:\n  nested_groups[*].privileged: {contains: true}\n"
    assert flagged(write_policy, body, resources, kind="group") == ["g1", "g2"]
    people = [
        {"kind": "account", "id": "ad", "source": "ad", "email": "f@x.example", "enabled": False},
        {"kind": "account", "id": "sf", "source": "sf", "email": "f@x.example"},  # enabled unknown
    ]
    path = write_policy(
        HEADER.format(kind="person")
        + "require: {accounts: {count: {where: {enabled: true}, eq: 0}}}\n"
    )
    result = evaluate_resources(people, load_policy_set([path]), now=NOW)
    (finding,) = result.findings
    assert "between 0 and 1" in str(finding.evidence[0].actual)


@pytest.mark.parametrize(
    ("pattern", "hostile"),
    [
        ("((a+))+$", "a" * 5000 + "!"),
        ("(?:(?:a+))+$", "a" * 5000 + "!"),
        ("(.*a){12}$", "a" * 5000 + "b"),
        ("(x|xy)*z", "xy" * 5000),
    ],
)
def test_nested_repeats_run_in_linear_time_however_grouped(write_policy, pattern, hostile):
    # RE2 evaluates policy regexes: the classic ReDoS shapes are accepted and cannot backtrack
    import time

    path = write_policy(
        HEADER.format(kind="account") + f"require: {{name: {{matches: '{pattern}'}}}}\n"
    )
    policy_set = load_policy_set([path])
    started = time.perf_counter()
    result = evaluate_resources(
        [{"kind": "account", "id": "a1", "source": "s", "name": hostile}], policy_set, now=NOW
    )
    assert time.perf_counter() - started < 2.0
    assert [f.resource.id for f in result.findings] == ["a1"]


def test_huge_durations_are_a_policy_error(write_policy):
    path = write_policy(
        HEADER.format(kind="credential") + "require: {created_at: {newer_than: 99999999999d}}\n"
    )
    with pytest.raises(PolicyError, match="200 years"):
        load_policy_set([path])
