"""ci/kubernetes-fleet.yaml: one CronJob per tenant, each with only its own secrets and schema."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from policyengine.cli.main import build_parser
from policyengine.config import load_config
from policyengine.history import PostgresHistory
from tests.e2e.conftest import PROJECT

FLEET = PROJECT / "ci" / "kubernetes-fleet.yaml"


def _docs() -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(FLEET.read_text()) if d]


def _env_names(value: Any) -> set[str]:
    """Every ``*_env`` option of a config (history password, connector credentials)."""
    if isinstance(value, dict):
        found = {v for k, v in value.items() if k.endswith("_env") and isinstance(v, str)}
        return found.union(*(_env_names(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(_env_names(v) for v in value))
    return set()


def test_each_tenant_scans_its_own_schema_with_only_its_own_secret(tmp_path: Path) -> None:
    docs = _docs()
    (configs,) = [d for d in docs if d["kind"] == "ConfigMap"]
    jobs = [d for d in docs if d["kind"] == "CronJob"]
    assert len(jobs) >= 2
    schemas, roles, secrets = set(), set(), set()
    for job in jobs:
        assert job["spec"]["concurrencyPolicy"] == "Forbid"
        pod = job["spec"]["jobTemplate"]["spec"]["template"]["spec"]
        (container,) = pod["containers"]
        args = container["args"]
        build_parser(args).parse_args(args)  # exits on an option that does not exist
        (config_arg,) = [a for a in args if a.startswith("--config=")]
        name = Path(config_arg.split("=", 1)[1]).name
        (volume,) = [v for v in pod["volumes"] if v["name"] == "config"]
        assert volume["configMap"]["items"] == [{"key": name, "path": name}]  # only its own
        text = configs["data"][name]
        path = tmp_path / name
        path.write_text(text)
        history = load_config(path).history_path
        assert isinstance(history, PostgresHistory) and history.password_env
        schemas.add(history.schema)
        roles.add(history.url.split("//", 1)[1].split("@", 1)[0])
        refs = {e["name"]: e["valueFrom"]["secretKeyRef"] for e in container["env"]}
        assert _env_names(yaml.safe_load(text)) == set(refs), name
        (secret,) = {r["name"] for r in refs.values()}
        assert all(r["key"] == env for env, r in refs.items())
        assert secret not in secrets, f"{secret} is shared by two tenants"
        secrets.add(secret)
    assert len(schemas) == len(roles) == len(jobs)
