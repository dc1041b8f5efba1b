"""Options of the GitHub connector: command-line flags and ``policyengine.yaml`` keys."""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from dataclasses import dataclass, field

from policyengine.connector.account_types import (
    NAME_AND_ATTR,
    TypeRules,
    add_type_rule_arguments,
    read_type_rules,
)
from policyengine.connector.options import Options, SecretRef, option_names
from policyengine.connector.transport import (
    Transport,
    TransportSpec,
    add_transport_arguments,
    parse_transport,
)
from policyengine.errors import UsageError

DEFAULT_API_URL = "https://api.github.com"
#: the REST API version every request asks for (``X-GitHub-Api-Version``)
API_VERSION = "2022-11-28"

TRANSPORT = TransportSpec(
    defaults=Transport(timeout=30.0, max_concurrency=4, max_attempts=5, retry_backoff=0.5),
    concurrency_help="per-repository calls in flight at once (GitHub asks for few)",
)


@dataclass(frozen=True, slots=True)
class GitHubOptions:
    """Validated options for one GitHub organisation."""

    org: str
    api_url: str = DEFAULT_API_URL
    token: SecretRef | None = None
    app_id: str | None = None
    private_key: SecretRef | None = None
    installation_id: int | None = None
    transport: Transport = TRANSPORT.defaults
    #: longest wait for a rate-limit reset before giving up (fail closed)
    max_rate_wait: float = 900.0
    type_rules: TypeRules = field(default_factory=TypeRules)

    @property
    def app(self) -> bool:
        return self.app_id is not None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("organisation")
    g.add_argument("--org", required=True, help="organisation login, e.g. acme-retail")
    g.add_argument(
        "--api-url",
        default=DEFAULT_API_URL,
        help="REST API root (default %(default)s; GitHub Enterprise Server: https://HOST/api/v3)",
    )
    a = parser.add_argument_group("authentication (a token, a GitHub App, or both)")
    a.add_argument("--token-env", help="environment variable holding a personal access token")
    a.add_argument("--token-file", help="file holding a personal access token")
    a.add_argument("--app-id", help="GitHub App id (its JWT issuer)")
    a.add_argument("--private-key-env", help="environment variable holding the App's PEM key")
    a.add_argument("--private-key-file", help="file holding the App's private key (PEM)")
    a.add_argument("--installation-id", type=int, help="the App's installation id in the org")
    t = add_transport_arguments(parser, TRANSPORT)
    t.add_argument(
        "--max-rate-wait",
        type=float,
        default=900.0,
        help="seconds to wait at most for a rate-limit reset; longer fails (default %(default)s)",
    )
    add_type_rule_arguments(parser.add_argument_group("mapping"), examples="service:name=-bot$")


def parse_options(values: Mapping[str, object]) -> GitHubOptions:
    options = Options("github", values, known=option_names(add_arguments))
    org = options.required_str("org")
    if not org.replace("-", "").isalnum():
        raise options.error("org", f"{org!r} is not an organisation login")
    api_url = options.url("api_url", required=False) or DEFAULT_API_URL
    token = options.secret("token_env", "token_file")
    app_id = options.string("app_id")
    key = options.secret("private_key_env", "private_key_file")
    installation = values.get("installation_id")
    if app_id is not None and not app_id.isdigit():
        raise options.error("app_id", "must be the App's numeric id")
    app_parts = [app_id is not None, key is not None, installation is not None]
    if any(app_parts) and not all(app_parts):
        raise UsageError(
            "github: a GitHub App needs all of 'app_id', 'private_key_file' (or "
            "'private_key_env') and 'installation_id'"
        )
    if token is None and not all(app_parts):
        raise UsageError(
            "github: no credentials: give 'token_env' or 'token_file' (a personal access "
            "token), or 'app_id' + 'private_key_file' + 'installation_id' (a GitHub App), or both"
        )
    return GitHubOptions(
        org=org,
        api_url=api_url,
        token=token,
        app_id=app_id,
        private_key=key,
        installation_id=(
            options.integer("installation_id", 0, low=1, high=2**53) if installation else None
        ),
        transport=parse_transport(options, TRANSPORT),
        max_rate_wait=options.number("max_rate_wait", 900.0, low=0.0, high=86400.0),
        type_rules=read_type_rules(options, conditions=NAME_AND_ATTR),
    )
