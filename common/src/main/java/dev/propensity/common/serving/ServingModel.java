package dev.propensity.common.serving;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import dev.propensity.common.explain.Link;
import dev.propensity.common.explain.Tree;
import dev.propensity.common.explain.TreeEnsemble;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * What the real-time service needs of a completed run, as one JSON file written next to the
 * run's bins ({@code serving/model.json}): each voter's imputation, casts, {@link SlotEncoder}
 * and predictor as plain numbers, the combination, the calibration and the bin edges. It holds
 * no Spark type, so the service reads it without Spark; {@link LiveScorer} scores a row with it.
 *
 * <p>A run whose voters include a stage or family that has no plain form here (feature
 * selection, naive Bayes, an MLP, ...) is written with {@code exportable = false} and a reason:
 * the service then answers live scoring with 501 naming it, while lookups still work.
 *
 * @param format the file format version ({@link #FORMAT})
 * @param runId the run
 * @param exportable whether {@link #voters} and the rest are filled in
 * @param reason why not, when not exportable
 * @param voters the voters, in the ensemble's order
 * @param combine {@code mean}, {@code weighted} or {@code stacking}
 * @param meta the stacking meta-learner over the voters' clipped logits, or null
 * @param calibration {@code none}, {@code platt} or {@code isotonic}
 * @param plattSlope Platt's slope on the raw score's logit
 * @param plattIntercept Platt's intercept
 * @param isotonicBoundaries the isotonic regression's boundaries, or null
 * @param isotonicPredictions its predictions at the boundaries, or null
 * @param binEdges the run's sorted interior bin edges (bin 1 holds the highest scores)
 * @param binLabels one group label per bin, bin 1 first
 * @param features the features reason codes are reported for, in the batch scorer's order
 *     ({@code FeatureSchema.features()}); null in a file written before live reason codes
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record ServingModel(int format, String runId, boolean exportable, String reason,
    List<Voter> voters, String combine, Linear meta, String calibration, double plattSlope,
    double plattIntercept, double[] isotonicBoundaries, double[] isotonicPredictions,
    double[] binEdges, List<String> binLabels, List<String> features) {

  /** The current file format. */
  public static final int FORMAT = 2;

  private static final ObjectMapper JSON = new ObjectMapper()
      .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

  /**
   * A voter.
   *
   * @param name the candidate's name
   * @param weight its weight in a weighted vote
   * @param inputs the raw feature each of the encoder's fields comes from, in field order
   * @param encoder the encoding and scaling after imputation and casts
   * @param predictor the classifier
   */
  public record Voter(String name, double weight, List<Input> inputs, SlotEncoder encoder,
      Predictor predictor) {}

  /**
   * How one encoder field is read from the raw features.
   *
   * @param column the raw feature column
   * @param kind {@code number} (imputed: null or NaN becomes {@code surrogate}) or {@code
   *     category} (cast to a string as Spark's {@code CAST(x AS STRING)})
   * @param surrogate the imputer's value for a number
   * @param sourceType the Spark type name of the raw column ({@code string}, {@code int}, ...)
   */
  public record Input(String column, String kind, double surrogate, String sourceType) {

    public static final String NUMBER = "number";
    public static final String CATEGORY = "category";
  }

  /**
   * A classifier as plain numbers: the exact form its family explains (a linear margin, or a
   * weighted sum of trees plus an offset) and the link from that output to the probability.
   *
   * @param kind {@code linear} ({@link #linear}) or {@code trees} ({@link #trees})
   * @param linear the linear output, or null
   * @param trees the trees, each as its nodes in pre-order, or null
   * @param treeWeights one weight per tree, or null
   * @param offset the constant added to the trees' weighted sum (e.g. XGBoost's base margin)
   * @param link {@code identity}, {@code logistic} ({@code 1 / (1 + exp(-m))}) or {@code
   *     logistic-2x} (MLlib's gradient-boosted trees: {@code 1 / (1 + exp(-2 m))})
   * @param clip whether the output is a regression tree's mean 0/1 label, clipped to [0, 1] as
   *     the batch scorer clips it (NaN counts as the largest value)
   * @param means a linear output's training mean of each input slot after scaling: the
   *     reference of its linear SHAP values (null: no StandardScaler, no reason codes)
   */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record Predictor(String kind, Linear linear, List<List<Node>> trees,
      double[] treeWeights, double offset, String link, boolean clip, double[] means) {

    public static final String LINEAR = "linear";
    public static final String TREES = "trees";

    /** @return a linear output {@code coefficients . x + intercept} through {@code link} */
    public static Predictor linear(double[] coefficients, double intercept, Link link,
        double[] means) {
      return new Predictor(LINEAR, new Linear(coefficients, intercept), null, null, 0.0,
          name(link), false, means);
    }

    /** @return the trees of {@code ensemble} through {@code link}, clipped or not */
    public static Predictor trees(TreeEnsemble ensemble, Link link, boolean clip) {
      List<List<Node>> trees = new ArrayList<>();
      double[] weights = new double[ensemble.size()];
      for (int t = 0; t < weights.length; t++) {
        List<Node> nodes = new ArrayList<>();
        flatten(ensemble.tree(t).root(), nodes);
        trees.add(nodes);
        weights[t] = ensemble.weight(t);
      }
      return new Predictor(TREES, null, trees, weights, ensemble.offset(), name(link), clip,
          null);
    }

    /** @return the link from the output to the probability */
    public Link linkFunction() {
      try {
        return Link.valueOf(link.toUpperCase(Locale.ROOT).replace('-', '_'));
      } catch (IllegalArgumentException | NullPointerException e) {
        throw new IllegalArgumentException("Unknown link '" + link + "' in a serving model;"
            + " known: identity, logistic, logistic-2x. Re-run the bins job for the run.");
      }
    }

    /** @return the trees as an ensemble, or null for a linear output */
    public TreeEnsemble ensemble() {
      if (trees == null) {
        return null;
      }
      List<Tree> compiled = new ArrayList<>();
      for (List<Node> nodes : trees) {
        compiled.add(Tree.of(node(nodes, new int[] {0})));
      }
      return new TreeEnsemble(compiled, treeWeights, offset);
    }

    private static String name(Link link) {
      return link.name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    private static void flatten(Tree.Node node, List<Node> out) {
      if (node instanceof Tree.Leaf leaf) {
        out.add(new Node(-1, 0.0, null, false, false, leaf.value(), leaf.cover()));
        return;
      }
      Tree.Split s = (Tree.Split) node;
      out.add(new Node(s.feature(), s.categories() == null ? s.threshold() : 0.0,
          s.categories(), s.inSetGoesLeft(), s.missingGoesLeft(), 0.0, s.cover()));
      flatten(s.left(), out);
      flatten(s.right(), out);
    }

    private static Tree.Node node(List<Node> nodes, int[] next) {
      Node n = nodes.get(next[0]++);
      if (n.feature() < 0) {
        return Tree.leaf(n.value(), n.cover());
      }
      Tree.Node left = node(nodes, next);
      Tree.Node right = node(nodes, next);
      return n.categories() == null
          ? Tree.continuous(n.feature(), n.threshold(), n.missingGoesLeft(), n.cover(), left,
              right)
          : Tree.categorical(n.feature(), n.categories(), n.inSetGoesLeft(), n.cover(), left,
              right);
    }
  }

  /**
   * A linear function {@code coefficients . x + intercept}.
   *
   * @param coefficients one per vector slot
   * @param intercept the intercept
   */
  public record Linear(double[] coefficients, double intercept) {}

  /**
   * A tree node in pre-order (a split's left subtree follows it, then its right subtree).
   *
   * @param feature the vector slot tested, or -1 for a leaf
   * @param threshold a continuous split's threshold ({@code x <= threshold} goes left)
   * @param categories a categorical split's categories, or null
   * @param inSetGoesLeft whether a member of {@code categories} goes left
   * @param missingGoesLeft whether a missing value (NaN) goes left at a continuous split
   * @param value a leaf's output
   * @param cover the training weight that reached the node
   */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record Node(int feature, double threshold, double[] categories, boolean inSetGoesLeft,
      boolean missingGoesLeft, double value, double cover) {}

  /** @return a file for a run whose voters cannot be exported, saying why */
  public static ServingModel notExportable(String runId, String reason, double[] binEdges,
      List<String> binLabels) {
    return new ServingModel(FORMAT, runId, false, reason, null, null, null, null, 1.0, 0.0, null,
        null, binEdges, binLabels, null);
  }

  /** @return the model as JSON */
  public byte[] toJson() {
    try {
      return JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(this);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot write the serving model of run " + runId, e);
    }
  }

  /**
   * @param json a file written by {@link #toJson}
   * @param where the file's path, for the error message
   * @return the model
   * @throws IllegalArgumentException if it is not such a file or of another format version
   */
  public static ServingModel fromJson(byte[] json, String where) {
    ServingModel m;
    try {
      m = JSON.readValue(json, ServingModel.class);
    } catch (IOException e) {
      throw new IllegalArgumentException("Cannot read the serving model " + where + ": "
          + e.getMessage() + ". Re-run the bins job for the run to write it again.", e);
    }
    if (m.format() != FORMAT) {
      throw new IllegalArgumentException(String.format("Cannot read the serving model %s: format"
          + " %d, this version reads format %d. Re-run the bins job for the run.", where,
          m.format(), FORMAT));
    }
    return m;
  }
}
