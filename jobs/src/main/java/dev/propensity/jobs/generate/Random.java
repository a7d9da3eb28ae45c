package dev.propensity.jobs.generate;

import static org.apache.spark.sql.functions.cos;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.log;
import static org.apache.spark.sql.functions.pmod;
import static org.apache.spark.sql.functions.sqrt;
import static org.apache.spark.sql.functions.xxhash64;

import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Column;

/**
 * Deterministic pseudo-random columns: a hash of (seed, stream, keys), so values do not depend on
 * partitioning or task order and the same seed gives the same tables on any cluster.
 */
final class Random {

  private static final long TWO_53 = 1L << 53;

  private final long seed;

  Random(long seed) {
    this.seed = seed;
  }

  /** @return uniform in [0, 1) for the named stream and keys */
  Column uniform(String stream, Column... keys) {
    List<Column> parts = new ArrayList<>(List.of(lit(seed), lit(stream)));
    parts.addAll(List.of(keys));
    return pmod(xxhash64(parts.toArray(new Column[0])), lit(TWO_53)).cast("double")
        .divide(lit((double) TWO_53));
  }

  /** @return standard normal (Box-Muller) for the named stream and keys */
  Column normal(String stream, Column... keys) {
    Column u1 = uniform(stream + ".1", keys).plus(lit(1e-12));
    Column u2 = uniform(stream + ".2", keys);
    return sqrt(log(u1).multiply(-2.0)).multiply(cos(u2.multiply(2 * Math.PI)));
  }
}
