package dev.propensity.jobs.training;

import dev.propensity.common.schema.FeatureSchema;
import static org.apache.spark.sql.functions.col;

import java.util.ArrayList;
import java.util.List;
import org.apache.spark.ml.Pipeline;
import org.apache.spark.ml.PipelineStage;
import org.apache.spark.ml.classification.ProbabilisticClassifier;
import org.apache.spark.ml.feature.Imputer;
import org.apache.spark.ml.feature.OneHotEncoder;
import org.apache.spark.ml.feature.StandardScaler;
import org.apache.spark.ml.feature.StringIndexer;
import org.apache.spark.ml.feature.VectorAssembler;
import org.apache.spark.ml.functions;
import org.apache.spark.sql.Column;

/**
 * The whole Spark ML pipeline of one candidate, saved and loaded as one: median imputation of
 * numeric features, index + one-hot of categoricals (unseen values go to an extra slot, never
 * fail), assembly, optional scaling, the classifier. Every column it adds starts with
 * {@code <candidate>__} so several voters can score one DataFrame side by side.
 */
public final class CandidatePipeline {

  /** The label column as a double, added before fitting. */
  public static final String LABEL = "__label";

  private CandidatePipeline() {}

  /** @return the column holding the candidate's class probabilities */
  public static String probabilityCol(String candidate) {
    return candidate + "__probability";
  }

  /** @return the candidate's probability of the positive class, as a double column */
  public static Column positiveProbability(String candidate) {
    return functions.vector_to_array(col(probabilityCol(candidate)), "float64").getItem(1);
  }

  /** @return the column holding the candidate's raw prediction (for evaluators) */
  public static String rawPredictionCol(String candidate) {
    return candidate + "__raw";
  }

  /**
   * @param candidate the candidate name, used as the column prefix
   * @param schema the feature schema
   * @param classifier the classifier, whose columns this method sets
   * @param scale whether to standardise features first (linear models, MLP)
   */
  public static Pipeline build(String candidate, FeatureSchema schema,
      ProbabilisticClassifier<?, ?, ?> classifier, boolean scale) {
    String p = candidate + "__";
    List<PipelineStage> stages = new ArrayList<>();
    List<String> assembled = new ArrayList<>();
    if (!schema.numeric().isEmpty()) {
      String[] in = schema.numeric().toArray(new String[0]);
      String[] out = schema.numeric().stream().map(c -> p + "imp_" + c).toArray(String[]::new);
      stages.add(new Imputer().setStrategy("median").setInputCols(in).setOutputCols(out));
      assembled.addAll(List.of(out));
    }
    if (!schema.categorical().isEmpty()) {
      String[] in = schema.categorical().toArray(new String[0]);
      String[] idx = schema.categorical().stream().map(c -> p + "idx_" + c).toArray(String[]::new);
      String[] ohe = schema.categorical().stream().map(c -> p + "ohe_" + c).toArray(String[]::new);
      stages.add(new StringIndexer().setInputCols(in).setOutputCols(idx)
          .setHandleInvalid("keep").setStringOrderType("alphabetAsc"));
      stages.add(new OneHotEncoder().setInputCols(idx).setOutputCols(ohe)
          .setHandleInvalid("keep"));
      assembled.addAll(List.of(ohe));
    }
    stages.add(new VectorAssembler().setInputCols(assembled.toArray(new String[0]))
        .setOutputCol(p + "assembled").setHandleInvalid("keep"));
    String features = p + "assembled";
    if (scale) {
      stages.add(new StandardScaler().setInputCol(features).setOutputCol(p + "scaled")
          .setWithMean(false).setWithStd(true));
      features = p + "scaled";
    }
    classifier.setFeaturesCol(features);
    classifier.setLabelCol(LABEL);
    classifier.setProbabilityCol(probabilityCol(candidate));
    classifier.setRawPredictionCol(rawPredictionCol(candidate));
    classifier.setPredictionCol(p + "prediction");
    stages.add(classifier);
    return new Pipeline().setStages(stages.toArray(new PipelineStage[0]));
  }
}
