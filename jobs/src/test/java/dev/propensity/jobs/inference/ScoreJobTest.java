package dev.propensity.jobs.inference;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.to_date;
import static org.apache.spark.sql.functions.when;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.propensity.common.SparkTestBase;
import dev.propensity.common.config.JobConfig;
import dev.propensity.common.run.ModelRegistry;
import dev.propensity.common.table.Tables;
import dev.propensity.common.table.Warehouse;
import dev.propensity.jobs.MonitoringFixture;
import io.delta.tables.DeltaTable;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;

/** The score job on a real completed run: idempotency, MERGE semantics, input checks. */
class ScoreJobTest extends SparkTestBase {

  private static Map<String, Row> byId(Dataset<Row> df) {
    Map<String, Row> out = new TreeMap<>();
    df.collectAsList().forEach(r -> out.put(r.getAs("customer_id"), r));
    return out;
  }

  private static List<String> operations(Warehouse wh, String table) {
    return DeltaTable.forPath(spark(), wh.path(table)).history().orderBy("version")
        .select("operation").collectAsList().stream().map(r -> r.getString(0)).toList();
  }

  @Test
  void rescoringASnapshotReplacesOnlyItsPartitionWithOneCommitPerRun() {
    Path dir = MonitoringFixture.freshWarehouse("score-idem");
    JobConfig config = MonitoringFixture.base(dir);
    Warehouse wh = Warehouse.of(spark(), config);
    ScoreJob job = new ScoreJob();

    job.run(spark(), config.with("score.snapshot=" + MonitoringFixture.LABELLED));
    Map<String, Row> firstOld = byId(wh.read(Tables.CUSTOMER_SCORES));
    job.run(spark(), config); // the newest snapshot
    Map<String, Row> newest = byId(wh.read(Tables.CUSTOMER_SCORES)
        .where(col("snapshot_date").equalTo(to_date(lit(MonitoringFixture.NEWEST)))));
    job.run(spark(), config.with("score.snapshot=" + MonitoringFixture.LABELLED));

    Dataset<Row> scores = wh.read(Tables.CUSTOMER_SCORES);
    long labelledRows = wh.read(Tables.FEATURES)
        .where(col("snapshot_date").equalTo(to_date(lit(MonitoringFixture.LABELLED)))).count();
    Map<String, Row> again = byId(scores
        .where(col("snapshot_date").equalTo(to_date(lit(MonitoringFixture.LABELLED)))));
    assertThat(again).hasSize((int) labelledRows).hasSameSizeAs(firstOld);
    // same scores, new scored_at: the partition was replaced, not appended to
    again.forEach((id, r) -> {
      assertThat((double) r.getAs("propensity"))
          .isEqualTo((double) firstOld.get(id).getAs("propensity"));
      assertThat((java.sql.Timestamp) r.getAs("scored_at"))
          .isAfter((java.sql.Timestamp) firstOld.get(id).getAs("scored_at"));
    });
    // the other snapshot is untouched
    assertThat(byId(scores.where(col("snapshot_date")
        .equalTo(to_date(lit(MonitoringFixture.NEWEST)))))).isEqualTo(newest);
    assertThat(operations(wh, Tables.CUSTOMER_SCORES)).containsExactly("WRITE", "WRITE",
        "WRITE");
    assertThat(operations(wh, Tables.CUSTOMER_PROPENSITY)).containsExactly("WRITE", "MERGE",
        "MERGE");
  }

  @Test
  void theTopBinsScopeExplainsOnlyTheTopBinsWithTheSameCodesAsAllCustomers() {
    Path dir = MonitoringFixture.freshWarehouse("score-scope");
    JobConfig config = MonitoringFixture.base(dir);
    Warehouse wh = Warehouse.of(spark(), config);
    assertThatThrownBy(() -> new ScoreJob().run(spark(),
        config.with("explain.scope=top-bins", "explain.top-bins=0")))
        .hasMessageContaining("propensity.explain.top-bins").hasMessageContaining("0");
    assertThat(wh.exists(Tables.CUSTOMER_SCORES)).isFalse();

    new ScoreJob().run(spark(), config);
    Map<String, Row> all = byId(wh.read(Tables.CUSTOMER_SCORES));
    new ScoreJob().run(spark(), config.with("explain.scope=top-bins", "explain.top-bins=2"));
    Map<String, Row> top = byId(wh.read(Tables.CUSTOMER_SCORES));

    assertThat(top.keySet()).isEqualTo(all.keySet());
    int explained = 0;
    for (Map.Entry<String, Row> e : top.entrySet()) {
      Row r = e.getValue();
      Row reference = all.get(e.getKey());
      assertThat((int) r.getAs("bin")).isEqualTo((int) reference.getAs("bin"));
      List<Row> codes = r.getList(r.fieldIndex("reason_codes"));
      if ((int) r.getAs("bin") <= 2) {
        explained++;
        assertThat(codes).as("customer " + e.getKey()).hasSize(3)
            .isEqualTo(reference.getList(reference.fieldIndex("reason_codes")));
      } else {
        assertThat(codes).as("customer " + e.getKey() + " in bin " + r.getAs("bin")).isNull();
      }
    }
    assertThat(explained).isGreaterThan(0).isLessThan(top.size());
  }

  @Test
  void mergeInsertsNewUpdatesChangedAndKeepsOrDeletesMissingCustomers() {
    Path dir = MonitoringFixture.freshWarehouse("score-merge");
    JobConfig config = MonitoringFixture.base(dir).with("schema.table=byo");
    Warehouse wh = Warehouse.of(spark(), config);
    Dataset<Row> base = wh.read(Tables.FEATURES)
        .where(col("snapshot_date").equalTo(to_date(lit(MonitoringFixture.NEWEST))))
        .orderBy("customer_id").limit(300).cache();
    List<String> ids = base.select("customer_id").collectAsList().stream()
        .map(r -> r.getString(0)).toList();
    List<String> gone = ids.subList(0, 100);
    List<String> changed = ids.subList(100, 200);
    List<String> added = ids.subList(200, 300);
    Dataset<Row> first = base.where(col("customer_id").isin(ids.subList(0, 200).toArray()))
        .withColumn("snapshot_date", to_date(lit("2026-07-31")));
    Dataset<Row> second = base.where(col("customer_id").isin(ids.subList(100, 300).toArray()))
        .withColumn("recency_days", when(col("customer_id").isin(changed.toArray()), 1)
            .otherwise(col("recency_days")))
        .withColumn("frequency_90d", when(col("customer_id").isin(changed.toArray()), 25)
            .otherwise(col("frequency_90d")))
        .withColumn("snapshot_date", to_date(lit("2026-08-31")));
    wh.append(first.unionByName(second), "byo", "snapshot_date");

    new ScoreJob().run(spark(), config.with("score.snapshot=2026-07-31"));
    Map<String, Row> before = byId(wh.read(Tables.CUSTOMER_PROPENSITY));
    assertThat(before).hasSize(200);
    new ScoreJob().run(spark(), config.with("score.snapshot=2026-08-31"));
    Map<String, Row> after = byId(wh.read(Tables.CUSTOMER_PROPENSITY));
    Map<String, Row> scored = byId(wh.read(Tables.CUSTOMER_SCORES)
        .where(col("snapshot_date").equalTo(to_date(lit("2026-08-31")))));

    assertThat(after).hasSize(300);
    for (String id : gone) { // kept, marked stale, values of their last scoring
      assertThat((boolean) after.get(id).getAs("is_stale")).isTrue();
      assertThat(after.get(id).getAs("snapshot_date").toString()).isEqualTo("2026-07-31");
      assertThat((double) after.get(id).getAs("propensity"))
          .isEqualTo((double) before.get(id).getAs("propensity"));
    }
    long moved = 0;
    for (String id : changed) { // updated to the new snapshot's score
      assertThat((boolean) after.get(id).getAs("is_stale")).isFalse();
      assertThat(after.get(id).getAs("snapshot_date").toString()).isEqualTo("2026-08-31");
      assertThat((double) after.get(id).getAs("propensity"))
          .isEqualTo((double) scored.get(id).getAs("propensity"));
      assertThat((int) after.get(id).getAs("bin")).isEqualTo((int) scored.get(id).getAs("bin"));
      moved += (double) after.get(id).getAs("propensity")
          != (double) before.get(id).getAs("propensity") ? 1 : 0;
    }
    assertThat(moved).isEqualTo(changed.size());
    for (String id : added) {
      assertThat(before).doesNotContainKey(id);
      assertThat((boolean) after.get(id).getAs("is_stale")).isFalse();
      assertThat((double) after.get(id).getAs("propensity"))
          .isEqualTo((double) scored.get(id).getAs("propensity"));
    }

    new ScoreJob().run(spark(), config.with("score.snapshot=2026-08-31",
        "score.missing-customers=delete"));
    assertThat(byId(wh.read(Tables.CUSTOMER_PROPENSITY)).keySet())
        .containsExactlyInAnyOrderElementsOf(ids.subList(100, 300));
  }

  @Test
  void unseenCategoryValuesAreScoredAndCounted() {
    Path dir = MonitoringFixture.freshWarehouse("score-unseen");
    JobConfig config = MonitoringFixture.base(dir).with("schema.table=byo");
    Warehouse wh = Warehouse.of(spark(), config);
    Dataset<Row> base = wh.read(Tables.FEATURES)
        .where(col("snapshot_date").equalTo(to_date(lit(MonitoringFixture.NEWEST))))
        .orderBy("customer_id").limit(400);
    wh.append(base.withColumn("region", when(col("customer_id").substr(-1, 1).equalTo("7"),
        lit("atlantis")).otherwise(col("region"))), "byo", "snapshot_date");
    long atlantis = wh.read("byo").where(col("region").equalTo("atlantis")).count();
    assertThat(atlantis).isPositive();

    String summary = new ScoreJob().run(spark(), config);

    assertThat(summary).contains("unseen category values: region=" + atlantis
        + " (e.g. 'atlantis')");
    Dataset<Row> scores = wh.read(Tables.CUSTOMER_SCORES);
    assertThat(scores.count()).isEqualTo(400);
    assertThat(scores.where(col("propensity").isNull().or(col("bin").isNull())).count()).isZero();
    // known values are not counted
    assertThat(summary).doesNotContain("channel=").doesNotContain("segment=");
  }

  @Test
  void anEmptySnapshotFailsBeforeAnyTableIsTouched() {
    Path dir = MonitoringFixture.freshWarehouse("score-empty");
    JobConfig config = MonitoringFixture.base(dir);
    Warehouse wh = Warehouse.of(spark(), config);
    new ScoreJob().run(spark(), config);
    long scores = wh.version(Tables.CUSTOMER_SCORES);
    long lookup = wh.version(Tables.CUSTOMER_PROPENSITY);

    assertThatThrownBy(() -> new ScoreJob().run(spark(), config.with(
        "score.snapshot=2031-01-31")))
        .hasMessageContaining("Invalid table " + wh.path(Tables.FEATURES) + ": it has no rows"
            + " for the chosen snapshot_date");
    assertThat(wh.version(Tables.CUSTOMER_SCORES)).isEqualTo(scores);
    assertThat(wh.version(Tables.CUSTOMER_PROPENSITY)).isEqualTo(lookup);
  }

  @Test
  void aMissingColumnOrAWrongTypeIsNamedAndNothingIsWritten() {
    Path dir = MonitoringFixture.freshWarehouse("score-schema");
    JobConfig config = MonitoringFixture.base(dir);
    Warehouse wh = Warehouse.of(spark(), config);
    Dataset<Row> base = wh.read(Tables.FEATURES).limit(50);
    wh.append(base.drop("age"), "no_age", "snapshot_date");
    wh.append(base.withColumn("region", lit(1.5)), "double_region", "snapshot_date");

    assertThatThrownBy(() -> new ScoreJob().run(spark(), config.with("schema.table=no_age")))
        .hasMessageContaining("Invalid table " + wh.path("no_age")
            + ": missing feature column(s) age")
        .hasMessageContaining("propensity.features.families.profile");
    assertThatThrownBy(() -> new ScoreJob().run(spark(), config.with(
        "schema.table=double_region")))
        .hasMessageContaining("column 'region' has type double, expected string, integer or"
            + " boolean (listed in config 'propensity.schema.categorical')");
    assertThat(wh.exists(Tables.CUSTOMER_SCORES)).isFalse();
    assertThat(wh.exists(Tables.CUSTOMER_PROPENSITY)).isFalse();
  }

  @Test
  void anUnknownRunFailsWithTheListOfRuns() {
    Path dir = MonitoringFixture.freshWarehouse("score-run");
    JobConfig config = MonitoringFixture.base(dir);
    String latest = new ModelRegistry(Warehouse.of(spark(), config)).championId()
        .orElseThrow();
    assertThatThrownBy(() -> new ScoreJob().run(spark(), config.with("score.run=nope")))
        .hasMessageContaining("Cannot load model run 'nope'")
        .hasMessageContaining("Available runs: " + latest);
  }
}
