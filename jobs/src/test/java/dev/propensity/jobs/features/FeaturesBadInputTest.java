package dev.propensity.jobs.features;

import static dev.propensity.jobs.features.RawData.at;
import static org.apache.spark.sql.functions.col;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.propensity.common.PropensityException;
import dev.propensity.common.SparkTestBase;
import dev.propensity.common.table.Tables;
import dev.propensity.common.table.Warehouse;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;

/**
 * Bad input gives a clear error naming the table, column or key (or, where config says so, the
 * rows are dropped and counted); a failed run leaves {@code features} as it was; a re-run of a
 * snapshot replaces that partition only.
 */
class FeaturesBadInputTest extends SparkTestBase {

  @Test
  void missingRawTableNamesTheTableAndTheKeyToSet() {
    Path wh = tempWarehouse("no-tables");
    assertThatThrownBy(() -> new FeaturesJob().run(spark(), HandMade.config(wh)))
        .isInstanceOf(PropensityException.class)
        .hasMessageContaining("Cannot read table 'raw_customers': no Delta table at file:")
        .hasMessageContaining("point propensity.features.input.customers.path at your own"
            + " table");
    Path csv = wh.resolve("nowhere.csv");
    assertThatThrownBy(() -> new FeaturesJob().run(spark(), HandMade.config(wh,
        "features.input.customers.path=\"" + csv + "\"", "features.input.customers.format=csv")))
        .hasMessageContaining("Cannot read table '" + csv + "': no csv data at " + csv);
  }

  @Test
  void missingColumnAndWrongTypeNameTableColumnAndInput() {
    Path wh = tempWarehouse("bad-columns");
    Warehouse warehouse = HandMade.warehouse(wh);
    RawData data = HandMade.data();
    data.write(spark(), warehouse);
    warehouse.overwrite(data.frame(spark(), Tables.RAW_ORDERS).drop("promo"), Tables.RAW_ORDERS);
    assertThatThrownBy(() -> new FeaturesJob().run(spark(), HandMade.config(wh)))
        .hasMessageContaining("Invalid table " + warehouse.path(Tables.RAW_ORDERS)
            + ": missing column(s) promo, which the features job needs")
        .hasMessageContaining("Columns present: order_id, customer_id, order_date, revenue,"
            + " discount, returned")
        .hasMessageContaining("'propensity.features.input.orders'");

    warehouse.overwrite(data.frame(spark(), Tables.RAW_ORDERS)
        .withColumn("order_date", col("order_date").cast("string")), Tables.RAW_ORDERS);
    assertThatThrownBy(() -> new FeaturesJob().run(spark(), HandMade.config(wh)))
        .hasMessageContaining("Invalid table " + warehouse.path(Tables.RAW_ORDERS)
            + ": column 'order_date' has type string, expected date or timestamp (input"
            + " 'propensity.features.input.orders'");
  }

  @Test
  void failedRunsLeaveFeaturesUntouchedAndAReRunReplacesOnlyItsSnapshot() throws IOException {
    Path wh = tempWarehouse("reruns");
    Warehouse warehouse = HandMade.warehouse(wh);
    HandMade.data().write(spark(), warehouse);
    new FeaturesJob().run(spark(), HandMade.config(wh,
        "features.snapshot-dates=[\"2026-05-01\", \"2026-05-02\"]"));
    long version = warehouse.version(Tables.FEATURES);
    List<Row> may1 = snapshot(warehouse, "2026-05-01");
    List<String> may1Files = files(wh.resolve("features/snapshot_date=2026-05-01"));
    List<Row> may2 = snapshot(warehouse, "2026-05-02");

    // two sessions without a customer id: fail (the default) names table, column and the key
    RawData bad = HandMade.data()
        .raw(Tables.RAW_WEB_SESSIONS, "X1", null, at("2026-04-01 10:00:00"), "web", 10, 1, 0,
            false)
        .raw(Tables.RAW_WEB_SESSIONS, "X2", null, at("2026-04-02 10:00:00"), "web", 10, 1, 0,
            false);
    bad.write(spark(), warehouse, Tables.RAW_WEB_SESSIONS);
    assertThatThrownBy(() -> new FeaturesJob().run(spark(), HandMade.config(wh,
        "features.snapshot-dates=[\"2026-05-02\"]")))
        .hasMessage("Invalid table " + warehouse.path(Tables.RAW_WEB_SESSIONS) + ": 2 row(s)"
            + " with a null customer id in column 'customer_id'. Repair the export, or set"
            + " propensity.features.on-bad-rows = drop to drop and count such rows.");
    // a snapshot with no order history before it
    assertThatThrownBy(() -> new FeaturesJob().run(spark(), HandMade.config(wh,
        "features.snapshot-dates=[\"2020-01-01\"]")))
        .hasMessageContaining("Invalid config 'propensity.features.snapshot-dates' ="
            + " '2020-01-01': expected dates after the first order in "
            + warehouse.path(Tables.RAW_ORDERS) + " (2025-04-30)");
    assertThat(warehouse.version(Tables.FEATURES)).isEqualTo(version);

    // drop: the rows are dropped and counted; only the 2026-05-02 partition is rewritten
    String summary = new FeaturesJob().run(spark(), HandMade.config(wh,
        "features.snapshot-dates=[\"2026-05-02\"]", "features.on-bad-rows=drop"));
    assertThat(summary).containsPattern("raw_web_sessions: rows with a null customer id"
        + " dropped +2\\b");
    assertThat(warehouse.version(Tables.FEATURES)).isEqualTo(version + 1);
    assertThat(snapshot(warehouse, "2026-05-01")).containsExactlyElementsOf(may1);
    assertThat(files(wh.resolve("features/snapshot_date=2026-05-01")))
        .containsExactlyElementsOf(may1Files);
    assertThat(snapshot(warehouse, "2026-05-02")).containsExactlyElementsOf(may2);
  }

  private static List<Row> snapshot(Warehouse warehouse, String date) {
    return warehouse.read(Tables.FEATURES).where(col("snapshot_date").cast("string").equalTo(date))
        .orderBy("customer_id").collectAsList();
  }

  private static List<String> files(Path dir) throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".parquet"))
          .sorted().toList();
    }
  }
}
