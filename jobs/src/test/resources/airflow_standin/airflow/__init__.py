"""A stand-in for the parts of Airflow the propensity DAG uses (Airflow cannot be installed
here). It records the DAG's settings, its tasks with their arguments and the edges between them,
so OrchestrationTest can check the task graph and the templated arguments."""
import contextlib

REGISTRY = {"dag": None, "tasks": {}, "edges": set()}


class DAG:
    def __init__(self, dag_id, **kwargs):
        self.dag_id = dag_id
        self.kwargs = kwargs
        REGISTRY["dag"] = self

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def _ids(other):
    return [o.task_id for o in (other if isinstance(other, (list, tuple)) else [other])]


class BaseOperator:
    def __init__(self, task_id, trigger_rule="all_success", **kwargs):
        self.task_id = task_id
        self.trigger_rule = trigger_rule
        self.kwargs = kwargs
        REGISTRY["tasks"][task_id] = self

    def __rshift__(self, other):
        for t in _ids(other):
            REGISTRY["edges"].add((self.task_id, t))
        return other

    def __rrshift__(self, other):
        for t in _ids(other):
            REGISTRY["edges"].add((t, self.task_id))
        return self
