package dev.propensity.jobs.model;

import dev.propensity.common.Errors;
import dev.propensity.common.config.JobConfig;
import dev.propensity.common.schema.FeatureSchema;
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
 * more than scoring, see {@code benchmarks/RESULTS-shap.md}), {@code
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

  /**
   * Adds {@link #COLUMN} to scored rows, with k and the voter policy from config.
   *
   * @param scored rows that still have the feature columns (e.g. {@code Ensemble.score}'s output)
   * @param ensemble the run's voters, as loaded for scoring
   * @param config the job config ({@code propensity.schema.*}, {@code propensity.explain.*})
   * @return {@code scored} plus {@code reason_codes}
   */
  public static Dataset<Row> add(Dataset<Row> scored, Ensemble ensemble, JobConfig config) {
    return add(scored, ensemble, FeatureSchema.fromConfig(config), topK(config),
        skipUnsupported(config));
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
    if (k == 0) {
      // the column stays, typed, so the scored tables keep one schema whatever k is
      return scored.withColumn(COLUMN, functions.lit(null).cast(type()));
    }
    return Explainer.forEnsemble(ensemble, schema, skipUnsupported)
        .topContributions(scored, k, COLUMN);
  }
}
