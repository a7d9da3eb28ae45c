package dev.propensity.common.spark;

import java.util.function.Supplier;
import org.apache.spark.SparkContext;

/**
 * The Spark UI's names for what a thread runs: SparkContext's local properties of the job group
 * and description, read and put back in one place.
 */
public final class JobDescriptions {

  /** SparkContext's local property of the current job group. */
  public static final String GROUP = "spark.jobGroup.id";
  /** SparkContext's local property of the current job description. */
  public static final String DESCRIPTION = "spark.job.description";

  private JobDescriptions() {}

  /**
   * Runs {@code work} with the description "{@code <group>: <what>}" (the thread's job group, if
   * any, as prefix), then puts the caller's description back.
   */
  public static <T> T within(SparkContext sc, String what, Supplier<T> work) {
    String before = sc.getLocalProperty(DESCRIPTION);
    String group = sc.getLocalProperty(GROUP);
    sc.setJobDescription((group == null ? "" : group + ": ") + what);
    try {
      return work.get();
    } finally {
      sc.setJobDescription(before);
    }
  }
}
