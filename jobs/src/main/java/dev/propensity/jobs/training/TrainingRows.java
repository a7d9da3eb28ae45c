package dev.propensity.jobs.training;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.when;

import dev.propensity.common.schema.FeatureSchema;
import dev.propensity.jobs.model.CandidatePipeline;
import dev.propensity.jobs.model.Candidates.Candidate;
import dev.propensity.jobs.model.Modes;
import dev.propensity.jobs.model.Splits;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.storage.StorageLevel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The labelled rows of a training run, checked and laid out once: every row with its split and
 * label; the training split with its stratified folds, GBT's early-stopping hold-out and
 * (with class weights or a weight column) instance weights; and, with {@code train.refit} beyond
 * {@code train}, the final models' rows. Persisted while the run trains; {@link #close} releases
 * them.
 *
 * @param all every labelled row, with its split ({@link Splits#COLUMN}) and label
 * @param train the training split with folds, hold-out and weights
 * @param refit the final models' rows beyond the training split, or null ({@code train.refit =
 *     train})
 * @param classCounts split -> {negatives, positives}
 * @param features the degenerate-feature check, with the schema the candidates train on
 * @param warnings the warnings for the run's manifest
 * @param cuts where the split cut each class (recorded in the run's manifest)
 * @param negativeWeight the class weight of negatives (1 without balancing)
 * @param positiveWeight the class weight of positives (1 without balancing)
 */
record TrainingRows(Dataset<Row> all, Dataset<Row> train, Dataset<Row> refit,
    Map<String, long[]> classCounts, FeatureChecks.Result features, List<String> warnings,
    List<Splits.Cut> cuts, double negativeWeight, double positiveWeight) implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(TrainingRows.class);

  /**
   * Splits, checks (class counts per split and fold, degenerate features) and lays out the rows.
   *
   * @param rows the validated input rows
   * @param weights whether instance weights are on (class weights or the schema's weight column)
   * @throws dev.propensity.common.PropensityException for too few rows of a class or a
   *     degenerate feature under {@code train.degenerate-features = fail}
   */
  static TrainingRows prepare(Dataset<Row> rows, FeatureSchema schema, Splits splits,
      TrainJob.TrainSettings settings, List<Candidate> candidates, boolean weights) {
    // only the columns training reads are kept: a feature table often holds more (other labels,
    // raw columns), and every column costs its share of building and holding the cache
    List<String> used = new ArrayList<>(schema.inputColumns());
    used.add(schema.labelColumn());
    Dataset<Row> narrow = rows.select(used.stream().distinct()
        .map(c -> col("`" + c + "`")).toArray(Column[]::new));
    List<Splits.Cut> cuts = splits.cuts(narrow, schema.idColumn(), schema.labelColumn());
    Dataset<Row> data = splits.assign(narrow, schema.idColumn(), schema.labelColumn(), cuts)
        .withColumn(CandidatePipeline.LABEL, col(schema.labelColumn()).cast("double"))
        .persist(StorageLevel.MEMORY_AND_DISK());
    try {
      Map<String, long[]> counts = classCounts(data);
      FeatureChecks.classCounts(schema, counts, settings.folds());
      Dataset<Row> trainRows = data.where(col(Splits.COLUMN).equalTo(Splits.TRAIN));
      FeatureChecks.Result features =
          FeatureChecks.degenerateFeatures(trainRows, schema, settings.dropDegenerate());
      List<String> warnings = new ArrayList<>(features.warnings());
      warnings.forEach(w -> LOG.warn("train: {}", w));
      for (Candidate c : candidates) {
        if (weights && !c.weighted()) {
          warnings.add(c.name() + ": MLlib's classifier takes no instance weights; trained"
              + " unweighted");
          LOG.warn("train: {}", warnings.get(warnings.size() - 1));
        }
      }

      long[] tc = counts.get(Splits.TRAIN);
      double wNeg = settings.balanced() ? (tc[0] + tc[1]) / (2.0 * tc[0]) : 1.0;
      double wPos = settings.balanced() ? (tc[0] + tc[1]) / (2.0 * tc[1]) : 1.0;
      Column w = when(col(CandidatePipeline.LABEL).equalTo(1.0), wPos).otherwise(wNeg);
      if (schema.weightColumn().isPresent()) {
        w = w.multiply(col(schema.weightColumn().get()).cast("double"));
      }
      Column holdOut = Splits.holdOut(schema.idColumn(), settings.seed(), "gbt-validation",
          settings.gbtValidationFraction());
      Dataset<Row> t = Splits.spread(Splits.assignFolds(trainRows, schema.idColumn(),
              CandidatePipeline.LABEL, settings.folds(), settings.seed()), schema.idColumn())
          .withColumn(CandidatePipeline.GBT_VALIDATION, holdOut);
      Dataset<Row> train = (weights ? t.withColumn(CandidatePipeline.WEIGHT, w) : t)
          .persist(StorageLevel.MEMORY_AND_DISK());
      Dataset<Row> refit = null;
      if (settings.refit() != Modes.Refit.TRAIN) {
        // the final models' rows: more splits, the same weights and early-stopping hold-out
        Dataset<Row> r = Splits.spread(
                data.where(col(Splits.COLUMN).isin(settings.refit().splits().toArray())),
                schema.idColumn())
            .withColumn(CandidatePipeline.GBT_VALIDATION, holdOut);
        refit = (weights ? r.withColumn(CandidatePipeline.WEIGHT, w) : r)
            .persist(StorageLevel.MEMORY_AND_DISK());
        LOG.info("train: final models refitted on the {} rows ({}; propensity.train.refit = {})",
            settings.refit().splits(), refit.count(), Modes.name(settings.refit()));
      }
      return new TrainingRows(data, train, refit, counts, features, warnings, cuts, wNeg,
          wPos);
    } catch (RuntimeException e) {
      data.unpersist();
      throw e;
    }
  }

  /** @return the rows the final models are fitted on: the training split, or more on refit */
  Dataset<Row> finalFit() {
    return refit == null ? train : refit;
  }

  /** @return rows, positives and positive rate per fold of the training split */
  List<Map<String, Object>> foldCounts() {
    List<Map<String, Object>> out = new ArrayList<>();
    for (Row r : train.groupBy(CandidatePipeline.FOLD)
        .agg(count(lit(1)), sum(col(CandidatePipeline.LABEL)))
        .orderBy(CandidatePipeline.FOLD).collectAsList()) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("fold", r.getInt(0));
      m.put("rows", r.getLong(1));
      m.put("positives", Math.round(r.getDouble(2)));
      m.put("positive_rate", r.getDouble(2) / r.getLong(1));
      out.add(m);
    }
    return out;
  }

  @Override
  public void close() {
    train.unpersist();
    if (refit != null) {
      refit.unpersist();
    }
    all.unpersist();
  }

  /** @return split -> {negatives, positives} */
  private static Map<String, long[]> classCounts(Dataset<Row> data) {
    Map<String, long[]> out = new LinkedHashMap<>();
    for (Row r : data.groupBy(col(Splits.COLUMN), col(CandidatePipeline.LABEL)).count()
        .collectAsList()) {
      long[] c = out.computeIfAbsent(r.getString(0), k -> new long[2]);
      c[r.getDouble(1) == 1.0 ? 1 : 0] = r.getLong(2);
    }
    return out;
  }
}
