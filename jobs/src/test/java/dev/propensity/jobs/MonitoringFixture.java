package dev.propensity.jobs;

import dev.propensity.common.SparkTestBase;
import dev.propensity.common.config.JobConfig;
import dev.propensity.jobs.cli.PipelineJob;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.stream.Stream;

/**
 * A completed run on a small generated data set, built once with the real jobs (generate,
 * features, train, select, bins) and copied into a fresh warehouse for each test that needs one,
 * so the score, drift, performance and segments tests share one training.
 *
 * <p>Surefire runs the jobs tests in two JVMs at once (the {@code test.forks} property): the
 * template lives in the folder named by the {@code propensity.test.fixtures} system property
 * (one per Maven run) and the first JVM that needs it builds it under a file lock while the other
 * waits, so the two share one training. Without the property (an IDE run) it is built per JVM.
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
      template = sharedTemplate();
    }
    Path copy = SparkTestBase.tempWarehouse(prefix);
    copyTree(template, copy);
    return copy;
  }

  private static Path sharedTemplate() {
    String shared = System.getProperty("propensity.test.fixtures", "");
    if (shared.isEmpty()) {
      return build(SparkTestBase.tempWarehouse("monitoring-template"));
    }
    Path dir = Path.of(shared);
    Path wh = dir.resolve("monitoring-template");
    Path done = dir.resolve("monitoring-template.complete");
    try {
      Files.createDirectories(dir);
      try (FileChannel lock = FileChannel.open(dir.resolve("monitoring-template.lock"),
          StandardOpenOption.CREATE, StandardOpenOption.WRITE);
          FileLock held = lock.lock()) {
        if (!Files.exists(done)) {
          deleteTree(wh);
          build(wh);
          Files.createFile(done);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return wh;
  }

  private static Path build(Path wh) {
    new PipelineJob().run(SparkTestBase.spark(), base(wh).with(
        "pipeline.steps=[generate, features, train, select, bins, promote]"));
    return wh;
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

  private static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(dir)) {
      for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
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
