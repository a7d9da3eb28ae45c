package dev.propensity.jobs.loop;

import dev.propensity.common.PropensityException;
import dev.propensity.common.config.JobConfig;
import dev.propensity.common.table.Warehouse;
import dev.propensity.jobs.Job;
import java.time.LocalDate;
import org.apache.spark.sql.SparkSession;

/**
 * The retraining policy as a scheduler task ({@code ./submit.sh policy loop.date=...}): after the
 * cycle's score, drift and performance tasks, it says whether to train. Exit code 0: no
 * retraining due; 3 drift, 4 degraded, 5 cadence, 6 forced or no champion yet (see
 * {@link RetrainPolicy.Reason}). The Airflow DAG and the Oozie workflow branch on it.
 */
public final class PolicyJob implements Job {

  @Override
  public String name() {
    return "policy";
  }

  @Override
  public String run(SparkSession spark, JobConfig config) {
    LocalDate date = CycleJob.date(config);
    RetrainPolicy.Decision d = new RetrainPolicy(RetrainPolicy.Settings.fromConfig(config))
        .decide(Warehouse.of(spark, config), date, date.toString());
    String line = String.format("policy %s: %s (%s)", date,
        d.retrain() ? "retrain: " + d.reason().value() : "no retraining due", d.detail());
    if (d.retrain()) {
      throw PropensityException.signal(line, d.reason().exitCode());
    }
    return line;
  }
}
