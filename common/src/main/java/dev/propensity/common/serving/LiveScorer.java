package dev.propensity.common.serving;

import dev.propensity.common.explain.Link;
import dev.propensity.common.explain.TreeEnsemble;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Scores one customer's raw features with a {@link ServingModel}, computing what the batch
 * scorer's Spark expressions compute, in the same order: each voter's imputation and casts, its
 * {@link SlotEncoder} (the function the batch scorer's fused voters call), its classifier, the
 * combination ({@code ((0 + p1 w1) + p2 w2) ...}, or the stacking meta-learner on clipped
 * logits), the calibration (Platt on the clipped logit, or MLlib's isotonic interpolation) and
 * the bin rule of {@code BinColumns}. Immutable and safe to share between threads.
 */
public final class LiveScorer {

  private static final double CLIP = 1e-6;

  /**
   * A scored row.
   *
   * @param propensity the calibrated probability
   * @param raw the combined vote before calibration
   * @param voterProbabilities each voter's probability, in voter order
   * @param bin the bin, 1 for the highest scores
   * @param group the bin's label
   * @param unseen the category features whose value the run never saw (scored with the
   *     encoders' unseen slot), feature to value
   * @param reasonCodes the top reasons as the batch scorer gives them, or null when off
   */
  public record Result(double propensity, double raw, Map<String, Double> voterProbabilities,
      int bin, String group, Map<String, String> unseen, List<ReasonCode> reasonCodes) {}

  private record CompiledVoter(ServingModel.Voter spec, TreeEnsemble trees, Link link) {}

  private final ServingModel model;
  private final List<CompiledVoter> voters;
  private final Set<String> features;
  private final Map<String, String> kinds;
  private final double[] weights;
  private final LiveExplainer explainer;
  private final String noReasonCodes;

  /**
   * A scorer without reason codes.
   *
   * @param model an exportable serving model
   * @throws IllegalArgumentException if it is not exportable or names an unknown kind
   */
  public LiveScorer(ServingModel model) {
    this(model, 0, true);
  }

  /**
   * @param model an exportable serving model
   * @param topK how many reason codes per score ({@code propensity.explain.top-k}; 0: none)
   * @param skipUnsupported {@code propensity.explain.unsupported-voters = skip}
   * @throws IllegalArgumentException if it is not exportable or names an unknown kind
   */
  public LiveScorer(ServingModel model, int topK, boolean skipUnsupported) {
    if (!model.exportable()) {
      throw new IllegalArgumentException("Cannot score live with run " + model.runId() + ": "
          + model.reason());
    }
    this.model = model;
    this.voters = new ArrayList<>();
    this.features = new LinkedHashSet<>();
    this.kinds = new LinkedHashMap<>();
    for (ServingModel.Voter v : model.voters()) {
      voters.add(compile(v));
      for (ServingModel.Input in : v.inputs()) {
        features.add(in.column());
        kinds.put(in.column(), in.kind());
      }
    }
    double total = model.voters().stream().mapToDouble(ServingModel.Voter::weight).sum();
    this.weights = new double[voters.size()];
    for (int i = 0; i < weights.length; i++) {
      weights[i] = "mean".equals(model.combine()) ? 1.0 / voters.size()
          : model.voters().get(i).weight() / total;
    }
    LiveExplainer e = null;
    String why = topK == 0 ? "propensity.explain.top-k = 0" : null;
    if (topK > 0) {
      try {
        e = LiveExplainer.of(model, voters.stream().map(CompiledVoter::trees).toList(),
            voters.stream().map(CompiledVoter::link).toList(),
            topK, skipUnsupported);
      } catch (IllegalArgumentException ex) {
        why = ex.getMessage();
      }
    }
    this.explainer = e;
    this.noReasonCodes = why;
  }

  /** @return why live scores carry no reason codes, or null when they do */
  public String reasonCodesUnavailable() {
    return noReasonCodes;
  }

  /** @return the run the model belongs to */
  public String runId() {
    return model.runId();
  }

  /** @return the raw features a request must carry, and whether each is a number or category */
  public Map<String, String> features() {
    return kinds;
  }

  private static CompiledVoter compile(ServingModel.Voter v) {
    ServingModel.Predictor p = v.predictor();
    if (!ServingModel.Predictor.LINEAR.equals(p.kind())
        && !ServingModel.Predictor.TREES.equals(p.kind())) {
      throw new IllegalArgumentException("Unknown predictor kind '" + p.kind() + "' of voter "
          + v.name() + "; known: linear, trees. Re-run the bins job for the run.");
    }
    return new CompiledVoter(v, p.ensemble(), p.linkFunction());
  }

  /**
   * @param row the raw features: a number or null for a numeric feature, a string (or a number
   *     or boolean, cast as Spark casts it) or null for a category; other keys are ignored
   * @return the scored row
   * @throws InvalidFeatureException naming a missing or wrongly typed feature
   */
  public Result score(Map<String, ?> row) {
    for (Map.Entry<String, String> f : kinds.entrySet()) {
      if (!row.containsKey(f.getKey())) {
        throw new InvalidFeatureException(f.getKey(), "Missing feature '" + f.getKey()
            + "' (a " + f.getValue() + ", or null for a missing value); the run needs: "
            + String.join(", ", kinds.keySet()));
      }
    }
    Map<String, Double> probabilities = new LinkedHashMap<>();
    Map<String, String> unseen = new LinkedHashMap<>();
    double raw = 0.0;
    double[] logits = new double[voters.size()];
    double[][] inputs = new double[voters.size()][];
    for (int i = 0; i < voters.size(); i++) {
      CompiledVoter v = voters.get(i);
      inputs[i] = v.spec().encoder().encode(prepare(v.spec(), row, unseen));
      double p = probability(v, inputs[i]);
      probabilities.put(v.spec().name(), p);
      raw = raw + p * weights[i];
      logits[i] = logit(p);
    }
    if ("stacking".equals(model.combine())) {
      raw = sigmoid(dot(model.meta().coefficients(), logits) + model.meta().intercept());
    }
    double propensity;
    switch (model.calibration()) {
      case "platt":
        propensity = 1.0 / (1.0 + Math.exp(logit(raw) * -model.plattSlope()
            - model.plattIntercept()));
        break;
      case "isotonic":
        propensity = isotonic(raw);
        break;
      default:
        propensity = raw;
    }
    int bin = bin(propensity, model.binEdges());
    return new Result(propensity, raw, probabilities, bin, model.binLabels().get(bin - 1),
        unseen, explainer == null ? null : explainer.explain(inputs, row));
  }

  /** The voter's row after imputation and casts, in its encoder's field order. */
  private static Object[] prepare(ServingModel.Voter v, Map<String, ?> row,
      Map<String, String> unseen) {
    Object[] values = new Object[v.inputs().size()];
    for (int f = 0; f < values.length; f++) {
      ServingModel.Input in = v.inputs().get(f);
      Object value = row.get(in.column());
      if (ServingModel.Input.NUMBER.equals(in.kind())) {
        if (value != null && !(value instanceof Number)) {
          throw new InvalidFeatureException(in.column(), "Invalid feature '" + in.column()
              + "': expected a number or null, got " + describe(value));
        }
        double d = value == null ? Double.NaN : ((Number) value).doubleValue();
        values[f] = asSourceType(Double.isNaN(d) ? in.surrogate() : d, in.sourceType());
      } else {
        values[f] = category(in, value);
      }
    }
    for (SlotEncoder.Slot s : v.encoder().slots()) {
      if (s.unseen(values[s.field()])) {
        unseen.put(v.inputs().get(s.field()).column(), (String) values[s.field()]);
      }
    }
    return values;
  }

  /**
   * The imputer's output as Spark's {@code ImputerModel} gives it: cast back to the input
   * column's type, so an integer column's surrogate is truncated.
   */
  private static double asSourceType(double v, String type) {
    if (type == null) {
      return v;
    }
    switch (type) {
      case "integer":
      case "long":
      case "short":
      case "byte":
        return (double) (long) v;
      case "float":
        return (double) (float) v;
      default:
        return v;
    }
  }

  /** A category value as {@code CAST(x AS STRING)} gives it for the column's type. */
  private static String category(ServingModel.Input in, Object value) {
    if (value == null || value instanceof String) {
      return (String) value;
    }
    if (value instanceof Boolean b) {
      return b.toString();
    }
    if (value instanceof Number n) {
      String type = in.sourceType() == null ? "string" : in.sourceType();
      if (type.equals("double") || type.equals("float")) {
        return Double.toString(n.doubleValue());
      }
      if (n.doubleValue() == Math.rint(n.doubleValue())) {
        return Long.toString(n.longValue());
      }
      return n.toString();
    }
    throw new InvalidFeatureException(in.column(), "Invalid feature '" + in.column()
        + "': expected a string category or null, got " + describe(value));
  }

  private static String describe(Object value) {
    if (value instanceof String) {
      return "a string";
    }
    if (value instanceof Boolean) {
      return "a boolean";
    }
    if (value instanceof Map) {
      return "an object";
    }
    if (value instanceof List) {
      return "an array";
    }
    return value.getClass().getSimpleName();
  }

  private static double probability(CompiledVoter v, double[] x) {
    ServingModel.Predictor p = v.spec().predictor();
    double out = v.trees() == null
        ? dot(p.linear().coefficients(), x) + p.linear().intercept()
        : v.trees().predict(x);
    if (p.clip()) {
      // least(greatest(p, 0), 1) in Spark's order: NaN counts as the largest value
      return Double.isNaN(out) ? 1.0 : Math.min(1.0, Math.max(0.0, out));
    }
    return v.link().probability(out);
  }

  private static double dot(double[] a, double[] b) {
    double s = 0.0;
    for (int i = 0; i < a.length; i++) {
      s += a[i] * b[i];
    }
    return s;
  }

  private static double sigmoid(double m) {
    return 1.0 / (1.0 + Math.exp(-m));
  }

  /** The logit of a probability clipped to [1e-6, 1 - 1e-6], NaN as Spark's greatest gives. */
  private static double logit(double p) {
    double c = Double.isNaN(p) ? 1 - CLIP : Math.min(Math.max(p, CLIP), 1 - CLIP);
    return Math.log(c / (1.0 - c));
  }

  /** MLlib's {@code IsotonicRegressionModel.predict}: linear between boundaries, flat outside. */
  private double isotonic(double x) {
    double[] b = model.isotonicBoundaries();
    double[] y = model.isotonicPredictions();
    int found = Arrays.binarySearch(b, x);
    int insert = -found - 1;
    if (insert == 0) {
      return y[0];
    } else if (insert == b.length) {
      return y[y.length - 1];
    } else if (found < 0) {
      return y[insert - 1] + (y[insert] - y[insert - 1]) * (x - b[insert - 1])
          / (b[insert] - b[insert - 1]);
    }
    return y[found];
  }

  /** {@code BinColumns.bin}: edges + 1 minus the edges the score is above (NaN above all). */
  static int bin(double score, double[] edges) {
    int above = 0;
    for (double e : edges) {
      if (Double.isNaN(score) || score > e) {
        above++;
      }
    }
    return edges.length + 1 - above;
  }
}
