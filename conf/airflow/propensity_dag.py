"""Airflow DAG for the propensity pipeline.

One SparkSubmitOperator per job, in the order of dev.propensity.jobs.cli.Jobs:
features -> train -> select -> bins -> score -> segments -> drift.

The drift task exits with code 3 on significant drift when the config says
propensity.drift.on-significant = fail; spark-submit (client deploy mode) passes the driver's
exit code on, the task fails, and `drift_alert` (trigger_rule one_failed) runs so the team can
retrain. Copy this file to your dags/ folder and set the Variables below (or edit the defaults).
"""
from datetime import datetime, timedelta

from airflow import DAG
from airflow.models import Variable
from airflow.operators.empty import EmptyOperator
from airflow.providers.apache.spark.operators.spark_submit import SparkSubmitOperator
from airflow.utils.trigger_rule import TriggerRule

# The jobs in pipeline order; OrchestrationTest checks this list against the code's job list.
JOBS = ["features", "train", "select", "bins", "score", "segments", "drift"]

CLUSTER_JAR = Variable.get(
    "propensity_jar", default_var="/opt/propensity/propensity-jobs-0.1.0-SNAPSHOT-cluster.jar")
CONF_FILE = Variable.get("propensity_conf", default_var="/opt/propensity/conf/cluster-s3.conf")
S3_PACKAGES = ("org.apache.hadoop:hadoop-aws:3.4.2,software.amazon.awssdk:s3:2.29.52,"
               "software.amazon.awssdk:s3-transfer-manager:2.29.52")

default_args = {
    "owner": "data-engineering",
    "retries": 1,
    "retry_delay": timedelta(minutes=10),
}

with DAG(
    dag_id="propensity_pipeline",
    description="Train voter models, bin the scores, publish customer_propensity, check drift",
    schedule="@weekly",
    start_date=datetime(2026, 1, 1),
    catchup=False,
    default_args=default_args,
    tags=["propensity", "spark", "delta"],
) as dag:
    tasks = {}
    for job in JOBS:
        tasks[job] = SparkSubmitOperator(
            task_id=job,
            conn_id="spark_default",
            application=CLUSTER_JAR,
            java_class="dev.propensity.jobs.cli.Main",
            name=f"propensity-{job}",
            packages=S3_PACKAGES,
            deploy_mode="client",
            application_args=[job, "-c", CONF_FILE, "features.snapshot-dates=[\"{{ ds }}\"]"]
            if job == "features" else [job, "-c", CONF_FILE],
            # drift exits 3 on significant drift: no point retrying that
            retries=0 if job == "drift" else default_args["retries"],
        )
    for upstream, downstream in zip(JOBS, JOBS[1:]):
        tasks[upstream] >> tasks[downstream]

    drift_alert = EmptyOperator(task_id="drift_alert", trigger_rule=TriggerRule.ONE_FAILED)
    tasks["drift"] >> drift_alert
