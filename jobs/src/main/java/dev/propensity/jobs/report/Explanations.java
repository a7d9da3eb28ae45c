package dev.propensity.jobs.report;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.max;
import static org.apache.spark.sql.functions.to_date;
import static org.apache.spark.sql.functions.xxhash64;

import dev.propensity.common.schema.FeatureSchema;
import dev.propensity.common.table.Tables;
import dev.propensity.common.table.Warehouse;
import dev.propensity.common.run.ModelRun;
import dev.propensity.jobs.FeatureInput;
import dev.propensity.jobs.RunData;
import dev.propensity.jobs.explain.Waterfall;
import dev.propensity.jobs.model.Explainer;
import dev.propensity.jobs.model.Ensemble;
import dev.propensity.jobs.model.Splits;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * The SHAP contributions of a sample of customers, as the report's explanation section uses
 * them: the ensemble's exact per-customer contributions ({@link Explainer}) of a sample of the
 * run's newest scored snapshot, with each customer's bin, group and segment; before the run has
 * scored anything, of its validation rows (no groups then). Only the sample reaches the driver.
 *
 * @param source where the sample came from, for the report's text
 * @param space the explained output's space
 * @param features every feature, in schema order
 * @param skipped voters left out of the explanation
 * @param customers the explained customers
 */
record Explanations(String source, String space, List<String> features, List<String> skipped,
    List<Customer> customers) {

  /** One explained customer; bin, group and segment are null when unknown. */
  record Customer(String id, Integer bin, String group, String segment, double base,
      double output, List<Row> codes) {

    /** @return feature to (value, contribution) */
    Map<String, Row> byFeature() {
      Map<String, Row> m = new LinkedHashMap<>();
      codes.forEach(c -> m.put(c.getString(0), c));
      return m;
    }
  }

  /**
   * @param sample at most this many customers (a hash of the id picks them, so reruns agree)
   * @param skipUnsupported leave out voters without an exact explanation
   */
  static Explanations of(Warehouse warehouse, FeatureSchema schema, ModelRun run,
      Ensemble ensemble, int sample, boolean skipUnsupported) {
    Explainer explainer = Explainer.forEnsemble(ensemble, schema, skipUnsupported);
    Column id = col(schema.idColumn()).cast("string");
    Column[] inputs = schema.inputColumns().stream().map(c -> col("`" + c + "`"))
        .toArray(Column[]::new);
    Optional<String> snapshot = newestScored(warehouse, run.id());
    Dataset<Row> rows;
    String source;
    if (snapshot.isPresent()) {
      String s = snapshot.get();
      Dataset<Row> scores = warehouse.read(Tables.CUSTOMER_SCORES)
          .where(col("run_id").equalTo(run.id()).and(col("snapshot_date").equalTo(to_date(lit(s)))))
          .select(col("customer_id").as("__id"), col("bin").as("__bin"),
              col("group_label").as("__group"));
      if (warehouse.exists(Tables.CUSTOMER_SEGMENTS)) {
        Dataset<Row> seg = warehouse.read(Tables.CUSTOMER_SEGMENTS)
            .where(col("run_id").equalTo(run.id())
                .and(col("snapshot_date").equalTo(to_date(lit(s)))))
            .select(col("customer_id").as("__sid"), col("segment").as("__segment"));
        scores = scores.join(seg, scores.col("__id").equalTo(seg.col("__sid")), "left")
            .drop("__sid");
      } else {
        scores = scores.withColumn("__segment", lit(null).cast("string"));
      }
      Dataset<Row> features = FeatureInput.forScoring(warehouse, schema, s).rows()
          .select(inputs).withColumn("__key", id);
      rows = features.join(scores, features.col("__key").equalTo(scores.col("__id")))
          .drop("__id");
      source = "a sample of snapshot " + s + " as scored with this run";
    } else {
      rows = RunData.splitRows(warehouse, schema, run)
          .where(col("__split").equalTo(Splits.VALIDATION)).select(inputs)
          .withColumn("__key", id).withColumn("__bin", lit(null).cast("int"))
          .withColumn("__group", lit(null).cast("string"))
          .withColumn("__segment", lit(null).cast("string"));
      source = "a sample of the run's validation rows (no snapshot scored yet)";
    }
    rows = rows.orderBy(xxhash64(col("__key"))).limit(sample);
    List<Customer> customers = new ArrayList<>();
    for (Row r : explainer.contributions(rows).select(col("__key"), col("__bin"),
        col("__group"), col("__segment"), col(Explainer.EXPECTED_VALUE),
        col(Explainer.OUTPUT), col(Explainer.CONTRIBUTIONS)).collectAsList()) {
      customers.add(new Customer(r.getString(0), r.isNullAt(1) ? null : r.getInt(1),
          r.getString(2), r.getString(3), r.getDouble(4), r.getDouble(5), r.getList(6)));
    }
    return new Explanations(source, explainer.outputSpace(), explainer.features(),
        explainer.skipped(), customers);
  }

  /** @return the features by mean absolute contribution over the sample, largest first */
  List<Map.Entry<String, Double>> meanAbsolute() {
    Map<String, Double> sum = new LinkedHashMap<>();
    features.forEach(f -> sum.put(f, 0.0));
    for (Customer c : customers) {
      for (Row code : c.codes()) {
        sum.merge(code.getString(0), Math.abs(code.getDouble(2)), Double::sum);
      }
    }
    int n = Math.max(1, customers.size());
    return sum.entrySet().stream().map(e -> Map.entry(e.getKey(), e.getValue() / n))
        .sorted(Map.Entry.<String, Double>comparingByValue(Comparator.reverseOrder())).toList();
  }

  /**
   * @return one beeswarm row per feature: contributions and the value's colour position (its
   *     rank among the sample's numeric values of the feature; NaN when missing or not a number)
   */
  Svg.Swarm swarm(String feature) {
    int n = customers.size();
    double[] contribution = new double[n];
    double[] value = new double[n];
    for (int i = 0; i < n; i++) {
      Row code = customers.get(i).byFeature().get(feature);
      contribution[i] = code == null ? 0 : code.getDouble(2);
      value[i] = code == null ? Double.NaN : number(code.isNullAt(1) ? null : code.getString(1));
    }
    double[] sorted = java.util.Arrays.stream(value).filter(v -> !Double.isNaN(v)).sorted()
        .toArray();
    double[] shade = new double[n];
    for (int i = 0; i < n; i++) {
      if (Double.isNaN(value[i]) || sorted.length < 2) {
        shade[i] = Double.NaN;
      } else {
        int lo = lowerBound(sorted, value[i]);
        int hi = lowerBound(sorted, Math.nextUp(value[i])) - 1;
        shade[i] = (lo + hi) / 2.0 / (sorted.length - 1);
      }
    }
    return new Svg.Swarm(feature, contribution, shade);
  }

  /** @return the customers' (numeric value, contribution) of one feature, both NaN-free */
  double[][] dependence(String feature) {
    List<double[]> points = new ArrayList<>();
    for (Customer c : customers) {
      Row code = c.byFeature().get(feature);
      if (code != null && !code.isNullAt(1)) {
        double v = number(code.getString(1));
        if (!Double.isNaN(v)) {
          points.add(new double[] {v, code.getDouble(2)});
        }
      }
    }
    return new double[][] {points.stream().mapToDouble(p -> p[0]).toArray(),
        points.stream().mapToDouble(p -> p[1]).toArray()};
  }

  /** @return category value to mean contribution of one (categorical) feature, most first */
  Map<String, Double> meanByValue(String feature) {
    Map<String, double[]> acc = new LinkedHashMap<>();
    for (Customer c : customers) {
      Row code = c.byFeature().get(feature);
      if (code != null) {
        String v = missing(code) ? "(missing)" : code.getString(1);
        double[] a = acc.computeIfAbsent(v, k -> new double[2]);
        a[0] += code.getDouble(2);
        a[1]++;
      }
    }
    Map<String, Double> out = new LinkedHashMap<>();
    acc.entrySet().stream().sorted(Comparator.comparingDouble(e -> -e.getValue()[1]))
        .limit(20).forEach(e -> out.put(e.getKey(), e.getValue()[0] / e.getValue()[1]));
    return out;
  }

  /**
   * @param key a customer's group: its propensity group or its segment
   * @param top the features shown
   * @return group to (feature to mean contribution, in {@code top}'s order) plus the group's
   *     customer count under the key {@code ""}
   */
  Map<String, Map<String, Double>> meanByGroup(java.util.function.Function<Customer, String> key,
      List<String> top) {
    Map<String, Map<String, Double>> sums = new java.util.TreeMap<>();
    for (Customer c : customers) {
      String g = key.apply(c);
      if (g == null) {
        continue;
      }
      Map<String, Double> m = sums.computeIfAbsent(g, k -> new LinkedHashMap<>());
      m.merge("", 1.0, Double::sum);
      Map<String, Row> byFeature = c.byFeature();
      for (String f : top) {
        Row code = byFeature.get(f);
        m.merge(f, code == null ? 0 : code.getDouble(2), Double::sum);
      }
    }
    sums.values().forEach(m -> {
      double n = m.get("");
      m.replaceAll((f, v) -> f.isEmpty() ? v : v / n);
    });
    return sums;
  }

  /** @return whether at most a fifth of the feature's present values are not numbers */
  boolean numeric(String feature) {
    int present = 0;
    int numbers = 0;
    for (Customer c : customers) {
      Row code = c.byFeature().get(feature);
      if (code != null && !missing(code)) {
        present++;
        if (!Double.isNaN(number(code.getString(1)))) {
          numbers++;
        }
      }
    }
    return present > 0 && numbers * 5 >= present * 4;
  }

  /** @return whether a code's value is missing: null, or a numeric feature's NaN */
  private static boolean missing(Row code) {
    return code.isNullAt(1) || Waterfall.MISSING_NUMBER.equals(code.getString(1));
  }

  private static double number(String s) {
    if (s == null) {
      return Double.NaN;
    }
    try {
      return Double.parseDouble(s);
    } catch (NumberFormatException e) {
      return Double.NaN;
    }
  }

  private static int lowerBound(double[] a, double v) {
    int lo = 0;
    int hi = a.length;
    while (lo < hi) {
      int mid = (lo + hi) >>> 1;
      if (a[mid] < v) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    return lo;
  }

  /** @return the newest snapshot customer_scores holds for the run, if any */
  private static Optional<String> newestScored(Warehouse warehouse, String runId) {
    if (!warehouse.exists(Tables.CUSTOMER_SCORES)) {
      return Optional.empty();
    }
    Object newest = warehouse.read(Tables.CUSTOMER_SCORES).where(col("run_id").equalTo(runId))
        .agg(max("snapshot_date")).first().get(0);
    return Optional.ofNullable(newest).map(Object::toString);
  }
}
