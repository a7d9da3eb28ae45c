package dev.propensity.jobs;

import dev.propensity.common.Failures;
import dev.propensity.common.PropensityException;
import dev.propensity.common.config.JobConfig;
import dev.propensity.common.metrics.JobMetrics;
import dev.propensity.common.spark.JobDescriptions;
import java.util.Optional;
import java.util.function.Supplier;
import org.apache.spark.SparkContext;
import org.apache.spark.sql.SparkSession;
import org.slf4j.MDC;

/**
 * Runs a job as one step: on its own, in the pipeline or in a weekly cycle, a step looks the same
 * to operators. Its Spark jobs carry the step's name as job group (and as description until the
 * step names a phase with {@link #describe}), its log lines the name in the MDC key {@code job},
 * and its outcome (exit code, duration, last success) is pushed to the Pushgateway when one is
 * configured, failures included, under the step's own job name. The caller's group, description
 * and MDC come back when the step ends.
 */
public final class Steps {

  private Steps() {}

  /**
   * @return the job's summary; its exception, unchanged, when it fails (after the outcome was
   *     pushed)
   */
  public static String run(Job job, SparkSession spark, JobConfig config) {
    return run(job.name(), spark, config, () -> job.run(spark, config));
  }

  /** {@link #run(Job, SparkSession, JobConfig)} for a step that is not a whole job. */
  public static String run(String name, SparkSession spark, JobConfig config,
      Supplier<String> step) {
    SparkContext sc = spark.sparkContext();
    String group = sc.getLocalProperty(JobDescriptions.GROUP);
    String description = sc.getLocalProperty(JobDescriptions.DESCRIPTION);
    String mdc = MDC.get("job");
    JobMetrics outcome = JobMetrics.start(name);
    sc.setJobGroup(name, name, false);
    MDC.put("job", name);
    int code = 1;
    try {
      String summary = step.get();
      code = 0;
      return summary;
    } catch (RuntimeException | Error e) {
      code = exitCode(e, config);
      throw e;
    } finally {
      outcome.push(config, code);
      restore(sc, group, description);
      if (mdc == null) {
        MDC.remove("job");
      } else {
        MDC.put("job", mdc);
      }
    }
  }

  /**
   * Names the phase of the current step for the Spark UI and history server: every Spark job
   * started from this thread until the next call shows "{@code <step>: <phase>}".
   */
  public static void describe(SparkSession spark, String step, String phase) {
    spark.sparkContext().setJobDescription(step + ": " + phase);
  }

  private static int exitCode(Throwable t, JobConfig config) {
    Optional<PropensityException> known = Failures.classify(t,
        config.string("propensity.s3.endpoint"));
    return known.map(PropensityException::exitCode).orElse(1);
  }

  private static void restore(SparkContext sc, String group, String description) {
    if (group == null) {
      sc.clearJobGroup();
    } else {
      sc.setLocalProperty(JobDescriptions.GROUP, group);
    }
    sc.setJobDescription(description);
  }
}
