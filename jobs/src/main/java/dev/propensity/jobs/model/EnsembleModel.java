package dev.propensity.jobs.model;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.exp;
import static org.apache.spark.sql.functions.greatest;
import static org.apache.spark.sql.functions.least;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.map;
import static org.apache.spark.sql.functions.struct;
import static org.apache.spark.sql.functions.udf;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.propensity.common.PropensityException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.function.Function;
import org.apache.hadoop.fs.FileUtil;
import org.apache.hadoop.fs.Path;
import org.apache.spark.ml.Model;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.classification.LogisticRegressionModel;
import org.apache.spark.ml.feature.VectorAssembler;
import org.apache.spark.ml.functions;
import org.apache.spark.ml.linalg.SQLDataTypes;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.ml.param.DoubleArrayParam;
import org.apache.spark.ml.param.DoubleParam;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.param.StringArrayParam;
import org.apache.spark.ml.util.DefaultParamsReader;
import org.apache.spark.ml.util.DefaultParamsReader$;
import org.apache.spark.ml.util.DefaultParamsWriter$;
import scala.Option;
import dev.propensity.jobs.model.Modes.Calibration;
import dev.propensity.jobs.model.Modes.Combine;
import org.apache.spark.ml.regression.IsotonicRegressionModel;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.ml.util.MLWritable;
import org.apache.spark.ml.util.MLWriter;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.api.java.UDF1;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * The voters and how they combine, as one Spark ML model that saves and loads as a folder:
 * its params (combining, calibration, the voters' names, weights and metrics, Platt's numbers)
 * through Spark ML's {@code DefaultParamsWriter}, and as sub-models the voters' fitted pipelines,
 * an optional stacking meta-learner and an optional isotonic calibrator.
 *
 * <p>Output columns: {@code voter_probabilities} (voter name to its positive-class probability),
 * {@code propensity_raw} (the combined score before calibration) and {@code propensity} (the
 * calibrated probability, equal to the raw score when calibration is off).
 *
 * <p>Combining: {@code mean} or {@code weighted} (weights normalised to sum 1) average the
 * probabilities; {@code stacking} feeds the voters' logits to a logistic-regression meta-learner
 * fitted on out-of-fold predictions. Calibration: {@code platt} (sigmoid of a linear function of
 * the raw score's logit) or {@code isotonic} (MLlib's isotonic regression on the raw score).
 */
public final class EnsembleModel extends Model<EnsembleModel> implements MLWritable {

  public static final String VOTER_PROBABILITIES = "voter_probabilities";
  public static final String RAW = "propensity_raw";
  public static final String PROPENSITY = "propensity";
  public static final String META_FEATURES = "__meta_features";
  private static final double CLIP = 1e-6;

  /**
   * A voter, the one voter type of the model layer: a candidate of the run, its weight in the
   * vote, the metric it was ranked by (NaN when not ranked) and its fitted pipeline (null while
   * only ranked, or in a run selected before the ensemble model existed until it is loaded).
   */
  public record Voter(String name, double weight, double metric, PipelineModel model) {

    /** A voter that was not ranked. */
    public Voter(String name, double weight, PipelineModel model) {
      this(name, weight, Double.NaN, model);
    }

    /** @return this voter with another weight */
    public Voter withWeight(double w) {
      return new Voter(name, w, metric, model);
    }

    /** @return name, weight and metric, as {@code voters.json} records a voter */
    public Map<String, Object> describe() {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("name", name);
      m.put("weight", weight);
      m.put("metric", metric);
      return m;
    }
  }

  private final String uid;
  private final List<Voter> voters;
  private final LogisticRegressionModel meta;
  private final IsotonicRegressionModel isotonic;
  private final Param<String> combine;
  private final Param<String> calibration;
  private final StringArrayParam voterNames;
  private final DoubleArrayParam voterWeights;
  private final DoubleArrayParam voterMetrics;
  private final DoubleParam plattSlope;
  private final DoubleParam plattIntercept;

  /**
   * @param voters the voters with their fitted pipelines (saved under {@code voters/<name>})
   * @param meta the stacking meta-learner, or null (saved under {@code meta})
   * @param isotonic the isotonic calibrator, or null (saved under {@code isotonic})
   */
  EnsembleModel(String uid, List<Voter> voters, Combine combine, LogisticRegressionModel meta,
      Calibration calibration, double plattSlope, double plattIntercept,
      IsotonicRegressionModel isotonic) {
    this(uid, voters, meta, isotonic);
    set(this.combine, Modes.name(combine));
    set(this.calibration, Modes.name(calibration));
    set(this.plattSlope, plattSlope);
    set(this.plattIntercept, plattIntercept);
  }

  /** The data half; the reader then sets the params from the saved metadata. */
  private EnsembleModel(String uid, List<Voter> voters, LogisticRegressionModel meta,
      IsotonicRegressionModel isotonic) {
    this.uid = uid;
    this.voters = List.copyOf(voters);
    this.meta = meta;
    this.isotonic = isotonic;
    // after uid: a param takes its parent's uid
    combine = new Param<>(this, "combine", "mean, weighted or stacking");
    calibration = new Param<>(this, "calibration", "none, platt or isotonic");
    voterNames = new StringArrayParam(this, "voterNames", "the voters, in voting order");
    voterWeights = new DoubleArrayParam(this, "voterWeights", "each voter's weight in the vote");
    voterMetrics = new DoubleArrayParam(this, "voterMetrics",
        "each voter's ranking metric (NaN: not ranked)");
    plattSlope = new DoubleParam(this, "plattSlope", "Platt's slope on the raw score's logit");
    plattIntercept = new DoubleParam(this, "plattIntercept", "Platt's intercept");
    set(voterNames, voters.stream().map(Voter::name).toArray(String[]::new));
    set(voterWeights, voters.stream().mapToDouble(Voter::weight).toArray());
    set(voterMetrics, voters.stream().mapToDouble(Voter::metric).toArray());
  }

  /** An uncalibrated soft vote ({@code mean} or {@code weighted}) of the voters. */
  public static EnsembleModel softVote(List<Voter> voters, Combine combine) {
    if (combine == Combine.STACKING) {
      throw new IllegalArgumentException("A soft vote is mean or weighted, not " + combine);
    }
    return new EnsembleModel("ensemble_" + UUID.randomUUID().toString().substring(0, 8), voters,
        combine, null, Calibration.NONE, 1.0, 0.0, null);
  }

  /** A stacked ensemble: the meta-learner reads {@link #metaFeatures} of the voters. */
  public static EnsembleModel stacked(List<Voter> voters, LogisticRegressionModel meta) {
    return new EnsembleModel("ensemble_" + UUID.randomUUID().toString().substring(0, 8), voters,
        Combine.STACKING, meta, Calibration.NONE, 1.0, 0.0, null);
  }

  /** @return this ensemble with Platt calibration of the raw score */
  public EnsembleModel withPlatt(double slope, double intercept) {
    return new EnsembleModel(uid, voters, combine(), meta, Calibration.PLATT, slope, intercept,
        null);
  }

  /** @return this ensemble with isotonic calibration of the raw score */
  public EnsembleModel withIsotonic(IsotonicRegressionModel model) {
    return new EnsembleModel(uid, voters, combine(), meta, Calibration.ISOTONIC, 1.0, 0.0,
        model.setFeaturesCol(RAW).setPredictionCol("__isotonic"));
  }

  /** @return this ensemble without calibration */
  public EnsembleModel uncalibrated() {
    return new EnsembleModel(uid, voters, combine(), meta, Calibration.NONE, 1.0, 0.0, null);
  }

  public List<Voter> voters() {
    return voters;
  }

  // ---- params (Spark ML finds them by reflection; saved by DefaultParamsWriter)

  public Param<String> combineParam() {
    return combine;
  }

  public Param<String> calibrationParam() {
    return calibration;
  }

  public StringArrayParam voterNamesParam() {
    return voterNames;
  }

  public DoubleArrayParam voterWeightsParam() {
    return voterWeights;
  }

  public DoubleArrayParam voterMetricsParam() {
    return voterMetrics;
  }

  public DoubleParam plattSlopeParam() {
    return plattSlope;
  }

  public DoubleParam plattInterceptParam() {
    return plattIntercept;
  }

  public Combine combine() {
    return Modes.parse(uid + " combine", $(combine), Combine.class);
  }

  public Calibration calibration() {
    return Modes.parse(uid + " calibration", $(calibration), Calibration.class);
  }

  /** @return the stacking meta-learner, or null */
  LogisticRegressionModel meta() {
    return meta;
  }

  /** @return Platt's slope and intercept on the raw score's logit */
  double[] platt() {
    return new double[] {(Double) $(plattSlope), (Double) $(plattIntercept)};
  }

  /** @return the isotonic calibrator, or null */
  IsotonicRegressionModel isotonic() {
    return isotonic;
  }

  /** @return the logit of a probability column, clipped away from 0 and 1 */
  public static Column logit(Column p) {
    Column c = least(greatest(p, lit(CLIP)), lit(1 - CLIP));
    return org.apache.spark.sql.functions.log(c.divide(lit(1.0).minus(c)));
  }

  /** @return the meta-learner's input: a vector of the voters' logits, in voter order */
  public static Dataset<Row> metaFeatures(Dataset<Row> df, List<String> probabilityColumns) {
    String[] logits = new String[probabilityColumns.size()];
    Dataset<Row> out = df;
    for (int i = 0; i < logits.length; i++) {
      logits[i] = "__logit_" + i;
      out = out.withColumn(logits[i], logit(col(probabilityColumns.get(i))));
    }
    return new VectorAssembler().setInputCols(logits).setOutputCol(META_FEATURES)
        .transform(out).drop(logits);
  }

  @Override
  public Dataset<Row> transform(Dataset<?> dataset) {
    return transform(dataset, false);
  }

  /**
   * @param dataset rows with the feature columns
   * @param keepVoterFeatures also keep each voter's classifier input vector ({@code
   *     <voter>__features}, with its slot metadata), so explanations can reuse it instead of
   *     running the voters' preprocessing again
   * @return {@code dataset} plus {@link #VOTER_PROBABILITIES}, {@link #RAW} and {@link
   *     #PROPENSITY} (and the voters' vectors when asked)
   */
  public Dataset<Row> transform(Dataset<?> dataset, boolean keepVoterFeatures) {
    return transform(dataset, keepVoterFeatures, true);
  }

  /**
   * @param fusedVoters score each voter whose stages {@link FusedVoter} covers with one function
   *     per row instead of MLlib's stage-by-stage UDFs (the same values, in less time); false
   *     runs every voter's stages as MLlib's own transforms
   * @return as {@link #transform(Dataset, boolean)}
   */
  public Dataset<Row> transform(Dataset<?> dataset, boolean keepVoterFeatures,
      boolean fusedVoters) {
    Dataset<Row> out = dataset.toDF();
    List<String> original = new ArrayList<>(Arrays.asList(out.columns()));
    for (Voter v : voters) {
      Dataset<Row> in = out;
      out = (fusedVoters ? fused(in, v, keepVoterFeatures) : Optional.<Dataset<Row>>empty())
          .orElseGet(() -> v.model().transform(in).withColumn(voterColumn(v.name()),
              CandidatePipeline.positiveProbability(v.name())));
      String prefix = v.name() + "__";
      String keep = keepVoterFeatures ? classifierFeaturesCol(v.model()) : null;
      // only a prefixed vector can be kept: another voter's pipeline may write the same name
      if (keep != null && keep.startsWith(prefix)) {
        original.add(keep);
      } else {
        keep = null;
      }
      String kept = keep;
      out = out.drop(Arrays.stream(out.columns())
          .filter(c -> c.startsWith(prefix) && !c.equals(kept)).toArray(String[]::new));
    }
    return combine(out, original);
  }

  /**
   * @return {@code df} plus the voter's {@link #voterColumn} (and, when kept, its classifier's
   *     input vector), computed by its {@link FusedVoter}; empty when its stages are not covered
   */
  private static Optional<Dataset<Row>> fused(Dataset<Row> df, Voter v, boolean keepFeatures) {
    Dataset<Row> prepared = FusedVoter.prepare(v.model(), df);
    Optional<FusedVoter> voter = FusedVoter.of(v.model(), prepared.schema());
    if (voter.isEmpty()) {
      return Optional.empty();
    }
    FusedVoter f = voter.get();
    Column in = struct(f.inputs().stream().map(c -> col("`" + c + "`")).toArray(Column[]::new));
    if (!keepFeatures) {
      return Optional.of(prepared.withColumn(voterColumn(v.name()),
          udf((UDF1<Row, Double>) r -> f.probability(f.features(r)), DataTypes.DoubleType)
              .apply(in)));
    }
    StructType both = new StructType().add("p", DataTypes.DoubleType, false)
        .add("x", SQLDataTypes.VectorType(), false);
    String tmp = "__fused_" + v.name();
    return Optional.of(prepared
        .withColumn(tmp, udf((UDF1<Row, Row>) r -> {
          Vector x = f.features(r);
          return RowFactory.create(f.probability(x), x);
        }, both).apply(in))
        .withColumn(voterColumn(v.name()), col(tmp).getField("p"))
        .withColumn(classifierFeaturesCol(v.model()), col(tmp).getField("x"))
        .drop(tmp));
  }

  /** @return the features column of the pipeline's predictor */
  private static String classifierFeaturesCol(PipelineModel model) {
    return CandidateDescription.of(model).featuresCol();
  }

  /** @return the column {@link #fromVoterProbabilities} reads a voter's probability from */
  public static String voterColumn(String voter) {
    return "__p_" + voter;
  }

  /**
   * Combines and calibrates probabilities the voters already gave, e.g. their out-of-fold
   * predictions: {@code df} has one {@link #voterColumn} per voter; the result adds {@link
   * #VOTER_PROBABILITIES}, {@link #RAW} and {@link #PROPENSITY} to its other columns.
   */
  public Dataset<Row> fromVoterProbabilities(Dataset<Row> df) {
    List<String> original = Arrays.stream(df.columns())
        .filter(c -> voters.stream().noneMatch(v -> voterColumn(v.name()).equals(c))).toList();
    return combine(df, original);
  }

  private Dataset<Row> combine(Dataset<Row> withVoters, List<String> original) {
    Dataset<Row> out = withVoters;
    List<Column> mapEntries = new ArrayList<>();
    List<String> probs = new ArrayList<>();
    Column weighted = lit(0.0);
    double total = voters.stream().mapToDouble(Voter::weight).sum();
    Combine combine = combine();
    Calibration calibration = calibration();
    double[] platt = platt();
    for (Voter v : voters) {
      String p = voterColumn(v.name());
      mapEntries.add(lit(v.name()));
      mapEntries.add(col(p));
      probs.add(p);
      double w = combine == Combine.MEAN ? 1.0 / voters.size() : v.weight() / total;
      weighted = weighted.plus(col(p).multiply(w));
    }
    Column raw;
    if (combine == Combine.STACKING) {
      out = meta.setFeaturesCol(META_FEATURES).setProbabilityCol("__meta_probability")
          .setRawPredictionCol("__meta_raw").setPredictionCol("__meta_prediction")
          .transform(metaFeatures(out, probs));
      raw = functions.vector_to_array(col("__meta_probability"), "float64").getItem(1);
    } else {
      raw = weighted;
    }
    out = out.withColumn(RAW, raw);
    Column calibrated = col(RAW);
    if (calibration == Calibration.PLATT) {
      calibrated = lit(1.0).divide(lit(1.0).plus(
          exp(logit(col(RAW)).multiply(-platt[0]).minus(platt[1]))));
    } else if (calibration == Calibration.ISOTONIC) {
      out = isotonic.transform(out);
      calibrated = col("__isotonic");
    }
    List<Column> select = new ArrayList<>(original.stream().map(c -> col(c)).toList());
    select.add(map(mapEntries.toArray(new Column[0])).as(VOTER_PROBABILITIES));
    select.add(col(RAW));
    select.add(calibrated.as(PROPENSITY));
    return out.select(select.toArray(new Column[0]));
  }

  @Override
  public StructType transformSchema(StructType schema) {
    return schema
        .add(VOTER_PROBABILITIES, DataTypes.createMapType(DataTypes.StringType,
            DataTypes.DoubleType), false)
        .add(RAW, DataTypes.DoubleType, false)
        .add(PROPENSITY, DataTypes.DoubleType, false);
  }

  @Override
  public EnsembleModel copy(ParamMap extra) {
    return copyValues(new EnsembleModel(uid, voters, meta, isotonic), extra);
  }

  @Override
  public String uid() {
    return uid;
  }

  @Override
  public MLWriter write() {
    return new Writer(this, null);
  }

  /**
   * A writer that copies each voter's saved pipeline, file by file, from where it was saved
   * rather than serialising it again (a few dozen small Spark jobs per voter): for voters loaded
   * unchanged from those folders, such as the select job's, loaded from the run's candidates.
   *
   * @param savedAt a voter's name -> the folder its pipeline was loaded from
   */
  public MLWriter writeCopyingVoters(Function<String, String> savedAt) {
    return new Writer(this, savedAt);
  }

  /** @return the reader {@code load} uses; found by reflection like Spark's own models */
  public static MLReader<EnsembleModel> read() {
    return new Reader();
  }

  /** Loads an ensemble saved with {@link #write()}. */
  public static EnsembleModel load(String path) {
    return read().load(path);
  }

  private static boolean exists(SparkSession spark, Path p) {
    try {
      return p.getFileSystem(spark.sparkContext().hadoopConfiguration()).exists(p);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read " + p, e);
    }
  }

  /**
   * Spark ML's params metadata ({@code metadata/}, by {@code DefaultParamsWriter}), then each
   * voter's pipeline under {@code voters/<name>}, the meta-learner under {@code meta} and the
   * isotonic calibrator under {@code isotonic}, as {@code OneVsRestModel} saves its models.
   */
  private static final class Writer extends MLWriter {
    private final EnsembleModel model;
    private final Function<String, String> savedAt;

    /** @param savedAt where each voter's pipeline is saved already, or null to save it again */
    Writer(EnsembleModel model, Function<String, String> savedAt) {
      this.model = model;
      this.savedAt = savedAt;
    }

    @Override
    public void saveImpl(String path) {
      try {
        for (Voter v : model.voters) {
          String target = path + "/voters/" + v.name();
          if (savedAt == null) {
            Pipelines.save(v.model(), target);
          } else {
            copyFolder(new Path(savedAt.apply(v.name())), new Path(target));
          }
        }
        if (model.meta != null) {
          model.meta.write().overwrite().save(path + "/meta");
        }
        if (model.isotonic != null) {
          model.isotonic.write().overwrite().save(path + "/isotonic");
        }
      } catch (IOException e) {
        throw new UncheckedIOException("Cannot save ensemble to " + path, e);
      }
      // metadata last: a folder without it is not a loadable model
      DefaultParamsWriter$.MODULE$.saveMetadata(model, path, sparkSession());
    }

    private void copyFolder(Path from, Path to) throws IOException {
      if (!exists(sparkSession(), new Path(from, "metadata"))) {
        throw new PropensityException("Cannot copy the voter pipeline at " + from + " into the"
            + " ensemble: it is not a saved Spark ML model (no metadata folder). Re-run the train"
            + " job for the run.");
      }
      org.apache.hadoop.conf.Configuration conf = sparkSession().sparkContext()
          .hadoopConfiguration();
      FileUtil.copy(from.getFileSystem(conf), from, to.getFileSystem(conf), to, false, true, conf);
    }
  }

  private static final class Reader extends MLReader<EnsembleModel> {
    @Override
    public EnsembleModel load(String path) {
      SparkSession spark = sparkSession();
      if (!exists(spark, new Path(path, "metadata"))) {
        throw new PropensityException(String.format("Cannot load the ensemble model at %s: it"
            + " has no Spark ML params metadata (%s/metadata). Ensembles saved before the model"
            + " layer used Spark ML's params persistence (runs selected before issue 17, with a"
            + " hand-written metadata.json) no longer load: train the run again (train, select,"
            + " bins).", path, path));
      }
      DefaultParamsReader.Metadata metadata = DefaultParamsReader$.MODULE$.loadMetadata(path,
          spark, EnsembleModel.class.getName());
      String[] names = stringArray(metadata, "voterNames");
      double[] weights = doubleArray(metadata, "voterWeights");
      double[] metrics = doubleArray(metadata, "voterMetrics");
      List<Voter> voters = new ArrayList<>();
      for (int i = 0; i < names.length; i++) {
        voters.add(new Voter(names[i], weights[i], metrics[i],
            Pipelines.load(path + "/voters/" + names[i])));
      }
      Path fs = new Path(path);
      LogisticRegressionModel meta = exists(spark, new Path(fs, "meta"))
          ? LogisticRegressionModel.load(path + "/meta") : null;
      IsotonicRegressionModel iso = exists(spark, new Path(fs, "isotonic"))
          ? IsotonicRegressionModel.load(path + "/isotonic") : null;
      EnsembleModel model = new EnsembleModel(metadata.uid(), voters, meta, iso);
      metadata.getAndSetParams(model, Option.empty());
      return model;
    }
  }

  /** @return an array param of the saved metadata: the voters are read before the model exists */
  private static com.fasterxml.jackson.databind.JsonNode param(
      DefaultParamsReader.Metadata metadata, String name) {
    try {
      com.fasterxml.jackson.databind.JsonNode node = new ObjectMapper()
          .readTree(metadata.metadataJson()).path("paramMap").path(name);
      if (!node.isArray()) {
        throw new PropensityException(String.format("Cannot load ensemble %s: its metadata has no"
            + " param %s", metadata.uid(), name));
      }
      return node;
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read the metadata of ensemble " + metadata.uid(), e);
    }
  }

  private static String[] stringArray(DefaultParamsReader.Metadata metadata, String name) {
    List<String> out = new ArrayList<>();
    param(metadata, name).forEach(n -> out.add(n.asText()));
    return out.toArray(new String[0]);
  }

  /** Spark writes NaN and infinities as strings, numbers as numbers. */
  private static double[] doubleArray(DefaultParamsReader.Metadata metadata, String name) {
    List<Double> out = new ArrayList<>();
    param(metadata, name).forEach(n -> out.add(n.isNumber() ? n.asDouble()
        : Double.parseDouble(n.asText())));
    return out.stream().mapToDouble(Double::doubleValue).toArray();
  }
}
