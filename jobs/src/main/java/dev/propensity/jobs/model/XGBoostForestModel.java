package dev.propensity.jobs.model;

import dev.propensity.common.PropensityException;
import dev.propensity.common.explain.Link;
import dev.propensity.common.explain.TreeEnsemble;
import ml.dmlc.xgboost4j.java.Booster;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.regression.RegressionModel;
import org.apache.spark.ml.util.DefaultParamsReader;
import org.apache.spark.ml.util.DefaultParamsReader$;
import org.apache.spark.ml.util.DefaultParamsWriter$;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.ml.util.MLWritable;
import org.apache.spark.ml.util.MLWriter;
import scala.Option;

/**
 * A fitted {@link XGBoostForest}: the forest's booster, kept as XGBoost's UBJSON model and saved
 * with the pipeline ({@link XGBoostBoosters}). Its prediction is {@code base_score + sum_t
 * leaf_t(x)} over the booster's trees read by {@link XGBoostJson} and summed in double
 * precision: the mean over the trees of the leaf positive rates, the probability (see {@link
 * XGBoostForest}), which the family's {@link ScoreToProbability} clips to [0, 1] against float
 * rounding, as for MLlib's forest. So the pipeline, {@link FusedVoter} (which calls {@code
 * predict}), TreeSHAP ({@link ModelShap}, identity link: contributions add up to the
 * probability) and the serving export compute one function of a row.
 */
public final class XGBoostForestModel extends RegressionModel<Vector, XGBoostForestModel>
    implements MLWritable {

  private static final long serialVersionUID = 1L;

  private final String uid;
  private final byte[] booster;
  private final XGBoostJson.Booster trees;
  private final IntParam featuresPerNode;

  /**
   * @param uid the stage id
   * @param booster the booster in XGBoost's UBJSON model format
   * @param name the candidate, for messages
   */
  XGBoostForestModel(String uid, byte[] booster, String name) {
    this(uid, booster, identity(XGBoostJson.parse(XGBoostBoosters.json(booster, name), name),
        name));
  }

  private XGBoostForestModel(String uid, byte[] booster, XGBoostJson.Booster trees) {
    this(uid, booster, trees, constructing(uid));
  }

  private XGBoostForestModel(String uid, byte[] booster, XGBoostJson.Booster trees,
      Void unused) {
    this.uid = uid;
    this.booster = booster;
    this.trees = trees;
    CONSTRUCTING.remove();
    featuresPerNode = new IntParam(this, "featuresPerNode",
        "features XGBoost tried per split (colsample_bynode)");
    setDefault(featuresPerNode, -1);
  }

  // Spark's superclass constructor creates the inherited params with parent uid(), before a
  // Java constructor can assign a field: uid() answers from here until then
  private static final ThreadLocal<String> CONSTRUCTING = new ThreadLocal<>();

  private static Void constructing(String uid) {
    CONSTRUCTING.set(uid);
    return null;
  }

  private static XGBoostJson.Booster identity(XGBoostJson.Booster trees, String name) {
    if (trees.link() != Link.IDENTITY) {
      throw new PropensityException("Cannot read the XGBoost booster of candidate '" + name
          + "' as a forest: it is not a reg:squarederror booster (the xgboost-rf family's)");
    }
    return trees;
  }

  /** @return the reader {@link org.apache.spark.ml.PipelineModel#load} finds by reflection */
  public static MLReader<XGBoostForestModel> read() {
    return new Reader();
  }

  public IntParam featuresPerNode() {
    return featuresPerNode;
  }

  XGBoostForestModel setFeaturesPerNode(int value) {
    set(featuresPerNode, value);
    return this;
  }

  /** @return the features XGBoost tried per split (-1 if unknown) */
  public int getFeaturesPerNode() {
    return (Integer) $(featuresPerNode);
  }

  /** @return the trees, each weight 1, offset = base_score: output = the probability */
  public TreeEnsemble ensemble() {
    return trees.ensemble();
  }

  /** @return the trees in the forest */
  public int numTrees() {
    return trees.ensemble().size();
  }

  /** @return XGBoost's total gain per input slot, normalised to sum 1 (all 0 without splits) */
  public Vector featureImportances() {
    double[] g = trees.gain().clone();
    double sum = java.util.Arrays.stream(g).sum();
    if (sum > 0) {
      for (int i = 0; i < g.length; i++) {
        g[i] /= sum;
      }
    }
    return Vectors.dense(g);
  }

  /** @return a new native booster of this model; the caller disposes of it */
  public Booster nativeBooster() {
    return XGBoostBoosters.load(booster, uid);
  }

  @Override
  public int numFeatures() {
    return trees.numFeatures();
  }

  @Override
  public double predict(Vector features) {
    return trees.ensemble().predict(features.toArray());
  }

  @Override
  public XGBoostForestModel copy(ParamMap extra) {
    return copyValues(new XGBoostForestModel(uid, booster, trees), extra).setParent(parent());
  }

  @Override
  public String uid() {
    return uid != null ? uid : CONSTRUCTING.get();
  }

  @Override
  public MLWriter write() {
    return new Writer(this);
  }

  /** Spark's params metadata plus the booster's UBJSON bytes. */
  private static final class Writer extends MLWriter {
    private final XGBoostForestModel model;

    Writer(XGBoostForestModel model) {
      this.model = model;
    }

    @Override
    public void saveImpl(String path) {
      DefaultParamsWriter$.MODULE$.saveMetadata(model, path, sparkSession());
      XGBoostBoosters.save(model.booster, path, sc().hadoopConfiguration());
    }
  }

  private static final class Reader extends MLReader<XGBoostForestModel> {
    @Override
    public XGBoostForestModel load(String path) {
      DefaultParamsReader.Metadata metadata = DefaultParamsReader$.MODULE$.loadMetadata(path,
          sparkSession(), XGBoostForestModel.class.getName());
      byte[] bytes = XGBoostBoosters.read(path, sc().hadoopConfiguration());
      XGBoostForestModel model = new XGBoostForestModel(metadata.uid(), bytes, path);
      metadata.getAndSetParams(model, Option.empty());
      return model;
    }
  }
}
