"""Positional constructors for frozen slots dataclasses on hot paths.

A frozen dataclass's ``__init__`` sets each field through
``object.__setattr__`` (about twice the cost of the slot's own setter). The
engine builds a value object per finding, a million of them at scale, so it
uses :func:`positional_maker`: a generated function that sets the slots
directly and gives the same object (equal, same hash) as the constructor.

>>> from policyengine.model.evidence import Evidence
>>> make = positional_maker(Evidence)
>>> make("mfa.enrolled", False, "true") == Evidence("mfa.enrolled", False, "true")
True
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


def positional_maker(cls: type[T]) -> Callable[..., T]:
    """``make(*fields)`` for ``cls`` (fields in declaration order; defaults as declared)."""
    params = getattr(cls, "__dataclass_params__", None)
    if params is None or not params.frozen or "__slots__" not in cls.__dict__:
        raise TypeError(f"{cls.__name__} is not a frozen slots dataclass")
    if hasattr(cls, "__post_init__"):
        raise TypeError(f"{cls.__name__} has __post_init__; use its constructor")
    fields = dataclasses.fields(cls)  # type: ignore[arg-type]
    namespace: dict[str, Any] = {"_new": object.__new__, "_cls": cls}
    args, body = [], []
    for i, f in enumerate(fields):
        namespace[f"_set{i}"] = cls.__dict__[f.name].__set__
        if f.default is not dataclasses.MISSING:
            namespace[f"_default{i}"] = f.default
            args.append(f"a{i}=_default{i}")
        elif f.default_factory is not dataclasses.MISSING:
            raise TypeError(f"{cls.__name__}.{f.name} has a default factory")
        else:
            args.append(f"a{i}")
        body.append(f"    _set{i}(o, a{i})")
    source = f"def make({', '.join(args)}):\n    o = _new(_cls)\n" + "\n".join(body)
    exec(source + "\n    return o\n", namespace)  # our own field names only: no input
    make: Callable[..., T] = namespace["make"]
    make.__qualname__ = make.__name__ = f"make_{cls.__name__}"
    return make
