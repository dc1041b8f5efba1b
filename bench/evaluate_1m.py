"""Benchmark: `policyengine evaluate` vs a hand-written single-pass loop, same data, same run.

    python bench/evaluate_1m.py [--accounts 1000000] [--credentials 50000]

Generates the seeded snapshot (JSON and JSONL) if missing, then runs each side
as a separate process and prints load s, eval s, total wall s and the peak RSS
of the whole process tree (sampled from /proc every 20 ms, children included),
and checks that the per-policy violation counts match exactly.
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
from pathlib import Path

import orjson

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def _tree_rss_kib(pid: int) -> int:
    """Resident memory of ``pid`` and all its descendants, in KiB."""
    children: dict[int, list[int]] = collections.defaultdict(list)
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/status") as handle:
                ppid = kib = 0
                for line in handle:
                    if line.startswith("PPid:"):
                        ppid = int(line.split()[1])
                    elif line.startswith("VmRSS:"):
                        kib = int(line.split()[1])
        except OSError:
            continue
        children[ppid].append(int(entry))
        rss[int(entry)] = kib
    total, stack = 0, [pid]
    while stack:
        p = stack.pop()
        total += rss.get(p, 0)
        stack.extend(children.get(p, ()))
    return total


def measure(cmd: list[str]) -> tuple[float, int, str, str]:
    """Run ``cmd``; return wall seconds, peak tree RSS (KiB), stdout, stderr."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT)
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, _tree_rss_kib(proc.pid))
            time.sleep(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = proc.communicate()
    wall = time.perf_counter() - started
    done.set()
    sampler.join()
    if proc.returncode not in (0, 1):
        sys.exit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{err.decode()[-2000:]}")
    return wall, peak, out.decode(), err.decode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--accounts", type=int, default=1_000_000)
    parser.add_argument("--credentials", type=int, default=50_000)
    parser.add_argument("--data", type=Path, default=HERE / "data")
    args = parser.parse_args()
    stem = args.data / f"bench-{args.accounts}"
    jsonl, json_file = stem.with_suffix(".jsonl"), stem.with_suffix(".json")
    if not (jsonl.exists() and json_file.exists()):
        subprocess.run(
            [
                sys.executable,
                str(HERE / "generate.py"),
                "--accounts",
                str(args.accounts),
                "--credentials",
                str(args.credentials),
                "--out",
                str(args.data),
            ],
            check=True,
        )
    python = sys.executable
    engine = Path(python).with_name("policyengine")
    out_json = args.data / "engine-result.json"

    hand_wall, hand_rss, hand_out, _ = measure(
        [python, str(HERE / "handwritten.py"), str(json_file)]
    )
    hand = json.loads(hand_out)
    eng_wall, eng_rss, _, eng_err = measure(
        [
            str(engine),
            "--log-format",
            "json",
            "--log-level",
            "info",
            "evaluate",
            "--snapshot",
            str(jsonl),
            "--policies",
            str(HERE / "policies"),
            "--format",
            "json",
            "--output",
            str(out_json),
            "--fail-on",
            "none",
        ]
    )
    events = [json.loads(line) for line in eng_err.splitlines() if line.startswith("{")]
    done = next((e for e in events if e.get("event") == "evaluate.done"), {})
    result = orjson.loads(out_json.read_bytes())
    counts = collections.Counter(f["policy_id"] for f in result["findings"])
    mismatches = {
        k: (v, counts.get(k, 0)) for k, v in hand["counts"].items() if counts.get(k, 0) != v
    }

    print(
        f"data: {args.accounts:,} accounts, {args.credentials:,} credentials "
        f"({jsonl.stat().st_size / 1e6:.0f} MB JSONL, {json_file.stat().st_size / 1e6:.0f} MB JSON), "
        f"{os.cpu_count()} cores"
    )
    print(f"{'':30}{'load s':>8}{'eval s':>8}{'wall s':>8}{'peak RSS':>11}")
    print(
        f"{'hand-written loop (JSON)':30}{hand['load_s']:>8.2f}{hand['eval_s']:>8.2f}{hand_wall:>8.2f}"
        f"{hand_rss / 1024:>8.0f} MiB"
    )
    load_eval = done.get("seconds", float("nan"))
    print(
        f"{'policyengine evaluate (JSONL)':30}{'-':>8}{load_eval:>8.2f}{eng_wall:>8.2f}"
        f"{eng_rss / 1024:>8.0f} MiB"
    )
    print(
        f"  policyengine: load+evaluate {load_eval:.2f} s (interleaved, streamed on all cores), "
        f"the rest is start-up, sorting and writing {len(result['findings']):,} findings as JSON"
    )
    print(
        f"ratio wall policyengine/hand-written: {eng_wall / hand_wall:.2f}x (target <= 1.0x); "
        f"peak RSS {eng_rss / 1024:.0f} MiB (target <= 1024 MiB)"
    )
    print("violations per policy:", json.dumps(dict(sorted(hand["counts"].items()))))
    print(
        "counts match exactly" if not mismatches else f"COUNT MISMATCH (hand, engine): {mismatches}"
    )
    sys.exit(1 if mismatches else 0)


if __name__ == "__main__":
    main()
