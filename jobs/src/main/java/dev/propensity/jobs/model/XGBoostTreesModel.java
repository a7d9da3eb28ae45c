package dev.propensity.jobs.model;

import dev.propensity.common.PropensityException;
import dev.propensity.common.explain.Link;
import dev.propensity.common.explain.TreeEnsemble;
import ml.dmlc.xgboost4j.java.Booster;
import org.apache.spark.ml.classification.ProbabilisticClassificationModel;
import org.apache.spark.ml.linalg.DenseVector;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.util.DefaultParamsReader;
import org.apache.spark.ml.util.DefaultParamsReader$;
import org.apache.spark.ml.util.DefaultParamsWriter$;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.ml.util.MLWritable;
import org.apache.spark.ml.util.MLWriter;
import scala.Option;

/**
 * A fitted {@link XGBoostTrees}: the booster XGBoost trained, kept as its own UBJSON model (what
 * any XGBoost loads) and saved with the pipeline under {@code data/booster.ubj} ({@link XGBoostBoosters}).
 *
 * <p>Scoring walks the booster's trees read by {@link XGBoostJson}, in double precision: {@code
 * rawPrediction = [-m, m]} with the margin {@code m}, {@code probability[1] = 1 / (1 +
 * exp(-m))}. So the pipeline, {@link FusedVoter} (which calls {@code predictProbability}) and
 * TreeSHAP ({@link ModelShap}) compute one function of a row; XGBoost's own float prediction
 * agrees to about 1e-6 ({@code XGBoostCandidateTest}). Trees beyond the early-stopping best
 * iteration are kept in the booster but not used, as MLlib's GBT drops them.
 */
public final class XGBoostTreesModel
    extends ProbabilisticClassificationModel<Vector, XGBoostTreesModel> implements MLWritable {

  private static final long serialVersionUID = 1L;

  private final String uid;
  private final byte[] booster;
  private final XGBoostJson.Booster trees;

  /**
   * @param uid the stage id
   * @param booster the booster in XGBoost's UBJSON model format
   * @param name the candidate, for messages
   */
  XGBoostTreesModel(String uid, byte[] booster, String name) {
    this(uid, booster, logistic(XGBoostJson.parse(XGBoostBoosters.json(booster, name), name),
        name));
  }

  private XGBoostTreesModel(String uid, byte[] booster, XGBoostJson.Booster trees) {
    this(uid, booster, trees, constructing(uid));
  }

  private XGBoostTreesModel(String uid, byte[] booster, XGBoostJson.Booster trees, Void unused) {
    this.uid = uid;
    this.booster = booster;
    this.trees = trees;
    CONSTRUCTING.remove();
  }

  private static XGBoostJson.Booster logistic(XGBoostJson.Booster trees, String name) {
    if (trees.link() != Link.LOGISTIC) {
      throw new PropensityException("Cannot read the XGBoost booster of candidate '" + name
          + "' as boosted trees: it is not a binary:logistic booster (the xgboost family's)");
    }
    return trees;
  }

  // Spark's superclass constructor creates the inherited params with parent uid(), before a
  // Java constructor can assign a field: uid() answers from here until then
  private static final ThreadLocal<String> CONSTRUCTING = new ThreadLocal<>();

  private static Void constructing(String uid) {
    CONSTRUCTING.set(uid);
    return null;
  }

  /** @return the reader {@link org.apache.spark.ml.PipelineModel#load} finds by reflection */
  public static MLReader<XGBoostTreesModel> read() {
    return new Reader();
  }

  /** @return the trees in use in margin space, offset = the base margin */
  public TreeEnsemble ensemble() {
    return trees.ensemble();
  }

  /** @return how the margin becomes the probability */
  public Link link() {
    return Link.LOGISTIC;
  }

  /** @return the trees the booster holds (more than used when early stopping cut them) */
  public int treesTrained() {
    return trees.treesTrained();
  }

  /** @return the trees scoring uses */
  public int treesUsed() {
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

  // inherited from two Scala classes with covariant (in Java: incompatible) types: a raw override
  @Override
  @SuppressWarnings("rawtypes")
  public scala.Tuple3 findSummaryModel() {
    return super.findSummaryModel();
  }

  @Override
  public int numClasses() {
    return 2;
  }

  @Override
  public int numFeatures() {
    return trees.numFeatures();
  }

  @Override
  public Vector predictRaw(Vector features) {
    double m = trees.ensemble().predict(features.toArray());
    return Vectors.dense(-m, m);
  }

  @Override
  public Vector raw2probabilityInPlace(Vector raw) {
    double p = Link.LOGISTIC.probability(raw.apply(1));
    double[] values = ((DenseVector) raw).values();
    values[0] = 1 - p;
    values[1] = p;
    return raw;
  }

  @Override
  public XGBoostTreesModel copy(ParamMap extra) {
    return copyValues(new XGBoostTreesModel(uid, booster, trees), extra).setParent(parent());
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
    private final XGBoostTreesModel model;

    Writer(XGBoostTreesModel model) {
      this.model = model;
    }

    @Override
    public void saveImpl(String path) {
      DefaultParamsWriter$.MODULE$.saveMetadata(model, path, sparkSession());
      XGBoostBoosters.save(model.booster, path, sc().hadoopConfiguration());
    }
  }

  private static final class Reader extends MLReader<XGBoostTreesModel> {
    @Override
    public XGBoostTreesModel load(String path) {
      DefaultParamsReader.Metadata metadata = DefaultParamsReader$.MODULE$.loadMetadata(path,
          sparkSession(), XGBoostTreesModel.class.getName());
      byte[] bytes = XGBoostBoosters.read(path, sc().hadoopConfiguration());
      XGBoostTreesModel model = new XGBoostTreesModel(metadata.uid(), bytes, path);
      metadata.getAndSetParams(model, Option.empty());
      return model;
    }
  }
}
