package dev.propensity.jobs.monitoring;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.to_date;
import static org.apache.spark.sql.functions.when;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.propensity.common.PropensityException;
import dev.propensity.common.SparkTestBase;
import dev.propensity.common.config.JobConfig;
import dev.propensity.common.psi.PsiBaseline;
import dev.propensity.common.run.ModelRun;
import dev.propensity.common.run.ModelRegistry;
import dev.propensity.common.schema.FeatureSchema;
import dev.propensity.common.table.Tables;
import dev.propensity.common.table.Warehouse;
import dev.propensity.jobs.MonitoringFixture;
import dev.propensity.jobs.RunData;
import dev.propensity.jobs.cli.Main;
import dev.propensity.jobs.inference.ScoreJob;
import dev.propensity.jobs.model.Splits;
import io.delta.tables.DeltaTable;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;

/** PSI drift against a run's stored training baseline, on real tables and a real run. */
class DriftJobTest extends SparkTestBase {

  private static final double EPS = 1e-4;

  /** An independent PSI: bucket the values in plain Java and apply the formula. */
  private static double oraclePsi(PsiBaseline b, List<Object> values) {
    double[] actual = new double[b.buckets()];
    for (Object v : values) {
      int bucket;
      if (v == null) {
        bucket = b.buckets() - 1;
      } else if (PsiBaseline.NUMERIC.equals(b.kind())) {
        double x = ((Number) v).doubleValue();
        bucket = 0;
        for (double e : b.edges()) {
          bucket += x > e ? 1 : 0;
        }
      } else {
        int i = b.categories().indexOf(v.toString());
        bucket = i >= 0 ? i : b.categories().size();
      }
      actual[bucket]++;
    }
    double expectedTotal = b.counts().stream().mapToLong(Long::longValue).sum();
    double psi = 0;
    for (int i = 0; i < actual.length; i++) {
      double e = Math.max(b.counts().get(i) / expectedTotal, EPS);
      double a = Math.max(actual[i] / values.size(), EPS);
      psi += (a - e) * Math.log(a / e);
    }
    return psi;
  }

  private static List<Object> column(Dataset<Row> df, String c) {
    List<Object> out = new ArrayList<>();
    df.select(c).collectAsList().forEach(r -> out.add(r.get(0)));
    return out;
  }

  private static Map<String, Row> report(Warehouse wh) {
    Map<String, Row> out = new TreeMap<>();
    wh.read(Tables.DRIFT_REPORT).collectAsList().forEach(r -> out.put(r.getAs("feature"), r));
    return out;
  }

  @Test
  void baselineIsTheRunsTrainingRowsBucketedByTheirDeciles() {
    Path dir = MonitoringFixture.freshWarehouse("drift-baseline");
    JobConfig config = MonitoringFixture.base(dir);
    Warehouse wh = Warehouse.of(spark(), config);
    ModelRun run = new ModelRegistry(wh).open("latest");
    FeatureSchema schema = FeatureSchema.fromConfig(config);
    // the bins step wrote the baseline when the run completed; writing it again is repeatable
    DriftBaseline.Stored fromBins = DriftBaseline.read(run).orElseThrow();

    DriftBaseline.Stored stored = DriftBaseline.writeBaseline(spark(), wh, schema, run);

    assertThat(DriftBaseline.read(run)).contains(stored);
    assertThat(stored.columns()).isEqualTo(fromBins.columns());
    Dataset<Row> train = RunData.splitRows(wh, schema, run)
        .where(col("__split").equalTo(Splits.TRAIN));
    long trainRows = train.count();
    assertThat(stored.rows()).isEqualTo(trainRows);
    assertThat(stored.columns()).extracting(PsiBaseline::column).containsSubsequence(
        schema.numeric()).containsSubsequence(schema.categorical()).last()
        .isEqualTo(DriftBaseline.SCORE);
    for (PsiBaseline b : stored.features()) {
      assertThat(b.counts().stream().mapToLong(Long::longValue).sum()).as(b.column())
          .isEqualTo(trainRows);
      // the training rows against their own baseline: no drift at all
      assertThat(oraclePsi(b, column(train, b.column()))).as(b.column())
          .isCloseTo(0.0, within(1e-12));
    }
    PsiBaseline recency = stored.features().get(0);
    assertThat(recency.edges()).hasSizeBetween(5, 9).isSorted();
  }

  @Test
  void psiLevelsOnShiftedDataMatchAHandComputation() {
    Path dir = MonitoringFixture.freshWarehouse("drift-levels");
    JobConfig config = MonitoringFixture.base(dir).with("schema.table=shifted");
    Warehouse wh = Warehouse.of(spark(), config);
    Dataset<Row> newest = wh.read(Tables.FEATURES)
        .where(col("snapshot_date").equalTo(to_date(lit(MonitoringFixture.NEWEST))));
    // recency: everyone 400 days more (significant); channel: a share of rows moved to one
    // value (moderate); the rest as is
    Dataset<Row> shifted = newest
        .withColumn("recency_days", col("recency_days").plus(400))
        .withColumn("channel", when(col("customer_id").substr(-2, 2).lt("22"), lit("store"))
            .otherwise(col("channel")));
    wh.append(shifted, "shifted", "snapshot_date");
    new ScoreJob().run(spark(), config);

    String summary = new DriftJob().run(spark(), config);

    ModelRun run = new ModelRegistry(wh).open("latest");
    DriftBaseline.Stored baseline = DriftBaseline.read(run).orElseThrow();
    Map<String, Row> report = report(wh);
    Dataset<Row> current = wh.read("shifted");
    for (PsiBaseline b : baseline.features()) {
      double expected = oraclePsi(b, column(current, b.column()));
      assertThat((double) report.get(b.column()).getAs("psi")).as(b.column())
          .isCloseTo(expected, within(1e-9));
    }
    assertThat(report.keySet()).containsExactlyInAnyOrderElementsOf(baseline.columns().stream()
        .map(PsiBaseline::column).toList());
    assertThat((String) report.get("recency_days").getAs("level")).isEqualTo("significant");
    assertThat((String) report.get("channel").getAs("level")).isEqualTo("moderate");
    assertThat((String) report.get("region").getAs("level")).isEqualTo("stable");
    assertThat((String) report.get("age").getAs("level")).isEqualTo("stable");
    double scorePsi = oraclePsi(baseline.score().orElseThrow(),
        column(wh.read(Tables.CUSTOMER_SCORES), "propensity"));
    assertThat((double) report.get("propensity").getAs("psi")).isCloseTo(scorePsi,
        within(1e-9));
    assertThat(report.values()).allSatisfy(r -> {
      assertThat((String) r.getAs("run_id")).isEqualTo(run.id());
      assertThat(r.getAs("snapshot_date").toString()).isEqualTo(MonitoringFixture.NEWEST);
    });
    assertThat(summary).contains("significant: recency_days (PSI");
  }

  @Test
  void significantDriftExitsWithCode3WhenConfiguredAndTheReportIsReplacedNotAppended() {
    Path dir = MonitoringFixture.freshWarehouse("drift-exit");
    Warehouse wh = Warehouse.of(spark(), MonitoringFixture.base(dir));
    wh.append(wh.read(Tables.FEATURES)
        .where(col("snapshot_date").equalTo(to_date(lit(MonitoringFixture.NEWEST))))
        .withColumn("frequency_365d", col("frequency_365d").multiply(10).plus(30)),
        "shifted", "snapshot_date");
    String[] common = {"warehouse=\"" + dir + "\"", "schema.table=shifted",
        "drift.track-performance=false"};

    int failed = Main.run(concat(new String[] {"drift", "drift.on-significant=fail"}, common));
    assertThat(failed).isEqualTo(PropensityException.EXIT_DRIFT).isEqualTo(3);
    Map<String, Row> first = report(wh);
    assertThat((String) first.get("frequency_365d").getAs("level")).isEqualTo("significant");

    int warned = Main.run(concat(new String[] {"drift", "drift.on-significant=warn"}, common));
    assertThat(warned).isZero();
    Map<String, Row> second = report(wh);
    assertThat(second.keySet()).isEqualTo(first.keySet());
    assertThat(wh.read(Tables.DRIFT_REPORT).count()).isEqualTo(first.size());
    assertThat((double) second.get("frequency_365d").getAs("psi"))
        .isEqualTo((double) first.get("frequency_365d").getAs("psi"));
    List<Row> history = DeltaTable.forPath(spark(), wh.path(Tables.DRIFT_REPORT)).history()
        .orderBy("version").collectAsList();
    assertThat(history).hasSize(2);
    assertThat(history.get(1).<String>getAs("operation")).isEqualTo("WRITE");
    assertThat(history.get(1).<scala.collection.Map<String, String>>getAs("operationParameters")
        .get("predicate").get()).contains("run_id").contains("snapshot_date");
  }

  @Test
  void scoreEndsWithTheDriftStepWhenConfigured() {
    Path dir = MonitoringFixture.freshWarehouse("drift-score");
    JobConfig config = MonitoringFixture.base(dir).with("score.drift=true");
    String summary = new ScoreJob().run(spark(), config);
    Warehouse wh = Warehouse.of(spark(), config);
    assertThat(summary).contains("drift: snapshot " + MonitoringFixture.NEWEST + " vs run ");
    assertThat(report(wh)).containsKeys("recency_days", "region", DriftBaseline.SCORE);
    ModelRun run = new ModelRegistry(wh).open("latest");
    assertThat(run.exists(DriftBaseline.FILE)).isTrue();
  }

  @Test
  void thresholdsAreValidatedBeforeAnyWork() {
    JobConfig config = MonitoringFixture.base(tempWarehouse("drift-conf"));
    assertThatThrownBy(() -> new DriftJob().run(spark(), config.with("drift.moderate=0.3")))
        .hasMessageContaining("Invalid config 'propensity.drift.significant' = '0.2': expected a"
            + " PSI above propensity.drift.moderate (0.3)");
    assertThatThrownBy(() -> new DriftJob().run(spark(), config.with(
        "drift.on-significant=stop")))
        .hasMessageContaining("Unknown on-significant 'stop'; known: fail, warn");
  }

  private static String[] concat(String[] a, String[] b) {
    String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }
}
