package dev.propensity.common.psi;

import static org.apache.spark.sql.functions.array;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.explode;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.struct;
import static org.apache.spark.sql.functions.udf;
import static org.apache.spark.sql.functions.when;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.api.java.UDF1;
import org.apache.spark.sql.types.DataTypes;

/**
 * PSI for many columns on Spark. A baseline costs one quantile pass (all numeric columns at once)
 * and one counting pass (each row turned into (column, bucket) pairs, counted by a group-by, as
 * the categories are not known yet); a comparison costs one pass for all columns: every value is
 * mapped to its baseline bucket and one group-by on (column, bucket) counts them.
 * Only the per-bucket counts reach the driver.
 */
public final class SparkPsi {

  private static final String NULL_BUCKET = "__null__";
  private static final double RELATIVE_ERROR = 1e-3;
  /** Bucket keys of column i are i * KEY_STRIDE + bucket. */
  private static final int KEY_STRIDE = 1 << 16;

  private SparkPsi() {}

  /**
   * @param df the baseline population
   * @param numeric numeric columns, bucketed by the baseline's quantiles
   * @param categorical categorical columns, bucketed by category
   * @param buckets number of quantile buckets for numeric columns (10 for deciles)
   * @return one baseline per column, numeric first
   */
  public static List<PsiBaseline> baseline(Dataset<Row> df, List<String> numeric,
      List<String> categorical, int buckets) {
    Map<String, double[]> edges = new HashMap<>();
    if (!numeric.isEmpty()) {
      double[] probs = new double[buckets - 1];
      for (int i = 1; i < buckets; i++) {
        probs[i - 1] = (double) i / buckets;
      }
      double[][] q = df.stat().approxQuantile(numeric.toArray(new String[0]), probs,
          RELATIVE_ERROR);
      for (int i = 0; i < numeric.size(); i++) {
        edges.put(numeric.get(i), Psi.distinctEdges(q[i]));
      }
    }
    Map<String, Map<String, Long>> counts = countBuckets(df, numeric, categorical, edges);
    List<PsiBaseline> out = new ArrayList<>();
    for (String c : numeric) {
      double[] e = edges.get(c);
      List<Long> n = new ArrayList<>();
      for (int b = 0; b <= e.length; b++) {
        n.add(counts.get(c).getOrDefault(String.valueOf(b), 0L));
      }
      n.add(counts.get(c).getOrDefault(NULL_BUCKET, 0L));
      out.add(new PsiBaseline(c, PsiBaseline.NUMERIC, boxed(e), List.of(), n));
    }
    for (String c : categorical) {
      List<String> cats = new ArrayList<>(counts.get(c).keySet());
      cats.remove(NULL_BUCKET);
      cats.sort(null);
      List<Long> n = new ArrayList<>();
      cats.forEach(k -> n.add(counts.get(c).get(k)));
      n.add(0L); // "other": by definition empty in the baseline
      n.add(counts.get(c).getOrDefault(NULL_BUCKET, 0L));
      out.add(new PsiBaseline(c, PsiBaseline.CATEGORICAL, List.of(), cats, n));
    }
    return out;
  }

  /**
   * @param baselines the stored baselines
   * @param current the current population (must have every baseline column)
   * @param epsilon share substituted for empty buckets
   * @return PSI per column, in the baselines' order
   */
  public static Map<String, Double> compare(List<PsiBaseline> baselines, Dataset<Row> current,
      double epsilon) {
    Map<String, Double> out = new LinkedHashMap<>();
    if (baselines.isEmpty()) {
      return out;
    }
    long[][] actual = countKnownBuckets(current, baselines);
    for (int i = 0; i < baselines.size(); i++) {
      PsiBaseline b = baselines.get(i);
      double[] a = new double[b.buckets()];
      for (int k = 0; k < a.length; k++) {
        a[k] = actual[i][k];
      }
      double[] expected = b.counts().stream().mapToDouble(Long::doubleValue).toArray();
      out.put(b.column(), Psi.psi(expected, a, epsilon));
    }
    return out;
  }

  /**
   * The buckets are known up front (edges, categories), so each value becomes the key
   * {@code column index * 1024 + bucket} and one group-by on that int counts them all. The bucket
   * is computed by a small Java function per column ({@link Psi#bucketOf}, a hash lookup for
   * categories): the equivalent CASE chains made generated code too large for the JIT and were
   * several times slower (benchmarks/RESULTS-scoring.md).
   */
  private static long[][] countKnownBuckets(Dataset<Row> df, List<PsiBaseline> baselines) {
    List<Column> keys = new ArrayList<>();
    for (int i = 0; i < baselines.size(); i++) {
      if (baselines.get(i).buckets() >= KEY_STRIDE) {
        throw new IllegalArgumentException("Invalid PSI baseline of " + baselines.get(i).column()
            + ": " + baselines.get(i).buckets() + " buckets, at most " + (KEY_STRIDE - 1));
      }
      keys.add(bucketKey(baselines.get(i), i * KEY_STRIDE));
    }
    long[][] out = new long[baselines.size()][];
    for (int i = 0; i < baselines.size(); i++) {
      out[i] = new long[baselines.get(i).buckets()];
    }
    for (Row r : df.select(explode(array(keys.toArray(new Column[0]))).as("k"))
        .groupBy("k").count().collectAsList()) {
      int key = r.getInt(0);
      out[key / KEY_STRIDE][key % KEY_STRIDE] = r.getLong(1);
    }
    return out;
  }

  /** @return {@code offset +} the bucket of a column's value, in the baseline's bucket order */
  private static Column bucketKey(PsiBaseline b, int offset) {
    int nullBucket = offset + b.buckets() - 1;
    if (PsiBaseline.NUMERIC.equals(b.kind())) {
      double[] edges = b.edges().stream().mapToDouble(Double::doubleValue).toArray();
      UDF1<Double, Integer> bucket = x -> x == null ? nullBucket : offset + Psi.bucketOf(x, edges);
      return udf(bucket, DataTypes.IntegerType).apply(col(b.column()).cast("double"));
    }
    HashMap<String, Integer> index = new HashMap<>();
    for (int k = 0; k < b.categories().size(); k++) {
      index.put(b.categories().get(k), offset + k);
    }
    int other = offset + b.categories().size(); // values unseen in the baseline
    UDF1<String, Integer> bucket = x -> x == null ? nullBucket : index.getOrDefault(x, other);
    return udf(bucket, DataTypes.IntegerType).apply(col(b.column()).cast("string"));
  }

  /** One pass: (column, bucket) pairs by expression, counted by a group-by. */
  private static Map<String, Map<String, Long>> countBuckets(Dataset<Row> df, List<String> numeric,
      List<String> categorical, Map<String, double[]> edges) {
    List<Column> pairs = new ArrayList<>();
    for (String c : numeric) {
      Column bucket = lit(0);
      for (double e : edges.get(c)) {
        bucket = bucket.plus(when(col(c).cast("double").gt(e), 1).otherwise(0));
      }
      pairs.add(struct(lit(c).as("column"), when(col(c).isNull(), lit(NULL_BUCKET))
          .otherwise(bucket.cast("string")).as("bucket")));
    }
    for (String c : categorical) {
      pairs.add(struct(lit(c).as("column"), when(col(c).isNull(), lit(NULL_BUCKET))
          .otherwise(col(c).cast("string")).as("bucket")));
    }
    Map<String, Map<String, Long>> out = new HashMap<>();
    numeric.forEach(c -> out.put(c, new HashMap<>()));
    categorical.forEach(c -> out.put(c, new HashMap<>()));
    if (pairs.isEmpty()) {
      return out;
    }
    List<Row> rows = df.select(explode(array(pairs.toArray(new Column[0]))).as("p"))
        .groupBy(col("p.column"), col("p.bucket")).count().collectAsList();
    for (Row r : rows) {
      out.get(r.getString(0)).put(r.getString(1), r.getLong(2));
    }
    return out;
  }

  private static List<Double> boxed(double[] values) {
    List<Double> out = new ArrayList<>();
    for (double v : values) {
      out.add(v);
    }
    return out;
  }
}
