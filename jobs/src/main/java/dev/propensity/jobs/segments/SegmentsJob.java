package dev.propensity.jobs.segments;

import static org.apache.spark.sql.functions.add_months;
import static org.apache.spark.sql.functions.avg;
import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.current_timestamp;
import static org.apache.spark.sql.functions.date_sub;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.max;
import static org.apache.spark.sql.functions.min;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.to_date;
import static org.apache.spark.sql.functions.trunc;

import dev.propensity.common.Errors;
import dev.propensity.common.config.JobConfig;
import dev.propensity.common.metrics.JobMetrics;
import dev.propensity.common.table.Tables;
import dev.propensity.common.table.Warehouse;
import dev.propensity.jobs.Job;
import dev.propensity.jobs.bins.BinColumns;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.StorageLevel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Profit x propensity: each customer of a scored snapshot gets a propensity group (from its bin
 * or group label), a profit tier (its profit over the months before the snapshot) and the action
 * the rules give that cell. Writes {@code customer_segments} (partition of the snapshot replaced)
 * and {@code segment_summary} (every cell of the matrix, empty ones included; the snapshot's
 * rows replaced).
 */
public final class SegmentsJob implements Job {

  private static final Logger LOG = LoggerFactory.getLogger(SegmentsJob.class);
  private static final String KEY = "propensity.segments.";

  public static final List<String> COLUMNS = List.of("customer_id", "snapshot_date", "run_id",
      "propensity", "bin", "group_label", "propensity_group", "profit", "profit_tier", "segment",
      "action", "created_at");

  @Override
  public String name() {
    return "segments";
  }

  @Override
  public String run(SparkSession spark, JobConfig config) {
    JobMetrics metrics = JobMetrics.start(name());
    SegmentRules rules = SegmentRules.fromConfig(config);
    int months = config.integer(KEY + "profit.months");
    if (months < 1) {
      throw Errors.invalidConfig(KEY + "profit.months", months, "at least 1");
    }
    Warehouse warehouse = Warehouse.of(spark, config);
    Dataset<Row> allScores = warehouse.read(Tables.CUSTOMER_SCORES);
    String snapshot = config.string(KEY + "snapshot").trim();
    if (snapshot.isEmpty()) {
      Object newest = allScores.agg(max("snapshot_date")).first().get(0);
      if (newest == null) {
        throw Errors.emptyTable(warehouse.path(Tables.CUSTOMER_SCORES), "(run score first)");
      }
      snapshot = newest.toString();
    }
    Dataset<Row> scores = allScores.where(col("snapshot_date").equalTo(to_date(lit(snapshot))))
        .select("customer_id", "snapshot_date", "run_id", "propensity", "bin", "group_label");
    Groups groups = groups(rules, scores, snapshot);
    List<String> groupNames = groups.names();

    Dataset<Row> profit = profit(warehouse, config, months, snapshot);
    Dataset<Row> joined = scores.join(profit, scores.col("customer_id")
            .equalTo(profit.col("__id")), "left")
        .withColumn("profit", coalesce(col("__profit"), lit(0.0)))
        .drop("__id", "__profit")
        .withColumn("propensity_group", groups.byLabel() ? col("group_label")
            : rules.group(col("bin")))
        .persist(StorageLevel.MEMORY_AND_DISK());
    try {
      double[] cutValues = rules.cuts();
      if (rules.byQuantile()) {
        cutValues = joined.stat().approxQuantile("profit", rules.cuts(), 1e-4);
        LOG.info("segments: profit tier cuts {} at quantiles {}", Arrays.toString(cutValues),
            Arrays.toString(rules.cuts()));
      }
      Column tier = rules.tier(col("profit"), cutValues);
      Dataset<Row> segments = joined.withColumn("profit_tier", tier)
          .withColumn("segment", SegmentRules.segment(col("propensity_group"),
              col("profit_tier")))
          .withColumn("action", rules.action(col("propensity_group"), col("profit_tier"),
              groupNames))
          .withColumn("created_at", current_timestamp())
          .select(COLUMNS.stream().map(c -> col(c)).toArray(Column[]::new));
      warehouse.overwritePartition(segments, Tables.CUSTOMER_SEGMENTS, "snapshot_date",
          snapshot);

      Dataset<Row> written = warehouse.read(Tables.CUSTOMER_SEGMENTS)
          .where(col("snapshot_date").equalTo(to_date(lit(snapshot))));
      Dataset<Row> summary = summary(spark, rules, groupNames, written, snapshot);
      warehouse.replaceWhere(summary, Tables.SEGMENT_SUMMARY, Map.of("snapshot_date", snapshot));
      long customers = 0;
      StringBuilder cells = new StringBuilder();
      for (Row r : summary.where(col("customers").gt(0)).orderBy(col("customers").desc())
          .collectAsList()) {
        customers += r.getLong(r.fieldIndex("customers"));
        metrics.gauge("propensity_segment_customers", "Customers per segment",
            r.getLong(r.fieldIndex("customers")), "segment", r.getString(r.fieldIndex("segment")));
        cells.append(String.format("%n  %-40s %-16s %8d", r.getString(r.fieldIndex("segment")),
            r.getString(r.fieldIndex("action")), r.getLong(r.fieldIndex("customers"))));
      }
      metrics.push(config, 0);
      LOG.info("segments: snapshot {}: {} customers in {} x {} cells", snapshot, customers,
          groupNames.size(), rules.tiers().size());
      return String.format("segments: snapshot %s, %d customers -> %s, %s%s", snapshot,
          customers, warehouse.path(Tables.CUSTOMER_SEGMENTS),
          warehouse.path(Tables.SEGMENT_SUMMARY), cells);
    } finally {
      joined.unpersist();
    }
  }

  /** Profit per customer (column {@code __id}, {@code __profit}) over the months configured. */
  private static Dataset<Row> profit(Warehouse warehouse, JobConfig config, int months,
      String snapshot) {
    String table = config.string(KEY + "profit.table");
    String id = config.string(KEY + "profit.id-column");
    String month = config.string(KEY + "profit.month-column").trim();
    String value = config.string(KEY + "profit.value-column");
    Dataset<Row> raw = warehouse.read(table);
    List<String> present = Arrays.asList(raw.columns());
    List<String> missing = new ArrayList<>();
    for (String c : month.isEmpty() ? List.of(id, value) : List.of(id, month, value)) {
      if (!present.contains(c)) {
        missing.add(c);
      }
    }
    if (!missing.isEmpty()) {
      throw Errors.missingColumns(warehouse.path(table), missing, present, KEY + "profit");
    }
    if (!month.isEmpty()) {
      // the last `months` months whose first day is before the snapshot
      Column day = to_date(lit(snapshot));
      Column m = to_date(col(month));
      raw = raw.where(m.lt(day).and(m.geq(add_months(trunc(date_sub(day, 1), "month"),
          -(months - 1)))));
    }
    return raw.groupBy(col(id).cast("string").as("__id"))
        .agg(sum(col(value).cast("double")).as("__profit"));
  }

  /**
   * The propensity groups of a snapshot's scores.
   *
   * @param byLabel whether the groups are the bins' own labels (else {@code propensity-groups})
   * @param names the group names in matrix order
   */
  record Groups(boolean byLabel, List<String> names) {}

  /**
   * The groups in matrix order: the configured {@code propensity-groups} for equal-frequency
   * bins; the bins' own labels when that list is empty or when the run's bins are named groups of
   * their own ({@code bins.method = fixed}, e.g. High / Medium / Low), which bin numbers meant for
   * ten quantile bins would lump together. Checks every bin (or label) has a group and every
   * rule's propensity names one (ignoring case).
   */
  static Groups groups(SegmentRules rules, Dataset<Row> scores, String snapshot) {
    List<Row> bins = scores.groupBy("bin").agg(min("group_label"), count(lit(1)))
        .orderBy("bin").collectAsList();
    if (bins.isEmpty()) {
      throw Errors.emptyTable(Tables.CUSTOMER_SCORES, "for snapshot_date " + snapshot
          + " (set propensity.segments.snapshot to a scored snapshot, or run score)");
    }
    List<String> labels = bins.stream().map(r -> r.getString(1)).distinct().toList();
    boolean named = !labels.equals(BinColumns.quantileLabels(labels.size()));
    if (rules.groups().isEmpty() || named) {
      if (!rules.groups().isEmpty()) {
        LOG.info("segments: the bins of snapshot {} are named groups {}; they are the"
            + " propensity groups (propensity.segments.propensity-groups maps quantile bins)",
            snapshot, labels);
      }
      for (SegmentRules.Rule r : rules.rules()) {
        if (!SegmentRules.ANY.equals(r.propensity())
            && labels.stream().noneMatch(l -> l.equalsIgnoreCase(r.propensity()))) {
          throw Errors.unknownName("propensity.segments.rules.propensity", r.propensity(),
              labels);
        }
      }
      return new Groups(true, labels);
    }
    TreeSet<Integer> unmapped = new TreeSet<>();
    bins.forEach(r -> unmapped.add(r.getInt(0)));
    rules.groups().forEach(g -> unmapped.removeAll(g.bins()));
    if (!unmapped.isEmpty()) {
      throw Errors.invalidConfig("propensity.segments.propensity-groups",
          rules.groups().stream().map(g -> g.name() + "=" + g.bins()).toList(),
          "groups covering every bin of the scores; bin(s) " + unmapped + " of snapshot "
              + snapshot + " are in none");
    }
    return new Groups(false, rules.groups().stream().map(SegmentRules.Group::name).toList());
  }

  /** Every cell of the matrix, in group then tier order, with its customers and profit. */
  private static Dataset<Row> summary(SparkSession spark, SegmentRules rules,
      List<String> groupNames, Dataset<Row> segments, String snapshot) {
    StructType cellSchema = new StructType()
        .add("cell_order", DataTypes.IntegerType)
        .add("propensity_group", DataTypes.StringType)
        .add("profit_tier", DataTypes.StringType)
        .add("segment", DataTypes.StringType)
        .add("action", DataTypes.StringType);
    List<Row> cells = new ArrayList<>();
    for (String g : groupNames) {
      for (String t : rules.tiers()) {
        cells.add(RowFactory.create(cells.size() + 1, g, t, SegmentRules.segment(g, t),
            rules.action(g, t)));
      }
    }
    Dataset<Row> agg = segments.groupBy("propensity_group", "profit_tier")
        .agg(count(lit(1)).as("customers"), avg("propensity").as("mean_propensity"),
            sum("profit").as("total_profit"), avg("profit").as("mean_profit"),
            min("run_id").as("run_id"));
    String runId = segments.agg(min("run_id")).first().getString(0);
    return spark.createDataFrame(cells, cellSchema)
        .join(agg, scala.jdk.javaapi.CollectionConverters.asScala(
            List.of("propensity_group", "profit_tier")).toSeq(), "left")
        .select(to_date(lit(snapshot)).as("snapshot_date"), lit(runId).as("run_id"),
            col("segment"), col("propensity_group"), col("profit_tier"), col("action"),
            coalesce(col("customers"), lit(0L)).as("customers"), col("mean_propensity"),
            coalesce(col("total_profit"), lit(0.0)).as("total_profit"), col("mean_profit"),
            current_timestamp().as("created_at"), col("cell_order"))
        .orderBy("cell_order").drop("cell_order");
  }
}
