package dev.propensity.jobs.model;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.max;
import static org.apache.spark.sql.functions.row_number;
import static org.apache.spark.sql.functions.struct;
import static org.apache.spark.sql.functions.when;
import static org.apache.spark.sql.functions.xxhash64;

import dev.propensity.common.Errors;
import dev.propensity.common.config.JobConfig;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.expressions.Window;
import org.apache.spark.sql.expressions.WindowSpec;

/**
 * Stratified train / validation / test assignment. Within each label value the rows are put in a
 * random but seed-fixed order, a hash of (seed, customer id), and cut at the configured fractions,
 * so every split has the table's positive rate (to one row) and the same customer lands in the
 * same split whatever the partitioning. Training records each class's cut points ({@link Cut})
 * in the run's manifest; later jobs (select, bins, promote, report) rebuild the splits from the
 * run's pinned input version and those cuts, without the sort (runs trained before the cuts were
 * recorded sort again).
 *
 * <p>The ranking is a window per label value, so each class is sorted in one task: fine up to
 * tens of millions of rows; beyond that hash-bucketed ranks would be needed. The split sorts only
 * (label, hash, id); the folds sort the training rows. {@link #spread} lays the rows out evenly
 * again for what follows.
 */
public record Splits(double train, double validation, double test, long seed) {

  public static final String TRAIN = "train";
  public static final String VALIDATION = "validation";
  public static final String TEST = "test";
  /** The column {@link #assign} adds. */
  public static final String COLUMN = "__split";

  /** @return the fractions of {@code propensity.train.split} and the seed, validated */
  public static Splits fromConfig(JobConfig config) {
    double tr = config.number("propensity.train.split.train");
    double va = config.number("propensity.train.split.validation");
    double te = config.number("propensity.train.split.test");
    if (tr <= 0 || va <= 0 || te < 0 || Math.abs(tr + va + te - 1.0) > 1e-6) {
      throw Errors.invalidConfig("propensity.train.split", tr + " / " + va + " / " + te,
          "train > 0, validation > 0, test >= 0 summing to 1");
    }
    return new Splits(tr, va, te, config.longValue("propensity.train.seed"));
  }

  /**
   * Each row's split, as if every class were sorted by (hash, id) and cut at the fractions: the
   * sort runs on three narrow columns (label, hash, id) only, to find per class the (hash, id) of
   * its last train and last validation row; the wide rows then get their split from a comparison
   * with those, without a shuffle. One Spark job here, the rows themselves stay lazy.
   *
   * @param df rows with unique ids and a non-null label
   * @return {@code df} with {@link #COLUMN} naming each row's split
   */
  public Dataset<Row> assign(Dataset<Row> df, String idColumn, String labelColumn) {
    return assign(df, idColumn, labelColumn, cuts(df, idColumn, labelColumn));
  }

  /**
   * Each row's split from cut points found earlier ({@link #cuts} on the same rows): no Spark job.
   *
   * @return {@code df} with {@link #COLUMN} naming each row's split
   */
  public Dataset<Row> assign(Dataset<Row> df, String idColumn, String labelColumn,
      List<Cut> cuts) {
    Column label = col(labelColumn).cast("double");
    Column key = key(idColumn);
    Column id = col(idColumn);
    Column inTrain = lit(false);
    Column inValidation = lit(false);
    for (Cut cut : cuts) {
      Column sameClass = label.eqNullSafe(cut.label() == null ? lit(null).cast("double")
          : lit(cut.label()));
      inTrain = inTrain.or(sameClass.and(atOrBefore(key, id, cut.train())));
      inValidation = inValidation.or(sameClass.and(atOrBefore(key, id, cut.validation())));
    }
    return df.withColumn(COLUMN,
        when(inTrain, TRAIN).when(inValidation, VALIDATION).otherwise(TEST));
  }

  /**
   * Where each class is cut, found by sorting the narrow (label, hash, id) rows: one Spark job.
   *
   * @return one cut per label value (null included) of {@code df}
   */
  public List<Cut> cuts(Dataset<Row> df, String idColumn, String labelColumn) {
    WindowSpec ordered = Window.partitionBy(col("l")).orderBy(col("h"), col("id"));
    // the middle of the row's rank interval: cuts at fractions give exact per-class shares
    Column u = row_number().over(ordered).minus(0.5)
        .divide(count(lit(1)).over(Window.partitionBy(col("l"))));
    Column position = struct(col("h"), col("id"));
    List<Cut> out = new ArrayList<>();
    for (Row r : df.select(col(labelColumn).cast("double").as("l"), key(idColumn).as("h"),
            col(idColumn).as("id"))
        .withColumn("u", u)
        .groupBy("l")
        .agg(max(when(col("u").lt(train), position)),
            max(when(col("u").lt(train + validation), position)))
        .collectAsList()) {
      out.add(new Cut(r.isNullAt(0) ? null : r.getDouble(0), Position.of(r.getStruct(1)),
          Position.of(r.getStruct(2))));
    }
    return out;
  }

  private Column key(String idColumn) {
    return xxhash64(lit(seed), lit("split"), col(idColumn).cast("string"));
  }

  /** @return whether (key, id) sorts at or before {@code last}'s; false when there is none */
  private static Column atOrBefore(Column key, Column id, Position last) {
    if (last == null) {
      return lit(false);
    }
    return key.lt(last.hash()).or(key.equalTo(last.hash()).and(id.leq(lit(last.id()))));
  }

  /**
   * A class's cut points: the (hash, id) of its last training row and of its last validation row
   * in the seed-fixed order.
   *
   * @param label the class (null for rows without a label)
   * @param train the last training row's position, null when the class has none
   * @param validation the last validation row's position, null when the class has none
   */
  public record Cut(Double label, Position train, Position validation) {

    /** @return the cuts as the run manifest records them (JSON-ready maps) */
    public static List<Map<String, Object>> toManifest(List<Cut> cuts) {
      List<Map<String, Object>> out = new ArrayList<>();
      for (Cut c : cuts) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("label", c.label());
        m.put("train", c.train() == null ? null : c.train().toManifest());
        m.put("validation", c.validation() == null ? null : c.validation().toManifest());
        out.add(m);
      }
      return out;
    }

    /**
     * @param recorded the manifest's {@code splits.cuts}, or null
     * @return the cuts, or empty when none are recorded (runs trained before they were)
     */
    @SuppressWarnings("unchecked")
    public static Optional<List<Cut>> fromManifest(Object recorded) {
      if (!(recorded instanceof List<?> list)) {
        return Optional.empty();
      }
      List<Cut> out = new ArrayList<>();
      for (Object o : list) {
        Map<String, Object> m = (Map<String, Object>) o;
        Object label = m.get("label");
        out.add(new Cut(label == null ? null : ((Number) label).doubleValue(),
            Position.fromManifest(m.get("train")), Position.fromManifest(m.get("validation"))));
      }
      return Optional.of(out);
    }

    /** @return whether the manifest can hold these ids as they are (strings and integers) */
    public static boolean recordable(List<Cut> cuts) {
      return cuts.stream().flatMap(c -> java.util.stream.Stream.of(c.train(), c.validation()))
          .filter(java.util.Objects::nonNull)
          .allMatch(p -> p.id() instanceof String || p.id() instanceof Long
              || p.id() instanceof Integer);
    }
  }

  /** A row's place in a class's seed-fixed order: its hash, then its id. */
  public record Position(long hash, Object id) {

    static Position of(Row struct) {
      return struct == null ? null : new Position(struct.getLong(0), struct.get(1));
    }

    Map<String, Object> toManifest() {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("hash", hash);
      m.put("id", id);
      return m;
    }

    @SuppressWarnings("unchecked")
    static Position fromManifest(Object recorded) {
      if (recorded == null) {
        return null;
      }
      Map<String, Object> m = (Map<String, Object>) recorded;
      Object id = m.get("id");
      // JSON reads small integers back as Integer: an id column of longs compares either
      return new Position(((Number) m.get("hash")).longValue(),
          id instanceof Integer i ? Long.valueOf(i) : id);
    }
  }

  /**
   * Stratified cross-validation folds: within each label value, rows in a seed-fixed random order
   * are dealt to folds 0, 1, ..., k-1 in turn, so each fold holds its share of each class to one
   * row.
   *
   * @return {@code df} with {@link CandidatePipeline#FOLD} (int, 0 to k-1)
   */
  public static Dataset<Row> assignFolds(Dataset<Row> df, String idColumn, String labelColumn,
      int folds, long seed) {
    WindowSpec ordered = Window.partitionBy(col(labelColumn))
        .orderBy(xxhash64(lit(seed), lit("fold"), col(idColumn).cast("string")), col(idColumn));
    return df.withColumn(CandidatePipeline.FOLD,
        row_number().over(ordered).minus(1).mod(folds).cast("int"));
  }

  /**
   * Spreads rows over {@code spark.sql.shuffle.partitions} partitions by a hash of the id, in id
   * order within each partition. The windows of {@link #assign} and {@link #assignFolds} are
   * partitioned by the label, which leaves every row of a class in one partition: each fit's
   * jobs would then run one busy task per class and many empty ones. The layout is fixed by the
   * ids and the partition count, so a re-run sees the same rows in the same order.
   */
  public static Dataset<Row> spread(Dataset<Row> df, String idColumn) {
    // the number given explicitly: adaptive execution would otherwise coalesce small data into
    // one partition, one task, one core
    int partitions = Integer.parseInt(df.sparkSession().conf().get("spark.sql.shuffle.partitions"));
    return df.repartition(partitions, xxhash64(lit("spread"), col(idColumn).cast("string")))
        .sortWithinPartitions(col(idColumn));
  }

  /** @return true for about {@code fraction} of the rows, fixed by seed and id */
  public static Column holdOut(String idColumn, long seed, String purpose, double fraction) {
    Column u = xxhash64(lit(seed), lit(purpose), col(idColumn).cast("string"))
        .mod(1_000_000L).plus(1_000_000L).mod(1_000_000L).cast("double").divide(1_000_000.0);
    return u.lt(fraction);
  }
}
