"""SparkSubmitHook stand-in: submit() exits like the real hook does for a driver exit code
(AirflowException "... Error code is: N."), with N from the environment variable
STANDIN_EXIT_CODE."""
import os

from airflow.exceptions import AirflowException

SUBMITTED = []


class SparkSubmitHook:
    def __init__(self, **kwargs):
        self.kwargs = kwargs

    def submit(self, application=""):
        SUBMITTED.append((application, self.kwargs))
        code = int(os.environ.get("STANDIN_EXIT_CODE", "0"))
        if code:
            raise AirflowException("Cannot execute: spark-submit ... Error code is: %d." % code)
