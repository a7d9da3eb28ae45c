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
  void readingAMissingTableSaysWhatToRun() {
    assertThatThrownBy(() -> wh.read("nope"))
        .hasMessageContaining("Cannot read table 'nope': no Delta table at " + wh.root() + "/nope")
        .hasMessageContaining("propensity.warehouse");
  }
}
