"""The regorus side: the 8 benchmark policies in Rego (``rego/bench.rego``).

regorus (Microsoft's Rust Rego interpreter, the ``celine-regorus`` wheel)
reads the snapshot's JSON file as ``input``; each rule collects the ids of the
violating resources. Prints load/eval seconds and the per-policy counts in the
shape ``handwritten.py`` prints, so the benchmark compares all sides.

    python bench/regorus_side.py bench/data/bench-100000.json
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import orjson
import regorus

RULES = {
    "BENCH-P1": "p1",
    "BENCH-P2": "p2",
    "BENCH-P3": "p3",
    "BENCH-P4": "p4",
    "BENCH-P5": "p5",
    "BENCH-P6": "p6",
    "BENCH-P7A": "p7a",
    "BENCH-P7B": "p7b",
    "BENCH-P8": "p8",
}


def main(path: str) -> None:
    t0 = time.perf_counter()
    engine = regorus.Engine()
    engine.add_policy_from_file(str(Path(__file__).with_name("rego") / "bench.rego"))
    engine.set_input_from_json_file(path)
    t1 = time.perf_counter()
    # one query for every rule: the interpreter shares the work of one evaluation
    query = "[" + ", ".join(f"count(data.bench.{rule})" for rule in RULES.values()) + "]"
    values = engine.eval_query(query)["result"][0]["expressions"][0]["value"]
    counts = {pid: int(n) for pid, n in zip(RULES, values, strict=True)}
    t2 = time.perf_counter()
    print(
        orjson.dumps(
            {"load_s": round(t1 - t0, 3), "eval_s": round(t2 - t1, 3), "counts": counts}
        ).decode()
    )


if __name__ == "__main__":
    main(sys.argv[1])
