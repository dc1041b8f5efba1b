"""Make third-party text safe to print on a terminal.

Account names, app publishers and error texts come from the sources, which an
attacker may control (a connected app's name is chosen by whoever registers
it). Control characters (newlines and tabs too), escape sequences and
bidirectional overrides are shown as ``\\xNN``/``\\uNNNN`` instead of being
interpreted by the terminal; each piece of data stays on its line.
"""

from __future__ import annotations

import re

# every C0/C1 control including tab, CR and LF (a name must not start a line of its own),
# Unicode line/paragraph separators, bidi marks, overrides and isolates
_UNSAFE = re.compile(
    r"[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]"
)


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group(0))
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def safe(text: object) -> str:
    """``text`` as one line of a string with control and bidi characters made visible.

    >>> safe("svc\\x1b[2Jname\\n\\u202e")
    'svc\\\\x1b[2Jname\\\\x0a\\\\u202e'
    """
    return _UNSAFE.sub(_visible, str(text))
