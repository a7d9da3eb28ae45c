package dev.propensity.common.table;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.propensity.common.SparkTestBase;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;

class WarehouseTest extends SparkTestBase {

  private static final StructType T = new StructType()
      .add("id", DataTypes.StringType).add("v", DataTypes.IntegerType)
      .add("day", DataTypes.StringType);

  private final Warehouse wh = new Warehouse(spark(), tempWarehouse("wh").toString());

  private static Dataset<Row> rows(Object[]... rows) {
    return spark().createDataFrame(
        java.util.Arrays.stream(rows).map(RowFactory::create).toList(), T);
  }

  private Map<String, Integer> byId(String table) {
    Map<String, Integer> out = new java.util.TreeMap<>();
    wh.read(table).collectAsList().forEach(r -> out.put(r.getString(0), r.getInt(1)));
    return out;
  }

  @Test
  void rootWithoutSchemeBecomesAbsoluteFileUri() {
    assertThat(wh.root()).startsWith("file:/");
    assertThat(new Warehouse(spark(), "s3a://bucket/wh/").root()).isEqualTo("s3a://bucket/wh");
    assertThat(wh.path("features")).isEqualTo(wh.root() + "/features");
  }

  @Test
  void overwritePartitionReplacesOnlyThatPartition() {
    wh.overwritePartition(rows(new Object[] {"a", 1, "d1"}, new Object[] {"b", 2, "d1"}), "t",
        "day", "d1");
    wh.overwritePartition(rows(new Object[] {"a", 10, "d2"}), "t", "day", "d2");
    wh.overwritePartition(rows(new Object[] {"c", 3, "d1"}), "t", "day", "d1");
    assertThat(wh.read("t").where("day = 'd1'").count()).isEqualTo(1);
    assertThat(wh.read("t").where("day = 'd2'").first().getInt(1)).isEqualTo(10);
    assertThat(wh.version("t")).isEqualTo(2);
    // time travel still sees the first write
    assertThat(wh.readAtVersion("t", 0).count()).isEqualTo(2);
  }

  /** @return the columns with min/max statistics in the files of the table's latest commit */
  private java.util.Set<String> statsColumns(String table) throws Exception {
    java.nio.file.Path log = java.nio.file.Paths.get(java.net.URI.create(wh.path(table)))
        .resolve("_delta_log");
    java.nio.file.Path last;
    try (var files = java.nio.file.Files.list(log)) {
      last = files.filter(f -> f.toString().endsWith(".json")).sorted().reduce((a, b) -> b)
          .orElseThrow();
    }
    var json = new com.fasterxml.jackson.databind.ObjectMapper();
    java.util.Set<String> out = new java.util.TreeSet<>();
    for (String line : java.nio.file.Files.readAllLines(last)) {
      var add = json.readTree(line).get("add");
      if (add != null && add.hasNonNull("stats")) {
        json.readTree(add.get("stats").asText()).get("minValues").fieldNames()
            .forEachRemaining(out::add);
      }
    }
    return out;
  }

  private static Dataset<Row> scored(String day) {
    return spark().sql("SELECT CAST(id AS STRING) AS customer_id, rand(1) AS propensity,"
        + " CAST(id % 5 AS INT) AS bin, 'group' AS group_label, 'r1' AS run_id,"
        + " DATE'" + day + "' AS snapshot_date FROM range(50)");
  }

  @Test
  void scoredTablesKeepStatisticsOnTheirLookupColumnsOnlyAndOlderTablesGetTheProperty()
      throws Exception {
    wh.overwritePartition(scored("2026-06-30"), Tables.CUSTOMER_SCORES, "snapshot_date",
        "2026-06-30");
    assertThat(statsColumns(Tables.CUSTOMER_SCORES))
        .containsExactly("bin", "customer_id", "propensity");
    wh.merge(scored("2026-06-30"), Tables.CUSTOMER_PROPENSITY, List.of("customer_id"),
        Warehouse.WhenMissing.delete());
    assertThat(statsColumns(Tables.CUSTOMER_PROPENSITY))
        .containsExactly("bin", "customer_id", "propensity");

    // a table written before the property existed: every column has statistics, until the
    // next write sets the property (its own commit) and writes files with the three only
    scored("2026-06-30").write().format("delta").partitionBy("snapshot_date")
        .save(wh.path("old/" + Tables.CUSTOMER_SCORES));
    Warehouse old = new Warehouse(spark(), wh.path("old"));
    assertThat(statsColumns("old/" + Tables.CUSTOMER_SCORES)).contains("group_label", "run_id");
    old.overwritePartition(scored("2026-07-01"), Tables.CUSTOMER_SCORES, "snapshot_date",
        "2026-07-01");
    assertThat(old.version(Tables.CUSTOMER_SCORES)).isEqualTo(2);
    assertThat(statsColumns("old/" + Tables.CUSTOMER_SCORES))
        .containsExactly("bin", "customer_id", "propensity");
    // the next write finds the property set: no further metadata commit
    old.overwritePartition(scored("2026-07-01"), Tables.CUSTOMER_SCORES, "snapshot_date",
        "2026-07-01");
    assertThat(old.version(Tables.CUSTOMER_SCORES)).isEqualTo(3);
  }

  @Test
  void mergeUpdatesInsertsAndHandlesMissingRows() {
    wh.merge(rows(new Object[] {"a", 1, "d1"}, new Object[] {"b", 2, "d1"}), "m",
        List.of("id"), Warehouse.WhenMissing.keep());
    wh.merge(rows(new Object[] {"b", 20, "d2"}, new Object[] {"c", 3, "d2"}), "m",
        List.of("id"), Warehouse.WhenMissing.keep());
    assertThat(byId("m")).containsExactlyEntriesOf(new java.util.TreeMap<>(
        Map.of("a", 1, "b", 20, "c", 3)));
    wh.merge(rows(new Object[] {"c", 30, "d3"}), "m", List.of("id"),
        Warehouse.WhenMissing.set(Map.of("v", "-1")));
    assertThat(byId("m")).containsExactlyEntriesOf(new java.util.TreeMap<>(
        Map.of("a", -1, "b", -1, "c", 30)));
    wh.merge(rows(new Object[] {"c", 31, "d4"}), "m", List.of("id"),
        Warehouse.WhenMissing.delete());
    assertThat(byId("m")).containsExactlyEntriesOf(Map.of("c", 31));
  }

  @Test
  void appendAndListTables() {
    wh.append(rows(new Object[] {"a", 1, "d1"}), "log");
    wh.append(rows(new Object[] {"b", 2, "d1"}), "log");
    assertThat(wh.read("log").count()).isEqualTo(2);
    assertThat(wh.tables()).contains("log");
  }

  @Test
  void aFirstWriteThatNeverCommittedLeavesNoTableAndTheNextWriteCreatesIt() throws Exception {
    // what a job killed in a table's first write leaves (seen: features out of memory at 3M
    // customers): Delta made _delta_log/_staged_commits, then nothing was committed
    java.nio.file.Path log = java.nio.file.Paths.get(java.net.URI.create(wh.path("half")))
        .resolve("_delta_log");
    java.nio.file.Files.createDirectories(log.resolve("_staged_commits"));
    assertThat(wh.exists("half")).isFalse();
    assertThat(wh.tables()).doesNotContain("half");
    assertThatThrownBy(() -> wh.read("half"))
        .hasMessageContaining("Cannot read table 'half'")
        .hasMessageContaining("a _delta_log folder without a commit");
    // the re-run's write creates the table (it failed on DELTA_TABLE_NOT_FOUND before)
    wh.overwritePartition(rows(new Object[] {"a", 1, "d1"}), "half", "day", "d1");
    assertThat(wh.exists("half")).isTrue();
    assertThat(wh.version("half")).isZero();
    assertThat(byId("half")).containsExactlyEntriesOf(Map.of("a", 1));
    assertThat(wh.tables()).contains("half");
  }

  @Test
  void readingAMissingTableSaysWhatToRun() {
    assertThatThrownBy(() -> wh.read("nope"))
        .hasMessageContaining("Cannot read table 'nope': no Delta table at " + wh.root() + "/nope")
        .hasMessageContaining("propensity.warehouse");
  }
}
