package dev.propensity.common.psi;

import static org.apache.spark.sql.functions.array;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.explode;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.struct;
import static org.apache.spark.sql.functions.when;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * PSI for many columns on Spark. A baseline costs one quantile pass (all numeric columns at once)
 * and one counting pass; a comparison costs one counting pass for all columns: each row is turned
 * into (column, bucket) pairs by expressions, and only the per-bucket counts reach the driver.
 */
public final class SparkPsi {

  private static final String NULL_BUCKET = "__null__";
  private static final double RELATIVE_ERROR = 1e-3;

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
    List<String> numeric = new ArrayList<>();
    List<String> categorical = new ArrayList<>();
    Map<String, double[]> edges = new HashMap<>();
    for (PsiBaseline b : baselines) {
      if (PsiBaseline.NUMERIC.equals(b.kind())) {
        numeric.add(b.column());
        edges.put(b.column(), b.edges().stream().mapToDouble(Double::doubleValue).toArray());
      } else {
        categorical.add(b.column());
      }
    }
    Map<String, Map<String, Long>> counts = countBuckets(current, numeric, categorical, edges);
    Map<String, Double> out = new LinkedHashMap<>();
    for (PsiBaseline b : baselines) {
      Map<String, Long> c = counts.get(b.column());
      double[] actual = new double[b.buckets()];
      if (PsiBaseline.NUMERIC.equals(b.kind())) {
        for (int i = 0; i <= b.edges().size(); i++) {
          actual[i] = c.getOrDefault(String.valueOf(i), 0L);
        }
      } else {
        for (Map.Entry<String, Long> e : c.entrySet()) {
          int idx = b.categories().indexOf(e.getKey());
          if (!NULL_BUCKET.equals(e.getKey())) {
            actual[idx >= 0 ? idx : b.categories().size()] += e.getValue();
          }
        }
      }
      actual[b.buckets() - 1] = c.getOrDefault(NULL_BUCKET, 0L);
      double[] expected = b.counts().stream().mapToDouble(Long::doubleValue).toArray();
      out.put(b.column(), Psi.psi(expected, actual, epsilon));
    }
    return out;
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
