package dev.propensity.jobs.model;

import static org.apache.spark.sql.functions.abs;
import static org.apache.spark.sql.functions.avg;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.explode;
import static org.apache.spark.sql.functions.rand;

import dev.propensity.common.PropensityException;
import dev.propensity.common.run.ModelRun;
import dev.propensity.common.schema.FeatureSchema;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.ml.stat.Summarizer;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.storage.StorageLevel;
import org.apache.spark.sql.types.DataTypes;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Global feature importance of a candidate or of the ensemble, per original feature (one-hot
 * slots of a categorical feature summed), saved as JSON in the run folder:
 *
 * <ul>
 *   <li>{@code tree-impurity}: decision tree, random forest, GBT: MLlib's {@code
 *       featureImportances} (mean decrease in impurity, normalised to sum 1);
 *   <li>{@code tree-gain}: xgboost and xgboost-rf: XGBoost's total gain (loss reduction of its
 *       splits) per feature, normalised to sum 1;
 *   <li>{@code abs-standardized-coefficient}: logistic regression: {@code |coef_j| * sd_j} over the
 *       model's input slots (with the pipeline's StandardScaler the inputs have sd 1, so it is
 *       {@code |coef_j|}; without, sd from the given rows);
 *   <li>{@code permutation-auc}: any other classifier: the drop in AUC-ROC on the given
 *       (validation) rows when the feature's column is shuffled (one permutation, seeded);
 *   <li>{@code mean-abs-shap}: the ensemble: the mean over the given rows of the absolute
 *       probability-space contribution (see {@link Explainer}).
 * </ul>
 *
 * <p>The numbers are comparable between features of one model, not between methods.
 */
public final class Importance {

  private static final Logger LOG = LoggerFactory.getLogger(Importance.class);

  /** The file name, under {@code candidates/<name>/} or {@code ensemble/}. */
  public static final String FILE = RunLayout.IMPORTANCE;

  /** One feature's importance. */
  public record Feature(String feature, double importance) {}

  /**
   * @param model the candidate name, or {@code ensemble}
   * @param method how it was measured (see the class comment)
   * @param features the features, most important first
   */
  public record Result(String model, String method, List<Feature> features) {}

  private Importance() {}

  /**
   * Computes a candidate's importance and writes {@code candidates/<name>/importance.json}.
   *
   * @param run the run folder
   * @param name the candidate name (its column prefix)
   * @param model its fitted pipeline
   * @param schema the feature schema
   * @param validation rows with the feature columns and {@code __label} (used for permutation
   *     importance, and for the sd of an unscaled linear model's inputs)
   * @param seed the permutation seed
   * @return what was written
   */
  public static Result saveForCandidate(ModelRun run, String name, PipelineModel model,
      FeatureSchema schema, Dataset<Row> validation, long seed) {
    Result r = forCandidate(name, model, schema, validation, seed);
    run.writeJson(RunLayout.candidate(name, FILE), r);
    LOG.info("importance: {} by {}: {}", name, r.method(), r.features());
    return r;
  }

  /**
   * @return true when the pipeline's classifier has its own importance (tree impurity or
   *     logistic coefficients), so no permutation passes are needed
   */
  public static boolean isModelBased(PipelineModel model) {
    CandidateDescription d = CandidateDescription.of(model);
    return Candidates.family(d.family()).importance(d.predictor(model)).isPresent();
  }

  /** @return a candidate's importance by the method that fits its model */
  public static Result forCandidate(String name, PipelineModel model, FeatureSchema schema,
      Dataset<Row> validation, long seed) {
    CandidateDescription d = CandidateDescription.of(model);
    Optional<Family.SlotImportance> own =
        Candidates.family(d.family()).importance(d.predictor(model));
    if (own.isEmpty()) {
      return permutation(name, model, schema, validation, seed);
    }
    Dataset<Row> beforePredictor = beforePredictor(model, d, validation);
    FeatureSlots slots = FeatureSlots.of(model, beforePredictor.limit(0).schema(),
        schema.features());
    double[] perSlot = own.get().values().clone();
    if (own.get().timesStd()) {
      double[] sd = slots.stds() != null ? slots.stds()
          : ((Vector) beforePredictor.select(Summarizer.std(col(slots.featuresCol()))).first()
              .get(0)).toArray();
      for (int j = 0; j < perSlot.length; j++) {
        perSlot[j] *= sd[j];
      }
    }
    Map<String, Double> byFeature = new LinkedHashMap<>();
    schema.features().forEach(f -> byFeature.put(f, 0.0));
    for (int j = 0; j < perSlot.length; j++) {
      byFeature.merge(slots.sources().get(j), perSlot[j], Double::sum);
    }
    return result(name, own.get().method(), byFeature);
  }

  /** @return {@code rows} through the stages before the predictor (lazy) */
  private static Dataset<Row> beforePredictor(PipelineModel model, CandidateDescription d,
      Dataset<Row> rows) {
    Dataset<Row> t = rows;
    for (int i = 0; i < d.predictorStage(); i++) {
      t = model.stages()[i].transform(t);
    }
    return t;
  }

  /**
   * Permutation importance: for each feature column, the AUC-ROC on {@code validation} minus the
   * AUC-ROC with that column shuffled across the rows (one seeded permutation per feature).
   */
  public static Result permutation(String name, PipelineModel model, FeatureSchema schema,
      Dataset<Row> validation, long seed) {
    String probabilityCol = CandidateDescription.of(model).probabilityCol();
    if (!java.util.Arrays.asList(validation.columns()).contains(CandidatePipeline.LABEL)) {
      throw new PropensityException(String.format("Cannot compute permutation importance of"
          + " candidate '%s': the validation rows have no %s column (use RunData.splitRows)",
          name, CandidatePipeline.LABEL));
    }
    List<String> cols = new ArrayList<>(schema.features());
    cols.add(CandidatePipeline.LABEL);
    Dataset<Row> indexed = withIndex(validation.select(cols.stream().map(c -> col(c))
        .toArray(org.apache.spark.sql.Column[]::new)), "__row")
        .persist(StorageLevel.MEMORY_AND_DISK());
    try {
      double base = auc(model, probabilityCol, indexed);
      Map<String, Double> drop = new LinkedHashMap<>();
      int i = 0;
      for (String f : schema.features()) {
        Dataset<Row> shuffled = withIndex(indexed.select(col(f))
            .orderBy(rand(seed + 7919L * i++)), "__row");
        Dataset<Row> permuted = indexed.drop(f).join(shuffled, "__row");
        drop.put(f, base - auc(model, probabilityCol, permuted));
      }
      return result(name, "permutation-auc", drop);
    } finally {
      indexed.unpersist();
    }
  }

  private static double auc(PipelineModel model, String probabilityCol, Dataset<Row> rows) {
    return Metrics.aucRoc(model.transform(rows),
        org.apache.spark.ml.functions.vector_to_array(col(probabilityCol), "float64").getItem(1),
        CandidatePipeline.LABEL);
  }

  /** @return {@code df} with a column numbering its rows 0..n-1 (RDD zipWithIndex, no shuffle) */
  private static Dataset<Row> withIndex(Dataset<Row> df, String name) {
    int n = df.columns().length;
    JavaRDD<Row> rdd = df.toJavaRDD().zipWithIndex().map(t -> {
      Object[] values = new Object[n + 1];
      for (int j = 0; j < n; j++) {
        values[j] = t._1().get(j);
      }
      values[n] = t._2();
      return RowFactory.create(values);
    });
    return df.sparkSession().createDataFrame(rdd, df.schema().add(name, DataTypes.LongType,
        false));
  }

  /**
   * Computes the ensemble's importance (mean absolute contribution, probability space) and writes
   * {@code ensemble/importance.json}.
   *
   * @param rows rows with the feature columns (e.g. the validation split)
   */
  public static Result saveForEnsemble(ModelRun run, Ensemble ensemble, FeatureSchema schema,
      Dataset<Row> rows, boolean skipUnsupported) {
    Result r = forEnsemble(ensemble, schema, rows, skipUnsupported);
    run.writeJson(RunLayout.ensemble(FILE), r);
    LOG.info("importance: ensemble by {}: {}", r.method(), r.features());
    return r;
  }

  /** @return the ensemble's mean absolute SHAP contribution per feature over {@code rows} */
  public static Result forEnsemble(Ensemble ensemble, FeatureSchema schema, Dataset<Row> rows,
      boolean skipUnsupported) {
    Dataset<Row> c = Explainer.forEnsemble(ensemble, schema, skipUnsupported)
        .contributions(rows)
        .select(explode(col(Explainer.CONTRIBUTIONS)).as("c"))
        .groupBy(col("c.feature")).agg(avg(abs(col("c.contribution"))));
    Map<String, Double> byFeature = new LinkedHashMap<>();
    schema.features().forEach(f -> byFeature.put(f, 0.0));
    for (Row r : c.collectAsList()) { // one row per feature
      byFeature.put(r.getString(0), r.getDouble(1));
    }
    return result("ensemble", "mean-abs-shap", byFeature);
  }

  private static Result result(String model, String method, Map<String, Double> byFeature) {
    List<Feature> features = new ArrayList<>();
    byFeature.forEach((f, v) -> features.add(new Feature(f, v)));
    features.sort(Comparator.comparingDouble(Feature::importance).reversed());
    return new Result(model, method, List.copyOf(features));
  }
}
