package dev.propensity.jobs.bins;

import dev.propensity.jobs.model.RunLayout;

import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.when;

import com.fasterxml.jackson.core.type.TypeReference;
import dev.propensity.common.Errors;
import dev.propensity.common.run.ModelRun;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Column;

/**
 * The bin of a score as a Spark expression, with the same rule as
 * {@link dev.propensity.common.bins.BinEdges#binOf}: bin 1 holds the highest scores, a score
 * equal to an edge goes to the lower bin.
 *
 * @param edges sorted interior edges
 * @param labels one label per bin, bin 1 first
 */
public record BinColumns(double[] edges, List<String> labels) {

  /** The bin edges file in a run folder. */
  public static final String FILE = RunLayout.BIN_EDGES;

  /** @return the bin number column (1 = highest scores) */
  public Column bin(Column score) {
    Column above = lit(0);
    for (double e : edges) {
      above = above.plus(when(score.gt(e), 1).otherwise(0));
    }
    return lit(edges.length + 1).minus(above).cast("int");
  }

  /** @return the label of a bin number column */
  public Column label(Column bin) {
    Column out = lit(null).cast("string");
    for (int i = labels.size(); i >= 1; i--) {
      out = when(bin.equalTo(i), labels.get(i - 1)).otherwise(out);
    }
    return out;
  }

  /** @return labels for equal-frequency bins: "top 0-10%", "top 10-20%", ... */
  public static List<String> quantileLabels(int bins) {
    return java.util.stream.IntStream.range(0, bins)
        .mapToObj(i -> String.format("top %d-%d%%", Math.round(100.0 * i / bins),
            Math.round(100.0 * (i + 1) / bins)))
        .toList();
  }

  /** Writes the edges and labels to the run folder. */
  public void save(ModelRun run) {
    run.writeJson(FILE, Map.of("edges", edges, "labels", labels,
        "rule", "bin 1 = highest scores; a score equal to an edge goes to the lower bin"));
  }

  /** @return the run's bins; fails if the bins job has not run for it */
  public static BinColumns load(ModelRun run) {
    if (!run.exists(FILE)) {
      throw Errors.invalidConfig("propensity.score.run", run.id(),
          "a completed run with bins (run the bins job for it first)");
    }
    Map<String, Object> m = run.readJson(FILE, new TypeReference<>() {});
    double[] edges = ModelRun.JSON.convertValue(m.get("edges"), double[].class);
    List<String> labels = ModelRun.JSON.convertValue(m.get("labels"), new TypeReference<>() {});
    return new BinColumns(edges, labels);
  }
}
