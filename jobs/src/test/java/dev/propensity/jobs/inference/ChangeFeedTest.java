package dev.propensity.jobs.inference;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.to_date;
import static org.apache.spark.sql.functions.when;
import static org.assertj.core.api.Assertions.assertThat;

import dev.propensity.common.SparkTestBase;
import dev.propensity.common.config.JobConfig;
import dev.propensity.common.table.Tables;
import dev.propensity.common.table.Warehouse;
import dev.propensity.jobs.MonitoringFixture;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;

/**
 * customer_propensity's change data feed: a consumer that synced up to a version reads, with the
 * documented query (README "Tables"), exactly the customers whose values a re-score changed.
 */
class ChangeFeedTest extends SparkTestBase {

  private static final String SNAPSHOT = "2026-08-31";

  @Test
  void aRescoreWithFewChangedCustomersFeedsExactlyThoseChanges() {
    Path dir = MonitoringFixture.freshWarehouse("score-cdf");
    JobConfig config = MonitoringFixture.base(dir).with("schema.table=byo",
        "score.snapshot=" + SNAPSHOT);
    Warehouse wh = Warehouse.of(spark(), config);
    Dataset<Row> base = wh.read(Tables.FEATURES)
        .where(col("snapshot_date").equalTo(to_date(lit(MonitoringFixture.NEWEST))))
        .orderBy("customer_id").limit(200)
        .withColumn("snapshot_date", to_date(lit(SNAPSHOT))).cache();
    List<String> ids = base.select("customer_id").collectAsList().stream()
        .map(r -> r.getString(0)).toList();
    List<String> changed = List.of(ids.get(3), ids.get(50), ids.get(120));
    wh.overwritePartition(base, "byo", "snapshot_date", SNAPSHOT);
    new ScoreJob().run(spark(), config);
    long synced = wh.version(Tables.CUSTOMER_PROPENSITY);

    // the same snapshot again, three customers' features changed
    wh.overwritePartition(base
        .withColumn("recency_days", when(col("customer_id").isin(changed.toArray()), 1)
            .otherwise(col("recency_days")))
        .withColumn("frequency_90d", when(col("customer_id").isin(changed.toArray()), 25)
            .otherwise(col("frequency_90d"))), "byo", "snapshot_date", SNAPSHOT);
    new ScoreJob().run(spark(), config);

    // the consumer's query (README "Tables")
    Dataset<Row> changes = spark().sql("SELECT customer_id, propensity, bin, _change_type,"
        + " _commit_version FROM table_changes_by_path('" + wh.path(Tables.CUSTOMER_PROPENSITY)
        + "', " + (synced + 1) + ") WHERE _change_type IN ('insert', 'update_postimage',"
        + " 'delete')");
    Set<String> fed = new TreeSet<>();
    changes.collectAsList().forEach(r -> {
      assertThat((String) r.getAs("_change_type")).isEqualTo("update_postimage");
      fed.add(r.getAs("customer_id"));
    });
    assertThat(fed).containsExactlyInAnyOrderElementsOf(changed);
    // every change in the feed is the lookup's current row
    Dataset<Row> lookup = wh.read(Tables.CUSTOMER_PROPENSITY);
    assertThat(changes.join(lookup, new String[] {"customer_id", "propensity", "bin"}, "left_anti")
        .count()).isZero();
    // and the publish bookkeeping still holds
    assertThat(Publication.check(wh).consistent()).isTrue();

    // an identical re-score feeds nothing
    long before = wh.version(Tables.CUSTOMER_PROPENSITY);
    new ScoreJob().run(spark(), config);
    assertThat(spark().read().format("delta").option("readChangeFeed", "true")
        .option("startingVersion", before + 1).load(wh.path(Tables.CUSTOMER_PROPENSITY))
        .count()).isZero();
    assertThat(Publication.check(wh).consistent()).isTrue();
  }
}
