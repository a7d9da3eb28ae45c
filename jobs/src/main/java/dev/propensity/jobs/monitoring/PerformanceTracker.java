package dev.propensity.jobs.monitoring;

import dev.propensity.jobs.model.Metrics;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.first;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.max;
import static org.apache.spark.sql.functions.min;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.to_date;

import dev.propensity.common.Errors;
import dev.propensity.common.bins.BinStatistics;
import dev.propensity.common.config.JobConfig;
import dev.propensity.common.schema.FeatureSchema;
import dev.propensity.common.table.Tables;
import dev.propensity.common.table.Warehouse;
import java.sql.Date;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.StorageLevel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Performance of a run on scored snapshots once their labels are known: the feature table gets
 * them when the label horizon has passed (or a bring-your-own table carries them). For each
 * (run_id, snapshot_date) of {@code customer_scores} whose rows are all labelled: AUC-ROC and
 * AUC-PR, conversion and lift per bin next to the run's reference ({@code bin_stats}, and the
 * ensemble's {@code leaderboard} AUC), and a flag when the AUC dropped by more than
 * {@code propensity.performance.max-auc-drop} (relative). Written to {@code model_performance}
 * with {@code replaceWhere} on (run_id, snapshot_date).
 */
public final class PerformanceTracker {

  private static final Logger LOG = LoggerFactory.getLogger(PerformanceTracker.class);

  /** {@code bin} is null on the row for all customers of the snapshot. */
  public static final StructType SCHEMA = new StructType()
      .add("run_id", DataTypes.StringType)
      .add("snapshot_date", DataTypes.DateType)
      .add("bin", DataTypes.IntegerType)
      .add("group_label", DataTypes.StringType)
      .add("customers", DataTypes.LongType)
      .add("positives", DataTypes.LongType)
      .add("conversion_rate", DataTypes.DoubleType)
      .add("lift", DataTypes.DoubleType)
      .add("reference_conversion_rate", DataTypes.DoubleType)
      .add("reference_lift", DataTypes.DoubleType)
      .add("auc_roc", DataTypes.DoubleType)
      .add("auc_pr", DataTypes.DoubleType)
      .add("reference_auc_roc", DataTypes.DoubleType)
      .add("auc_relative_drop", DataTypes.DoubleType)
      .add("degraded", DataTypes.BooleanType)
      .add("computed_at", DataTypes.TimestampType);

  /**
   * @param snapshot a snapshot date to (re)compute, or empty for every pending one
   * @param referenceMetric the leaderboard column holding the reference AUC
   * @param maxDrop the relative AUC drop above which a snapshot is flagged
   * @param fail whether a flagged snapshot ends the job with exit code 4
   */
  public record Settings(String snapshot, String referenceMetric, double maxDrop, boolean fail) {

    /** @return the settings of {@code propensity.performance.*} */
    public static Settings fromConfig(JobConfig config) {
      String snapshot = config.string("propensity.performance.snapshot").trim();
      if (!snapshot.isEmpty() && !snapshot.matches("\\d{4}-\\d{2}-\\d{2}")) {
        throw Errors.invalidConfig("propensity.performance.snapshot", snapshot,
            "empty or a date yyyy-MM-dd");
      }
      String metric = config.oneOf("propensity.performance.reference-metric",
          List.of("test_auc_roc", "validation_auc_roc"));
      double maxDrop = config.number("propensity.performance.max-auc-drop");
      if (!(maxDrop > 0 && maxDrop < 1)) {
        throw Errors.invalidConfig("propensity.performance.max-auc-drop", maxDrop,
            "a relative drop between 0 and 1, e.g. 0.05");
      }
      boolean fail = "fail".equals(config.oneOf("propensity.performance.on-degraded",
          List.of("fail", "warn")));
      return new Settings(snapshot, metric, maxDrop, fail);
    }
  }

  /** The overall figures of one evaluated snapshot. */
  public record Outcome(String runId, String snapshot, long customers, double aucRoc,
      double aucPr, Double referenceAucRoc, Double relativeDrop, boolean degraded) {}

  private PerformanceTracker() {}

  /**
   * Evaluates the pending (or the configured) scored snapshots.
   *
   * @return one outcome per snapshot evaluated, oldest first; empty when none is ready
   */
  public static List<Outcome> run(Warehouse warehouse, Settings settings, FeatureSchema schema) {
    if (!warehouse.exists(Tables.CUSTOMER_SCORES) || !warehouse.exists(schema.table())) {
      LOG.info("performance: no customer_scores or {} yet; nothing to evaluate", schema.table());
      return List.of();
    }
    Dataset<Row> features = warehouse.read(schema.table());
    if (!Arrays.asList(features.columns()).contains(schema.labelColumn())) {
      LOG.info("performance: {} has no label column '{}'; nothing to evaluate", schema.table(),
          schema.labelColumn());
      return List.of();
    }
    Dataset<Row> scores = warehouse.read(Tables.CUSTOMER_SCORES);
    if (!settings.snapshot().isEmpty()) {
      scores = scores.where(col("snapshot_date").equalTo(to_date(lit(settings.snapshot()))));
    }
    List<Column> keys = new ArrayList<>(List.of(col(schema.idColumn()).cast("string")
        .as("customer_id")));
    List<String> joinOn = new ArrayList<>(List.of("customer_id"));
    schema.snapshotColumn().ifPresent(s -> {
      keys.add(to_date(col(s)).as("snapshot_date"));
      joinOn.add("snapshot_date");
    });
    keys.add(col(schema.labelColumn()).cast("double").as("__label"));
    Dataset<Row> labelled = scores.join(features.select(keys.toArray(new Column[0])),
        scala.jdk.javaapi.CollectionConverters.asScala(joinOn).toSeq(), "left");

    List<String[]> ready = new ArrayList<>();
    for (Row r : labelled.groupBy("run_id", "snapshot_date")
        .agg(count(lit(1)).as("n"), count(col("__label")).as("labelled"))
        .orderBy("snapshot_date", "run_id").collectAsList()) {
      String run = r.getString(0);
      String day = r.getDate(1).toString();
      if (r.getLong(2) != r.getLong(3)) {
        LOG.info("performance: run {} snapshot {}: {} of {} scored customers labelled; waiting",
            run, day, r.getLong(3), r.getLong(2));
      } else if (settings.snapshot().isEmpty() && evaluated(warehouse, run, day)) {
        LOG.debug("performance: run {} snapshot {} already in model_performance", run, day);
      } else {
        ready.add(new String[] {run, day});
      }
    }
    List<Outcome> out = new ArrayList<>();
    for (String[] rs : ready) {
      out.add(evaluate(warehouse, settings, labelled.where(col("run_id").equalTo(rs[0])
          .and(col("snapshot_date").equalTo(to_date(lit(rs[1]))))), rs[0], rs[1]));
    }
    return out;
  }

  private static boolean evaluated(Warehouse warehouse, String run, String day) {
    return warehouse.exists(Tables.MODEL_PERFORMANCE) && !warehouse.read(Tables.MODEL_PERFORMANCE)
        .where(col("run_id").equalTo(run).and(col("snapshot_date").equalTo(to_date(lit(day)))))
        .isEmpty();
  }

  private static Outcome evaluate(Warehouse warehouse, Settings settings, Dataset<Row> rows,
      String run, String day) {
    Dataset<Row> data = rows.select("propensity", "bin", "group_label", "__label")
        .persist(StorageLevel.MEMORY_AND_DISK());
    try {
      Map<String, Double> ranking = ranking(data);
      List<BinStatistics.Counts> counts = new ArrayList<>();
      Map<Integer, String> labels = new HashMap<>();
      for (Row r : data.groupBy("bin").agg(count(lit(1)), sum("__label"), min("propensity"),
          max("propensity"), first("group_label")).orderBy("bin").collectAsList()) {
        counts.add(new BinStatistics.Counts(r.getInt(0), r.getLong(1), Math.round(r.getDouble(2)),
            r.getDouble(3), r.getDouble(4)));
        labels.put(r.getInt(0), r.getString(5));
      }
      List<BinStatistics> stats = BinStatistics.of(counts);
      Map<Integer, double[]> reference = referenceBins(warehouse, run);
      Double referenceAuc = referenceAuc(warehouse, run, settings.referenceMetric());
      double auc = ranking.get("auc_roc");
      Double drop = referenceAuc == null || referenceAuc == 0 ? null
          : (referenceAuc - auc) / referenceAuc;
      boolean degraded = drop != null && drop > settings.maxDrop();

      long customers = stats.stream().mapToLong(BinStatistics::customers).sum();
      long positives = stats.stream().mapToLong(BinStatistics::positives).sum();
      Timestamp now = Timestamp.from(Instant.now());
      Date date = Date.valueOf(day);
      List<Row> out = new ArrayList<>();
      out.add(RowFactory.create(run, date, null, "all", customers, positives,
          customers == 0 ? null : (double) positives / customers, 1.0, null, null, auc,
          ranking.get("auc_pr"), referenceAuc, drop, degraded, now));
      for (BinStatistics s : stats) {
        double[] ref = reference.get(s.bin());
        out.add(RowFactory.create(run, date, s.bin(), labels.get(s.bin()), s.customers(),
            s.positives(), s.conversionRate(), s.lift(), ref == null ? null : ref[0],
            ref == null ? null : ref[1], null, null, null, null, null, now));
      }
      warehouse.replaceWhere(warehouse.spark().createDataFrame(out, SCHEMA),
          Tables.MODEL_PERFORMANCE, Map.of("run_id", run, "snapshot_date", day));
      if (degraded) {
        LOG.warn("performance: run {} snapshot {}: AUC {} vs reference {} ({} {}), a relative"
            + " drop of {} above propensity.performance.max-auc-drop = {}", run, day,
            String.format("%.4f", auc), String.format("%.4f", referenceAuc),
            settings.referenceMetric(), "in leaderboard", String.format("%.3f", drop),
            settings.maxDrop());
      }
      LOG.info("performance: run {} snapshot {}: {} customers, AUC-ROC {}, AUC-PR {}, reference"
          + " {}", run, day, customers, auc, ranking.get("auc_pr"), referenceAuc);
      return new Outcome(run, day, customers, auc, ranking.get("auc_pr"), referenceAuc, drop,
          degraded);
    } finally {
      data.unpersist();
    }
  }

  /** The exact AUCs, the same as the leaderboard's reference AUC. */
  private static Map<String, Double> ranking(Dataset<Row> data) {
    return Metrics.ranking(data, col("propensity"), "__label");
  }

  /** @return per bin of the run's reference: conversion rate and lift (empty if unknown) */
  private static Map<Integer, double[]> referenceBins(Warehouse warehouse, String run) {
    Map<Integer, double[]> out = new HashMap<>();
    if (!warehouse.exists(Tables.BIN_STATS)) {
      return out;
    }
    for (Row r : warehouse.read(Tables.BIN_STATS).where(col("run_id").equalTo(run))
        .select("bin", "conversion_rate", "lift").collectAsList()) {
      out.put(r.getInt(0), new double[] {r.getDouble(1), r.getDouble(2)});
    }
    if (out.isEmpty()) {
      LOG.warn("performance: bin_stats has no rows of run {}; reference columns left null", run);
    }
    return out;
  }

  /** @return the ensemble's reference AUC of the run from the leaderboard, or null */
  private static Double referenceAuc(Warehouse warehouse, String run, String metric) {
    if (!warehouse.exists(Tables.LEADERBOARD)) {
      return null;
    }
    List<Row> rows = warehouse.read(Tables.LEADERBOARD)
        .where(col("run_id").equalTo(run).and(col("candidate").equalTo("ensemble"))
            .and(col(metric).isNotNull()))
        .orderBy(col("created_at").desc()).select(metric).limit(1).collectAsList();
    if (rows.isEmpty()) {
      LOG.warn("performance: leaderboard has no ensemble {} of run {}; no AUC flag", metric, run);
      return null;
    }
    return rows.get(0).getDouble(0);
  }
}
