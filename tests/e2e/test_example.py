"""examples/access-as-code/ is what its README says: clean under the built-in library."""

from __future__ import annotations

from tests.e2e.conftest import EXAMPLE, policyengine

#: the example's dates are written relative to this moment
NOW = "2026-11-27T09:00:00Z"


def test_the_example_passes_the_built_in_library_with_its_config():
    done = policyengine("check-access", "--now", NOW, "--fail-on", "info", cwd=EXAMPLE)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout == "", "the example should have no findings; update it or its config"


def test_the_example_config_and_waivers_lint_clean():
    done = policyengine("lint", "policyengine.yaml", "waivers.yaml", cwd=EXAMPLE)
    assert done.returncode == 0, done.stdout + done.stderr
