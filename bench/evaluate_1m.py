"""Benchmark: `policyengine evaluate` vs a hand-written single-pass loop, same data, same run.

    python bench/evaluate_1m.py [--accounts 10000 100000 1000000] [--library]

For each size: generates the seeded snapshot (JSON and JSONL) if missing, then
runs each side as a separate process, one after the other -- the hand-written
loop, regorus with the same policies in Rego (``rego/bench.rego``), policyengine
with the 8 policies and (``--library``) with the whole built-in library -- and
prints load s, eval s, total wall s, the ratio to the hand-written loop, and the
peak RSS and PSS of the whole process tree (sampled from /proc every 20 ms and
0.5 s, children included). Checks that the per-policy violation counts match exactly.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import orjson

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def _tree(pid: int) -> list[int]:
    """``pid`` and all its descendants."""
    children: dict[int, list[int]] = collections.defaultdict(list)
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                ppid = int(handle.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children[ppid].append(int(entry))
    out, stack = [], [pid]
    while stack:
        p = stack.pop()
        out.append(p)
        stack.extend(children.get(p, ()))
    return out


def _tree_rss_kib(pids: list[int]) -> int:
    """Summed RSS (pages a forked worker shares with its parent count once per process)."""
    total = 0
    for p in pids:
        try:
            with open(f"/proc/{p}/status") as handle:
                for line in handle:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
                        break
        except OSError:
            continue
    return total


def _tree_pss_kib(pids: list[int]) -> int:
    """Summed PSS: each shared page split between the processes that share it."""
    total = 0
    for p in pids:
        try:
            with open(f"/proc/{p}/smaps_rollup") as handle:
                for line in handle:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1])
                        break
        except OSError:
            continue
    return total


#: RSS every 20 ms; PSS (the kernel walks every page table for it) every 0.5 s, so
#: that the sampler does not take a core from a 2 GB process tree it measures
RSS_EVERY_S, PSS_EVERY = 0.02, 25


def measure(cmd: list[str]) -> tuple[float, int, int, str, str]:
    """Run ``cmd``; return wall seconds, peak tree RSS and PSS (KiB), stdout, stderr."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT)
    peak_rss = peak_pss = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak_rss, peak_pss
        tick = 0
        while not done.is_set():
            pids = _tree(proc.pid)
            peak_rss = max(peak_rss, _tree_rss_kib(pids))
            if tick % PSS_EVERY == 0:
                peak_pss = max(peak_pss, _tree_pss_kib(pids))
            tick += 1
            time.sleep(RSS_EVERY_S)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = proc.communicate()
    wall = time.perf_counter() - started
    done.set()
    sampler.join()
    if proc.returncode not in (0, 1):
        sys.exit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{err.decode()[-2000:]}")
    return wall, peak_rss, peak_pss, out.decode(), err.decode()


def _engine_cmd(jsonl: Path, out_json: Path, policies: Path | None) -> list[str]:
    engine = Path(sys.executable).with_name("policyengine")
    cmd = [str(engine), "--log-format", "json", "--log-level", "info", "evaluate"]
    cmd += ["--snapshot", str(jsonl), "--format", "json", "--output", str(out_json)]
    cmd += ["--fail-on", "none"]
    if policies is not None:  # None: the built-in library
        cmd += ["--policies", str(policies)]
    return cmd


def _data(args: argparse.Namespace, accounts: int) -> tuple[Path, Path, int]:
    """The seeded JSONL and JSON files for ``accounts`` (generated when missing)."""
    credentials = args.credentials if args.credentials is not None else min(50_000, accounts // 2)
    stem = args.data / f"bench-{accounts}-{credentials}"
    jsonl, json_file = stem.with_suffix(".jsonl"), stem.with_suffix(".json")
    if not (jsonl.exists() and json_file.exists()):
        subprocess.run(
            [
                sys.executable,
                str(HERE / "generate.py"),
                "--accounts",
                str(accounts),
                "--credentials",
                str(credentials),
                "--out",
                str(args.data),
                "--stem",
                stem.name,
            ],
            check=True,
        )
    return jsonl, json_file, credentials


@dataclass(frozen=True, slots=True)
class Side:
    name: str
    wall: float
    rss_kib: int
    pss_kib: int
    load_s: float | None
    eval_s: float | None
    counts: dict[str, int] | None  # None: not comparable (the whole library)


def _engine_side(name: str, cmd: list[str], out_json: Path, compare: bool) -> Side:
    wall, rss, pss, _, err = measure(cmd)
    events = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    done = next((e for e in events if e.get("event") == "evaluate.done"), {})
    counts = None
    if compare:
        result = orjson.loads(out_json.read_bytes())
        counts = dict(collections.Counter(f["policy_id"] for f in result["findings"]))
    out_json.unlink()
    return Side(name, wall, rss, pss, None, done.get("seconds"), counts)


def _script_side(name: str, script: str, json_file: Path) -> Side:
    wall, rss, pss, out, _ = measure([sys.executable, str(HERE / script), str(json_file)])
    doc = json.loads(out)
    return Side(name, wall, rss, pss, doc["load_s"], doc["eval_s"], doc["counts"])


def run_size(args: argparse.Namespace, accounts: int) -> tuple[list[Side], bool]:
    """Every side over one snapshot, one after the other; whether the counts match."""
    jsonl, json_file, credentials = _data(args, accounts)
    out_json = args.data / "engine-result.json"
    sides = [_script_side("hand-written loop (JSON)", "handwritten.py", json_file)]
    if not args.no_regorus:
        sides.append(_script_side("regorus 0.9.1 (JSON)", "regorus_side.py", json_file))
    sides.append(
        _engine_side(
            "policyengine, 8 policies",
            _engine_cmd(jsonl, out_json, HERE / "policies"),
            out_json,
            compare=True,
        )
    )
    if args.library:
        sides.append(
            _engine_side(
                "policyengine, whole library",
                _engine_cmd(jsonl, out_json, None),
                out_json,
                compare=False,
            )
        )
    hand = sides[0]
    print(
        f"\ndata: {accounts:,} accounts, {credentials:,} credentials, 2,000 integrations "
        f"({jsonl.stat().st_size / 1e6:.0f} MB JSONL, {json_file.stat().st_size / 1e6:.0f} MB "
        f"JSON), {os.cpu_count()} cores"
    )
    print(
        f"{'':32}{'load s':>8}{'eval s':>8}{'wall s':>8}{'ratio':>8}{'peak RSS':>12}"
        f"{'peak PSS':>12}"
    )
    for side in sides:
        load = f"{side.load_s:.2f}" if side.load_s is not None else "-"
        ev = f"{side.eval_s:.2f}" if side.eval_s is not None else "-"
        print(
            f"{side.name:32}{load:>8}{ev:>8}{side.wall:>8.2f}{side.wall / hand.wall:>7.2f}x"
            f"{side.rss_kib / 1024:>8.0f} MiB{side.pss_kib / 1024:>8.0f} MiB"
        )
    assert hand.counts is not None
    ok = True
    for side in sides[1:]:
        if side.counts is None:
            continue
        wrong = {
            k: (v, side.counts.get(k, 0))
            for k, v in hand.counts.items()
            if side.counts.get(k, 0) != v
        }
        if wrong:
            ok = False
            print(f"COUNT MISMATCH {side.name} (hand, other): {wrong}")
    print("violations per policy:", json.dumps(dict(sorted(hand.counts.items()))))
    print("counts match exactly" if ok else "COUNTS DIFFER")
    return sides, ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--accounts", type=int, nargs="+", default=[1_000_000])
    parser.add_argument(
        "--credentials", type=int, help="default: half the accounts, at most 50,000"
    )
    parser.add_argument("--data", type=Path, default=HERE / "data")
    parser.add_argument(
        "--library", action="store_true", help="also the whole built-in library (no count check)"
    )
    parser.add_argument("--no-regorus", action="store_true", help="skip the regorus side")
    args = parser.parse_args()
    args.data.mkdir(parents=True, exist_ok=True)
    results = [(n, *run_size(args, n)) for n in args.accounts]
    if len(results) > 1:
        print("\ngrowth (wall s, peak tree RSS / PSS MiB):")
        names = [side.name for side in results[0][1]]
        print("| accounts | " + " | ".join(names) + " |")
        print("|---" * (len(names) + 1) + "|")
        for n, sides, _ in results:
            cells = [
                f"{s.wall:.2f} s, {s.rss_kib / 1024:.0f} / {s.pss_kib / 1024:.0f} MiB"
                for s in sides
            ]
            print(f"| {n:,} | " + " | ".join(cells) + " |")
    sys.exit(0 if all(ok for _, _, ok in results) else 1)


if __name__ == "__main__":
    main()
