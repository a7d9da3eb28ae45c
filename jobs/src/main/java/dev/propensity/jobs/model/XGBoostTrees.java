package dev.propensity.jobs.model;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.not;

import dev.propensity.common.PropensityException;
import ml.dmlc.xgboost4j.scala.spark.XGBoostClassificationModel;
import ml.dmlc.xgboost4j.scala.spark.XGBoostClassifier;
import org.apache.spark.ml.Estimator;
import org.apache.spark.ml.linalg.SQLDataTypes;
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
 * XGBoost ({@code binary:logistic}, hist trees) trained through xgboost4j-spark's own
 * distributed {@link XGBoostClassifier} on {@code numWorkers} Spark tasks, fitted into an {@link
 * XGBoostTreesModel} that saves with the pipeline. Its own params (not the classifier's) so a
 * grid point is a plain {@link ParamMap} over one stage, and only what the project configures
 * is exposed ({@code propensity.train.xgboost.*}). NaN is missing (one-hot vectors are sparse,
 * and xgboost4j-spark makes their zeros real zeros only when {@code missing} is set); the rows
 * where {@code validationCol} is true are the early-stopping hold-out (log loss), not trained on.
 */
public final class XGBoostTrees extends Estimator<XGBoostTreesModel> {

  private static final Logger LOG = LoggerFactory.getLogger(XGBoostTrees.class);

  private final String uid;
  private final Param<String> featuresCol;
  private final Param<String> labelCol;
  private final Param<String> weightCol;
  private final Param<String> validationCol;
  private final Param<String> probabilityCol;
  private final Param<String> rawPredictionCol;
  private final Param<String> predictionCol;
  private final IntParam maxDepth;
  private final DoubleParam eta;
  private final DoubleParam minChildWeight;
  private final DoubleParam subsample;
  private final DoubleParam colsampleBytree;
  private final DoubleParam lambda;
  private final IntParam numRound;
  private final IntParam earlyStoppingRounds;
  private final IntParam maxBin;
  private final IntParam numWorkers;
  private final IntParam nthread;
  private final LongParam seed;

  public XGBoostTrees() {
    this(Identifiable.randomUID("xgboostTrees"));
  }

  public XGBoostTrees(String uid) {
    this.uid = uid;
    featuresCol = new Param<>(this, "featuresCol", "feature vector");
    labelCol = new Param<>(this, "labelCol", "0/1 label (double)");
    weightCol = new Param<>(this, "weightCol", "instance weight column, or empty");
    validationCol = new Param<>(this, "validationCol",
        "boolean column: true for the early-stopping hold-out rows, or empty");
    probabilityCol = new Param<>(this, "probabilityCol", "probability vector [1 - p, p]");
    rawPredictionCol = new Param<>(this, "rawPredictionCol", "[-margin, margin]");
    predictionCol = new Param<>(this, "predictionCol", "0/1 prediction at p = 0.5");
    maxDepth = new IntParam(this, "maxDepth", "maximum tree depth",
        ParamValidators.<Object>gtEq(1));
    eta = new DoubleParam(this, "eta", "learning rate", ParamValidators.<Object>inRange(0, 1,
        false, true));
    minChildWeight = new DoubleParam(this, "minChildWeight",
        "minimum hessian sum in a child", ParamValidators.<Object>gtEq(0));
    subsample = new DoubleParam(this, "subsample", "row sampling share per tree",
        ParamValidators.<Object>inRange(0, 1, false, true));
    colsampleBytree = new DoubleParam(this, "colsampleBytree",
        "feature sampling share per tree", ParamValidators.<Object>inRange(0, 1, false, true));
    lambda = new DoubleParam(this, "lambda", "L2 regularisation of leaf weights",
        ParamValidators.<Object>gtEq(0));
    numRound = new IntParam(this, "numRound", "boosting rounds (the ceiling with early"
        + " stopping)", ParamValidators.<Object>gtEq(1));
    earlyStoppingRounds = new IntParam(this, "earlyStoppingRounds", "stop after this many"
        + " rounds without a better hold-out log loss; 0: off", ParamValidators.<Object>gtEq(0));
    maxBin = new IntParam(this, "maxBin", "histogram bins per feature",
        ParamValidators.<Object>gtEq(2));
    numWorkers = new IntParam(this, "numWorkers", "Spark tasks training together",
        ParamValidators.<Object>gtEq(1));
    nthread = new IntParam(this, "nthread", "native threads per task (at most spark.task.cpus)",
        ParamValidators.<Object>gtEq(1));
    seed = new LongParam(this, "seed", "random seed");
    setDefault(weightCol, "");
    setDefault(validationCol, "");
    setDefault(maxDepth, 6);
    setDefault(eta, 0.3);
    setDefault(minChildWeight, 1.0);
    setDefault(subsample, 1.0);
    setDefault(colsampleBytree, 1.0);
    setDefault(lambda, 1.0);
    setDefault(numRound, 100);
    setDefault(earlyStoppingRounds, 0);
    setDefault(maxBin, 256);
    setDefault(numWorkers, 1);
    setDefault(nthread, 1);
    setDefault(seed, 0L);
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

  public Param<String> validationCol() {
    return validationCol;
  }

  public Param<String> probabilityCol() {
    return probabilityCol;
  }

  public Param<String> rawPredictionCol() {
    return rawPredictionCol;
  }

  public Param<String> predictionCol() {
    return predictionCol;
  }

  public IntParam maxDepth() {
    return maxDepth;
  }

  public DoubleParam eta() {
    return eta;
  }

  public DoubleParam minChildWeight() {
    return minChildWeight;
  }

  public DoubleParam subsample() {
    return subsample;
  }

  public DoubleParam colsampleBytree() {
    return colsampleBytree;
  }

  public DoubleParam lambda() {
    return lambda;
  }

  public IntParam numRound() {
    return numRound;
  }

  public IntParam earlyStoppingRounds() {
    return earlyStoppingRounds;
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

  /** Sets the column names of a candidate: {@link CandidatePipeline}'s, prefixed by name. */
  public XGBoostTrees setColumns(String candidate) {
    set(featuresCol, CandidatePipeline.featuresCol(candidate));
    set(labelCol, CandidatePipeline.LABEL);
    set(probabilityCol, CandidatePipeline.probabilityCol(candidate));
    set(rawPredictionCol, CandidatePipeline.rawPredictionCol(candidate));
    set(predictionCol, CandidatePipeline.predictionCol(candidate));
    return this;
  }

  public XGBoostTrees setWeightCol(String value) {
    set(weightCol, value);
    return this;
  }

  public XGBoostTrees setValidationCol(String value) {
    set(validationCol, value);
    return this;
  }

  public XGBoostTrees setNumRound(int value) {
    set(numRound, value);
    return this;
  }

  public XGBoostTrees setEarlyStoppingRounds(int value) {
    set(earlyStoppingRounds, value);
    return this;
  }

  public XGBoostTrees setMaxBin(int value) {
    set(maxBin, value);
    return this;
  }

  public XGBoostTrees setNumWorkers(int value) {
    set(numWorkers, value);
    return this;
  }

  public XGBoostTrees setNthread(int value) {
    set(nthread, value);
    return this;
  }

  public XGBoostTrees setSeed(long value) {
    set(seed, value);
    return this;
  }

  @Override
  public XGBoostTreesModel fit(Dataset<?> dataset) {
    int taskCpus = dataset.sparkSession().sparkContext().getConf().getInt("spark.task.cpus", 1);
    int threads = (Integer) $(nthread);
    if (threads > taskCpus) {
      throw new PropensityException(String.format("Invalid config"
          + " 'propensity.train.xgboost.nthread' = %d: XGBoost runs at most spark.task.cpus"
          + " (%d) threads per task. Lower it, or raise spark.task.cpus.", threads, taskCpus));
    }
    // the setters return Params (Scala), so no chaining
    XGBoostClassifier x = new XGBoostClassifier();
    x.setFeaturesCol($(featuresCol));
    x.setLabelCol($(labelCol));
    x.setObjective("binary:logistic");
    x.setEvalMetric("logloss");
    x.setTreeMethod("hist");
    x.setMissing(Float.NaN);
    x.setMaxDepth((Integer) $(maxDepth));
    x.setEta((Double) $(eta));
    x.setMinChildWeight((Double) $(minChildWeight));
    x.setSubsample((Double) $(subsample));
    x.setColsampleBytree((Double) $(colsampleBytree));
    x.setLambda((Double) $(lambda));
    x.setMaxBins((Integer) $(maxBin));
    x.setNumRound((Integer) $(numRound));
    x.setNumWorkers((Integer) $(numWorkers));
    x.setNthread(threads);
    x.setSeed((Long) $(seed));
    x.setVerbosity(0);
    if (!$(weightCol).isEmpty()) {
      x.setWeightCol($(weightCol));
    }
    Dataset<Row> rows = dataset.toDF();
    int stopAfter = (Integer) $(earlyStoppingRounds);
    if (stopAfter > 0 && !$(validationCol).isEmpty()) {
      x.setEvalDataset(rows.where(col($(validationCol))));
      x.setNumEarlyStoppingRounds(stopAfter);
      rows = rows.where(not(col($(validationCol))));
    }
    XGBoostClassificationModel fitted = x.fit(rows);
    byte[] booster;
    try {
      booster = fitted.nativeBooster().toByteArray("ubj");
    } catch (ml.dmlc.xgboost4j.java.XGBoostError e) {
      throw new PropensityException("Cannot read the booster XGBoost trained: " + e.getMessage(),
          PropensityException.EXIT_USER_ERROR, e);
    } finally {
      fitted.nativeBooster().dispose();
    }
    XGBoostTreesModel model = new XGBoostTreesModel(uid, booster, uid);
    model.setFeaturesCol($(featuresCol));
    model.setProbabilityCol($(probabilityCol));
    model.setRawPredictionCol($(rawPredictionCol));
    model.setPredictionCol($(predictionCol));
    LOG.debug("xgboost: {} of {} trees in use (early stopping)", model.treesUsed(),
        model.treesTrained());
    return model.setParent(this);
  }

  @Override
  public StructType transformSchema(StructType schema) {
    return schema.add($(rawPredictionCol), SQLDataTypes.VectorType(), false)
        .add($(probabilityCol), SQLDataTypes.VectorType(), false)
        .add($(predictionCol), DataTypes.DoubleType, false);
  }

  @Override
  public XGBoostTrees copy(ParamMap extra) {
    return defaultCopy(extra);
  }

  @Override
  public String uid() {
    return uid;
  }
}
