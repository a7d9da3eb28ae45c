package dev.propensity.jobs.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.propensity.common.config.JobConfig;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Which run's report a pipeline rebuilds at its end. */
class PipelineReportTest {

  @Test
  void theRunScoredOrCompletedOrNone() {
    JobConfig config = JobConfig.defaults().with("score.run=r-scored");
    assertThat(PipelineJob.reportRun(List.of("features", "score", "segments", "drift"), "new",
        config)).contains("r-scored");
    // a full pipeline: score uses the run bins just completed (latest)
    assertThat(PipelineJob.reportRun(JobConfig.defaults().strings("propensity.pipeline.steps"),
        "new", JobConfig.defaults())).contains("latest");
    assertThat(PipelineJob.reportRun(List.of("train", "select", "bins"), "new", config))
        .contains("new");
    assertThat(PipelineJob.reportRun(List.of("generate", "features"), "new", config)).isEmpty();
  }
}
