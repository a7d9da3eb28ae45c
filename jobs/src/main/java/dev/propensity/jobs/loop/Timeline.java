package dev.propensity.jobs.loop;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.to_date;

import dev.propensity.common.table.Warehouse;
import java.sql.Date;
import java.sql.Timestamp;
import java.time.Instant;
import java.time.LocalDate;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * The weekly loop's timeline, the Delta table {@code loop_timeline}: one row per cycle date with
 * what the cycle saw and decided. Written once per date, at the end of a successful cycle; a
 * re-run of the same date keeps the row (the decisions of a date are made once).
 */
public final class Timeline {

  public static final String TABLE = "loop_timeline";

  public static final StructType SCHEMA = new StructType()
      .add("cycle_date", DataTypes.DateType)
      .add("snapshot_date", DataTypes.DateType)
      .add("champion_run_id", DataTypes.StringType)
      .add("scored_customers", DataTypes.LongType)
      .add("max_feature_psi", DataTypes.DoubleType)
      .add("max_psi_feature", DataTypes.StringType)
      .add("score_psi", DataTypes.DoubleType)
      .add("matured_snapshot", DataTypes.DateType)
      .add("matured_run_id", DataTypes.StringType)
      .add("matured_auc_roc", DataTypes.DoubleType)
      .add("matured_top_bin_lift", DataTypes.DoubleType)
      .add("retrain_reason", DataTypes.StringType)
      .add("retrain_detail", DataTypes.StringType)
      .add("challenger_run_id", DataTypes.StringType)
      .add("challenger_metric", DataTypes.DoubleType)
      .add("champion_metric", DataTypes.DoubleType)
      .add("promoted", DataTypes.BooleanType)
      .add("recorded_at", DataTypes.TimestampType);

  /** One cycle, as the timeline records it. */
  public record Entry(LocalDate cycleDate, String snapshot, String championRunId,
      long scoredCustomers, Double maxFeaturePsi, String maxPsiFeature, Double scorePsi,
      String maturedSnapshot, String maturedRunId, Double maturedAucRoc, Double maturedTopBinLift,
      String retrainReason, String retrainDetail, String challengerRunId,
      Double challengerMetric, Double championMetric, boolean promoted) {

    Row toRow() {
      return RowFactory.create(Date.valueOf(cycleDate), Date.valueOf(snapshot), championRunId,
          scoredCustomers, maxFeaturePsi, maxPsiFeature, scorePsi,
          maturedSnapshot == null ? null : Date.valueOf(maturedSnapshot), maturedRunId,
          maturedAucRoc, maturedTopBinLift, retrainReason, retrainDetail, challengerRunId,
          challengerMetric, championMetric, promoted, Timestamp.from(Instant.now()));
    }
  }

  private final Warehouse warehouse;

  public Timeline(Warehouse warehouse) {
    this.warehouse = warehouse;
  }

  /** @return the row recorded for a cycle date, if that cycle completed before */
  public Optional<Row> recorded(LocalDate cycleDate) {
    if (!warehouse.exists(TABLE)) {
      return Optional.empty();
    }
    List<Row> rows = warehouse.read(TABLE)
        .where(col("cycle_date").equalTo(to_date(lit(cycleDate.toString())))).collectAsList();
    return rows.isEmpty() ? Optional.empty() : Optional.of(rows.get(0));
  }

  /** Records a cycle, in one commit; the row of a date already recorded is kept. */
  public void record(Entry entry) {
    if (recorded(entry.cycleDate()).isPresent()) {
      return;
    }
    warehouse.replaceWhere(warehouse.spark().createDataFrame(List.of(entry.toRow()), SCHEMA),
        TABLE, Map.of("cycle_date", entry.cycleDate().toString()));
  }

  /** @return every recorded cycle, oldest first */
  public List<Row> rows() {
    return warehouse.exists(TABLE)
        ? warehouse.read(TABLE).orderBy("cycle_date").collectAsList() : List.of();
  }
}
