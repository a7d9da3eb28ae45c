package dev.propensity.jobs;

import dev.propensity.common.config.JobConfig;
import org.apache.spark.sql.SparkSession;

/**
 * One step of the pipeline: Delta tables in, Delta tables (or run artefacts) out. {@link
 * #run} is what tests and the pipeline call; {@code main} only parses arguments (see {@link
 * dev.propensity.jobs.cli.Main}).
 */
public interface Job {

  /** @return the job's command-line name, e.g. {@code train} */
  String name();

  /**
   * Runs the job.
   *
   * @return a short human-readable summary for the console
   */
  String run(SparkSession spark, JobConfig config);
}
