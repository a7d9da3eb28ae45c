package dev.propensity.jobs.training;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.pmod;
import static org.apache.spark.sql.functions.when;
import static org.apache.spark.sql.functions.xxhash64;

import dev.propensity.common.Errors;
import dev.propensity.common.config.JobConfig;
import org.apache.spark.sql.Column;

/**
 * Train / validation / test assignment by a hash of (seed, customer id): the same customer always
 * lands in the same split for a seed, whatever the partitioning, so later jobs (bins) can rebuild
 * the validation set from the pinned input version without storing it.
 */
public record Splits(double train, double validation, double test, long seed) {

  public static final String TRAIN = "train";
  public static final String VALIDATION = "validation";
  public static final String TEST = "test";

  /** @return the fractions of {@code propensity.train.split} and the seed, validated */
  public static Splits fromConfig(JobConfig config) {
    double tr = config.number("propensity.train.split.train");
    double va = config.number("propensity.train.split.validation");
    double te = config.number("propensity.train.split.test");
    if (tr <= 0 || va <= 0 || te < 0 || Math.abs(tr + va + te - 1.0) > 1e-6) {
      throw Errors.invalidConfig("propensity.train.split", tr + " / " + va + " / " + te,
          "train > 0, validation > 0, test >= 0 summing to 1");
    }
    return new Splits(tr, va, te, config.longValue("propensity.train.seed"));
  }

  /** @return a column naming each row's split */
  public Column column(String idColumn) {
    Column u = pmod(xxhash64(lit(seed), lit("split"), col(idColumn).cast("string")), lit(1_000_000L))
        .cast("double").divide(1_000_000.0);
    return when(u.lt(train), TRAIN).when(u.lt(train + validation), VALIDATION).otherwise(TEST);
  }
}
