package dev.propensity.jobs;

import dev.propensity.common.SparkTestBase;
import dev.propensity.common.config.JobConfig;
import dev.propensity.jobs.cli.PipelineJob;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/**
 * A completed run on a small generated data set, built once per test JVM with the real jobs
 * (generate, features, train, select, bins) and copied into a fresh warehouse for each test
 * that needs one, so the score, drift, performance and segments tests share one training.
 */
public final class MonitoringFixture {

  /** Customers generated: small enough for seconds, large enough for 10 non-empty bins. */
  public static final int CUSTOMERS = 2000;

  /** The labelled (older) and the newest (unlabelled) snapshot of the features table. */
  public static final String LABELLED = "2026-05-31";
  public static final String NEWEST = "2026-06-30";

  private static Path template;

  private MonitoringFixture() {}

  /** @return a new warehouse holding a copy of the trained template */
  public static synchronized Path freshWarehouse(String prefix) {
    if (template == null) {
      Path wh = SparkTestBase.tempWarehouse("monitoring-template");
      new PipelineJob().run(SparkTestBase.spark(), base(wh).with(
          "pipeline.steps=[generate, features, train, select, bins, promote]"));
      template = wh;
    }
    Path copy = SparkTestBase.tempWarehouse(prefix);
    copyTree(template, copy);
    return copy;
  }

  /** @return the config the template was built with, pointed at {@code warehouse} */
  public static JobConfig base(Path warehouse) {
    return JobConfig.defaults().with("warehouse=\"" + warehouse + "\"",
        "generate.customers=" + CUSTOMERS, "train.cv.num-folds=2",
        // one fast candidate: the monitoring tests need a run, not a model search
        "train.candidates=[logistic]",
        "train.logistic.reg-param=[0.01]", "train.logistic.elastic-net-param=[0.0]",
        "train.logistic.max-iter=25");
  }

  private static void copyTree(Path from, Path to) {
    try (Stream<Path> paths = Files.walk(from)) {
      for (Path p : (Iterable<Path>) paths::iterator) {
        Path target = to.resolve(from.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(target);
        } else {
          Files.copy(p, target);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
