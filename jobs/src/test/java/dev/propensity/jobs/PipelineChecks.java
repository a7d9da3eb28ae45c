package dev.propensity.jobs;

import static org.apache.spark.sql.functions.col;
import static org.assertj.core.api.Assertions.assertThat;

import dev.propensity.common.config.JobConfig;
import dev.propensity.common.run.ModelRegistry;
import dev.propensity.common.schema.FeatureCatalog;
import dev.propensity.common.table.Tables;
import dev.propensity.common.table.Warehouse;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/** What a finished pipeline must have left in a warehouse: the README's tables and columns. */
final class PipelineChecks {

  /** The documented columns of each table (README "Tables"). */
  static final Map<String, List<String>> COLUMNS = new LinkedHashMap<>();

  static {
    COLUMNS.put(Tables.RAW_CUSTOMERS, List.of("customer_id", "email", "age", "gender",
        "region", "channel", "segment", "signup_date"));
    COLUMNS.put(Tables.RAW_ORDERS, List.of("order_id", "customer_id", "order_date", "revenue",
        "discount", "promo", "returned"));
    COLUMNS.put(Tables.RAW_ORDER_LINES, List.of("order_id", "line_no", "category", "quantity",
        "amount"));
    COLUMNS.put(Tables.RAW_WEB_SESSIONS, List.of("session_id", "customer_id", "session_start",
        "device", "duration_sec", "pages", "cart_adds", "ordered"));
    COLUMNS.put(Tables.RAW_EMAIL_EVENTS, List.of("email_id", "customer_id", "campaign_id",
        "sent_at", "opened_at", "clicked_at"));
    COLUMNS.put(Tables.RAW_SOCIAL_FOLLOWS, List.of("customer_id", "platform", "followed_at",
        "unfollowed_at"));
    COLUMNS.put(Tables.RAW_SUPPORT_CONTACTS, List.of("contact_id", "customer_id",
        "contacted_at", "channel", "reason"));
    COLUMNS.put(Tables.RAW_PROFIT, List.of("customer_id", "month", "profit"));
    // the feature catalogue's columns (README "Features" lists them; FeatureCatalogDocsTest)
    List<String> features = new ArrayList<>(List.of("customer_id", "snapshot_date"));
    FeatureCatalog.ALL.forEach(f -> features.add(f.name()));
    features.add("label");
    COLUMNS.put(Tables.FEATURES, features);
    COLUMNS.put(Tables.LEADERBOARD, List.of("run_id", "candidate", "params", "cv_metric",
        "cv_mean", "cv_std", "cv_folds", "grid_points", "grid_points_evaluated",
        "budget_exhausted", "threshold", "validation_auc_roc", "validation_auc_pr",
        "validation_log_loss", "validation_brier", "validation_precision", "validation_recall",
        "validation_f1", "validation_top_decile_lift", "test_auc_roc", "test_auc_pr",
        "test_log_loss", "test_brier", "test_precision", "test_recall", "test_f1",
        "test_top_decile_lift", "fit_seconds", "created_at"));
    COLUMNS.put(Tables.BIN_STATS, List.of("run_id", "bin", "group_label", "customers",
        "positives", "conversion_rate", "lift", "cumulative_customers", "cumulative_gain",
        "cumulative_lift", "min_score", "max_score", "created_at"));
    COLUMNS.put(Tables.CUSTOMER_SCORES, List.of("customer_id", "propensity", "bin",
        "group_label", "predicted_positive", "voter_probabilities", "reason_codes", "run_id",
        "snapshot_date", "scored_at"));
    COLUMNS.put(Tables.CUSTOMER_PROPENSITY, List.of("customer_id", "propensity", "bin",
        "group_label", "predicted_positive", "voter_probabilities", "reason_codes", "run_id",
        "snapshot_date", "scored_at", "is_stale"));
    COLUMNS.put(Tables.CUSTOMER_SEGMENTS, List.of("customer_id", "snapshot_date", "run_id",
        "propensity", "bin", "group_label", "propensity_group", "profit", "profit_tier",
        "segment", "action", "created_at"));
    COLUMNS.put(Tables.SEGMENT_SUMMARY, List.of("snapshot_date", "run_id", "segment",
        "propensity_group", "profit_tier", "action", "customers", "mean_propensity",
        "total_profit", "mean_profit", "created_at"));
    COLUMNS.put(Tables.DRIFT_REPORT, List.of("run_id", "snapshot_date", "feature", "psi",
        "level", "computed_at"));
  }

  private PipelineChecks() {}

  static void assertComplete(SparkSession spark, JobConfig config) {
    Warehouse wh = Warehouse.of(spark, config);
    assertThat(wh.tables()).containsAll(Tables.ALL);
    COLUMNS.forEach((table, columns) ->
        assertThat(wh.read(table).columns()).as(table).containsExactlyElementsOf(columns));

    String latest = new ModelRegistry(wh).championId().orElse(null);
    assertThat(latest).isNotNull();

    Dataset<Row> newest = wh.read(Tables.FEATURES).where(col("snapshot_date")
        .equalTo(config.strings("propensity.features.snapshot-dates").get(1)));
    Dataset<Row> lookup = wh.read(Tables.CUSTOMER_PROPENSITY);
    long customers = newest.count();
    assertThat(customers).isGreaterThan(0);
    assertThat(lookup.count()).isEqualTo(customers);
    assertThat(lookup.join(newest, "customer_id").count()).isEqualTo(customers);
    assertThat(lookup.where(col("propensity").isNull().or(col("propensity").lt(0))
        .or(col("propensity").gt(1)).or(col("bin").isNull())).count()).isZero();
    List<Row> bins = lookup.groupBy("bin").count().orderBy("bin").collectAsList();
    assertThat(bins.stream().map(r -> r.getInt(0)).toList())
        .containsExactly(1, 2, 3, 4, 5, 6, 7, 8, 9, 10);
    assertThat(lookup.select("run_id").distinct().collectAsList())
        .extracting(r -> r.getString(0)).containsExactly(latest);
    List<String> candidates = new java.util.ArrayList<>(
        config.strings("propensity.train.candidates"));
    candidates.add("ensemble");
    assertThat(wh.read(Tables.LEADERBOARD).where(col("run_id").equalTo(latest))
        .select("candidate").collectAsList()).extracting(r -> r.getString(0))
        .containsExactlyInAnyOrderElementsOf(candidates);
    assertThat(wh.read(Tables.BIN_STATS).where(col("run_id").equalTo(latest)).count())
        .isEqualTo(10);
    assertThat(wh.read(Tables.CUSTOMER_SEGMENTS).count()).isEqualTo(customers);
    // every model feature and the score, once
    assertThat(wh.read(Tables.DRIFT_REPORT).where(col("run_id").equalTo(latest)).count())
        .isEqualTo(dev.propensity.common.schema.FeatureSchema.fromConfig(config).features().size()
            + 1);
  }
}
