package dev.propensity.jobs.model;

import dev.propensity.common.PropensityException;
import ml.dmlc.xgboost4j.scala.spark.XGBoostRegressionModel;
import ml.dmlc.xgboost4j.scala.spark.XGBoostRegressor;
import org.apache.spark.ml.Estimator;
import org.apache.spark.ml.attribute.AttributeGroup;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.ml.param.DoubleParam;
import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.LongParam;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.param.ParamValidators;
import org.apache.spark.ml.util.Identifiable;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A random forest grown by XGBoost (hist trees, native code) through xgboost4j-spark's {@link
 * XGBoostRegressor}: the same model as the {@code random-forest} family's MLlib {@code
 * RandomForestRegressor} on the 0/1 label, in XGBoost's documented random-forest mode (one round
 * of {@code num_parallel_tree = numTrees} trees, {@code eta = 1}, rows sampled without
 * replacement by {@code subsample}, features per split by {@code colsample_bynode}).
 *
 * <p>Why each leaf is a positive rate: with {@code reg:squarederror} every row has gradient
 * {@code base_score - y} and hessian 1 (its weight, when weighted), so with {@code lambda = 0} a
 * leaf's Newton step is its sampled rows' mean label minus {@code base_score}. XGBoost divides
 * the learning rate by the number of trees it grows in one round ({@code GBTree::BoostNewTrees}
 * in {@code src/gbm/gbtree.cc}: {@code learning_rate /= new_trees.size()}), so with {@code eta =
 * 1} each leaf holds {@code (rate - base_score) / T}, and {@code base_score + sum_t leaf_t(x)} is
 * the mean over the trees of the leaf positive rates, a probability ({@code
 * XGBoostForestTest} checks this against the rows themselves). {@code min_child_weight}
 * is then the minimum number (weight sum) of sampled rows per child, MLlib's {@code
 * minInstancesPerNode}. The fitted {@link XGBoostForestModel} predicts that probability; the
 * family turns it into the probability vector with {@link ScoreToProbability}, as the MLlib
 * forest does.
 */
public final class XGBoostForest extends Estimator<XGBoostForestModel> {

  private static final Logger LOG = LoggerFactory.getLogger(XGBoostForest.class);

  /** The config section, for messages. */
  static final String KEY = "propensity.train.xgboost-rf";

  private final String uid;
  private final Param<String> featuresCol;
  private final Param<String> labelCol;
  private final Param<String> weightCol;
  private final Param<String> predictionCol;
  private final IntParam numTrees;
  private final IntParam maxDepth;
  private final DoubleParam minChildWeight;
  private final Param<String> featureSubsetStrategy;
  private final DoubleParam subsample;
  private final IntParam maxBin;
  private final IntParam numWorkers;
  private final IntParam nthread;
  private final LongParam seed;

  public XGBoostForest() {
    this(Identifiable.randomUID("xgboostForest"));
  }

  public XGBoostForest(String uid) {
    this.uid = uid;
    featuresCol = new Param<>(this, "featuresCol", "feature vector");
    labelCol = new Param<>(this, "labelCol", "0/1 label (double)");
    weightCol = new Param<>(this, "weightCol", "instance weight column, or empty");
    predictionCol = new Param<>(this, "predictionCol",
        "the probability: the mean over trees of the leaf positive rates");
    numTrees = new IntParam(this, "numTrees", "trees in the forest (num_parallel_tree)",
        ParamValidators.<Object>gtEq(1));
    maxDepth = new IntParam(this, "maxDepth", "maximum tree depth",
        ParamValidators.<Object>gtEq(1));
    minChildWeight = new DoubleParam(this, "minChildWeight", "minimum sampled rows (weight sum)"
        + " in a child: min_child_weight, MLlib's minInstancesPerNode",
        ParamValidators.<Object>gtEq(0));
    featureSubsetStrategy = new Param<>(this, "featureSubsetStrategy", "features tried per"
        + " split: sqrt, log2, onethird, all, or a fraction in (0, 1] (MLlib's meanings)",
        (scala.Function1<String, Object> & java.io.Serializable) XGBoostForest::isStrategy);
    subsample = new DoubleParam(this, "subsample", "share of rows each tree samples without"
        + " replacement", ParamValidators.<Object>inRange(0, 1, false, true));
    maxBin = new IntParam(this, "maxBin", "histogram bins per feature",
        ParamValidators.<Object>gtEq(2));
    numWorkers = new IntParam(this, "numWorkers", "Spark tasks training together",
        ParamValidators.<Object>gtEq(1));
    nthread = new IntParam(this, "nthread", "native threads per task (at most spark.task.cpus)",
        ParamValidators.<Object>gtEq(1));
    seed = new LongParam(this, "seed", "random seed");
    setDefault(weightCol, "");
    setDefault(numTrees, 60);
    setDefault(maxDepth, 8);
    setDefault(minChildWeight, 10.0);
    setDefault(featureSubsetStrategy, "sqrt");
    setDefault(subsample, 0.632);
    setDefault(maxBin, 256);
    setDefault(numWorkers, 1);
    setDefault(nthread, 1);
    setDefault(seed, 0L);
  }

  /**
   * @param strategy sqrt, log2, onethird, all, or a fraction in (0, 1]
   * @param numFeatures the width of the feature vector
   * @return how many features MLlib's forest tries per split with that strategy
   */
  static int featuresPerNode(String strategy, int numFeatures) {
    int k = switch (strategy) {
      case "all" -> numFeatures;
      case "sqrt" -> (int) Math.ceil(Math.sqrt(numFeatures));
      case "log2" -> Math.max(1, (int) Math.ceil(Math.log(numFeatures) / Math.log(2)));
      case "onethird" -> (int) Math.ceil(numFeatures / 3.0);
      default -> (int) Math.ceil(Double.parseDouble(strategy) * numFeatures);
    };
    return Math.max(1, Math.min(numFeatures, k));
  }

  /**
   * @return {@code colsample_bynode} for {@code k} of {@code numFeatures} features per split:
   *     XGBoost keeps {@code max(1, (int) (colsample * n))} features (float arithmetic, {@code
   *     ColumnSampler::ColSample}), so the share is taken half a feature above {@code k}
   */
  static double colsampleBynode(int k, int numFeatures) {
    return k >= numFeatures ? 1.0 : (k + 0.5) / numFeatures;
  }

  static boolean isStrategy(String s) {
    if (java.util.List.of("sqrt", "log2", "onethird", "all").contains(s)) {
      return true;
    }
    try {
      double f = Double.parseDouble(s);
      return f > 0 && f <= 1;
    } catch (NumberFormatException e) {
      return false;
    }
  }

  // Spark finds a stage's params by their public accessors: every param has one
  public Param<String> featuresCol() {
    return featuresCol;
  }

  public Param<String> labelCol() {
    return labelCol;
  }

  public Param<String> weightCol() {
    return weightCol;
  }

  public Param<String> predictionCol() {
    return predictionCol;
  }

  public IntParam numTrees() {
    return numTrees;
  }

  public IntParam maxDepth() {
    return maxDepth;
  }

  public DoubleParam minChildWeight() {
    return minChildWeight;
  }

  public Param<String> featureSubsetStrategy() {
    return featureSubsetStrategy;
  }

  public DoubleParam subsample() {
    return subsample;
  }

  public IntParam maxBin() {
    return maxBin;
  }

  public IntParam numWorkers() {
    return numWorkers;
  }

  public IntParam nthread() {
    return nthread;
  }

  public LongParam seed() {
    return seed;
  }

  /** Sets the columns of a candidate: its features, the label, {@code <name>__score}. */
  public XGBoostForest setColumns(String candidate) {
    set(featuresCol, CandidatePipeline.featuresCol(candidate));
    set(labelCol, CandidatePipeline.LABEL);
    set(predictionCol, candidate + "__score");
    return this;
  }

  public XGBoostForest setWeightCol(String value) {
    set(weightCol, value);
    return this;
  }

  public XGBoostForest setSubsample(double value) {
    set(subsample, value);
    return this;
  }

  public XGBoostForest setMaxBin(int value) {
    set(maxBin, value);
    return this;
  }

  public XGBoostForest setNumWorkers(int value) {
    set(numWorkers, value);
    return this;
  }

  public XGBoostForest setNthread(int value) {
    set(nthread, value);
    return this;
  }

  public XGBoostForest setSeed(long value) {
    set(seed, value);
    return this;
  }

  @Override
  public XGBoostForestModel fit(Dataset<?> dataset) {
    int taskCpus = dataset.sparkSession().sparkContext().getConf().getInt("spark.task.cpus", 1);
    int threads = (Integer) $(nthread);
    if (threads > taskCpus) {
      throw new PropensityException(String.format("Invalid config '%s.nthread' = %d: XGBoost"
          + " runs at most spark.task.cpus (%d) threads per task. Lower it, or raise"
          + " spark.task.cpus.", KEY, threads, taskCpus));
    }
    Dataset<Row> rows = dataset.toDF();
    int width = width(rows);
    int perNode = featuresPerNode($(featureSubsetStrategy), width);
    int trees = (Integer) $(numTrees);
    // the setters return Params (Scala), so no chaining
    XGBoostRegressor x = new XGBoostRegressor();
    x.setFeaturesCol($(featuresCol));
    x.setLabelCol($(labelCol));
    x.setObjective("reg:squarederror");
    x.setTreeMethod("hist");
    x.setMissing(Float.NaN);
    x.setNumRound(1);
    x.setNumParallelTree(trees);
    x.setEta(1.0);
    x.setLambda(0.0);
    x.setMaxDepth((Integer) $(maxDepth));
    x.setMinChildWeight((Double) $(minChildWeight));
    x.setSubsample((Double) $(subsample));
    x.setColsampleBynode(colsampleBynode(perNode, width));
    x.setMaxBins((Integer) $(maxBin));
    x.setNumWorkers((Integer) $(numWorkers));
    x.setNthread(threads);
    x.setSeed((Long) $(seed));
    x.setVerbosity(0);
    if (!$(weightCol).isEmpty()) {
      x.setWeightCol($(weightCol));
    }
    XGBoostRegressionModel fitted = x.fit(rows);
    byte[] booster = XGBoostBoosters.take(fitted.nativeBooster(), KEY);
    XGBoostForestModel model = new XGBoostForestModel(uid, booster, uid);
    model.setFeaturesCol($(featuresCol));
    model.setPredictionCol($(predictionCol));
    model.setFeaturesPerNode(perNode);
    LOG.debug("xgboost-rf: {} trees, {} of {} features per split", model.numTrees(), perNode,
        width);
    return model.setParent(this);
  }

  /** @return the feature vector's width: its ML attribute size, else the first row's */
  private int width(Dataset<Row> rows) {
    int size = AttributeGroup.fromStructField(rows.schema().apply($(featuresCol))).size();
    if (size >= 0) {
      return size;
    }
    Row first = rows.select($(featuresCol)).head();
    return first.<Vector>getAs(0).size();
  }

  @Override
  public StructType transformSchema(StructType schema) {
    return schema.add($(predictionCol), DataTypes.DoubleType, false);
  }

  @Override
  public XGBoostForest copy(ParamMap extra) {
    return defaultCopy(extra);
  }

  @Override
  public String uid() {
    return uid;
  }
}
