package dev.propensity.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.propensity.common.config.ConfigLoader;
import dev.propensity.common.config.JobConfig;
import dev.propensity.common.spark.SparkSessions;
import dev.propensity.common.table.Tables;
import dev.propensity.common.table.Warehouse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code propensity.catalog.database}: tables written through the warehouse are registered in a
 * real Hive metastore (Spark's embedded one on a local Derby database), and a second Spark
 * application, the {@code sql} job, that knows only the metastore and not the warehouse path
 * queries them by name.
 */
class CatalogIT {

  /** The writing application: writes two tables the way the jobs do (its own JVM). */
  public static void main(String[] args) {
    JobConfig config = ConfigLoader.load(null, Arrays.asList(args), Map.of());
    SparkSession spark = SparkSessions.getOrCreate(config);
    Warehouse warehouse = Warehouse.of(spark, config);
    warehouse.overwrite(spark.sql("SELECT id AS customer_id, 0.5 AS propensity, 1 AS bin"
        + " FROM range(300)"),
        Tables.CUSTOMER_PROPENSITY);
    warehouse.merge(spark.sql("SELECT id AS customer_id, 0.1 AS propensity, 1 AS bin"
        + " FROM range(200)"),
        Tables.CUSTOMER_SCORES, List.of("customer_id"), Warehouse.WhenMissing.keep());
    warehouse.merge(spark.sql("SELECT id AS customer_id, 0.2 AS propensity,"
        + " 2 AS bin FROM range(100, 250)"),
        Tables.CUSTOMER_SCORES, List.of("customer_id"), Warehouse.WhenMissing.keep());
    spark.stop();
  }

  @Test
  void tablesWrittenAreQueriedByNameFromAnotherApplication(@TempDir Path dir) throws Exception {
    Path warehouse = dir.resolve("warehouse");
    List<String> hive = List.of("-Dspark.sql.catalogImplementation=hive",
        "-Dspark.sql.warehouse.dir=" + dir.resolve("hive-warehouse"),
        "-Dspark.hadoop.javax.jdo.option.ConnectionURL=jdbc:derby:;databaseName="
            + dir.resolve("metastore_db") + ";create=true",
        "-Dderby.system.home=" + dir);
    JobProcess writer = JobProcess.startMain(dir.resolve("writer.log"), hive,
        CatalogIT.class.getName(), "warehouse=" + warehouse, "catalog.database=propensity");
    int code = writer.exitCode(Duration.ofMinutes(3));
    assertThat(code).as(writer.tail()).isZero();
    assertThat(writer.log())
        .contains("Catalog: propensity.customer_propensity -> file:" + warehouse)
        .containsOnlyOnce("Catalog: propensity.customer_scores");

    // another application: no warehouse, only the metastore
    JobProcess reader = JobProcess.start(dir.resolve("sql.log"), hive, "sql",
        "SELECT (SELECT count(*) FROM propensity.customer_propensity) AS p,"
            + " (SELECT count(*) FROM propensity.customer_scores) AS s,"
            + " (SELECT count(*) FROM propensity.customer_scores WHERE bin = 2) AS b2",
        "--csv", "warehouse=" + dir.resolve("elsewhere"));
    code = reader.exitCode(Duration.ofMinutes(3));
    assertThat(code).as(reader.tail()).isZero();
    assertThat(reader.log()).contains("p,s,b2\n300,250,150\n");
    assertThat(Files.exists(dir.resolve("elsewhere"))).isFalse();
  }
}
