"""Loads a DAG file against the Airflow stand-in and prints its graph as JSON: the DAG's
settings, every task (type, trigger rule, application args with templates rendered for one
date) and the edges. With "branch CODE" it runs the retrain_policy branch for an exit code."""
import ast
import datetime
import importlib.util
import json
import os
import re
import sys

path = sys.argv[1]
src = open(path).read()
tree = ast.parse(src)
# nothing read at parse time: no Variable.get or other call into airflow.models at module level
module_calls = [n for n in tree.body for c in ast.walk(n) if isinstance(c, ast.Call)
                and isinstance(n, (ast.Assign, ast.Expr))
                and "Variable" in ast.unparse(c.func)]
spec = importlib.util.spec_from_file_location("dag_under_test", path)
mod = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mod)
from airflow import REGISTRY  # noqa: E402

DATE = "2026-07-05"


def render(s):
    s = s.replace("{{ data_interval_end | ds }}", DATE)
    m = re.search(r"\{\{ macros\.ds_add\(data_interval_end \| ds, (-?\d+)\) \}\}", s)
    if m:
        d = datetime.date.fromisoformat(DATE) + datetime.timedelta(days=int(m.group(1)))
        s = s.replace(m.group(0), d.isoformat())
    s = re.sub(r"\{\{ var\.value\.get\('(\w+)', '([^']*)'\) \}\}", r"\2", s)
    return s


if len(sys.argv) > 2 and sys.argv[2] == "branch":
    os.environ["STANDIN_EXIT_CODE"] = sys.argv[3]
    b = REGISTRY["tasks"]["retrain_policy"]
    try:
        print(b.fn(*[[render(a) for a in x] if isinstance(x, list) else render(x)
                     for x in b.op_args]))
    except Exception as e:  # the branch re-raises other failures
        print("raised: " + type(e).__name__)
    sys.exit(0)

dag = REGISTRY["dag"]
out = {
    "dag_id": dag.dag_id,
    "max_active_runs": dag.kwargs.get("max_active_runs"),
    "dagrun_timeout_s": dag.kwargs["dagrun_timeout"].total_seconds()
    if dag.kwargs.get("dagrun_timeout") else None,
    "execution_timeout_s": dag.kwargs.get("default_args", {}).get("execution_timeout").total_seconds()
    if dag.kwargs.get("default_args", {}).get("execution_timeout") else None,
    "module_level_variable_calls": len(module_calls),
    "tasks": {},
    "edges": sorted([list(e) for e in REGISTRY["edges"]]),
}
for tid, t in REGISTRY["tasks"].items():
    args = t.kwargs.get("application_args")
    if args is None and hasattr(t, "op_args"):
        args = t.op_args[0]
    out["tasks"][tid] = {"type": type(t).__name__, "trigger_rule": t.trigger_rule,
                         "args": [render(a) for a in args] if args else None,
                         "deploy_mode": t.kwargs.get("deploy_mode")}
print(json.dumps(out))
