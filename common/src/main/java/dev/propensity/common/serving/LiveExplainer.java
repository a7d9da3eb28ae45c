package dev.propensity.common.serving;

import dev.propensity.common.explain.Contributions;
import dev.propensity.common.explain.LinearShap;
import dev.propensity.common.explain.Link;
import dev.propensity.common.explain.TreeEnsemble;
import dev.propensity.common.explain.TreeShap;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The reason codes of a live score: what the batch scorer writes into {@code reason_codes}
 * ({@code jobs.model.ReasonCodes} through {@code Explainer} and {@code ModelShap}), computed the
 * same way on the voters' input vectors: exact TreeSHAP ({@link TreeEnsemble#shap}) or linear
 * SHAP against the training means, carried into probability space by the voter's {@link Link},
 * folded into features with the voter's weight over the ensemble's total, the top k by absolute
 * contribution ({@link Contributions#topK}). A code's value is the customer's raw value as the
 * batch scorer prints it ({@code String.valueOf} of the column's type). Thread-safe: TreeSHAP
 * workspaces are per thread.
 */
final class LiveExplainer {

  /** One explained voter: its position among the voters, weight and explanation. */
  private record Member(int voter, double weight, int[] slotToFeature, Link link,
      TreeEnsemble trees, LinearShap linear) {}

  private final List<Member> members;
  private final List<String> features;
  private final String[] sourceTypes;
  private final int k;
  private final ThreadLocal<TreeShap[]> workspaces;

  private LiveExplainer(List<Member> members, List<String> features, String[] sourceTypes,
      int k) {
    this.members = List.copyOf(members);
    this.features = List.copyOf(features);
    this.sourceTypes = sourceTypes;
    this.k = k;
    this.workspaces = ThreadLocal.withInitial(() -> {
      TreeShap[] ws = new TreeShap[this.members.size()];
      for (int m = 0; m < ws.length; m++) {
        ws[m] = this.members.get(m).trees() == null ? null
            : this.members.get(m).trees().newWorkspace();
      }
      return ws;
    });
  }

  /**
   * @param model the exportable model
   * @param trees each voter's compiled trees (null for a linear voter)
   * @param links each voter's link from its output to its probability
   * @param k how many codes
   * @param skipUnsupported leave out a voter that has no explanation instead of giving none
   * @return the explainer
   * @throws IllegalArgumentException saying why there are no reason codes
   */
  static LiveExplainer of(ServingModel model, List<TreeEnsemble> trees, List<Link> links, int k,
      boolean skipUnsupported) {
    if (model.features() == null) {
      throw new IllegalArgumentException("run " + model.runId() + "'s " + "serving model has no"
          + " feature list (written before live reason codes): re-run ./submit.sh bins"
          + " bins.run-id=" + model.runId());
    }
    List<String> features = model.features();
    String[] types = new String[features.size()];
    double total = model.voters().stream().mapToDouble(ServingModel.Voter::weight).sum();
    List<Member> members = new ArrayList<>();
    List<String> skipped = new ArrayList<>();
    for (int i = 0; i < model.voters().size(); i++) {
      ServingModel.Voter v = model.voters().get(i);
      for (ServingModel.Input in : v.inputs()) {
        int f = features.indexOf(in.column());
        if (f >= 0 && types[f] == null) {
          types[f] = in.sourceType();
        }
      }
      ServingModel.Predictor p = v.predictor();
      LinearShap linear = null;
      if (trees.get(i) == null) {
        if (p.means() == null) {
          skipped.add(v.name());
          continue;
        }
        linear = new LinearShap(p.linear().coefficients(), p.linear().intercept(), p.means());
      }
      members.add(new Member(i, v.weight() / total, slotToFeature(v, features), links.get(i),
          trees.get(i), linear));
    }
    if (!skipped.isEmpty() && (!skipUnsupported || members.isEmpty())) {
      throw new IllegalArgumentException("voter(s) " + skipped + " of run " + model.runId()
          + " have no exact explanation (a logistic regression without a StandardScaler)"
          + (members.isEmpty() ? "" : " and propensity.explain.unsupported-voters = fail"));
    }
    return new LiveExplainer(members, features, types, k);
  }

  /** Which feature each slot of the voter's input vector comes from (-1: none of them). */
  private static int[] slotToFeature(ServingModel.Voter v, List<String> features) {
    int[] map = new int[v.encoder().size()];
    int pos = 0;
    for (SlotEncoder.Slot s : v.encoder().slots()) {
      int f = features.indexOf(v.inputs().get(s.field()).column());
      for (int j = 0; j < s.size(); j++) {
        map[pos++] = f;
      }
    }
    return map;
  }

  /**
   * @param x each voter's input vector, in voter order
   * @param row the raw features, for the codes' values
   * @return the top k reasons, largest absolute contribution first
   */
  List<ReasonCode> explain(double[][] x, Map<String, ?> row) {
    TreeShap[] ws = workspaces.get();
    double[] feat = new double[features.size()];
    for (int m = 0; m < members.size(); m++) {
      Member member = members.get(m);
      double[] input = x[member.voter()];
      double[] phi = new double[input.length];
      double expected;
      double out;
      if (member.trees() != null) {
        member.trees().shap(input, phi, ws[m]);
        expected = member.trees().expectedValue();
        out = member.trees().predict(input);
      } else {
        member.linear().shap(input, phi);
        expected = member.linear().expectedValue();
        out = member.linear().predict(input);
      }
      member.link().toProbabilitySpace(phi, expected, out);
      Contributions.fold(phi, member.slotToFeature(), member.weight(), feat);
    }
    int[] top = Contributions.topK(feat, k);
    List<ReasonCode> codes = new ArrayList<>(top.length);
    for (int f : top) {
      codes.add(new ReasonCode(features.get(f), text(row.get(features.get(f)), sourceTypes[f]),
          feat[f]));
    }
    return codes;
  }

  /** A raw value as {@code String.valueOf} prints the batch scorer's column value. */
  static String text(Object value, String type) {
    if (value == null) {
      return null;
    }
    if (value instanceof Number n && type != null) {
      switch (type) {
        case "double":
          return Double.toString(n.doubleValue());
        case "float":
          return Float.toString(n.floatValue());
        case "integer":
        case "long":
        case "short":
        case "byte":
          return Long.toString(n.longValue());
        default:
          break;
      }
    }
    return String.valueOf(value);
  }
}
