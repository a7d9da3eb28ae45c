from airflow import BaseOperator


class _Branch(BaseOperator):
    def __init__(self, fn, task_id, args, **kwargs):
        super().__init__(task_id, **kwargs)
        self.fn = fn
        self.op_args = list(args)


class _Task:
    @staticmethod
    def branch(task_id, **kwargs):
        def wrap(fn):
            def call(*args):
                return _Branch(fn, task_id, args, **kwargs)
            return call
        return wrap


task = _Task()
