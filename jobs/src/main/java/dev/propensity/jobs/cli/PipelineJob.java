package dev.propensity.jobs.cli;

import dev.propensity.common.Errors;
import dev.propensity.common.config.JobConfig;
import dev.propensity.common.run.ModelRegistry;
import dev.propensity.common.run.ModelRuns;
import dev.propensity.common.table.Warehouse;
import dev.propensity.jobs.Job;
import dev.propensity.jobs.Steps;
import dev.propensity.jobs.report.ReportJob;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the steps of {@code propensity.pipeline.steps} in order in one session. The run that
 * {@code train} creates is the one {@code select} and {@code bins} complete. With {@code
 * propensity.report.on-complete}, the run report is written once at the end, so it shows what
 * score, segments and drift added.
 */
public class PipelineJob implements Job {

  private static final Logger LOG = LoggerFactory.getLogger(PipelineJob.class);

  @Override
  public String name() {
    return "pipeline";
  }

  @Override
  public String run(SparkSession spark, JobConfig config) {
    List<String> names = config.strings("propensity.pipeline.steps");
    List<String> known = Jobs.STEPS.stream().map(Job::name).toList();
    for (String n : names) {
      if (!known.contains(n)) {
        throw Errors.unknownName("propensity.pipeline.steps", n, known);
      }
    }
    // one run id for train, select and bins, chosen up front
    String runId = config.string("propensity.train.run-id").isBlank()
        ? ModelRuns.newRunId() : config.string("propensity.train.run-id");
    // the report is built once, at the end, rather than by bins before score and drift ran
    boolean report = config.bool("propensity.report.on-complete");
    JobConfig current = config.with("train.run-id=" + runId, "select.run-id=" + runId,
        "bins.run-id=" + runId, "promote.run-id=" + runId, "report.on-complete=false");
    List<String> summaries = new ArrayList<>();
    long start = System.nanoTime();
    int i = 0;
    for (Job step : Jobs.STEPS) {
      if (!names.contains(step.name())) {
        continue;
      }
      i++;
      LOG.info("pipeline: step {} of {}: {} (elapsed {} s)", i, names.size(), step.name(),
          (System.nanoTime() - start) / 1_000_000_000L);
      summaries.add(Steps.run(step, spark, current));
    }
    if (report) {
      reportRun(names, runId, current).ifPresent(id -> summaries.add(Steps.run("report", spark,
          current, () -> ReportJob.write(spark, current,
              new ModelRegistry(Warehouse.of(spark, current)).open(id)))));
    }
    LOG.info("pipeline: {} steps done in {} s", i, (System.nanoTime() - start) / 1_000_000_000L);
    return String.join("\n", summaries);
  }

  /**
   * @return the run whose report the steps changed: the one score, segments and drift used
   *     ({@code propensity.score.run}), else the one bins completed; none when no step of these
   *     ran
   */
  static Optional<String> reportRun(List<String> steps, String runId, JobConfig config) {
    if (steps.contains("score") || steps.contains("segments") || steps.contains("drift")) {
      return Optional.of(config.string("propensity.score.run"));
    }
    return steps.contains("bins") ? Optional.of(runId) : Optional.empty();
  }
}
