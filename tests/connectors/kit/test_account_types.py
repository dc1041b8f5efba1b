"""One account-type rule grammar and one default rule set for every connector."""

from __future__ import annotations

import pytest

from connectors.okta import _mapping as okta_mapping
from connectors.okta._options import parse_options as okta_options
from connectors.salesforce._accounts import account_type as salesforce_type
from connectors.salesforce._options import parse_options as salesforce_options
from policyengine.connector.account_types import (
    DEFAULT_SERVICE_NAME,
    AccountFacts,
    default_rules,
    infer_type,
    parse_type_rule,
)
from policyengine.errors import UsageError

OKTA = {"org_url": "https://acme.okta.com", "token_env": "T"}
SALESFORCE = {
    "login_url": "https://login.salesforce.com",
    "client_id": "c",
    "client_secret_env": "S",
}


def okta_type(login: str, profile: dict | None = None, **options: object) -> str:
    rules = okta_options({**OKTA, **options}).type_rules
    return okta_mapping.account_type(login, rules, profile)


def sf_type(user: dict, **options: object) -> str:
    return salesforce_type(user, set(), salesforce_options({**SALESFORCE, **options}))


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("svc-backup", "service"),
        ("srv_print", "service"),
        ("app.etl", "service"),
        ("API_sync", "service"),
        ("bg-admin", "break_glass"),
        ("emergency", "break_glass"),
        ("shared.frontdesk", "shared"),
        ("svcadmin", "human"),
        ("steve", "human"),
    ],
)
def test_the_defaults_are_the_same_for_every_connector(name, expected):
    assert infer_type(default_rules(), AccountFacts(name)) == expected
    assert okta_type(f"{name}@x.com") == expected
    assert sf_type({"Username": f"{name}@x.com"}) == expected


def test_the_one_default_service_pattern():
    assert DEFAULT_SERVICE_NAME == r"^(svc|srv|service|sa|app|api)[-_.]"


def test_configured_rules_come_first_and_defaults_can_be_dropped():
    assert okta_type("bg-1@x", type_rule=["service:name=^bg-"]) == "service"
    assert okta_type("svc-1@x", default_type_rules=False) == "human"
    assert sf_type({"Username": "svc-1@x"}, default_type_rules=False) == "human"


def test_saas_rules_can_match_source_attributes():
    rule = ["service:attr=userType=^service$"]
    assert okta_type("robot@x", {"userType": "Service"}, type_rule=rule) == "service"
    sf_rule = ["shared:attr=Department=^Front Desk$"]
    assert sf_type({"Username": "fd@x", "Department": "Front Desk"}, type_rule=sf_rule) == "shared"


def test_salesforce_integration_users_stay_service_and_the_pattern_is_the_first_rule():
    integration = {"Username": "bg-x@x", "UserType": "AutomatedProcess"}
    assert sf_type(integration) == "service"  # the source fact beats the default bg- rule
    assert sf_type(integration, type_rule=["break_glass:name=^bg-"]) == "break_glass"
    assert sf_type({"Username": "etl.load@x"}, service_account_pattern=r"^etl\.") == "service"


def test_a_condition_the_source_does_not_have_is_refused_naming_the_option():
    with pytest.raises(UsageError, match=r"^okta: option 'type_rule': 'service:spn': expected"):
        okta_options({**OKTA, "type_rule": ["service:spn"]})
    with pytest.raises(UsageError, match=r"^salesforce: option 'type_rule'.*TYPE:name=REGEX"):
        salesforce_options({**SALESFORCE, "type_rule": ["service:ou=ou=x"]})


def test_one_grammar_with_mappings_and_every_directory_condition():
    rule = parse_type_rule({"type": "shared", "attr": {"employeeType": "^shared$"}},
                           option="type_rule", connector="ldap")  # fmt: skip
    assert rule.applies(AccountFacts("x", attrs={"employeeType": [b"shared"]}))
    ou = parse_type_rule("service:ou=OU=Svc, DC=corp", option="type_rule", connector="ldap")
    assert ou.applies(AccountFacts("x", dn="cn=x,ou=svc,dc=corp"))
    assert not ou.applies(AccountFacts("x"))
    with pytest.raises(UsageError, match="type must be one of"):
        parse_type_rule("robot:spn", option="type_rule", connector="ldap")
