package dev.propensity.jobs.model;

import dev.propensity.common.explain.Link;
import dev.propensity.common.explain.TreeEnsemble;
import dev.propensity.jobs.model.CandidateDescription.Output;
import java.util.Map;
import java.util.Optional;
import org.apache.spark.ml.Transformer;

/**
 * A classifier family, in one place: how its candidate is built from {@code
 * propensity.train.<family>.*} and how its fitted predictor is read (the space its explanation
 * is exact in, its exact SHAP form, its own importance, facts worth recording). Only {@link
 * #build} is required; a family without the rest is still trained, scored (by MLlib's stages if
 * {@link FusedVoter} does not cover it) and ranked, and explanations skip or refuse it. Families
 * are registered in {@link Candidates}; the README's "Adding a classifier family" says how.
 */
@FunctionalInterface
public interface Family {

  /**
   * The exact SHAP form of a fitted predictor: its trees (over the input slots, in its output
   * space), or a linear margin.
   */
  record Exact(TreeEnsemble trees, double[] coefficients, double intercept) {
    public static Exact trees(TreeEnsemble trees) {
      return new Exact(trees, null, 0.0);
    }

    public static Exact linear(double[] coefficients, double intercept) {
      return new Exact(null, coefficients, intercept);
    }
  }

  /**
   * A predictor's own importance per input slot.
   *
   * @param method the name recorded in importance.json
   * @param values one value per input slot
   * @param timesStd whether the values are to be multiplied by each slot's standard deviation
   *     (coefficients), or are the importance already
   */
  record SlotImportance(String method, double[] values, boolean timesStd) {}

  /** @return the candidate the family's config section describes */
  Candidates.Candidate build(String name, Candidates.Context context);

  /**
   * The space a predictor's explanation is exact in, and how it becomes the probability.
   *
   * @param output probability, margin, or none (no exact explanation)
   * @param link the link from the output to the probability, or null
   */
  record Space(Output output, Link link) {
    /** No exact explanation. */
    public static final Space NONE = new Space(Output.NONE, null);
    /** The output is the probability. */
    public static final Space PROBABILITY = new Space(Output.PROBABILITY, Link.IDENTITY);

    /** @return a margin that {@code link} maps to the probability */
    public static Space margin(Link link) {
      return new Space(Output.MARGIN, link);
    }
  }

  /** @return the space of the predictor's exactly explained output */
  default Space space() {
    return Space.NONE;
  }

  /** @return the fitted predictor's exact SHAP form, or empty if it has none */
  default Optional<Exact> exact(Transformer predictor) {
    return Optional.empty();
  }

  /** @return the fitted predictor's own importance, or empty (permutation importance then) */
  default Optional<SlotImportance> importance(Transformer predictor) {
    return Optional.empty();
  }

  /** @return facts about the fitted predictor worth recording in params.json */
  default Map<String, Object> facts(Transformer predictor) {
    return Map.of();
  }
}
