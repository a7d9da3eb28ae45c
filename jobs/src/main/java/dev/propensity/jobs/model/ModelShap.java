package dev.propensity.jobs.model;

import dev.propensity.common.PropensityException;
import dev.propensity.common.explain.Contributions;
import dev.propensity.common.explain.Link;
import dev.propensity.common.explain.LinearShap;
import dev.propensity.common.explain.TreeEnsemble;
import dev.propensity.common.explain.TreeShap;
import java.io.Serializable;
import java.util.Arrays;
import java.util.List;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.Transformer;
import org.apache.spark.ml.linalg.SparseVector;
import org.apache.spark.ml.linalg.Vector;

/**
 * The explainable core of one fitted pipeline, shipped to executors: exact TreeSHAP for MLlib tree
 * classifiers and XGBoost's trees (margin space, see {@link XGBoostTreesModel}), exact linear SHAP for logistic regression (against the training means of its
 * inputs, from the pipeline's StandardScaler), in the model's own output space (see {@link
 * MllibTrees}; logistic regression: the margin {@code rawPrediction[1]}, probability {@code 1 / (1
 * + exp(-m))}), with the map from input slots to features.
 */
final class ModelShap implements Serializable {

  private static final long serialVersionUID = 1L;

  private final String name;
  private final String featuresCol;
  private final int[] slotToFeature;
  private final Link link;
  private final String output;
  private final TreeEnsemble trees;
  private final LinearShap linear;

  private ModelShap(String name, String featuresCol, int[] slotToFeature, Link link,
      String output, TreeEnsemble trees, LinearShap linear) {
    this.name = name;
    this.featuresCol = featuresCol;
    this.slotToFeature = slotToFeature;
    this.link = link;
    this.output = output;
    this.trees = trees;
    this.linear = linear;
  }

  /** @return whether the pipeline's predictor can be explained exactly (its family says) */
  static boolean supports(PipelineModel model) {
    return CandidateDescription.of(model).output() != CandidateDescription.Output.NONE;
  }

  /**
   * @param name the candidate name (for messages)
   * @param model the fitted pipeline
   * @param slots its input slots
   * @param features the features the contributions are reported for
   */
  static ModelShap of(String name, PipelineModel model, FeatureSlots slots,
      List<String> features) {
    int[] map = new int[slots.size()];
    for (int i = 0; i < map.length; i++) {
      map[i] = features.indexOf(slots.sources().get(i));
    }
    CandidateDescription d = CandidateDescription.of(model);
    Transformer predictor = d.predictor(model);
    Family.Exact exact = Candidates.family(d.family()).exact(predictor)
        .orElseThrow(() -> new PropensityException(String.format("Cannot explain candidate"
            + " '%s': its family %s has no exact per-customer explanation here (supported: %s)",
            name, d.family(), Candidates.explainable())));
    String output = Modes.name(d.output());
    if (exact.trees() != null) {
      return new ModelShap(name, slots.featuresCol(), map, d.link(), output, exact.trees(), null);
    }
    if (slots.means() == null) {
      throw new PropensityException(String.format("Cannot explain candidate '%s' (%s): its"
          + " pipeline has no StandardScaler, so the training means of the model inputs are"
          + " unknown. Build it with scaling (CandidatePipeline scale=true).", name, d.family()));
    }
    return new ModelShap(name, slots.featuresCol(), map, d.link(), output, null,
        new LinearShap(exact.coefficients(), exact.intercept(), slots.means()));
  }

  String name() {
    return name;
  }

  String featuresCol() {
    return featuresCol;
  }

  Link link() {
    return link;
  }

  /** @return what the explained output is: {@code probability} or {@code margin} */
  String output() {
    return output;
  }

  int numSlots() {
    return slotToFeature.length;
  }

  /** @return a per-thread workspace (null for linear models) */
  TreeShap newWorkspace() {
    return trees == null ? null : trees.newWorkspace();
  }

  /**
   * Explains one row and adds {@code weight} times the contributions, folded into features, to
   * {@code features}.
   *
   * @param v the model input vector
   * @param x a buffer of {@link #numSlots()} for the dense row
   * @param phi a buffer of {@link #numSlots()} for the slot contributions
   * @param probability whether to carry the contributions into probability space
   * @return {expected value, output} in the chosen space (unweighted)
   */
  double[] explain(Vector v, double[] x, double[] phi, TreeShap workspace, boolean probability,
      double weight, double[] features) {
    dense(v, x);
    Arrays.fill(phi, 0.0);
    double expected;
    double out;
    if (trees != null) {
      trees.shap(x, phi, workspace);
      expected = trees.expectedValue();
      out = trees.predict(x);
    } else {
      linear.shap(x, phi);
      expected = linear.expectedValue();
      out = linear.predict(x);
    }
    if (probability) {
      expected = link.toProbabilitySpace(phi, expected, out);
      out = link.probability(out);
    }
    Contributions.fold(phi, slotToFeature, weight, features);
    return new double[] {expected, out};
  }

  private void dense(Vector v, double[] x) {
    if (v.size() != x.length) {
      throw new IllegalStateException(String.format("Candidate '%s': column %s has %d slots,"
          + " the model %d", name, featuresCol, v.size(), x.length));
    }
    if (v instanceof SparseVector sv) {
      Arrays.fill(x, 0.0);
      int[] idx = sv.indices();
      double[] val = sv.values();
      for (int i = 0; i < idx.length; i++) {
        x[idx[i]] = val[i];
      }
    } else {
      for (int i = 0; i < x.length; i++) {
        x[i] = v.apply(i);
      }
    }
  }
}
