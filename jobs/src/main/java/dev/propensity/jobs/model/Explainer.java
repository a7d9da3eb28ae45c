package dev.propensity.jobs.model;

import dev.propensity.common.PropensityException;
import dev.propensity.common.explain.Contributions;
import dev.propensity.common.explain.TreeShap;
import dev.propensity.common.schema.FeatureSchema;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import dev.propensity.jobs.model.EnsembleModel.Voter;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.Transformer;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.api.java.UDF1;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Per-customer SHAP contributions of one candidate pipeline or of a run's soft-voting ensemble,
 * computed on Spark: the explainable models are broadcast once and a UDF over the voters' vectors
 * explains each row with its thread's TreeSHAP buffers; nothing is collected.
 *
 * <p>Spaces and what the numbers add up to, for every row ({@code expected_value +
 * sum(contributions) = output}):
 *
 * <ul>
 *   <li>a candidate, in its own output space: decision tree, random forest and xgboost-rf, the
 *       probability of class 1 (exact TreeSHAP); gradient-boosted trees, MLlib's margin {@code rawPrediction[1]}
 *       (exact TreeSHAP; probability = {@code 1 / (1 + exp(-2 margin))}); xgboost, its margin
 *       (exact TreeSHAP on its trees; probability {@code 1 / (1 + exp(-margin))}); logistic regression,
 *       the margin (log-odds; exact linear SHAP against the training means);
 *   <li>the ensemble, in probability space, like its vote: each voter's contributions are carried
 *       into probability space (exact for trees and forests; for GBT and logistic regression
 *       rescaled by {@code (p(output) - p(expected)) / (output - expected)}, an approximation that
 *       keeps additivity, signs and ratios), then averaged with the vote's weights. The output is
 *       the weighted mean of the voters' probabilities, i.e. the ensemble's {@code propensity}; the
 *       expected value is the weighted mean of the voters' base values {@code p(expected_v)}.
 * </ul>
 *
 * <p>Contributions are per original feature: one-hot slots of a categorical feature are summed.
 */
public final class Explainer {

  private static final Logger LOG = LoggerFactory.getLogger(Explainer.class);

  /** The base value column. */
  public static final String EXPECTED_VALUE = "expected_value";
  /** The explained output column: {@code expected_value + sum(contributions)}. */
  public static final String OUTPUT = "output";
  /** All features' contributions, largest magnitude first. */
  public static final String CONTRIBUTIONS = "contributions";
  /** One element of a contributions or reason-codes array. */
  public static final StructType CODE = new StructType()
      .add("feature", DataTypes.StringType)
      .add("value", DataTypes.StringType)
      .add("contribution", DataTypes.DoubleType);

  private final List<Voter> members;
  private final List<String> skipped;
  private final List<String> features;
  private final boolean probability;
  private final String space;

  private Explainer(List<Voter> members, List<String> skipped, List<String> features,
      boolean probability, String space) {
    this.members = List.copyOf(members);
    this.skipped = List.copyOf(skipped);
    this.features = List.copyOf(features);
    this.probability = probability;
    this.space = space;
  }

  /**
   * @param name the candidate's name (its column prefix)
   * @param model its fitted pipeline
   * @param schema the feature schema: the features contributions are reported for
   * @return an explainer in the candidate's own output space
   * @throws PropensityException when the candidate's model has no exact explanation here
   */
  public static Explainer forCandidate(String name, PipelineModel model, FeatureSchema schema) {
    CandidateDescription d = CandidateDescription.of(model);
    if (!ModelShap.supports(model)) {
      throw new PropensityException(String.format("Cannot explain candidate '%s': %s has no exact"
          + " per-customer explanation (family %s; explained families: %s); use the ensemble or"
          + " another candidate", name, d.predictor(model).getClass().getSimpleName(),
          d.family(), Candidates.explainable()));
    }
    String space = Modes.name(d.output());
    return new Explainer(List.of(new Voter(name, 1.0, model)), List.of(), schema.features(),
        false, space);
  }

  /**
   * @param ensemble the run's voters
   * @param schema the feature schema
   * @param skipUnsupported leave out voters without an exact explanation (logged; the outputs then
   *     add up to their weighted share only) instead of failing
   * @return an explainer in probability space
   */
  public static Explainer forEnsemble(Ensemble ensemble, FeatureSchema schema,
      boolean skipUnsupported) {
    List<Voter> voters = ensemble.voters();
    List<PipelineModel> models = ensemble.models();
    double total = voters.stream().mapToDouble(Voter::weight).sum();
    List<Voter> members = new ArrayList<>();
    List<String> skipped = new ArrayList<>();
    for (int i = 0; i < voters.size(); i++) {
      Voter v = voters.get(i);
      if (ModelShap.supports(models.get(i))) {
        members.add(new Voter(v.name(), v.weight() / total, models.get(i)));
      } else if (skipUnsupported) {
        skipped.add(v.name());
      } else {
        CandidateDescription d = CandidateDescription.of(models.get(i));
        throw new PropensityException(String.format("Cannot explain the ensemble: voter '%s' (%s)"
            + " has no exact per-customer explanation (family %s; explained families: %s). Set"
            + " propensity.explain.unsupported-voters = skip to explain the other voters.",
            v.name(), d.predictor(models.get(i)).getClass().getSimpleName(), d.family(),
            Candidates.explainable()));
      }
    }
    if (members.isEmpty()) {
      throw new PropensityException("Cannot explain the ensemble: none of its voters " + skipped
          + " has an exact explanation (families: " + Candidates.explainable() + ")");
    }
    if (!skipped.isEmpty()) {
      LOG.warn("explain: voters {} have no exact explanation and are left out; contributions"
          + " explain the other voters' weighted share of the propensity", skipped);
    }
    return new Explainer(members, skipped, schema.features(), true, "probability");
  }

  /** @return the features contributions are reported for, in schema order */
  public List<String> features() {
    return features;
  }

  /** @return {@code probability} or {@code margin}: the space of the explained output */
  public String outputSpace() {
    return space;
  }

  /** @return voters left out because they have no exact explanation */
  public List<String> skipped() {
    return skipped;
  }

  /**
   * @param df rows with the feature columns
   * @return {@code df} plus {@link #EXPECTED_VALUE}, {@link #OUTPUT} and {@link #CONTRIBUTIONS}
   *     (every feature, largest magnitude first)
   */
  public Dataset<Row> contributions(Dataset<Row> df) {
    return pass(df, features.size(), CONTRIBUTIONS, true, null);
  }

  /**
   * @param df rows with the feature columns
   * @param k how many features to keep per row
   * @param column the name of the array column added
   * @return {@code df} plus {@code column}: the top {@code k} features by absolute contribution
   */
  public Dataset<Row> topContributions(Dataset<Row> df, int k, String column) {
    return pass(df, k, column, false, null);
  }

  /**
   * As {@link #topContributions(Dataset, int, String)} for the rows {@code where} holds on only
   * (a condition on {@code df}'s columns); the others get null, at no explanation cost.
   */
  public Dataset<Row> topContributions(Dataset<Row> df, int k, String column, Column where) {
    return pass(df, k, column, false, where);
  }

  private Dataset<Row> pass(Dataset<Row> df, int k, String column, boolean totals,
      Column where) {
    List<String> outCols = totals ? List.of(EXPECTED_VALUE, OUTPUT, column) : List.of(column);
    Dataset<Row> base = df.drop(outCols.toArray(new String[0]));
    List<String> original = Arrays.asList(base.columns());
    List<String> missing = features.stream().filter(f -> !original.contains(f)).toList();
    if (!missing.isEmpty()) {
      throw new PropensityException(String.format("Cannot explain rows: missing feature"
          + " column(s) %s (from propensity.schema). Columns present: %s", missing, original));
    }
    Dataset<Row> in = base;
    for (Voter m : members) {
      String prefix = m.name() + "__";
      in = in.drop(Arrays.stream(in.columns()).filter(c -> c.startsWith(prefix))
          .toArray(String[]::new));
      Transformer[] stages = m.model().stages();
      for (int i = 0; i < CandidateDescription.of(m.model()).predictorStage(); i++) {
        in = stages[i].transform(in);
      }
    }
    // lazy: its schema names the slots; its rows are only computed when df lacks the vectors
    Dataset<Row> prepared = in;
    StructType transformed = prepared.schema();
    List<ModelShap> shaps = new ArrayList<>();
    for (Voter m : members) {
      FeatureSlots slots = FeatureSlots.of(m.model(), transformed, features);
      shaps.add(ModelShap.of(m.name(), m.model(), slots, features));
    }
    List<String> vectors = shaps.stream().map(ModelShap::featuresCol).toList();
    // the voters' vectors kept by Ensemble.score(df, true): no second run of the preprocessing
    Dataset<Row> source = original.containsAll(vectors) ? base : prepared;
    List<String> passed = original.stream().filter(c -> !vectors.contains(c)).toList();
    // one UDF over the vectors and the features' raw values (for the codes' value strings):
    // the other columns stay in Spark's generated code instead of a Row round trip
    List<Column> args = new ArrayList<>();
    vectors.forEach(v -> args.add(source.col(v)));
    features.forEach(f -> args.add(source.col(f)));
    StructType result = new StructType()
        .add(EXPECTED_VALUE, DataTypes.DoubleType, false)
        .add(OUTPUT, DataTypes.DoubleType, false)
        .add(column, DataTypes.createArrayType(CODE, false), false);
    Core core = new Core(shaps, members.stream().mapToDouble(Voter::weight).toArray(),
        probability, features, Math.max(0, k));
    Broadcast<Core> shared = JavaSparkContext.fromSparkContext(
        df.sparkSession().sparkContext()).broadcast(core);
    String tmp = "__explained";
    Column explained = functions.udf(new Explain(shared), result)
        .apply(functions.struct(args.toArray(new Column[0])));
    if (where != null) {
      // CASE WHEN evaluates the UDF only for the rows in scope
      explained = functions.when(where, explained);
    }
    List<Column> out = new ArrayList<>(passed.stream().map(c -> col(c)).toList());
    if (totals) {
      out.add(col(tmp).getField(EXPECTED_VALUE).as(EXPECTED_VALUE));
      out.add(col(tmp).getField(OUTPUT).as(OUTPUT));
    }
    out.add(col(tmp).getField(column).as(column));
    return source.withColumn(tmp, explained).select(out.toArray(new Column[0]));
  }

  private static Column col(String name) {
    return functions.col("`" + name + "`");
  }

  /** What every task needs: the models, weights and the features' names. */
  private record Core(List<ModelShap> models, double[] weights, boolean probability,
      List<String> features, int k) implements Serializable {}

  /**
   * Explains one row: {@code struct(vector per member, raw value per feature)} to {@code
   * struct(expected_value, output, codes)}. Buffers are allocated once per thread.
   */
  private static final class Explain implements UDF1<Row, Row> {

    private static final long serialVersionUID = 1L;
    private final Broadcast<Core> shared;
    private transient volatile ThreadLocal<Buffers> buffers;

    Explain(Broadcast<Core> shared) {
      this.shared = shared;
    }

    @Override
    public Row call(Row in) {
      Core c = shared.value();
      Buffers b = buffers(c);
      int n = c.models().size();
      Arrays.fill(b.feat, 0.0);
      double expected = 0;
      double output = 0;
      for (int v = 0; v < n; v++) {
        Vector vec = in.getAs(v);
        double[] eo = c.models().get(v).explain(vec, b.x[v], b.phi[v], b.ws[v], c.probability(),
            c.weights()[v], b.feat);
        expected += c.weights()[v] * eo[0];
        output += c.weights()[v] * eo[1];
      }
      int[] top = Contributions.topK(b.feat, c.k());
      List<Row> codes = new ArrayList<>(top.length);
      for (int f : top) {
        Object value = in.get(n + f);
        codes.add(RowFactory.create(c.features().get(f),
            value == null ? null : String.valueOf(value), b.feat[f]));
      }
      return RowFactory.create(expected, output, codes);
    }

    private Buffers buffers(Core c) {
      ThreadLocal<Buffers> local = buffers;
      if (local == null) {
        synchronized (this) {
          if (buffers == null) {
            buffers = ThreadLocal.withInitial(() -> new Buffers(c));
          }
          local = buffers;
        }
      }
      return local.get();
    }
  }

  /** One thread's SHAP workspaces and arrays. */
  private static final class Buffers {
    final TreeShap[] ws;
    final double[][] x;
    final double[][] phi;
    final double[] feat;

    Buffers(Core c) {
      int n = c.models().size();
      ws = new TreeShap[n];
      x = new double[n][];
      phi = new double[n][];
      for (int v = 0; v < n; v++) {
        ws[v] = c.models().get(v).newWorkspace();
        x[v] = new double[c.models().get(v).numSlots()];
        phi[v] = new double[c.models().get(v).numSlots()];
      }
      feat = new double[c.features().size()];
    }
  }
}
