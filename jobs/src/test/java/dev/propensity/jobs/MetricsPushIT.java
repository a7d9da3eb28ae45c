package dev.propensity.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.propensity.common.SparkTestBase;
import dev.propensity.common.config.JobConfig;
import dev.propensity.jobs.inference.ScoreJob;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The score job (with its drift step) pushes its metrics to a real Pushgateway. */
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
          .satisfies(l -> assertThat(l).contains("snapshot_date=\"" + MonitoringFixture.NEWEST
              + "\"").endsWith(" " + MonitoringFixture.CUSTOMERS));
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
    }
  }
}
