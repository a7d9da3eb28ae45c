package dev.propensity.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.propensity.common.SparkTestBase;
import dev.propensity.common.config.JobConfig;
import dev.propensity.common.spark.SparkSessions;
import dev.propensity.jobs.cli.PipelineJob;
import java.nio.file.Files;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The same pipeline with the warehouse on s3a:// against a real S3-compatible server (S3Proxy)
 * started on 127.0.0.1 as its own process.
 */
class S3PipelineIT extends SparkTestBase {

  @Test
  void pipelineRunsWithTheWarehouseOnS3() throws Exception {
    try (S3ProxyServer s3 = S3ProxyServer.start("propensity")) {
      JobConfig config = PipelineIT.small("s3a://propensity/warehouse").with(
          "generate.customers=1500", "train.candidates=[logistic]", "s3.endpoint=\"" + s3.endpoint() + "\"",
          "s3.path-style-access=true");
      SparkSessions.configureObjectStorage(spark(), config);
      new PipelineJob().run(spark(), config);
      PipelineChecks.assertComplete(spark(), config);
      // the tables really are in the bucket
      try (Stream<java.nio.file.Path> files = Files.walk(s3.dataDir().resolve("propensity"))) {
        assertThat(files.map(p -> p.toString()))
            .anyMatch(p -> p.contains("customer_propensity") && p.contains("_delta_log"))
            .anyMatch(p -> p.contains("model_registry") && p.contains("_delta_log"));
      }
    }
  }
}
