#!/usr/bin/env python3
"""Turns edgetap edge batches back into edges, whichever payload format the agent publishes.

    mosquitto_sub -h BROKER -t 'edgetap/+/edges' | python3 examples/consumers/columnar.py

Reads one batch per line on stdin and prints one edge per line as JSON, each batch's edges in
time order: {"device": ..., "seq": ..., "pin": 18, "level": 1, "t_us": ..., "after_gap": false}.
Only the standard library; `edges()` is the part to copy into your own consumer.
"""

import json
import sys


def edges(batch):
    """The edges of one decoded batch (a dict) as dicts pin/level/t_us/after_gap, time-ordered."""
    if batch["v"] == 1:  # batch.format = "json": one object per edge
        out = [dict(e, after_gap=e.get("after_gap", False)) for e in batch["edges"]]
    else:  # batch.format = "columnar": per pin, runs of alternating levels as time deltas
        out = []
        for run in batch["pins"]:
            flagged = set(run.get("after_gap", []))
            t, level = batch["t0_us"], run["level"]
            for k, dt in enumerate(run["dt_us"]):
                t += dt  # the first from t0_us, each next from the edge before it
                if k > 0:
                    level = 1 - level  # a pin's edges alternate within a run
                out.append({"pin": run["pin"], "level": level, "t_us": t,
                            "after_gap": k in flagged})
    out.sort(key=lambda e: e["t_us"])  # stable: each pin's edges keep their order
    return out


def main():
    for line in sys.stdin:
        if not line.strip():
            continue
        batch = json.loads(line)
        for e in edges(batch):
            print(json.dumps({"device": batch["device"], "seq": batch["seq"], **e}))
        # Gaps (samples or edges lost) and rate-limited counts read the same in both formats.
        for g in batch.get("gaps", []):
            print(f"gap {g['from_us']}..{g['to_us']} in seq {batch['seq']}", file=sys.stderr)


if __name__ == "__main__":
    main()
