"""Third-party text inside GitHub-flavoured Markdown, shown as text and never as a link.

Resource names, source errors and waiver text come from the sources, which an
attacker may control. Besides ``[]()`` syntax and raw HTML, GitHub's renderer
(cmark-gfm with the autolink extension) turns bare ``https://...``,
``www....`` and ``user@host`` into links; the tests render every hostile
string with cmark-gfm and check that no ``<a>`` or ``<img>`` comes out.
"""

from __future__ import annotations

import re

from policyengine.report._terminal import safe

# backslash-escaped: emphasis, code, links and images, headings, table cells, strikethrough
_PUNCTUATION = "\\`*_[]#!|~"
# "https://", "ftp://", any scheme: cmark-gfm starts a URL autolink at "://"; "\:" is plain text
_SCHEME = re.compile(r":(?=//)")
# "www.example.org" (any case) is autolinked from the "www."; "www\." is plain text
_WWW = re.compile(r"(?i)(www)\.")


def markdown_text(text: object) -> str:
    """``text`` for a Markdown paragraph, list item or table cell: one line, no markup, no links.

    A zero-width space follows every ``@``: it stops both ``@team`` mentions and
    ``user@host`` e-mail autolinks (the domain must follow the ``@`` directly;
    escapes and entities do not help, GitHub links e-mail addresses after
    decoding them).

    >>> markdown_text("see https://evil.example | [x](y)")
    'see https\\\\://evil.example \\\\| \\\\[x\\\\](y)'
    """
    s = safe(" ".join(str(text).split()))  # a newline would end the table row or paragraph
    s = s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    for ch in _PUNCTUATION:
        s = s.replace(ch, "\\" + ch)
    s = _SCHEME.sub(r"\\:", s)
    s = _WWW.sub(r"\1\\.", s)
    return s.replace("@", "@\u200b")


def code_span_text(text: object) -> str:
    """Content for an inline code span (no autolinks inside): no backticks, no pipes, one line."""
    return safe(" ".join(str(text).split())).replace("`", "'").replace("|", "\\|")
