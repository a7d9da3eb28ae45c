package dev.propensity.jobs.maintenance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.propensity.common.PropensityException;
import dev.propensity.common.SparkTestBase;
import dev.propensity.common.config.JobConfig;
import dev.propensity.common.run.ModelRun;
import dev.propensity.common.run.ModelRuns;
import dev.propensity.common.table.Tables;
import dev.propensity.common.table.Warehouse;
import io.delta.tables.DeltaTable;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerStageSubmitted;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;

/**
 * The maintain job: OPTIMIZE with Z-order by customer_id, VACUUM that keeps what runs pin; and
 * published tables whose schema changes only on purpose.
 */
class MaintainJobTest extends SparkTestBase {

  private static Dataset<Row> rows(String sql) {
    return spark().sql(sql);
  }

  @Test
  void optimizesByCustomerAndVacuumsAllButWhatARunPins() throws Exception {
    Path dir = tempWarehouse("maintain");
    JobConfig config = JobConfig.defaults().with("warehouse=" + dir,
        "maintain.vacuum=[features, history, customer_propensity]", "maintain.retention=0h",
        "maintain.pin-margin=1s");
    Warehouse wh = Warehouse.of(spark(), config);
    // features and history alike: v0, v1, v2; a run pins features at v1, nothing pins history
    for (int v = 0; v < 3; v++) {
      for (String table : List.of(Tables.FEATURES, "history")) {
        wh.overwrite(rows("SELECT CAST(id AS STRING) AS customer_id, " + v + " AS x FROM range("
            + (10 * (v + 1)) + ")"), table);
      }
    }
    ModelRun run = new ModelRuns(wh.root(), spark().sparkContext().hadoopConfiguration())
        .create("20260101-000000-pin1");
    run.writeJson(ModelRun.MANIFEST, Map.of("status", ModelRun.COMPLETED,
        "input", Map.of("path", wh.path(Tables.FEATURES), "version", 1, "table", "features")));
    // the lookup in many small files
    for (int i = 0; i < 4; i++) {
      wh.append(rows("SELECT CAST(id AS STRING) AS customer_id, rand() AS propensity, 1 AS bin"
          + " FROM range(" + (i * 50) + ", " + (i * 50 + 50) + ")").repartition(2),
          Tables.CUSTOMER_PROPENSITY);
    }

    // every task the job starts, by stage: VACUUM's listing must not fan out to 10,000 tasks
    AtomicInteger tasks = new AtomicInteger();
    AtomicInteger widest = new AtomicInteger();
    SparkListener counter = new SparkListener() {
      @Override
      public void onStageSubmitted(SparkListenerStageSubmitted s) {
        tasks.addAndGet(s.stageInfo().numTasks());
        widest.accumulateAndGet(s.stageInfo().numTasks(), Math::max);
      }
    };
    spark().sparkContext().addSparkListener(counter);
    String summary;
    try {
      summary = new MaintainJob().run(spark(), config);
      spark().sparkContext().listenerBus().waitUntilEmpty();
    } finally {
      spark().sparkContext().removeSparkListener(counter);
    }
    System.out.printf("maintain: %d tasks, the widest stage %d%n", tasks.get(), widest.get());
    assertThat(widest.get()).as("the widest stage's tasks (Spark's listing default is 10,000)")
        .isLessThanOrEqualTo(50);
    assertThat(spark().conf().get(MaintainJob.LISTING_PARALLELISM, null))
        .as("the session's setting is put back (unset)").isNull();

    assertThat(summary).contains("customer_propensity: optimized, z-ordered by [customer_id]"
        + " (files 8 -> 1)").contains("features: vacuumed, retention 1 h (keeps version 1,"
        + " pinned by a run)").contains("history: vacuumed, retention 0 h\n");
    Row optimize = DeltaTable.forPath(spark(), wh.path(Tables.CUSTOMER_PROPENSITY)).history()
        .where("operation = 'OPTIMIZE'").select("operationParameters").first();
    assertThat(optimize.getJavaMap(0).get("zOrderBy").toString()).contains("customer_id");
    // rows are read: Delta answers count() from its log without touching the files
    assertThat(wh.readAtVersion(Tables.FEATURES, 1).collectAsList()).hasSize(20);
    assertThat(wh.read(Tables.FEATURES).collectAsList()).hasSize(30);
    assertThat(wh.read(Tables.CUSTOMER_PROPENSITY).collectAsList()).hasSize(200);
    // the same VACUUM on the unpinned table removed its older versions' files
    assertThat(wh.read("history").collectAsList()).hasSize(30);
    assertThatThrownBy(() -> wh.readAtVersion("history", 1).collectAsList())
        .hasStackTraceContaining("does not exist");
  }

  @Test
  void theListingParallelismIsTheSettingTheSessionsOrItsCores() {
    JobConfig config = JobConfig.defaults();
    assertThat(MaintainJob.listingParallelism(spark(), config))
        .isEqualTo(spark().sparkContext().defaultParallelism());
    assertThat(MaintainJob.listingParallelism(spark(),
        config.with("maintain.listing-parallelism=64"))).isEqualTo(64);
    spark().conf().set(MaintainJob.LISTING_PARALLELISM, 300);
    try {
      assertThat(MaintainJob.listingParallelism(spark(), config)).isEqualTo(300);
    } finally {
      spark().conf().unset(MaintainJob.LISTING_PARALLELISM);
    }
    assertThatThrownBy(() -> MaintainJob.listingParallelism(spark(),
        config.with("maintain.listing-parallelism=-1")))
        .isInstanceOf(PropensityException.class)
        .hasMessageContaining("propensity.maintain.listing-parallelism");
  }

  @Test
  void aPublishedTableChangesSchemaOnlyWhenAsked() {
    Path dir = tempWarehouse("schema");
    JobConfig config = JobConfig.defaults().with("warehouse=" + dir);
    Warehouse wh = Warehouse.of(spark(), config);
    String base = "SELECT CAST(id AS STRING) AS customer_id, 0.5 AS propensity, 1 AS bin";
    wh.merge(rows(base + " FROM range(5)"), Tables.CUSTOMER_PROPENSITY, List.of("customer_id"),
        Warehouse.WhenMissing.keep());
    Dataset<Row> wider = rows(base + ", 'x' AS extra FROM range(5)");

    assertThatThrownBy(() -> wh.merge(wider, Tables.CUSTOMER_PROPENSITY, List.of("customer_id"),
        Warehouse.WhenMissing.keep()))
        .isInstanceOf(PropensityException.class)
        .hasMessageContaining("Cannot write customer_propensity (" + wh.path(
            Tables.CUSTOMER_PROPENSITY) + "): its schema would change (new column extra string)")
        .hasMessageContaining("write.schema-change-tables=[customer_propensity]");
    assertThatThrownBy(() -> wh.append(rows("SELECT 'a' AS customer_id, 'high' AS propensity,"
        + " 1 AS bin"), Tables.CUSTOMER_PROPENSITY))
        .hasMessageContaining("column propensity decimal(1,1) -> string");
    // other tables evolve as before
    wh.append(rows("SELECT 1 AS a"), "scratch");
    wh.append(rows("SELECT 1 AS a, 2 AS b"), "scratch");
    assertThat(wh.read("scratch").columns()).containsExactly("a", "b");

    Warehouse asked = Warehouse.of(spark(), config.with(
        "write.schema-change-tables=[customer_propensity]"));
    asked.merge(wider, Tables.CUSTOMER_PROPENSITY, List.of("customer_id"),
        Warehouse.WhenMissing.keep());
    assertThat(wh.read(Tables.CUSTOMER_PROPENSITY).columns()).contains("extra");
  }
}
