"""The ``file`` connector: access-as-code YAML files kept in git."""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

from policyengine.connector.contract import SnapshotSink
from policyengine.errors import UsageError


class FileConnector:
    """Read access-as-code files (``access/*.yaml``) into a snapshot.

    >>> c = FileConnector.from_options({"path": ["examples/access-as-code/access"]},
    ...                                instance="access")
    >>> c.paths[0].name
    'access'
    """

    name: ClassVar[str] = "file"
    summary: ClassVar[str] = (
        "access-as-code: accounts, groups, role grants, session policies, "
        "integrations and credentials declared in YAML files kept in git"
    )

    def __init__(
        self,
        paths: Sequence[Path],
        *,
        repo_root: Path | None = None,
        privileged_roles: Sequence[str] = (),
    ) -> None:
        self.paths = tuple(paths)
        self.repo_root = repo_root
        self.privileged_roles = tuple(privileged_roles)

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        g = parser.add_argument_group("access-as-code")
        g.add_argument(
            "--path",
            dest="path",
            action="append",
            required=True,
            metavar="DIR_OR_FILE",
            help="an access-as-code file, or a directory searched for *.yaml / *.yml; repeatable",
        )
        g.add_argument(
            "--repo-root",
            metavar="DIR",
            help="resource locations are relative to this directory "
            "(default: the enclosing git repository of the current directory)",
        )
        g.add_argument(
            "--privileged-role",
            dest="privileged_role",
            action="append",
            default=[],
            metavar="ROLE",
            help="a role that makes its holders privileged; repeatable; replaces the "
            "files' privileged_roles: lists",
        )

    @classmethod
    def from_options(cls, options: Mapping[str, object], *, instance: str) -> FileConnector:
        from policyengine.connector import Options, option_names

        # `privileged_roles`: the plural the config examples use, next to --privileged-role
        known = option_names(cls.add_arguments) | {"privileged_roles"}
        values = Options(f"file ({instance})", options, known=known)
        paths = values.paths("path")
        if not paths:
            raise UsageError(f"file ({instance}): option 'path' is required (a file or directory)")
        root = values.paths("repo_root")
        if len(root) > 1:
            raise values.error("repo_root", "must be a path")
        return cls(
            [Path(p) for p in paths],
            repo_root=Path(root[0]) if root else None,
            privileged_roles=values.paths("privileged_role") + values.paths("privileged_roles"),
        )

    def resources(self) -> list[dict[str, Any]]:
        """Every resource the files declare (raises AccessValidationError listing all problems)."""
        from connectors.file._load import (
            AccessValidationError,
            discover,
            find_repo_root,
            load,
            relative_name,
        )
        from connectors.file._mapping import build

        root = self.repo_root or find_repo_root(Path.cwd())
        files = []
        errors = []
        for path in discover(self.paths):
            loaded, problems = load(path, relative_name(path, root))
            errors.extend(problems)
            if loaded is not None:
                files.append(loaded)
        if errors:
            raise AccessValidationError(errors)
        return build(files, privileged_roles=self.privileged_roles or None)

    def collect(self, writer: SnapshotSink) -> None:
        """Write every declared resource. Invalid files: an error, nothing written."""
        from policyengine.log import get_logger

        resources = self.resources()
        for resource in resources:
            writer.add(resource)
        get_logger("connectors.file").info("file.collected", resources=len(resources))
