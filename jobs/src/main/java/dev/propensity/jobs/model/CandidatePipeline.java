package dev.propensity.jobs.model;

import static org.apache.spark.sql.functions.col;

import dev.propensity.common.config.JobConfig;
import dev.propensity.common.schema.FeatureSchema;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import org.apache.spark.ml.Estimator;
import org.apache.spark.ml.Model;
import org.apache.spark.ml.Pipeline;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.PipelineStage;
import org.apache.spark.ml.Transformer;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.util.Identifiable;
import org.apache.spark.ml.feature.Imputer;
import org.apache.spark.ml.feature.OneHotEncoder;
import org.apache.spark.ml.feature.SQLTransformer;
import org.apache.spark.ml.feature.StandardScaler;
import org.apache.spark.ml.feature.StringIndexer;
import org.apache.spark.ml.feature.UnivariateFeatureSelector;
import org.apache.spark.ml.feature.VarianceThresholdSelector;
import org.apache.spark.ml.feature.VectorAssembler;
import org.apache.spark.ml.functions;
import org.apache.spark.sql.Column;

/**
 * The preprocessing half of a candidate's pipeline, and the column names every candidate shares:
 * median imputation of numeric features, index + one-hot of categoricals (unseen values and nulls
 * go to an extra slot, never fail), assembly, optional feature selection, then the scaling the
 * classifier needs. Every column it adds starts with {@code <candidate>__} so several voters can
 * score one DataFrame side by side. The fitted preprocessing and the fitted classifier are saved
 * as one flat {@code PipelineModel}, so inference repeats the identical preprocessing.
 */
public final class CandidatePipeline {

  /** The label column as a double, added before fitting. */
  public static final String LABEL = "__label";
  /** The instance weight column (class weights times the schema's weight column), if any. */
  public static final String WEIGHT = "__weight";
  /** The stratified cross-validation fold of a training row, 0 to k - 1. */
  public static final String FOLD = "__fold";
  /** True for the training rows GBT holds out for early stopping. */
  public static final String GBT_VALIDATION = "__gbt_validation";

  /** The scaling a classifier needs after assembly. */
  public enum Scaling {
    /** Trees: split points do not care about scale. */
    NONE,
    /** Linear models and the MLP: zero mean, unit variance. */
    STANDARD,
    /** Naive Bayes and factorization machines: min-max to [0, 1], clipped at inference. */
    UNIT_RANGE
  }

  /**
   * Embedded feature selection after assembly ({@code propensity.train.feature-selection.*}).
   *
   * @param method none, variance (drop slots whose training variance is at most the threshold)
   *     or univariate (ANOVA F-test against the label, MLlib's UnivariateFeatureSelector)
   */
  public record FeatureSelection(String method, double varianceThreshold, String univariateMode,
      double univariateThreshold) {

    public static final List<String> METHODS = List.of("none", "variance", "univariate");
    public static final List<String> MODES =
        List.of("numTopFeatures", "percentile", "fpr", "fdr", "fwe");

    /** @return the selection of {@code propensity.train.feature-selection}, validated */
    public static FeatureSelection fromConfig(JobConfig config) {
      String key = "propensity.train.feature-selection.";
      return new FeatureSelection(config.oneOf(key + "method", METHODS),
          config.number(key + "variance-threshold"), config.oneOf(key + "univariate-mode", MODES),
          config.number(key + "univariate-threshold"));
    }

    /** No selection. */
    public static FeatureSelection none() {
      return new FeatureSelection("none", 0.0, "fpr", 0.05);
    }
  }

  private CandidatePipeline() {}

  /** @return the column holding the candidate's class probabilities (a 2-slot vector) */
  public static String probabilityCol(String candidate) {
    return candidate + "__probability";
  }

  /** @return the candidate's probability of the positive class, as a double column */
  public static Column positiveProbability(String candidate) {
    return functions.vector_to_array(col(probabilityCol(candidate)), "float64").getItem(1);
  }

  /** @return the column holding the candidate's raw prediction (margin or votes) */
  public static String rawPredictionCol(String candidate) {
    return candidate + "__raw";
  }

  /** @return the column of the candidate's 0/1 prediction at MLlib's own threshold */
  public static String predictionCol(String candidate) {
    return candidate + "__prediction";
  }

  /** @return the preprocessed feature vector the classifier reads */
  public static String featuresCol(String candidate) {
    return candidate + "__features";
  }

  /**
   * @param candidate the candidate name, used as the column prefix
   * @param schema the feature schema (only its numeric and categorical lists are used)
   * @param scaling the scaling the classifier needs
   * @param selection the feature selection
   * @return an unfitted pipeline from the raw feature columns to {@link #featuresCol}
   */
  public static Pipeline preprocessing(String candidate, FeatureSchema schema, Scaling scaling,
      FeatureSelection selection) {
    String p = candidate + "__";
    List<PipelineStage> stages = new ArrayList<>();
    List<String> assembled = new ArrayList<>();
    List<String> sources = new ArrayList<>();
    CandidateDescription d = new CandidateDescription();
    if (!schema.numeric().isEmpty()) {
      String[] in = schema.numeric().toArray(new String[0]);
      String[] out = schema.numeric().stream().map(c -> p + "imp_" + c).toArray(String[]::new);
      stages.add(new Imputer().setStrategy("median").setInputCols(in).setOutputCols(out));
      assembled.addAll(List.of(out));
      sources.addAll(schema.numeric());
    }
    if (!schema.categorical().isEmpty()) {
      // StringIndexer takes strings and numbers only: cast (booleans, integer codes) to string
      String casts = schema.categorical().stream()
          .map(c -> "CAST(`" + c + "` AS STRING) AS `" + p + "str_" + c + "`")
          .collect(Collectors.joining(", "));
      stages.add(new SQLTransformer().setStatement("SELECT *, " + casts + " FROM __THIS__"));
      String[] in = schema.categorical().stream().map(c -> p + "str_" + c).toArray(String[]::new);
      String[] idx = schema.categorical().stream().map(c -> p + "idx_" + c).toArray(String[]::new);
      String[] ohe = schema.categorical().stream().map(c -> p + "ohe_" + c).toArray(String[]::new);
      d.setLeadingStages(stages.size()).setIndexerStage(stages.size());
      stages.add(new StringIndexer().setInputCols(in).setOutputCols(idx)
          .setHandleInvalid("keep").setStringOrderType("alphabetAsc"));
      d.setEncoderStage(stages.size());
      stages.add(new OneHotEncoder().setInputCols(idx).setOutputCols(ohe)
          .setHandleInvalid("keep"));
      assembled.addAll(List.of(ohe));
      sources.addAll(schema.categorical());
    } else {
      d.setLeadingStages(stages.size());
    }
    List<String> steps = new ArrayList<>();
    if (!"none".equals(selection.method())) {
      steps.add("selected");
    }
    if (scaling != Scaling.NONE) {
      steps.add("scaled");
    }
    // the last step writes featuresCol; earlier ones their own names
    String out = steps.isEmpty() ? featuresCol(candidate) : p + "assembled";
    d.setAssembler(stages.size(), sources.toArray(new String[0]));
    stages.add(new VectorAssembler().setInputCols(assembled.toArray(new String[0]))
        .setOutputCol(out).setHandleInvalid("keep"));
    d.setScaler(-1, Scaling.NONE);
    for (int i = 0; i < steps.size(); i++) {
      String in = out;
      out = i == steps.size() - 1 ? featuresCol(candidate) : p + steps.get(i);
      if ("selected".equals(steps.get(i))) {
        d.setSelector(stages.size(), selection.method());
        stages.add(selector(selection, in, out));
      } else {
        d.setScaler(stages.size(), scaling);
        stages.add(scaler(scaling, in, out));
      }
    }
    // the preprocessing half of the description; whole() completes it with the predictor
    stages.add(d);
    return new Pipeline().setStages(stages.toArray(new PipelineStage[0]));
  }

  /**
   * A fitted {@link #preprocessing} made the fit of another candidate's preprocessing of the same
   * schema, scaling and selection: each fitted stage keeps what it learnt (medians, category
   * labels, scaling statistics, selected slots) and takes the column names of {@code target}'s
   * stage; transformers are {@code target}'s own. The result transforms as {@code target} fitted
   * on the same rows would, without another pass over them.
   *
   * @param fitted a fitted preprocessing of another prefix
   * @param target the unfitted preprocessing to stand in for, stage for stage the same kinds
   * @throws IllegalArgumentException when the two pipelines do not have the same stages
   */
  public static PipelineModel fittedAs(PipelineModel fitted, Pipeline target) {
    PipelineStage[] want = target.getStages();
    Transformer[] have = fitted.stages();
    if (want.length != have.length) {
      throw new IllegalArgumentException("Cannot reuse a fitted preprocessing of "
          + have.length + " stages for one of " + want.length);
    }
    Transformer[] out = new Transformer[want.length];
    for (int i = 0; i < want.length; i++) {
      if (want[i] instanceof Transformer t) {
        out[i] = t;
        continue;
      }
      if (!(want[i] instanceof Estimator<?>)
          || !(have[i] instanceof Model<?> model)) {
        throw new IllegalArgumentException("Stage " + i + " differs: " + have[i].getClass()
            .getSimpleName() + " fitted, " + want[i].getClass().getSimpleName() + " wanted");
      }
      ParamMap names = new ParamMap();
      for (Param<?> p : want[i].params()) {
        if (want[i].isSet(p) && model.hasParam(p.name())) {
          @SuppressWarnings("unchecked")
          Param<Object> to =
              (Param<Object>) model.getParam(p.name());
          names.put(to, want[i].getOrDefault(p));
        }
      }
      out[i] = model.copy(names);
    }
    return new PipelineModel(target.uid(), out);
  }

  /**
   * The whole fitted candidate: the preprocessing (from {@link #preprocessing}) and the
   * classifier half (the candidate's head), fitted, as one flat pipeline whose last stage is its
   * {@link CandidateDescription}.
   *
   * @param candidate the candidate (its name is the family and the column prefix)
   * @param preprocessing the fitted {@link #preprocessing}
   * @param head the fitted head of {@code candidate}
   */
  public static PipelineModel whole(Candidates.Candidate candidate, PipelineModel preprocessing,
      PipelineModel head) {
    return whole(candidate.name(), candidate.name(), preprocessing, head.stages(),
        candidate.probability());
  }

  /**
   * As {@link #whole(Candidates.Candidate, PipelineModel, PipelineModel)} for a head built by
   * hand (tests, tools): its first stage is the predictor, its last writes {@link
   * #probabilityCol}.
   *
   * @param family the family that reads the predictor (see {@link Candidates#known()})
   */
  public static PipelineModel whole(String candidate, String family, PipelineModel preprocessing,
      PipelineModel head, CandidateDescription.Probability probability) {
    return whole(candidate, family, preprocessing, head.stages(), probability);
  }

  private static PipelineModel whole(String candidate, String familyName,
      PipelineModel preprocessing, Transformer[] head,
      CandidateDescription.Probability probability) {
    Family family = Candidates.family(familyName);
    Transformer[] prep = preprocessing.stages();
    if (prep.length == 0 || !(prep[prep.length - 1] instanceof CandidateDescription half)) {
      throw new IllegalArgumentException("Not a CandidatePipeline.preprocessing model: "
          + preprocessing.uid());
    }
    List<Transformer> stages = new ArrayList<>(List.of(prep).subList(0, prep.length - 1));
    int predictor = stages.size();
    stages.addAll(List.of(head));
    CandidateDescription d = half.copy(ParamMap.empty()).setFamily(familyName)
        .setPredictor(predictor, featuresCol(candidate), probability, stages.size() - 1,
            probabilityCol(candidate))
        .setOutput(family.space().output(), family.space().link());
    stages.add(d);
    return new PipelineModel(Identifiable.randomUID("pipeline"),
        stages.toArray(new Transformer[0]));
  }

  /**
   * A whole unfitted pipeline for one classifier: {@link #preprocessing} (no feature selection)
   * then the classifier with this candidate's column names, read as a member of {@code family}
   * (its explanation and importance). For tests and tools; the training job composes its own
   * per candidate.
   *
   * @return an estimator whose fitted pipeline ends with the candidate's description
   */
  public static org.apache.spark.ml.Estimator<PipelineModel> build(String candidate,
      String family, FeatureSchema schema,
      org.apache.spark.ml.classification.ProbabilisticClassifier<?, ?, ?> classifier,
      boolean scale) {
    Pipeline pre = preprocessing(candidate, schema, scale ? Scaling.STANDARD : Scaling.NONE,
        FeatureSelection.none());
    classifier.setFeaturesCol(featuresCol(candidate));
    classifier.setLabelCol(LABEL);
    classifier.setProbabilityCol(probabilityCol(candidate));
    classifier.setRawPredictionCol(rawPredictionCol(candidate));
    classifier.setPredictionCol(predictionCol(candidate));
    Candidates.family(family); // an unknown family fails here, with the known ones
    return new Fitted(pre, classifier, candidate, family);
  }

  /** Fits preprocessing then the classifier, and describes the result ({@link #build}). */
  private static final class Fitted extends org.apache.spark.ml.Estimator<PipelineModel> {
    private final String uid = Identifiable.randomUID("candidatePipeline");
    private final Pipeline pre;
    private final org.apache.spark.ml.classification.ProbabilisticClassifier<?, ?, ?> classifier;
    private final String candidate;
    private final String family;

    Fitted(Pipeline pre, org.apache.spark.ml.classification.ProbabilisticClassifier<?, ?, ?> c,
        String candidate, String family) {
      this.pre = pre;
      this.classifier = c;
      this.candidate = candidate;
      this.family = family;
    }

    @Override
    public PipelineModel fit(org.apache.spark.sql.Dataset<?> dataset) {
      PipelineModel prep = pre.fit(dataset);
      Transformer model = (Transformer) classifier.fit(prep.transform(dataset));
      return whole(candidate, family, prep, new Transformer[] {model},
          CandidateDescription.Probability.CLASSIFIER);
    }

    @Override
    public org.apache.spark.sql.types.StructType transformSchema(
        org.apache.spark.sql.types.StructType schema) {
      return schema;
    }

    @Override
    public org.apache.spark.ml.Estimator<PipelineModel> copy(ParamMap extra) {
      return this;
    }

    @Override
    public String uid() {
      return uid;
    }
  }

  private static PipelineStage selector(FeatureSelection s, String in, String out) {
    if ("variance".equals(s.method())) {
      return new VarianceThresholdSelector().setFeaturesCol(in).setOutputCol(out)
          .setVarianceThreshold(s.varianceThreshold());
    }
    return new UnivariateFeatureSelector().setFeaturesCol(in).setOutputCol(out)
        .setLabelCol(LABEL).setFeatureType("continuous").setLabelType("categorical")
        .setSelectionMode(s.univariateMode()).setSelectionThreshold(s.univariateThreshold());
  }

  private static PipelineStage scaler(Scaling scaling, String in, String out) {
    if (scaling == Scaling.STANDARD) {
      return new StandardScaler().setInputCol(in).setOutputCol(out).setWithMean(true)
          .setWithStd(true);
    }
    return new UnitRangeScaler().setInputCol(in).setOutputCol(out);
  }
}
