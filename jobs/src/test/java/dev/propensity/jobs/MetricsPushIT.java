package dev.propensity.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.propensity.common.SparkTestBase;
import dev.propensity.common.config.JobConfig;
import dev.propensity.jobs.inference.ScoreJob;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The score job (with its drift step) pushes its metrics to a real Pushgateway, grouped by job
 * and pipeline without per-run labels; a failing job pushes its outcome too.
 */
class MetricsPushIT extends SparkTestBase {

  private static List<String> lines(String metrics, String name, String job) {
    return metrics.lines().filter(l -> l.startsWith(name + "{") && l.contains("job=\"" + job
        + "\"")).toList();
  }

  @Test
  void scoreAndDriftMetricsReachThePushgateway() throws Exception {
    try (PushgatewayServer gateway = PushgatewayServer.start()) {
      Path dir = MonitoringFixture.freshWarehouse("metrics");
      JobConfig config = MonitoringFixture.base(dir).with("score.drift=true",
          "metrics.pushgateway-url=\"" + gateway.url() + "\"");

      new ScoreJob().run(spark(), config);

      String metrics = gateway.metrics();
      assertThat(lines(metrics, "propensity_rows_scored", "score")).singleElement()
          .satisfies(l -> assertThat(l).contains("pipeline=\"propensity\"")
              .endsWith(" " + MonitoringFixture.CUSTOMERS));
      // no label carries a per-run value
      assertThat(metrics).doesNotContain("run_id=").doesNotContain("snapshot_date=");
      assertThat(lines(metrics, "propensity_job_exit_code", "score")).singleElement()
          .satisfies(l -> assertThat(l).endsWith(" 0"));
      assertThat(lines(metrics, "propensity_job_duration_seconds", "score")).singleElement()
          .satisfies(l -> assertThat(Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1)))
              .isPositive());
      assertThat(lines(metrics, "propensity_drift_max_psi", "score")).hasSize(1);
      assertThat(lines(metrics, "propensity_drift_psi", "score"))
          .anySatisfy(l -> assertThat(l).contains("feature=\"propensity\""))
          .anySatisfy(l -> assertThat(l).contains("feature=\"recency_days\""));
      assertThat(lines(metrics, "propensity_unseen_category_rows", "score"))
          .anySatisfy(l -> assertThat(l).contains("column=\"region\"").endsWith(" 0"));
      String success = lines(metrics, "propensity_job_last_success_timestamp_seconds", "score")
          .get(0);

      // a failing job pushes its outcome through the CLI, in its own pipeline's group; the
      // last success of the other group stays
      int code = dev.propensity.jobs.cli.Main.run(new String[] {"score", "warehouse=" + dir,
          "score.run=no-such-run", "metrics.pipeline=other",
          "metrics.pushgateway-url=\"" + gateway.url() + "\""});
      assertThat(code).isEqualTo(2);
      metrics = gateway.metrics();
      assertThat(lines(metrics, "propensity_job_exit_code", "score"))
          .anySatisfy(l -> assertThat(l).contains("pipeline=\"other\"").endsWith(" 2"))
          .anySatisfy(l -> assertThat(l).contains("pipeline=\"propensity\"").endsWith(" 0"));
      assertThat(lines(metrics, "propensity_job_success", "score"))
          .anySatisfy(l -> assertThat(l).contains("pipeline=\"other\"").endsWith(" 0"));
      assertThat(lines(metrics, "propensity_job_last_success_timestamp_seconds", "score"))
          .containsExactly(success);
    }
  }

  @Test
  void everyStepOfAPipelinePushesItsOwnOutcomeFailuresToo() throws Exception {
    try (PushgatewayServer gateway = PushgatewayServer.start()) {
      Path dir = MonitoringFixture.freshWarehouse("metrics-steps");
      String url = "metrics.pushgateway-url=\"" + gateway.url() + "\"";
      int code = dev.propensity.jobs.cli.Main.run(new String[] {"pipeline", "warehouse=" + dir,
          "pipeline.steps=[score, segments]", "report.on-complete=false",
          "metrics.pipeline=steps", url});
      assertThat(code).isEqualTo(0);
      String metrics = gateway.metrics();
      for (String job : List.of("score", "segments", "pipeline")) {
        assertThat(lines(metrics, "propensity_job_success", job)).as(job).singleElement()
            .satisfies(l -> assertThat(l).contains("pipeline=\"steps\"").endsWith(" 1"));
        assertThat(lines(metrics, "propensity_job_last_success_timestamp_seconds", job))
            .as(job).hasSize(1);
      }
      // a step that fails pushes its exit code under its own name, and so does the pipeline
      code = dev.propensity.jobs.cli.Main.run(new String[] {"pipeline", "warehouse=" + dir,
          "pipeline.steps=[score, segments]", "score.run=no-such-run",
          "metrics.pipeline=failing", url});
      assertThat(code).isEqualTo(2);
      metrics = gateway.metrics();
      for (String job : List.of("score", "pipeline")) {
        assertThat(lines(metrics, "propensity_job_exit_code", job)).as(job)
            .anySatisfy(l -> assertThat(l).contains("pipeline=\"failing\"").endsWith(" 2"));
      }
      assertThat(lines(metrics, "propensity_job_exit_code", "segments"))
          .noneSatisfy(l -> assertThat(l).contains("pipeline=\"failing\""));
    }
  }
}
