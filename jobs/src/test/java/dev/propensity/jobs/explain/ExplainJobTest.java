package dev.propensity.jobs.explain;

import dev.propensity.jobs.model.ExplainData;
import dev.propensity.jobs.model.RunLayout;

import static org.apache.spark.sql.functions.abs;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.expr;
import static org.apache.spark.sql.functions.max;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.propensity.common.SparkTestBase;
import dev.propensity.common.config.JobConfig;
import dev.propensity.common.run.ModelRun;
import dev.propensity.common.run.ModelRuns;
import dev.propensity.common.table.Warehouse;
import dev.propensity.jobs.cli.Jobs;
import dev.propensity.jobs.model.Ensemble;
import dev.propensity.jobs.model.EnsembleModel;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The explain job on a real run folder and Delta tables. */
class ExplainJobTest extends SparkTestBase {

  private static Path warehouse;
  private static ModelRun run;

  @BeforeAll
  static void runWithVoters() throws Exception {
    warehouse = tempWarehouse("explain-job");
    Warehouse wh = new Warehouse(spark(), warehouse.toString());
    wh.overwrite(ExplainData.rows().drop("__label"), "features");
    run = new ModelRuns(wh.root(), spark().sparkContext().hadoopConfiguration()).create("r1");
    for (String name : List.of("dt", "gbt")) {
      ExplainData.model(name).write().save(RunLayout.of(run).candidateModel(name));
    }
    run.writeJson("manifest.json", Map.of("candidates", List.of("dt", "gbt")));
    Ensemble.save(run, "soft-vote-mean", "validation_auc_roc", List.of(
        new EnsembleModel.Voter("dt", 1, 0.7, null), new EnsembleModel.Voter("gbt", 1, 0.8, null)));
  }

  private static JobConfig config(String... more) {
    String[] base = {"warehouse=" + warehouse, "schema.snapshot-column=\"\"",
        "schema.numeric=[recency, spend, visits]", "schema.categorical=[region, segment]",
        "explain.run=r1"};
    String[] all = java.util.stream.Stream.concat(java.util.Arrays.stream(base),
        java.util.Arrays.stream(more)).toArray(String[]::new);
    return JobConfig.defaults().with(all);
  }

  @Test
  void writesFullContributionsOfChosenCustomersAndUpserts() {
    String summary = Jobs.byName("explain").run(spark(),
        config("explain.customers=[3, 17, 99999]"));
    assertThat(summary).contains("explain: 2 customer(s)").contains("model ensemble (probability)")
        .contains("not found: [99999]");
    Warehouse wh = new Warehouse(spark(), warehouse.toString());
    Dataset<Row> t = wh.read(ExplainJob.TABLE);
    assertThat(t.columns()).containsExactly("customer_id", "snapshot_date", "run_id", "model",
        "output_space", "expected_value", "output", "contributions", "explained_at");
    // the ensemble's output is its propensity, and the contributions add up to it
    Dataset<Row> propensity = Ensemble.load(run).score(ExplainData.rows().drop("__label"))
        .select(col("customer_id").cast("string").as("customer_id"), col("propensity"));
    Row r = t.join(propensity, "customer_id").agg(
        max(abs(col("output").minus(col("propensity")))),
        max(abs(expr("aggregate(contributions, 0D, (a, c) -> a + c.contribution)")
            .plus(col("expected_value")).minus(col("output")))),
        org.apache.spark.sql.functions.min(expr("size(contributions)")),
        org.apache.spark.sql.functions.count("*")).first();
    assertThat(r.getDouble(0)).isLessThan(1e-9);
    assertThat(r.getDouble(1)).isLessThan(1e-9);
    assertThat(r.getInt(2)).isEqualTo(5);
    assertThat(r.getLong(3)).isEqualTo(2);

    // a candidate in its own space, then the same again: the MERGE replaces, never duplicates
    Jobs.byName("explain").run(spark(), config("explain.model=gbt", "explain.limit=4"));
    Jobs.byName("explain").run(spark(), config("explain.model=gbt", "explain.limit=4"));
    Dataset<Row> after = wh.read(ExplainJob.TABLE);
    assertThat(after.count()).isEqualTo(6);
    assertThat(after.where("model = 'gbt'").select("output_space").distinct().first()
        .getString(0)).isEqualTo("margin");
    assertThat(after.where("model = 'gbt'").select("customer_id").collectAsList())
        .extracting(x -> x.getString(0)).containsExactlyInAnyOrder("0", "1", "10", "100");
  }

  @Test
  void waterfallPageAddsUpToTheCustomersScore() {
    String summary = Jobs.byName("explain").run(spark(), config("explain.customers=[3, 17]",
        "explain.waterfalls=1"));
    String dir = ExplainJob.waterfallDir("ensemble",
        java.time.LocalDate.now(java.time.ZoneOffset.UTC).toString());
    assertThat(summary).contains("1 waterfall page(s) in " + run.path(dir));
    // the first by id, as a string: "17" < "3"
    String page = run.readText(dir + "/" + ExplainJob.waterfallFile("17"));
    assertThat(page).doesNotContain("http://").doesNotContain("https://") // self-contained
        .contains("data-kind=\"waterfall\"");
    double base = number(page, "data-base=\"([^\"]+)\"").get(0);
    double output = number(page, "data-output=\"([^\"]+)\"").get(0);
    List<Double> steps = number(page, "data-contribution=\"([^\"]+)\"");
    assertThat(steps).hasSize(5); // every feature of the fixture, largest first
    double propensity = Ensemble.load(run).score(ExplainData.rows().drop("__label"))
        .where("customer_id = 17").select("propensity").first().getDouble(0);
    assertThat(base + steps.stream().mapToDouble(Double::doubleValue).sum())
        .isCloseTo(propensity, org.assertj.core.data.Offset.offset(1e-9));
    assertThat(output).isCloseTo(propensity, org.assertj.core.data.Offset.offset(1e-9));
  }

  private static List<Double> number(String text, String regex) {
    java.util.regex.Matcher m = java.util.regex.Pattern.compile(regex).matcher(text);
    List<Double> out = new java.util.ArrayList<>();
    while (m.find()) {
      out.add(Double.parseDouble(m.group(1)));
    }
    return out;
  }

  @Test
  void unknownModelOrCustomersAreNamed() {
    assertThatThrownBy(() -> Jobs.byName("explain").run(spark(), config("explain.model=xgb")))
        .hasMessageContaining("Unknown model 'xgb'; known: ensemble, dt, gbt");
    assertThatThrownBy(() -> Jobs.byName("explain").run(spark(),
        config("explain.customers=[\"nobody\"]")))
        .hasMessageContaining("none of the customers [nobody] is in snapshot");
    assertThat(Jobs.STEPS).extracting(j -> j.name()).doesNotContain("explain");
  }
}
