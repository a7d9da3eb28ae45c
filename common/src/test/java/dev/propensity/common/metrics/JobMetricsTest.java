package dev.propensity.common.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.propensity.common.config.JobConfig;
import java.io.IOException;
import java.net.ServerSocket;
import org.junit.jupiter.api.Test;

class JobMetricsTest {

  @Test
  void expositionIsPrometheusTextFormatWithEscapedLabels() {
    JobMetrics m = JobMetrics.start("score")
        .gauge("propensity_rows_scored", "Customers scored", 2000, "segment", "2026-06-30")
        .gauge("propensity_drift_psi", "PSI\nper column", 0.25, "feature", "a\"b\\c")
        .gauge("propensity_drift_psi", "PSI\nper column", Double.NaN, "feature", "x");
    assertThat(JobMetrics.exposition(m.samples())).isEqualTo("""
        # HELP propensity_rows_scored Customers scored
        # TYPE propensity_rows_scored gauge
        propensity_rows_scored{segment="2026-06-30"} 2000.0
        # HELP propensity_drift_psi PSI\\nper column
        # TYPE propensity_drift_psi gauge
        propensity_drift_psi{feature="a\\"b\\\\c"} 0.25
        propensity_drift_psi{feature="x"} NaN
        """);
  }

  @Test
  void badNamesAreRejected() {
    assertThatThrownBy(() -> JobMetrics.start("j").gauge("rows-scored", "h", 1))
        .hasMessage("Invalid metric name 'rows-scored'");
    assertThatThrownBy(() -> JobMetrics.start("j").gauge("rows", "h", 1, "job", "x"))
        .hasMessage("Invalid label name 'job' on rows");
    // grouping-key labels and per-run values (a new series every run) are refused
    for (String label : java.util.List.of("pipeline", "environment", "run_id", "snapshot_date")) {
      assertThatThrownBy(() -> JobMetrics.start("j").gauge("rows", "h", 1, label, "x"))
          .hasMessage("Invalid label name '" + label + "' on rows");
    }
  }

  @Test
  void groupingKeyIsJobAndPipelineAndEnvironmentWhenSet() {
    JobMetrics m = JobMetrics.start("score");
    assertThat(m.groupingPath(JobConfig.defaults()))
        .isEqualTo("/metrics/job/score/pipeline/propensity");
    assertThat(m.groupingPath(JobConfig.defaults().with("metrics.pipeline=churn eu",
        "metrics.environment=prod"))).isEqualTo(
            "/metrics/job/score/pipeline/churn%20eu/environment/prod");
  }

  @Test
  void noUrlMeansNoPushAndAnUnreachableGatewayOnlyWarns() throws IOException {
    JobMetrics m = JobMetrics.start("score").gauge("propensity_rows_scored", "h", 1);
    assertThat(m.push(JobConfig.defaults(), 0)).isFalse();
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    JobConfig unreachable = JobConfig.defaults().with(
        "metrics.pushgateway-url=\"http://127.0.0.1:" + port + "\"", "metrics.timeout-seconds=2");
    assertThat(m.push(unreachable, 0)).isFalse();
  }
}
