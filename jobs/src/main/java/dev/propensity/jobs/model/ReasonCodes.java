package dev.propensity.jobs.model;

import dev.propensity.common.Errors;
import dev.propensity.common.config.JobConfig;
import dev.propensity.common.schema.FeatureSchema;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataTypes;

/**
 * The top k reasons behind each customer's propensity: the features with the largest absolute
 * SHAP contributions to the soft-voting ensemble's propensity (probability space, see {@link
 * Explainer}), as {@code reason_codes: array<struct<feature string, value string, contribution
 * double>>}, largest first. {@code value} is the customer's raw value of the feature as a string
 * (null when missing: the model used the imputed value). A positive contribution raises the
 * propensity above the ensemble's expected value, a negative one lowers it.
 *
 * <p>Config: {@code propensity.explain.top-k} (default 3; 0 leaves {@code reason_codes} null and
 * computes no contributions, for lookups that do not need them: tree voters' TreeSHAP costs far
 * more than scoring, see {@code benchmarks/RESULTS-shap.md}), {@code propensity.explain.scope}
 * ({@code all}, or {@code top-bins}: only bins 1 to {@code propensity.explain.top-bins}), {@code
 * propensity.explain.unsupported-voters} ({@code skip} or {@code fail}).
 */
public final class ReasonCodes {

  /** The column added to scored rows. */
  public static final String COLUMN = "reason_codes";

  private ReasonCodes() {}

  /** @return the column's type */
  public static ArrayType type() {
    return DataTypes.createArrayType(Explainer.CODE, false);
  }

  /** @return {@code propensity.explain.top-k}, validated (0, or more: 0 means no reason codes) */
  public static int topK(JobConfig config) {
    int k = config.integer("propensity.explain.top-k");
    if (k < 0) {
      throw Errors.invalidConfig("propensity.explain.top-k", k,
          "an integer of at least 0 (0: no reason codes)");
    }
    return k;
  }

  /** @return whether {@code propensity.explain.unsupported-voters} is {@code skip} */
  public static boolean skipUnsupported(JobConfig config) {
    return Modes.fromConfig(config, "propensity.explain.unsupported-voters",
        Modes.UnsupportedVoters.class) == Modes.UnsupportedVoters.SKIP;
  }

  /** {@code propensity.explain.scope}: which scored customers get reason codes. */
  public enum Scope {
    /** Every scored customer. */
    ALL,
    /** The customers in bins 1 to {@code propensity.explain.top-bins}. */
    TOP_BINS
  }

  /**
   * @return the highest bin explained: {@code propensity.explain.top-bins} with scope {@code
   *     top-bins}, or 0 (every bin) with scope {@code all}
   */
  public static int topBins(JobConfig config) {
    Scope scope = Modes.fromConfig(config, "propensity.explain.scope", Scope.class);
    if (scope == Scope.ALL) {
      return 0;
    }
    int n = config.integer("propensity.explain.top-bins");
    if (n < 1) {
      throw Errors.invalidConfig("propensity.explain.top-bins", n, "at least 1 (bin 1 holds the"
          + " highest propensities); or set propensity.explain.scope = all");
    }
    return n;
  }

  /**
   * Adds {@link #COLUMN} to scored rows, with k, the scope and the voter policy from config.
   *
   * @param scored rows that still have the feature columns (e.g. {@code Ensemble.score}'s output)
   * @param ensemble the run's voters, as loaded for scoring
   * @param bin the row's bin, for {@code propensity.explain.scope = top-bins}
   * @param config the job config ({@code propensity.schema.*}, {@code propensity.explain.*})
   * @return {@code scored} plus {@code reason_codes} (null outside the scope)
   */
  public static Dataset<Row> add(Dataset<Row> scored, Ensemble ensemble, Column bin,
      JobConfig config) {
    int topBins = topBins(config);
    return add(scored, ensemble, FeatureSchema.fromConfig(config), topK(config),
        skipUnsupported(config), topBins == 0 ? null : bin.leq(topBins));
  }

  /**
   * @param scored rows that still have the feature columns
   * @param ensemble the run's voters
   * @param schema the feature schema
   * @param k how many reasons per customer; 0: {@code reason_codes} is null and no
   *     contributions are computed
   * @param skipUnsupported leave out voters that have no exact explanation instead of failing
   * @return {@code scored} plus {@code reason_codes}
   */
  public static Dataset<Row> add(Dataset<Row> scored, Ensemble ensemble, FeatureSchema schema,
      int k, boolean skipUnsupported) {
    return add(scored, ensemble, schema, k, skipUnsupported, null);
  }

  /**
   * @param where which rows are explained (the others' {@code reason_codes} null), or null for
   *     every row
   */
  private static Dataset<Row> add(Dataset<Row> scored, Ensemble ensemble, FeatureSchema schema,
      int k, boolean skipUnsupported, Column where) {
    if (k == 0) {
      // the column stays, typed, so the scored tables keep one schema whatever k is
      return scored.withColumn(COLUMN, functions.lit(null).cast(type()));
    }
    return Explainer.forEnsemble(ensemble, schema, skipUnsupported)
        .topContributions(scored, k, COLUMN, where);
  }
}
