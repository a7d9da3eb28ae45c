package dev.propensity.jobs.model;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.exp;
import static org.apache.spark.sql.functions.greatest;
import static org.apache.spark.sql.functions.least;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.map;
import static org.apache.spark.sql.functions.struct;
import static org.apache.spark.sql.functions.udf;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.ml.Model;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.classification.LogisticRegressionModel;
import org.apache.spark.ml.feature.VectorAssembler;
import org.apache.spark.ml.functions;
import org.apache.spark.ml.linalg.SQLDataTypes;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.ml.param.ParamMap;
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
 * the voters' fitted pipelines, an optional stacking meta-learner and an optional calibrator.
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

  /** A voter: a candidate's fitted pipeline and its weight. */
  public record Voter(String name, double weight, PipelineModel model) {}

  private final String uid;
  private final List<Voter> voters;
  private final Combine combine;
  private final LogisticRegressionModel meta;
  private final Calibration calibration;
  private final double plattSlope;
  private final double plattIntercept;
  private final IsotonicRegressionModel isotonic;

  EnsembleModel(String uid, List<Voter> voters, Combine combine, LogisticRegressionModel meta,
      Calibration calibration, double plattSlope, double plattIntercept,
      IsotonicRegressionModel isotonic) {
    this.uid = uid;
    this.voters = List.copyOf(voters);
    this.combine = combine;
    this.meta = meta;
    this.calibration = calibration;
    this.plattSlope = plattSlope;
    this.plattIntercept = plattIntercept;
    this.isotonic = isotonic;
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
    return new EnsembleModel(uid, voters, combine, meta, Calibration.PLATT, slope, intercept,
        null);
  }

  /** @return this ensemble with isotonic calibration of the raw score */
  public EnsembleModel withIsotonic(IsotonicRegressionModel model) {
    return new EnsembleModel(uid, voters, combine, meta, Calibration.ISOTONIC, 1.0, 0.0,
        model.setFeaturesCol(RAW).setPredictionCol("__isotonic"));
  }

  /** @return this ensemble without calibration */
  public EnsembleModel uncalibrated() {
    return new EnsembleModel(uid, voters, combine, meta, Calibration.NONE, 1.0, 0.0, null);
  }

  public List<Voter> voters() {
    return voters;
  }

  public Combine combine() {
    return combine;
  }

  public Calibration calibration() {
    return calibration;
  }

  /** @return the stacking meta-learner, or null */
  LogisticRegressionModel meta() {
    return meta;
  }

  /** @return Platt's slope and intercept on the raw score's logit */
  double[] platt() {
    return new double[] {plattSlope, plattIntercept};
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

  /** @return the features column of the pipeline's last predictor, or null if it has none */
  private static String classifierFeaturesCol(PipelineModel model) {
    String col = null;
    for (org.apache.spark.ml.Transformer stage : model.stages()) {
      if (stage instanceof org.apache.spark.ml.PredictionModel<?, ?> p) {
        col = p.getFeaturesCol();
      }
    }
    return col;
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
          exp(logit(col(RAW)).multiply(-plattSlope).minus(plattIntercept))));
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
    return new EnsembleModel(uid, voters, combine, meta, calibration, plattSlope, plattIntercept,
        isotonic);
  }

  @Override
  public String uid() {
    return uid;
  }

  @Override
  public MLWriter write() {
    return new Writer(this);
  }

  /** @return the reader {@code load} uses; found by reflection like Spark's own models */
  public static MLReader<EnsembleModel> read() {
    return new Reader();
  }

  /** Loads an ensemble saved with {@link #write()}. */
  public static EnsembleModel load(String path) {
    return read().load(path);
  }

  private static final class Writer extends MLWriter {
    private final EnsembleModel model;

    Writer(EnsembleModel model) {
      this.model = model;
    }

    @Override
    public void saveImpl(String path) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("class", EnsembleModel.class.getName());
      m.put("uid", model.uid);
      m.put("combine", Modes.name(model.combine));
      m.put("calibration", Modes.name(model.calibration));
      m.put("platt", Map.of("slope", model.plattSlope, "intercept", model.plattIntercept));
      List<Map<String, Object>> vs = new ArrayList<>();
      for (Voter v : model.voters) {
        vs.add(Map.of("name", v.name(), "weight", v.weight()));
      }
      m.put("voters", vs);
      try {
        for (Voter v : model.voters) {
          v.model().write().overwrite().save(path + "/voters/" + v.name());
        }
        if (model.meta != null) {
          model.meta.write().overwrite().save(path + "/meta");
        }
        if (model.isotonic != null) {
          model.isotonic.write().overwrite().save(path + "/isotonic");
        }
        // metadata last: a folder without it is not a loadable model
        Path file = new Path(path, "metadata.json");
        FileSystem fs = file.getFileSystem(sparkSession().sparkContext().hadoopConfiguration());
        try (OutputStream out = fs.create(file, true)) {
          out.write(new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsBytes(m));
        }
      } catch (IOException e) {
        throw new UncheckedIOException("Cannot save ensemble to " + path, e);
      }
    }
  }

  private static final class Reader extends MLReader<EnsembleModel> {
    @Override
    public EnsembleModel load(String path) {
      SparkSession spark = sparkSession();
      Map<String, Object> m;
      try {
        Path file = new Path(path, "metadata.json");
        FileSystem fs = file.getFileSystem(spark.sparkContext().hadoopConfiguration());
        try (InputStream in = fs.open(file)) {
          m = new ObjectMapper().readValue(new String(in.readAllBytes(), StandardCharsets.UTF_8),
              new TypeReference<Map<String, Object>>() {});
        }
      } catch (IOException e) {
        throw new UncheckedIOException("Cannot read ensemble metadata at " + path, e);
      }
      List<Voter> voters = new ArrayList<>();
      @SuppressWarnings("unchecked")
      List<Map<String, Object>> vs = (List<Map<String, Object>>) m.get("voters");
      for (Map<String, Object> v : vs) {
        String name = (String) v.get("name");
        voters.add(new Voter(name, ((Number) v.get("weight")).doubleValue(),
            PipelineModel.load(path + "/voters/" + name)));
      }
      Combine combine = Modes.parse(path + "/metadata.json combine", (String) m.get("combine"),
          Combine.class);
      LogisticRegressionModel meta = combine == Combine.STACKING
          ? LogisticRegressionModel.load(path + "/meta") : null;
      Calibration calibration = Modes.parse(path + "/metadata.json calibration",
          (String) m.get("calibration"), Calibration.class);
      @SuppressWarnings("unchecked")
      Map<String, Object> platt = (Map<String, Object>) m.get("platt");
      IsotonicRegressionModel iso = calibration == Calibration.ISOTONIC
          ? IsotonicRegressionModel.load(path + "/isotonic") : null;
      return new EnsembleModel((String) m.get("uid"), voters, combine, meta, calibration,
          ((Number) platt.get("slope")).doubleValue(),
          ((Number) platt.get("intercept")).doubleValue(), iso);
    }
  }
}
