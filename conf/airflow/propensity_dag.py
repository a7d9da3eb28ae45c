"""Airflow DAG: the propensity weekly loop (README "Weekly operation").

One run per week, for the date that ends its data interval (``data_interval_end``):

    features -> score -> performance -> drift -> retrain_policy
        retrain_policy -> train -> select -> bins -> promote -> publish -> segments
        retrain_policy -> no_retrain ----------------------------------> segments
    segments -> maintain

- features: the new snapshot (the run's date) and the snapshot whose label window has just
  closed (date minus LABEL_HORIZON_DAYS), each replacing only its own partition; only events
  before the date count (features.as-of).
- score: the new snapshot with the champion (customer_scores, customer_propensity).
- performance: every scored snapshot whose labels matured, once (model_performance).
- drift: the new snapshot against the champion's baseline (drift_report).
- retrain_policy: runs the `policy` job and branches on its exit code: 0 no retraining; 3
  significant drift, 4 degraded champion, 5 cadence, 6 forced or no champion yet -> train.
- maintain: Delta maintenance after the week's writes: OPTIMIZE / Z-order of the published
  tables by customer_id, VACUUM keeping every version a model run pinned (README "Maintenance").
- promote: the champion/challenger gate; every decision is a row of model_registry, and the
  champion is what `latest` means. publish re-scores the snapshot with whoever is champion.

Each task is idempotent for its date, so a cleared task or a retry converges. Nothing is read
at parse time: the jar, the conf file and the Spark connection come from Variables through
templates, rendered when a task runs. Copy this file to your dags/ folder.
"""
from datetime import datetime, timedelta
import re

from airflow import DAG
from airflow.decorators import task
from airflow.exceptions import AirflowException
from airflow.operators.empty import EmptyOperator
from airflow.providers.apache.spark.hooks.spark_submit import SparkSubmitHook
from airflow.providers.apache.spark.operators.spark_submit import SparkSubmitOperator
from airflow.utils.trigger_rule import TriggerRule

MAIN = "dev.propensity.jobs.cli.Main"
# Rendered when a task runs (Jinja), never at parse time.
CLUSTER_JAR = ("{{ var.value.get('propensity_jar',"
               " '/opt/propensity/propensity-jobs-0.1.0-SNAPSHOT-cluster.jar') }}")
CONF_FILE = "{{ var.value.get('propensity_conf', '/opt/propensity/conf/cluster-s3.conf') }}"
S3_PACKAGES = ("org.apache.hadoop:hadoop-aws:3.4.2,software.amazon.awssdk:s3:2.29.52,"
               "software.amazon.awssdk:s3-transfer-manager:2.29.52")
# Keep equal to propensity.features.label-horizon-days in the conf file.
LABEL_HORIZON_DAYS = 30
CYCLE_DATE = "{{ data_interval_end | ds }}"
MATURED_DATE = "{{ macros.ds_add(data_interval_end | ds, -%d) }}" % LABEL_HORIZON_DAYS

# Exit codes of the policy job that mean "retrain" (dev.propensity.jobs.loop.RetrainPolicy).
RETRAIN_EXIT_CODES = {3: "drift", 4: "degraded", 5: "cadence", 6: "forced or no champion"}

# The cycle's tasks: job name and its arguments after "-c CONF_FILE". OrchestrationTest checks
# them against the code's jobs and keys.
CYCLE = {
    "features": ["features", "loop.date=" + CYCLE_DATE, "features.as-of=" + CYCLE_DATE,
                 'features.snapshot-dates=["%s","%s"]' % (MATURED_DATE, CYCLE_DATE)],
    "score": ["score", "score.run=latest", "score.snapshot=" + CYCLE_DATE],
    "performance": ["performance"],
    "drift": ["drift", "score.run=latest", "score.snapshot=" + CYCLE_DATE,
              "drift.track-performance=false", "drift.on-significant=warn"],
    "train": ["train", "train.snapshot=\"\""],
    "select": ["select"],
    "bins": ["bins"],
    "promote": ["promote", "loop.date=" + CYCLE_DATE],
    "publish": ["score", "score.run=latest", "score.snapshot=" + CYCLE_DATE],
    "segments": ["segments", "segments.snapshot=" + CYCLE_DATE],
    "maintain": ["maintain"],
}
POLICY_ARGS = ["policy", "loop.date=" + CYCLE_DATE]

default_args = {
    "owner": "data-engineering",
    "retries": 1,
    "retry_delay": timedelta(minutes=10),
    "execution_timeout": timedelta(hours=2),
}


def spark_task(task_id, args, **kwargs):
    return SparkSubmitOperator(
        task_id=task_id,
        conn_id="spark_default",
        application=CLUSTER_JAR,
        java_class=MAIN,
        name="propensity-" + task_id,
        packages=S3_PACKAGES,
        deploy_mode="client",  # the driver's exit code reaches the task
        application_args=[args[0], "-c", CONF_FILE] + args[1:],
        **kwargs,
    )


with DAG(
    dag_id="propensity_weekly_loop",
    description="Weekly: features, score with the champion, performance, drift, retraining"
                " policy, champion/challenger promotion",
    schedule="@weekly",
    start_date=datetime(2026, 1, 4),
    catchup=False,
    max_active_runs=1,
    dagrun_timeout=timedelta(hours=8),
    default_args=default_args,
    tags=["propensity", "spark", "delta"],
) as dag:
    tasks = {}
    for task_id in ["features", "score", "performance", "drift"]:
        tasks[task_id] = spark_task(task_id, CYCLE[task_id])
    tasks["features"] >> tasks["score"] >> tasks["performance"] >> tasks["drift"]

    @task.branch(task_id="retrain_policy", retries=0)
    def retrain_policy(args, jar):
        """Runs the policy job; its exit code says whether to retrain and why."""
        hook = SparkSubmitHook(conn_id="spark_default", java_class=MAIN, packages=S3_PACKAGES,
                               deploy_mode="client", name="propensity-policy",
                               application_args=args)
        try:
            hook.submit(application=jar)
        except AirflowException as e:
            code = re.search(r"Error code is: (\d+)", str(e))
            if code and int(code.group(1)) in RETRAIN_EXIT_CODES:
                print("retraining: " + RETRAIN_EXIT_CODES[int(code.group(1))])
                return "train"
            raise
        return "no_retrain"

    policy = retrain_policy([POLICY_ARGS[0], "-c", CONF_FILE] + POLICY_ARGS[1:], CLUSTER_JAR)
    tasks["drift"] >> policy

    no_retrain = EmptyOperator(task_id="no_retrain")
    for task_id in ["train", "select", "bins", "promote", "publish"]:
        tasks[task_id] = spark_task(task_id, CYCLE[task_id])
    policy >> [tasks["train"], no_retrain]
    tasks["train"] >> tasks["select"] >> tasks["bins"] >> tasks["promote"] >> tasks["publish"]

    tasks["segments"] = spark_task("segments", CYCLE["segments"],
                                   trigger_rule=TriggerRule.NONE_FAILED_MIN_ONE_SUCCESS)
    [tasks["publish"], no_retrain] >> tasks["segments"]

    # weekly Delta maintenance once the week's tables are written
    tasks["maintain"] = spark_task("maintain", CYCLE["maintain"])
    tasks["segments"] >> tasks["maintain"]
