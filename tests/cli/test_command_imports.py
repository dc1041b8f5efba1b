"""Every command module imports, or the CLI fails loudly: no command quietly disappears."""

from __future__ import annotations

import pytest

from policyengine.cli import main as cli_main


def test_every_listed_command_is_offered() -> None:
    parser = cli_main.build_parser(["--help"])
    offered = next(a for a in parser._actions if a.dest == "command").choices
    assert set(cli_main.COMMANDS) <= set(offered or {})


def test_a_command_module_that_cannot_be_imported_is_an_error(monkeypatch) -> None:
    monkeypatch.setitem(cli_main.COMMANDS, "vanished", "vanished_command_module")
    with pytest.raises(ModuleNotFoundError, match="vanished_command_module"):
        cli_main.build_parser(["--help"])
