package dev.propensity.jobs.model;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.propensity.common.PropensityException;
import dev.propensity.common.explain.Link;
import dev.propensity.common.explain.Tree;
import dev.propensity.common.explain.TreeEnsemble;
import java.io.IOException;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Reads a binary XGBoost booster from its JSON model ({@code Booster.toByteArray("json")}, the
 * schema of XGBoost 3.1) into a plain {@link TreeEnsemble}: for {@code binary:logistic} (the
 * xgboost family) in margin space, {@code m(x) = logit(base_score) + sum_t leaf_t(x)},
 * probability {@code 1 / (1 + exp(-m))}; for {@code reg:squarederror} (the xgboost-rf family's
 * forest on the 0/1 label) in output space, {@code base_score + sum_t leaf_t(x)}. Written here
 * because XGBoost offers trees only as text or JSON, and fused scoring and TreeSHAP need them as
 * {@link Tree}s.
 *
 * <p>Exactness: XGBoost stores split conditions as floats and sends a row left when {@code
 * (float) x < split}, NaN to the node's default direction. {@link #threshold} gives the double
 * {@code t} with {@code x <= t} exactly when {@code (float) x < split}, so the trees decide every
 * double as XGBoost does. Leaves are XGBoost's float leaf values (learning rate applied); the
 * cover is the node's {@code sum_hessian}, what XGBoost's own TreeSHAP uses. XGBoost sums in
 * float, this class in double: margins agree to about 1e-6.
 */
final class XGBoostJson {

  /**
   * A booster in explainable form.
   *
   * @param ensemble the trees in use (up to the early-stopping best iteration), offset = the
   *     base margin
   * @param treesTrained how many trees the booster holds
   * @param numFeatures the booster's input width
   * @param gain the total loss reduction (XGBoost's {@code total_gain}) of the trees in use,
   *     per input slot
   * @param link how the ensemble's output becomes the probability: {@link Link#LOGISTIC} for
   *     {@code binary:logistic}, {@link Link#IDENTITY} for {@code reg:squarederror}
   */
  record Booster(TreeEnsemble ensemble, int treesTrained, int numFeatures, double[] gain,
      Link link) implements Serializable {}

  private static final ObjectMapper JSON = new ObjectMapper()
      .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS);

  private XGBoostJson() {}

  /**
   * @param json the booster's JSON model
   * @param name the candidate (for messages)
   * @return the trees of the first {@code best_iteration + 1} rounds (all without early
   *     stopping)
   * @throws PropensityException for a booster this class does not read (not gbtree, neither
   *     binary:logistic nor reg:squarederror, categorical splits, vector leaves)
   */
  static Booster parse(String json, String name) {
    JsonNode learner;
    try {
      learner = JSON.readTree(json).path("learner");
    } catch (IOException e) {
      throw new PropensityException("Cannot read the XGBoost model of candidate '" + name
          + "': " + e.getMessage(),
          PropensityException.EXIT_USER_ERROR, e);
    }
    String objective = learner.path("objective").path("name").asText();
    String booster = learner.path("gradient_booster").path("name").asText();
    JsonNode param = learner.path("learner_model_param");
    boolean logistic = "binary:logistic".equals(objective);
    if (!logistic && !"reg:squarederror".equals(objective) || !"gbtree".equals(booster)
        || param.path("num_target").asInt(1) != 1 || param.path("num_class").asInt(0) > 1) {
      throw unsupported(name, "objective " + objective + ", booster " + booster + ", classes "
          + param.path("num_class").asText() + " (supported: binary:logistic or"
          + " reg:squarederror with gbtree)");
    }
    int numFeatures = param.path("num_feature").asInt();
    double baseScore = Double.parseDouble(param.path("base_score").asText()
        .replace("[", "").replace("]", ""));
    if (logistic && !(baseScore > 0 && baseScore < 1) || !Double.isFinite(baseScore)) {
      throw unsupported(name, "base_score " + baseScore + " is not a probability");
    }
    JsonNode model = learner.path("gradient_booster").path("model");
    JsonNode trees = model.path("trees");
    // best_iteration counts rounds; a round grows num_parallel_tree trees (xgboost-rf: all of
    // them in its one round)
    int perRound = Math.max(1, model.path("gbtree_model_param").path("num_parallel_tree")
        .asInt(1));
    String best = learner.path("attributes").path("best_iteration").asText("");
    int used = best.isEmpty() ? trees.size()
        : Math.min(trees.size(), (Integer.parseInt(best) + 1) * perRound);
    List<Tree> out = new ArrayList<>();
    double[] gain = new double[numFeatures];
    for (int t = 0; t < used; t++) {
      out.add(Tree.of(node(trees.get(t), 0, gain, name)));
    }
    double[] weights = new double[used];
    Arrays.fill(weights, 1.0);
    // binary:logistic keeps base_score as a probability: the margin starts at its log-odds
    double offset = logistic ? Math.log(baseScore / (1 - baseScore)) : baseScore;
    return new Booster(new TreeEnsemble(out, weights, offset), trees.size(), numFeatures,
        gain, logistic ? Link.LOGISTIC : Link.IDENTITY);
  }

  private static Tree.Node node(JsonNode tree, int i, double[] gain, String name) {
    float condition = Float.parseFloat(tree.path("split_conditions").get(i).asText());
    double cover = tree.path("sum_hessian").get(i).asDouble();
    int left = tree.path("left_children").get(i).asInt();
    if (left < 0) {
      return Tree.leaf(condition, cover);
    }
    if (tree.path("split_type").get(i).asInt() != 0) {
      throw unsupported(name, "a categorical split (node " + i + ")");
    }
    int feature = tree.path("split_indices").get(i).asInt();
    gain[feature] += tree.path("loss_changes").get(i).asDouble();
    int right = tree.path("right_children").get(i).asInt();
    boolean missingLeft = tree.path("default_left").get(i).asInt() != 0;
    return Tree.continuous(feature, threshold(condition), missingLeft, cover,
        node(tree, left, gain, name), node(tree, right, gain, name));
  }

  /**
   * @return the largest double {@code t} such that {@code x <= t} exactly when {@code (float) x
   *     < split}: {@code x} rounds (to nearest, ties to even) to a float below {@code split}
   *     when it is at most the midpoint between {@code split} and the float below it, that
   *     midpoint included when the float below is the even one
   */
  static double threshold(float split) {
    float below = Math.nextDown(split);
    double mid = ((double) below + (double) split) / 2; // exact: 25 significant bits
    boolean belowEven = (Float.floatToRawIntBits(below) & 1) == 0;
    return belowEven ? mid : Math.nextDown(mid);
  }

  private static PropensityException unsupported(String name, String what) {
    return new PropensityException(String.format("Cannot read the XGBoost model of candidate"
        + " '%s': %s. The xgboost and xgboost-rf candidates train binary:logistic and"
        + " reg:squarederror gbtree boosters on numeric (one-hot) inputs only.", name, what));
  }
}
