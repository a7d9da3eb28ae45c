package dev.propensity.jobs.training;

import dev.propensity.jobs.model.CandidatePipeline;
import dev.propensity.jobs.model.Splits;
import dev.propensity.jobs.model.TrainingData;


import static org.apache.spark.sql.functions.col;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.propensity.common.PropensityException;
import dev.propensity.common.SparkTestBase;
import dev.propensity.common.config.JobConfig;
import dev.propensity.common.schema.FeatureSchema;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.expressions.Window;
import org.apache.spark.sql.expressions.WindowSpec;
import org.apache.spark.sql.functions;
import org.junit.jupiter.api.Test;

/** Stratified splits and folds: shares per class, determinism, and too-rare classes. */
class SplitsTest extends SparkTestBase {

  private static final Splits SPLITS = new Splits(0.7, 0.15, 0.15, 42);

  @Test
  void everySplitHoldsItsShareOfEachClassToOneRow() {
    Dataset<Row> df = TrainingData.frame(spark(), 2000, 3);
    Map<Integer, Long> perClass = counts(df.groupBy("label").count());
    List<Row> bySplit = SPLITS.assign(df, "customer_id", "label")
        .groupBy(Splits.COLUMN, "label").count().collectAsList();
    assertThat(bySplit).hasSize(6);
    for (Row r : bySplit) {
      double share = switch (r.getString(0)) {
        case Splits.TRAIN -> 0.7;
        case Splits.VALIDATION -> 0.15;
        default -> 0.15;
      };
      assertThat((double) r.getLong(2)).as("%s label %d", r.getString(0), r.getInt(1))
          .isBetween(share * perClass.get(r.getInt(1)) - 1, share * perClass.get(r.getInt(1)) + 1);
    }
  }

  /**
   * The split from the narrow sort's cut points is the one of a window over the whole rows (the
   * rule before it, kept here): for long and string ids, a null label class, other fractions and
   * a split without test rows.
   */
  @Test
  void splitsFromCutPointsEqualTheWindowRankRule() {
    Dataset<Row> longIds = TrainingData.frame(spark(), 3000, 8)
        .withColumn("label", functions.when(col("customer_id").mod(97).equalTo(0),
                functions.lit(null)).otherwise(col("label")));
    Dataset<Row> stringIds = longIds.withColumn("customer_id",
        functions.concat(functions.lit("c-"), col("customer_id").cast("string")));
    for (Dataset<Row> df : List.of(longIds, stringIds.repartition(3))) {
      for (Splits s : List.of(SPLITS, new Splits(0.6, 0.25, 0.15, 7),
          new Splits(0.8, 0.2, 0, 42))) {
        Dataset<Row> expected = windowRule(s, df, "customer_id", "label")
            .select(col("customer_id"), col(Splits.COLUMN).as("expected"));
        Dataset<Row> actual = s.assign(df, "customer_id", "label");
        assertThat(actual.count()).isEqualTo(3000);
        Dataset<Row> joined = actual.join(expected, "customer_id");
        assertThat(joined.count()).isEqualTo(3000);
        assertThat(joined.where(col(Splits.COLUMN).notEqual(col("expected"))).count())
            .as("rows in another split than the window rule's, %s", s).isZero();
        assertThat(actual.where(col(Splits.COLUMN).equalTo(Splits.TEST)).count() > 0)
            .isEqualTo(s.test() > 0);
      }
    }
  }

  /**
   * The cut points as the run manifest records them (through JSON and back) give every row the
   * split the sort gives, for long and string ids and a null label class; ids of other types
   * are not recorded.
   */
  @Test
  void cutsRecordedInTheManifestGiveTheSplitsOfTheSort() throws Exception {
    Dataset<Row> longIds = TrainingData.frame(spark(), 3000, 8)
        .withColumn("label", functions.when(col("customer_id").mod(89).equalTo(0),
            functions.lit(null)).otherwise(col("label")));
    Dataset<Row> stringIds = longIds.withColumn("customer_id",
        functions.concat(functions.lit("c-"), col("customer_id").cast("string")));
    com.fasterxml.jackson.databind.ObjectMapper json =
        new com.fasterxml.jackson.databind.ObjectMapper();
    for (Dataset<Row> df : List.of(longIds, stringIds)) {
      List<Splits.Cut> cuts = SPLITS.cuts(df, "customer_id", "label");
      assertThat(cuts).hasSize(3); // 0, 1 and null
      assertThat(Splits.Cut.recordable(cuts)).isTrue();
      Object recorded = json.readValue(json.writeValueAsString(Splits.Cut.toManifest(cuts)),
          Object.class);
      List<Splits.Cut> read = Splits.Cut.fromManifest(recorded).orElseThrow();
      Dataset<Row> sorted = SPLITS.assign(df, "customer_id", "label")
          .select(col("customer_id"), col(Splits.COLUMN).as("sorted"));
      Dataset<Row> fromCuts = SPLITS.assign(df, "customer_id", "label", read);
      Dataset<Row> joined = fromCuts.join(sorted, "customer_id");
      assertThat(joined.count()).isEqualTo(3000);
      assertThat(joined.where(col(Splits.COLUMN).notEqual(col("sorted"))).count()).isZero();
      assertThat(fromCuts.where(col(Splits.COLUMN).equalTo(Splits.VALIDATION)).count())
          .isPositive();
    }
    assertThat(Splits.Cut.fromManifest(null)).isEmpty();
    List<Splits.Cut> dated = SPLITS.cuts(longIds.withColumn("customer_id",
        functions.date_add(functions.lit("2020-01-01").cast("date"),
            col("customer_id").cast("int"))), "customer_id", "label");
    assertThat(Splits.Cut.recordable(dated)).as("date ids stay unrecorded").isFalse();
  }

  /** The window rank rule: within each label, (rank - 0.5) / n cut at the fractions. */
  private static Dataset<Row> windowRule(Splits s, Dataset<Row> df, String id, String label) {
    Column l = col(label).cast("double");
    WindowSpec ordered = Window.partitionBy(l).orderBy(
        functions.xxhash64(functions.lit(s.seed()), functions.lit("split"), col(id).cast("string")),
        col(id));
    Column u = functions.row_number().over(ordered).minus(0.5)
        .divide(functions.count(functions.lit(1)).over(Window.partitionBy(l)));
    return df.withColumn(Splits.COLUMN, functions.when(u.lt(s.train()), Splits.TRAIN)
        .when(u.lt(s.train() + s.validation()), Splits.VALIDATION).otherwise(Splits.TEST));
  }

  @Test
  void foldsAreStratifiedAndFixedBySeedWhateverThePartitioning() {
    Dataset<Row> df = TrainingData.frame(spark(), 1500, 5);
    double rate = df.agg(org.apache.spark.sql.functions.avg("label")).first().getDouble(0);
    Dataset<Row> folds = Splits.assignFolds(df.repartition(5), "customer_id", "label", 4, 42);
    List<Row> perFold = folds.groupBy(CandidatePipeline.FOLD)
        .agg(org.apache.spark.sql.functions.count("*"), org.apache.spark.sql.functions.sum("label"))
        .collectAsList();
    assertThat(perFold).hasSize(4);
    long positives = Math.round(rate * 1500);
    for (Row r : perFold) {
      assertThat(r.getLong(2)).as("positives of fold %d", r.getInt(0))
          .isBetween(positives / 4, positives / 4 + 1);
      assertThat(r.getLong(2) / (double) r.getLong(1)).isCloseTo(rate,
          org.assertj.core.api.Assertions.within(0.01));
    }
    Dataset<Row> again = Splits.assignFolds(df.coalesce(1), "customer_id", "label", 4, 42);
    Dataset<Row> otherSeed = Splits.assignFolds(df, "customer_id", "label", 4, 7);
    assertThat(sameFolds(folds, again)).isEqualTo(1500);
    assertThat(sameFolds(folds, otherSeed)).isLessThan(600);
  }

  @Test
  void spreadPutsBothClassesInEveryPartitionInIdOrderWhateverTheInputLayout() {
    String key = "spark.sql.shuffle.partitions";
    String before = spark().conf().get(key);
    spark().conf().set(key, "4");
    try {
      Dataset<Row> df = TrainingData.frame(spark(), 2000, 3);
      // the fold window is partitioned by the label: every row of a class in one partition
      List<List<Row>> windowed = layout(Splits.assignFolds(df, "customer_id", "label", 3, 42));
      assertThat(windowed.stream().filter(p -> !p.isEmpty()).count()).isLessThanOrEqualTo(2);

      List<List<Row>> spread = layout(Splits.spread(
          Splits.assignFolds(df, "customer_id", "label", 3, 42), "customer_id"));
      assertThat(spread).hasSize(4);
      for (List<Row> p : spread) {
        assertThat(p.size()).as("rows of a partition").isBetween(350, 650);
        assertThat(classes(p)).as("classes in a partition").isEqualTo(2);
        List<Long> ids = p.stream().map(r -> r.getLong(0)).toList();
        assertThat(ids).isSorted();
      }
      List<List<Row>> again = layout(Splits.spread(
          Splits.assignFolds(df.repartition(7), "customer_id", "label", 3, 42), "customer_id"));
      assertThat(again).isEqualTo(spread);
    } finally {
      spark().conf().set(key, before);
    }
  }

  /** @return per partition, in order: (id, label, fold) */
  private static List<List<Row>> layout(Dataset<Row> df) {
    return df.select(col("customer_id"), col("label"), col(CandidatePipeline.FOLD)).javaRDD()
        .glom().collect();
  }

  private static long classes(List<Row> partition) {
    return partition.stream().map(r -> r.get(1)).distinct().count();
  }

  @Test
  void tooFewPositivesForTheFoldsIsAClearError() {
    FeatureSchema schema = FeatureSchema.fromConfig(JobConfig.defaults());
    assertThatThrownBy(() -> FeatureChecks.classCounts(schema,
        Map.of(Splits.TRAIN, new long[] {500, 2}, Splits.VALIDATION, new long[] {100, 1}), 3))
        .isInstanceOf(PropensityException.class)
        .hasMessageContaining("the train split has 2 positive label(s) in column 'label'")
        .hasMessageContaining("needs at least 3")
        .hasMessageContaining("propensity.train.cv.num-folds (now 3)");
    assertThatThrownBy(() -> FeatureChecks.classCounts(schema,
        Map.of(Splits.TRAIN, new long[] {500, 20}, Splits.VALIDATION, new long[] {100, 0}), 3))
        .hasMessageContaining("the validation split has 0 positive label(s)")
        .hasMessageContaining("propensity.train.split.validation");
  }

  private static long sameFolds(Dataset<Row> a, Dataset<Row> b) {
    return a.select(col("customer_id"), col(CandidatePipeline.FOLD).as("fa"))
        .join(b.select(col("customer_id"), col(CandidatePipeline.FOLD).as("fb")), "customer_id")
        .where(col("fa").equalTo(col("fb"))).count();
  }

  private static Map<Integer, Long> counts(Dataset<Row> grouped) {
    Map<Integer, Long> out = new java.util.HashMap<>();
    grouped.collectAsList().forEach(r -> out.put(r.getInt(0), r.getLong(1)));
    return out;
  }
}
