package dev.propensity.jobs;

import static org.apache.spark.sql.functions.col;
import static org.assertj.core.api.Assertions.assertThat;

import dev.propensity.common.SparkTestBase;
import dev.propensity.common.config.ConfigLoader;
import dev.propensity.common.config.JobConfig;
import dev.propensity.common.run.ModelRun;
import dev.propensity.common.run.ModelRegistry;
import dev.propensity.common.table.Tables;
import dev.propensity.common.table.Warehouse;
import dev.propensity.jobs.cli.PipelineJob;
import java.io.File;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;

/**
 * Bring your own feature table: conf/byo-example.conf on a small hand-made CSV whose columns look
 * nothing like the generator's; train, select, bins and score run on it with no code change.
 */
class ByoPipelineIT extends SparkTestBase {

  @Test
  void pipelineRunsOnYourOwnCsvTable() {
    Path wh = tempWarehouse("byo");
    String csv = new File("src/test/resources/byo/accounts.csv").getAbsolutePath();
    JobConfig config = ConfigLoader.load(new File("../conf/byo-example.conf"),
        List.of("warehouse=" + wh, "schema.table=\"" + csv + "\"", "bins.reference=out-of-fold"),
        Map.of());
    assertThat(config.strings("propensity.pipeline.steps"))
        .containsExactly("train", "select", "bins", "promote", "score");

    String summary = new PipelineJob().run(spark(), config);
    assertThat(summary).contains("score: 200 customers");

    Warehouse warehouse = Warehouse.of(spark(), config);
    ModelRun run = new ModelRegistry(warehouse).open("latest");
    @SuppressWarnings("unchecked")
    Map<String, Object> input = (Map<String, Object>) RunData.manifest(run).get("input");
    assertThat(input).containsEntry("table", csv).containsEntry("snapshot", "");
    assertThat(((Number) input.get("version")).longValue()).isEqualTo(FeatureInput.UNVERSIONED);

    assertThat(warehouse.read(Tables.LEADERBOARD).where(col("run_id").equalTo(run.id()))
        .select("candidate").collectAsList()).extracting(r -> r.getString(0))
        .containsExactlyInAnyOrder("logistic", "ensemble");
    assertThat(warehouse.read(Tables.BIN_STATS).where(col("run_id").equalTo(run.id())).count())
        .isBetween(2L, 5L);
    // bins.reference = out-of-fold: the edges and statistics come from every training row
    @SuppressWarnings("unchecked")
    Map<String, Map<String, Object>> counts = (Map<String, Map<String, Object>>)
        ((Map<String, Object>) RunData.manifest(run).get("splits")).get("counts");
    long trainRows = ((Number) counts.get("train").get("rows")).longValue();
    assertThat(trainRows).isBetween(100L, 180L);
    assertThat(warehouse.read(Tables.BIN_STATS).where(col("run_id").equalTo(run.id()))
        .agg(org.apache.spark.sql.functions.sum("customers")).first().getLong(0))
        .isEqualTo(trainRows);
    Dataset<Row> lookup = warehouse.read(Tables.CUSTOMER_PROPENSITY);
    Dataset<Row> accounts = spark().read().option("header", "true").option("delimiter", ";")
        .csv(csv);
    assertThat(lookup.count()).isEqualTo(200);
    assertThat(lookup.join(accounts, lookup.col("customer_id").equalTo(accounts.col("acct_ref")))
        .count()).isEqualTo(200);
    assertThat(lookup.where(col("propensity").isNull().or(col("bin").isNull())).count()).isZero();
    // the signal in the table is real: the top bin converts more than the bottom one
    List<Row> bins = warehouse.read(Tables.BIN_STATS).where(col("run_id").equalTo(run.id()))
        .orderBy("bin").collectAsList();
    assertThat(bins.get(0).<Double>getAs("conversion_rate"))
        .isGreaterThan(bins.get(bins.size() - 1).<Double>getAs("conversion_rate"));
  }
}
