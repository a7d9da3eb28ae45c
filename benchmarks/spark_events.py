#!/usr/bin/env python3
"""Where a job's Spark time goes, from its event log: per job description (the Spark UI's job
name; CrossValidation names each fold's jobs "train: <candidate> grid point j/m fold f/k"), the
jobs, stages, tasks, and the tasks' run, deserialisation, launch-to-finish and CPU seconds.

Record an event log with a config file such as
  propensity.spark.conf { "spark.eventLog.enabled" = "true", "spark.eventLog.compress" = "false",
                          "spark.eventLog.dir" = "/tmp/events" }
(./submit.sh train -c that.conf ...), then
  benchmarks/spark_events.py /tmp/events            # folds merged: one row per grid point
  benchmarks/spark_events.py /tmp/events --points   # grid points merged: one row per candidate
Reads plain and zstd-compressed (needs the zstd command) logs, rolling (event log v2) or not.
"""
import collections
import glob
import json
import os
import re
import subprocess
import sys


def lines(path):
    files = [f for f in glob.glob(os.path.join(path, "**", "*"), recursive=True)
             if os.path.isfile(f) and not os.path.basename(f).startswith((".", "appstatus"))]
    number = lambda f: int(m.group(1)) if (m := re.search(r"events_(\d+)_", f)) else 0
    for f in sorted(files, key=number):
        if f.endswith(".zstd"):
            text = subprocess.run(["zstd", "-dc", f], capture_output=True).stdout
            yield from text.decode(errors="replace").splitlines()
        else:
            with open(f, errors="replace") as fh:
                yield from fh


def group(description, points):
    g = re.sub(r" fold \d+/\d+", "", description)
    return re.sub(r" grid point \d+/\d+", " grid points", g) if points else g


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    points = "--points" in sys.argv[2:]
    rows = collections.OrderedDict()
    stage_group = {}
    start = end = None
    for line in lines(sys.argv[1]):
        try:
            e = json.loads(line)
        except ValueError:
            continue
        if not isinstance(e, dict):
            continue
        kind = e.get("Event")
        if kind == "SparkListenerApplicationStart":
            start = e["Timestamp"]
        elif kind == "SparkListenerApplicationEnd":
            end = e["Timestamp"]
        elif kind == "SparkListenerJobStart":
            props = e.get("Properties") or {}
            g = group(props.get("spark.job.description") or props.get("spark.jobGroup.id")
                      or "(no description)", points)
            r = rows.setdefault(g, collections.Counter())
            r["jobs"] += 1
            for s in e["Stage Infos"]:
                stage_group[s["Stage ID"]] = g
        elif kind == "SparkListenerStageCompleted":
            g = stage_group.get(e["Stage Info"]["Stage ID"])
            if g:
                rows[g]["stages"] += 1
        elif kind == "SparkListenerTaskEnd":
            g = stage_group.get(e["Stage ID"])
            if not g:
                continue
            m, info = e.get("Task Metrics") or {}, e["Task Info"]
            r = rows[g]
            r["tasks"] += 1
            r["run"] += m.get("Executor Run Time", 0) / 1000
            r["deserialise"] += m.get("Executor Deserialize Time", 0) / 1000
            r["launch-to-finish"] += (info["Finish Time"] - info["Launch Time"]) / 1000
            r["cpu"] += m.get("Executor CPU Time", 0) / 1e9
    if start and end:
        print(f"application wall {(end - start) / 1000:.0f} s")
    print(f"{'job description':72s} {'jobs':>5} {'stages':>6} {'tasks':>6} {'run s':>7}"
          f" {'deser s':>7} {'l-to-f s':>8} {'cpu s':>6}")
    for g, r in rows.items():
        print(f"{g[:72]:72s} {r['jobs']:5d} {r['stages']:6d} {r['tasks']:6d} {r['run']:7.1f}"
              f" {r['deserialise']:7.1f} {r['launch-to-finish']:8.1f} {r['cpu']:6.1f}")


if __name__ == "__main__":
    main()
