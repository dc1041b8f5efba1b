"""``policyengine policies list``: the policies that would run, with their severity."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from policyengine.cli._common import add_policy_options


def add_parser(sub: Any, *, full: bool) -> None:
    parser = sub.add_parser("policies", help="list policies and profiles", description=__doc__)
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    lister = actions.add_parser("list", help="list policies (id, severity, resource, title)")
    add_policy_options(lister)
    lister.add_argument("--format", choices=["text", "json"], default="text")
    lister.set_defaults(run=run_list)
    profiles = actions.add_parser("profiles", help="list the built-in profiles")
    profiles.set_defaults(run=run_profiles)


def run_list(args: argparse.Namespace) -> int:
    import json

    from policyengine.api import load_policy_set
    from policyengine.config import load_config

    policy_set = load_policy_set(
        args.policies, config=load_config(args.config), profile=args.profile
    )
    infos = policy_set.infos()
    if args.format == "json":
        print(json.dumps([i.to_dict() for i in infos], indent=2))
        return 0
    width = max((len(i.id) for i in infos), default=8)
    for info in infos:
        print(f"{info.id:<{width}}  {info.severity:<8}  {info.resource:<14}  {info.title}")
    print(f"{len(infos)} policies (profile: {policy_set.profile})")
    return 0


def run_profiles(args: argparse.Namespace) -> int:
    from policyengine.policy.policyset import available_profiles, profile_dir
    from policyengine.policy.yamlload import load_yaml_file

    for name in available_profiles():
        data, _ = load_yaml_file(Path(profile_dir() / f"{name}.yaml"))
        description = " ".join(str((data or {}).get("description", "")).split())
        print(f"{name:<10}  {description}")
    return 0
