package dev.propensity.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.propensity.common.SparkTestBase;
import dev.propensity.common.config.JobConfig;
import dev.propensity.jobs.cli.Main;
import dev.propensity.jobs.cli.PipelineJob;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The whole thin pipeline in local[2] on a small generated data set, on local Delta tables. */
class PipelineIT extends SparkTestBase {

  static JobConfig small(String warehouse) {
    return JobConfig.defaults().with("warehouse=" + warehouse, "generate.customers=3000",
        "train.cv.num-folds=2", "train.candidates=[logistic, gbt]",
        "train.logistic.reg-param=[0.01]", "train.logistic.elastic-net-param=[0.0]",
        "train.gbt.max-depth=[3]", "train.gbt.max-iter=10");
  }

  @Test
  void pipelineWritesEveryTableAndScoresEveryCustomer() throws Exception {
    Path wh = tempWarehouse("pipeline");
    JobConfig config = small(wh.toString());
    new PipelineJob().run(spark(), config);
    PipelineChecks.assertComplete(spark(), config);

    // the README's check, through the command line the sql job uses
    PrintStream stdout = System.out;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    int code;
    try {
      System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
      code = Main.run(new String[] {"sql", "SELECT 1 AS one; SELECT bin, count(*) AS n FROM"
          + " customer_propensity GROUP BY bin ORDER BY bin", "--csv", "warehouse=" + wh});
    } finally {
      System.setOut(stdout);
    }
    assertThat(code).isZero();
    String csv = out.toString(StandardCharsets.UTF_8);
    assertThat(csv).startsWith("bin,n\n1,");
    assertThat(csv.lines().count()).isEqualTo(11);
  }
}
