"""``--format html``: one self-contained HTML file (inline CSS, JS and SVG).

Readable without JavaScript (everything is server-rendered; findings sit in
``<details>``), better with it (search, severity and source filters). A
Content-Security-Policy forbids any network fetch and any script but ours
(pinned by hash), so even a value that escaped escaping could not run.
Every value goes through Jinja2 autoescaping.

Scan data comes in through :class:`~policyengine.report.ReportOptions`:
``history`` is a sequence of run dicts (``RunRecord.to_dict()``: ``id``,
``started_at``, ``open``, ``new``, ``resolved``, ``still_open``, ``carried``,
``waived``, ``complete``, ``missing``, ``by_severity``) for the trend, and
``extra["scan"]`` may carry ``new`` (fingerprints), ``resolved`` and
``carried`` (``FindingRecord.to_dict()`` lists) for this run.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

if TYPE_CHECKING:
    import jinja2  # imported for real only when a report is rendered

from policyengine.findings.model import SEVERITIES, Finding, Result, severity_rank
from policyengine.report import ReportOptions

TEMPLATES = Path(__file__).with_name("templates")

#: findings listed per policy; the rest are counted and left to result.json, so a
#: million-account directory still gives a page a browser can open
MAX_PER_POLICY = 200

# Chart geometry (SVG user units; the SVG scales to the page width).
_W, _H, _LEFT, _RIGHT, _TOP, _BOTTOM = 760, 240, 44, 16, 24, 48


@cache
def _environment() -> jinja2.Environment:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=True,  # every value, in every template, always
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["json"] = _json_text
    env.filters["short_time"] = _short_time
    return env


def _json_text(value: Any) -> str:
    """A value as compact JSON *text* (a plain str, so autoescaping still applies)."""
    if isinstance(value, str):
        return value
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS, default=str).decode()


def _short_time(value: str | None) -> str:
    """``2026-11-01T06:00:00Z`` -> ``2026-11-01 06:00`` (UTC)."""
    if not value:
        return ""
    return value.replace("T", " ")[:16]


#: the file this format is written to in a scan's run folder
FILE_NAME = "report.html"


def render(result: Result, options: ReportOptions) -> str:
    """Render ``result`` as a standalone HTML page.

    >>> from policyengine.findings.model import Result
    >>> page = render(Result((), (), (), "2026-11-01T00:00:00Z"), ReportOptions())
    >>> page.startswith("<!DOCTYPE html>") and "No findings" in page
    True
    """
    env = _environment()
    script = env.get_template("report.js").render()
    script_hash = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    scan = dict(options.extra.get("scan") or {})
    new_fps = set(scan.get("new") or ())
    active = sorted(
        (f for f in result.findings if not f.waived and f.change != "resolved"),
        key=Finding.sort_key,
    )
    waived = sorted((f for f in result.findings if f.waived), key=Finding.sort_key)
    resolved = list(scan.get("resolved") or ())
    resolved += [f.to_dict() for f in result.findings if f.change == "resolved"]
    summary = result.summary()
    counts = scan.get("counts")
    # With history, the cards match the trend: open includes findings not re-checked.
    cards = {
        "open": int(counts["open"]) if counts else len(active),
        "by_severity": {s: int((counts or summary)["by_severity"].get(s, 0)) for s in SEVERITIES},
        "carried": int(counts.get("carried", 0)) if counts else 0,
        "waived": int(counts["waived"]) if counts else summary["waived"],
    }
    runs = [_run_defaults(r) for r in options.history]
    context = {
        "title": str(options.extra.get("title") or "policyengine compliance report"),
        "result": result,
        "summary": summary,
        "cards": cards,
        "severities": SEVERITIES,
        "groups": _group(active, int(options.extra.get("max_per_policy", MAX_PER_POLICY))),
        "active_count": len(active),
        "waived": waived,
        "resolved": resolved,
        "carried": list(scan.get("carried") or ()),
        "new_fps": new_fps,
        "new_count": len(new_fps) if scan else None,
        "missing": [s for s in result.sources if not s.complete],
        "sources": sorted({f.resource.source for f in active}),
        "runs": runs,
        "chart": _chart(runs) if runs else None,
        "script": script,
        "script_hash": script_hash,
        "style": env.get_template("report.css").render(),
        "fail_on": options.fail_on,
        "run_info": scan,
    }
    return env.get_template("report.html.j2").render(**context)


_RUN_DEFAULTS: dict[str, Any] = {
    "id": 0,
    "started_at": "",
    "open": 0,
    "new": 0,
    "resolved": 0,
    "still_open": 0,
    "carried": 0,
    "waived": 0,
    "complete": True,
    "missing": [],
}


def _run_defaults(run: Mapping[str, Any]) -> dict[str, Any]:
    """A history run dict with every key the template reads."""
    out = {**_RUN_DEFAULTS, **run}
    out["by_severity"] = {s: int((run.get("by_severity") or {}).get(s, 0)) for s in SEVERITIES}
    return out


def _group(findings: Sequence[Finding], limit: int = MAX_PER_POLICY) -> list[dict[str, Any]]:
    """Severity -> policy -> findings, most severe first; at most ``limit`` shown per policy."""
    out: list[dict[str, Any]] = []
    for f in findings:
        if not out or out[-1]["severity"] != f.severity:
            out.append({"severity": f.severity, "count": 0, "policies": []})
        sev = out[-1]
        sev["count"] += 1
        if not sev["policies"] or sev["policies"][-1]["id"] != f.policy_id:
            sev["policies"].append(
                {"id": f.policy_id, "title": f.title, "findings": [], "count": 0}
            )
        group = sev["policies"][-1]
        group["count"] += 1
        if len(group["findings"]) < limit:
            group["findings"].append(f)
    out.sort(key=lambda g: severity_rank(g["severity"]))
    return out


def _chart(runs: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Stacked bars of open findings by severity per run, with resolved counts."""
    plot_w, plot_h = _W - _LEFT - _RIGHT, _H - _TOP - _BOTTOM
    peak = max([int(r.get("open", 0)) for r in runs] + [1])
    step = _nice_step(peak)
    top = step * -(-peak // step)  # round the axis up to a whole step
    slot = plot_w / len(runs)
    bar_w = max(4.0, min(48.0, slot * 0.6))
    days = [str(r.get("started_at", ""))[:10] for r in runs]
    with_time = len(set(days)) < len(days)  # several runs a day: show the time too
    label_w = 74 if with_time else 40
    bars = []
    for i, run in enumerate(runs):
        x = _LEFT + slot * i + (slot - bar_w) / 2
        y: float = _TOP + plot_h  # bar tops are fractional
        segments = []
        by_sev = run.get("by_severity") or {}
        for sev in reversed(SEVERITIES):  # least severe at the bottom
            n = int(by_sev.get(sev, 0))
            if not n:
                continue
            h = plot_h * n / top
            y -= h
            segments.append({"severity": sev, "count": n, "y": round(y, 1), "h": round(h, 1)})
        bars.append(
            {
                "run": run,
                "x": round(x, 1),
                "w": round(bar_w, 1),
                "cx": round(x + bar_w / 2, 1),
                "top": round(y, 1),
                "segments": segments,
                "label": _short_time(str(run.get("started_at", "")))[5 : 16 if with_time else 10],
            }
        )
    ticks = [
        {"value": v, "y": round(_TOP + plot_h - plot_h * v / top, 1)}
        for v in range(0, top + 1, step)
    ]
    return {
        "width": _W,
        "height": _H,
        "left": _LEFT,
        "right": _W - _RIGHT,
        "base": _TOP + plot_h,
        "bars": bars,
        "ticks": ticks,
        "label_every": max(1, -(-len(runs) * label_w // plot_w)),
    }


def _nice_step(peak: int) -> int:
    """A tick step giving at most ~5 ticks: 1, 2, 5, 10, 20, 50, ..."""
    magnitude = 1
    while True:
        for m in (1, 2, 5):
            if peak / (m * magnitude) <= 5:
                return m * magnitude
        magnitude *= 10
