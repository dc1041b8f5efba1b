"""positional_maker builds the very object the dataclass constructor builds."""

from __future__ import annotations

import dataclasses

import pytest

from policyengine.findings.model import Evidence, Finding, ResourceRef, WaiverStatus
from policyengine.model._construct import positional_maker


def test_made_finding_equals_the_constructed_one_with_defaults_filled():
    ref = positional_maker(ResourceRef)("account", "corp", "u1", "alice")
    assert ref == ResourceRef("account", "corp", "u1", "alice")
    assert hash(ref) == hash(ResourceRef("account", "corp", "u1", "alice"))
    ev = positional_maker(Evidence)("mfa.enrolled", False, "true")
    args = ("P-1", "high", "title", ref, "msg", (ev,), "fix", {"cis": ("1",)}, "f" * 32)
    made, built = positional_maker(Finding)(*args), Finding(*args)
    assert made == built and repr(made) == repr(built)
    assert (made.waived, made.waiver, made.change, made.supersedes, made.folded) == (
        False,
        None,
        None,
        (),
        (),
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        made.message = "changed"  # type: ignore[misc]
    assert made.with_changes(waived=True).waived is True


def test_every_field_can_be_given_positionally():
    waiver = WaiverStatus("r", "o", "2026-12-01T00:00:00Z")
    values = ("r", "o", "2026-12-01T00:00:00Z", "T-1", True, True, "w.yaml", 3)
    assert positional_maker(WaiverStatus)(*values) == WaiverStatus(*values)
    assert positional_maker(WaiverStatus)("r", "o", "2026-12-01T00:00:00Z") == waiver


def test_classes_it_cannot_build_faithfully_are_refused():
    @dataclasses.dataclass(frozen=True)
    class NoSlots:
        a: int

    @dataclasses.dataclass(frozen=True, slots=True)
    class Checked:
        a: int

        def __post_init__(self) -> None:
            pass

    @dataclasses.dataclass(frozen=True, slots=True)
    class Factory:
        a: list[int] = dataclasses.field(default_factory=list)

    for cls in (NoSlots, Checked, Factory):
        with pytest.raises(TypeError):
            positional_maker(cls)
