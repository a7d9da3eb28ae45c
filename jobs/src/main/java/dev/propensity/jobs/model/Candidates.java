package dev.propensity.jobs.model;

import dev.propensity.common.Errors;
import dev.propensity.common.PropensityException;
import dev.propensity.common.config.JobConfig;
import dev.propensity.common.explain.Link;
import dev.propensity.jobs.model.CandidatePipeline.Scaling;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.spark.ml.Pipeline;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.PipelineStage;
import org.apache.spark.ml.classification.FMClassifier;
import org.apache.spark.ml.classification.GBTClassifier;
import org.apache.spark.ml.classification.LinearSVC;
import org.apache.spark.ml.classification.MultilayerPerceptronClassifier;
import org.apache.spark.ml.classification.NaiveBayes;
import org.apache.spark.ml.classification.ProbabilisticClassifier;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.regression.DecisionTreeRegressor;
import org.apache.spark.ml.regression.RandomForestRegressor;
import org.apache.spark.ml.param.ParamPair;
import org.apache.spark.ml.tuning.ParamGridBuilder;
import scala.jdk.javaapi.CollectionConverters;

/**
 * The classifier families a run can train, by config name. Each is the classifier half of a
 * pipeline (the preprocessing half comes from {@link CandidatePipeline}), the scaling it needs, and
 * its parameter grid from {@code propensity.train.<name>.*}.
 */
public final class Candidates {

  /** Resolves a grid point once the number of preprocessed features is known (the MLP's layers). */
  @FunctionalInterface
  public interface Resolver {
    ParamMap resolve(ParamMap point, int numFeatures);
  }

  /**
   * A candidate ready to cross-validate.
   *
   * @param name config name and column prefix
   * @param scaling the scaling its preprocessing ends with
   * @param head the classifier stages, reading {@link CandidatePipeline#featuresCol}, writing
   *     {@link CandidatePipeline#probabilityCol}
   * @param grid the parameter grid over the head's stages
   * @param weighted whether the classifier reads the instance weight column
   * @param resolver completes a grid point for a feature count
   * @param probability how the head writes the probability vector
   */
  public record Candidate(String name, Scaling scaling, Pipeline head, ParamMap[] grid,
      boolean weighted, Resolver resolver, CandidateDescription.Probability probability) {

    /** @return the grid point completed for {@code numFeatures} input features */
    public ParamMap resolve(int point, int numFeatures) {
      return resolver.resolve(grid[point], numFeatures);
    }
  }

  /** What a family's {@link Family#build} needs besides its own keys. */
  public record Context(JobConfig config, boolean weights, long seed) {}

  /** The families by config name: the one list to add a family to (see {@link Family}). */
  private static final Map<String, Family> FAMILIES = new LinkedHashMap<>();

  static {
    FAMILIES.put("logistic", new LogisticFamily());
    FAMILIES.put("decision-tree", new MllibTrees.TreeFamily(Candidates::decisionTree,
        Family.Space.PROBABILITY));
    FAMILIES.put("random-forest", new MllibTrees.TreeFamily(Candidates::randomForest,
        Family.Space.PROBABILITY));
    FAMILIES.put("gbt", new MllibTrees.TreeFamily(Candidates::gbt,
        Family.Space.margin(Link.LOGISTIC_2X)));
    FAMILIES.put("linear-svc", Candidates::linearSvc);
    FAMILIES.put("naive-bayes", Candidates::naiveBayes);
    FAMILIES.put("mlp", Candidates::mlp);
    FAMILIES.put("factorization-machines", Candidates::factorizationMachines);
    FAMILIES.put("xgboost", new XGBoostFamily());
    FAMILIES.put("xgboost-rf", new XGBoostForestFamily());
  }

  static final String KEY = "propensity.train.";

  private Candidates() {}

  /** @return the known candidate names, in the order of the README */
  public static List<String> known() {
    return List.copyOf(FAMILIES.keySet());
  }

  /** @return the families with an exact per-customer explanation, for messages */
  public static List<String> explainable() {
    return FAMILIES.entrySet().stream()
        .filter(e -> e.getValue().space().output() != CandidateDescription.Output.NONE)
        .map(Map.Entry::getKey).toList();
  }

  /**
   * @return the family of that config name
   * @throws PropensityException for an unknown name, listing the known ones
   */
  public static Family family(String name) {
    Family f = FAMILIES.get(name);
    if (f == null) {
      throw Errors.unknownName(KEY + "candidates", name, known());
    }
    return f;
  }

  /**
   * @param weights whether instance weights (class weights or the schema's weight column) are on
   * @return the candidates named by {@code propensity.train.candidates}, grids built and checked
   * @throws PropensityException for an unknown or repeated name (listing the known ones) or a
   *     grid value the classifier rejects
   */
  public static List<Candidate> fromConfig(JobConfig config, boolean weights) {
    List<String> names = config.strings(KEY + "candidates");
    if (names.isEmpty()) {
      throw Errors.invalidConfig(KEY + "candidates", "[]", "at least one of " + known());
    }
    if (new LinkedHashSet<>(names).size() != names.size()) {
      throw Errors.invalidConfig(KEY + "candidates", names, "each name once");
    }
    for (String name : names) {
      if (!FAMILIES.containsKey(name)) {
        throw Errors.unknownName(KEY + "candidates", name, known());
      }
    }
    Context context = new Context(config, weights, config.longValue(KEY + "seed"));
    List<Candidate> out = new ArrayList<>();
    for (String name : names) {
      try {
        out.add(FAMILIES.get(name).build(name, context));
      } catch (IllegalArgumentException e) {
        // MLlib validates grid values when a grid point is built: name the config section
        throw new PropensityException(String.format("Invalid config '%s%s.*': %s. Fix the grid"
            + " values in your -c file or key=value arguments.", KEY, name, e.getMessage()));
      }
    }
    return out;
  }

  /** @return a grid point as a sorted name -> value map (arrays as lists), for JSON */
  public static Map<String, Object> describe(ParamMap point) {
    Map<String, Object> out = new TreeMap<>();
    for (ParamPair<?> pp : point.toList()) {
      Object v = pp.value();
      if (v instanceof int[] a) {
        v = java.util.Arrays.stream(a).boxed().toList();
      } else if (v instanceof double[] a) {
        v = java.util.Arrays.stream(a).boxed().toList();
      }
      out.put(pp.param().name(), v);
    }
    return out;
  }

  /**
   * @return facts about a fitted model worth recording: trees GBT and XGBoost kept, non-zero LR
   *     weights
   */
  public static Map<String, Object> fittedFacts(PipelineModel model) {
    CandidateDescription d = CandidateDescription.of(model);
    Map<String, Object> out = new LinkedHashMap<>(family(d.family()).facts(d.predictor(model)));
    if (d.probability() == CandidateDescription.Probability.PLATT) {
      PlattScalingModel platt = (PlattScalingModel) model.stages()[d.probabilityStage()];
      out.put("platt_slope", platt.getSlope());
      out.put("platt_intercept", platt.getIntercept());
    }
    return out;
  }

  private static Candidate decisionTree(String name, Context ctx) {
    String k = KEY + name + ".";
    DecisionTreeRegressor dt = new DecisionTreeRegressor().setSeed(ctx.seed())
        .setMaxBins(ctx.config().integer(k + "max-bins"));
    regressionColumns(dt, name);
    if (ctx.weights()) {
      dt.setWeightCol(CandidatePipeline.WEIGHT);
    }
    ParamMap[] grid = new ParamGridBuilder()
        .addGrid(dt.maxDepth(), ints(ctx.config(), k + "max-depth"))
        .addGrid(dt.minInstancesPerNode(), ints(ctx.config(), k + "min-instances-per-node"))
        .build();
    return probabilityTree(name, dt, grid, ctx.weights());
  }

  private static Candidate randomForest(String name, Context ctx) {
    String k = KEY + name + ".";
    RandomForestRegressor rf = new RandomForestRegressor().setSeed(ctx.seed())
        .setMaxBins(ctx.config().integer(k + "max-bins"))
        .setSubsamplingRate(ctx.config().number(k + "subsampling-rate"))
        .setMaxMemoryInMB(ctx.config().integer(k + "max-memory-in-mb"))
        .setCacheNodeIds(ctx.config().bool(k + "cache-node-ids"));
    regressionColumns(rf, name);
    if (ctx.weights()) {
      rf.setWeightCol(CandidatePipeline.WEIGHT);
    }
    ParamMap[] grid = new ParamGridBuilder()
        .addGrid(rf.numTrees(), ints(ctx.config(), k + "num-trees"))
        .addGrid(rf.maxDepth(), ints(ctx.config(), k + "max-depth"))
        .addGrid(rf.minInstancesPerNode(), ints(ctx.config(), k + "min-instances-per-node"))
        .addGrid(rf.featureSubsetStrategy(),
            CollectionConverters.asScala(ctx.config().strings(k + "feature-subset-strategy")))
        .build();
    return probabilityTree(name, rf, grid, ctx.weights());
  }

  /**
   * Regression trees on the 0/1 label, their leaf means as probabilities (see
   * ScoreToProbability): the decision-tree, random-forest and xgboost-rf candidates.
   */
  static Candidate probabilityTree(String name, PipelineStage trees, ParamMap[] grid,
      boolean weighted) {
    ScoreToProbability toProbability = new ScoreToProbability()
        .setInputCol(name + "__score").setOutputCol(CandidatePipeline.probabilityCol(name));
    return new Candidate(name, Scaling.NONE,
        new Pipeline().setStages(new PipelineStage[] {trees, toProbability}), grid, weighted,
        (p, n) -> p, CandidateDescription.Probability.LEAF_MEAN);
  }

  private static void regressionColumns(org.apache.spark.ml.Predictor<?, ?, ?> r, String name) {
    r.setFeaturesCol(CandidatePipeline.featuresCol(name));
    r.setLabelCol(CandidatePipeline.LABEL);
    r.setPredictionCol(name + "__score");
  }

  private static Candidate gbt(String name, Context ctx) {
    String k = KEY + name + ".";
    JobConfig c = ctx.config();
    GBTClassifier gbt = new GBTClassifier().setSeed(ctx.seed()).setLossType("logistic")
        .setMaxIter(c.integer(k + "max-iter"))
        .setMaxBins(c.integer(k + "max-bins"))
        .setSubsamplingRate(c.number(k + "subsampling-rate"));
    gbt.set(gbt.validationTol(), (Object) c.number(k + "validation-tol"));
    double fraction = c.number(k + "validation-fraction");
    if (fraction < 0 || fraction >= 0.5) {
      throw Errors.invalidConfig(k + "validation-fraction", fraction,
          "a fraction in [0, 0.5): the share of training rows held out for early stopping"
              + " (0 switches early stopping off)");
    }
    if (fraction > 0) {
      gbt.setValidationIndicatorCol(CandidatePipeline.GBT_VALIDATION);
    }
    columns(gbt, name);
    if (ctx.weights()) {
      gbt.setWeightCol(CandidatePipeline.WEIGHT);
    }
    ParamMap[] grid = new ParamGridBuilder()
        .addGrid(gbt.maxDepth(), ints(c, k + "max-depth"))
        .addGrid(gbt.stepSize(), doubles(c, k + "step-size"))
        .addGrid(gbt.minInstancesPerNode(), ints(c, k + "min-instances-per-node"))
        .build();
    return plain(name, Scaling.NONE, gbt, grid, ctx.weights());
  }

  private static Candidate linearSvc(String name, Context ctx) {
    String k = KEY + name + ".";
    LinearSVC svc = new LinearSVC().setMaxIter(ctx.config().integer(k + "max-iter"))
        .setTol(ctx.config().number(k + "tol"))
        .setFeaturesCol(CandidatePipeline.featuresCol(name))
        .setLabelCol(CandidatePipeline.LABEL)
        .setRawPredictionCol(CandidatePipeline.rawPredictionCol(name))
        .setPredictionCol(name + "__svc_prediction");
    if (ctx.weights()) {
      svc.setWeightCol(CandidatePipeline.WEIGHT);
    }
    // SVC has no probabilities: Platt scaling of its margin, saved in the same pipeline
    PlattScaling platt = new PlattScaling().setInputCol(CandidatePipeline.rawPredictionCol(name))
        .setOutputCol(CandidatePipeline.probabilityCol(name)).setLabelCol(CandidatePipeline.LABEL);
    ParamMap[] grid = new ParamGridBuilder()
        .addGrid(svc.regParam(), doubles(ctx.config(), k + "reg-param"))
        .build();
    Pipeline head = new Pipeline().setStages(new PipelineStage[] {svc, platt});
    return new Candidate(name, Scaling.STANDARD, head, grid, ctx.weights(), (p, n) -> p,
        CandidateDescription.Probability.PLATT);
  }

  private static Candidate naiveBayes(String name, Context ctx) {
    String k = KEY + name + ".";
    List<String> types = ctx.config().strings(k + "model-type");
    for (String t : types) {
      if (!List.of("multinomial", "complement", "gaussian").contains(t)) {
        throw Errors.invalidConfig(k + "model-type", t, "multinomial, complement or gaussian"
            + " (bernoulli needs 0/1 features; numeric features are min-max scaled to [0, 1])");
      }
    }
    NaiveBayes nb = new NaiveBayes();
    columns(nb, name);
    if (ctx.weights()) {
      nb.setWeightCol(CandidatePipeline.WEIGHT);
    }
    ParamMap[] grid = new ParamGridBuilder()
        .addGrid(nb.smoothing(), doubles(ctx.config(), k + "smoothing"))
        .addGrid(nb.modelType(), CollectionConverters.asScala(types))
        .build();
    // multinomial / complement need non-negative inputs: UNIT_RANGE scales and clips to [0, 1]
    return plain(name, Scaling.UNIT_RANGE, nb, grid, ctx.weights());
  }

  private static Candidate mlp(String name, Context ctx) {
    String k = KEY + name + ".";
    MultilayerPerceptronClassifier mlp = new MultilayerPerceptronClassifier().setSeed(ctx.seed())
        .setMaxIter(ctx.config().integer(k + "max-iter"))
        .setBlockSize(ctx.config().integer(k + "block-size"));
    columns(mlp, name);
    List<int[]> layers = new ArrayList<>();
    for (int[] hidden : intLists(ctx.config(), k + "hidden-layers")) {
      // grid value = hidden layers + the 2-class output; the input size is prepended per fit
      int[] l = java.util.Arrays.copyOf(hidden, hidden.length + 1);
      l[hidden.length] = 2;
      layers.add(l);
    }
    ParamMap[] grid = new ParamGridBuilder()
        .addGrid(mlp.layers(), CollectionConverters.asScala(layers))
        .build();
    Pipeline head = new Pipeline().setStages(new PipelineStage[] {mlp});
    return new Candidate(name, Scaling.STANDARD, head, grid, false, (point, n) -> {
      int[] rest = (int[]) point.apply(mlp.layers());
      int[] full = new int[rest.length + 1];
      full[0] = n;
      System.arraycopy(rest, 0, full, 1, rest.length);
      return point.copy().put(mlp.layers(), full);
    }, CandidateDescription.Probability.CLASSIFIER);
  }

  private static Candidate factorizationMachines(String name, Context ctx) {
    String k = KEY + name + ".";
    FMClassifier fm = new FMClassifier().setSeed(ctx.seed())
        .setMaxIter(ctx.config().integer(k + "max-iter"))
        .setMiniBatchFraction(ctx.config().number(k + "mini-batch-fraction"));
    columns(fm, name);
    ParamMap[] grid = new ParamGridBuilder()
        .addGrid(fm.factorSize(), ints(ctx.config(), k + "factor-size"))
        .addGrid(fm.regParam(), doubles(ctx.config(), k + "reg-param"))
        .addGrid(fm.stepSize(), doubles(ctx.config(), k + "step-size"))
        .build();
    return plain(name, Scaling.UNIT_RANGE, fm, grid, false);
  }

  static Candidate plain(String name, Scaling scaling, PipelineStage classifier,
      ParamMap[] grid, boolean weighted) {
    return new Candidate(name, scaling, new Pipeline().setStages(new PipelineStage[] {classifier}),
        grid, weighted, (p, n) -> p, CandidateDescription.Probability.CLASSIFIER);
  }

  static void columns(ProbabilisticClassifier<?, ?, ?> c, String name) {
    c.setFeaturesCol(CandidatePipeline.featuresCol(name));
    c.setLabelCol(CandidatePipeline.LABEL);
    c.setProbabilityCol(CandidatePipeline.probabilityCol(name));
    c.setRawPredictionCol(CandidatePipeline.rawPredictionCol(name));
    c.setPredictionCol(CandidatePipeline.predictionCol(name));
  }

  static double[] doubles(JobConfig config, String key) {
    List<Double> values = config.numbers(key);
    if (values.isEmpty()) {
      throw Errors.invalidConfig(key, "[]", "a non-empty list of numbers");
    }
    return values.stream().mapToDouble(Double::doubleValue).toArray();
  }

  static int[] ints(JobConfig config, String key) {
    double[] values = doubles(config, key);
    int[] out = new int[values.length];
    for (int i = 0; i < values.length; i++) {
      if (values[i] != Math.rint(values[i])) {
        throw Errors.invalidConfig(key, values[i], "a list of whole numbers");
      }
      out[i] = (int) values[i];
    }
    return out;
  }

  private static List<int[]> intLists(JobConfig config, String key) {
    String expected = "a list of hidden-layer lists of positive sizes, e.g. [[16], [32, 16]]";
    List<int[]> out = new ArrayList<>();
    com.typesafe.config.ConfigList outer;
    try {
      outer = config.raw().getList(key);
    } catch (com.typesafe.config.ConfigException e) {
      throw Errors.invalidConfig(key, "(not a list)", expected);
    }
    for (com.typesafe.config.ConfigValue v : outer) {
      if (!(v instanceof com.typesafe.config.ConfigList inner) || inner.isEmpty()) {
        throw Errors.invalidConfig(key, outer.unwrapped(), expected);
      }
      int[] a = new int[inner.size()];
      for (int i = 0; i < a.length; i++) {
        Object x = inner.get(i).unwrapped();
        if (!(x instanceof Integer n) || n < 1) {
          throw Errors.invalidConfig(key, outer.unwrapped(), expected);
        }
        a[i] = n;
      }
      out.add(a);
    }
    if (out.isEmpty()) {
      throw Errors.invalidConfig(key, "[]", expected);
    }
    return out;
  }
}
