package dev.propensity.jobs.inference;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.min;
import static org.apache.spark.sql.functions.not;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.when;

import dev.propensity.jobs.selection.Ensemble;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.Transformer;
import org.apache.spark.ml.feature.StringIndexerModel;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * Category values a run never saw in training. The voters' pipelines score them (their indexers
 * keep unseen values in an extra slot); this counts them per column so the score job can report
 * them. The known values are the fitted {@code StringIndexerModel} labels of the voters: a value
 * is unseen when any voter lacks it.
 */
public final class UnseenCategories {

  /** Rows of one column whose value the run never saw, and one such value. */
  public record Count(long rows, String example) {}

  private UnseenCategories() {}

  /**
   * @param ensemble the run's voters
   * @param categorical the schema's categorical columns
   * @return per categorical column that a voter indexes, the values every voter knows
   */
  public static Map<String, Set<String>> known(Ensemble ensemble, List<String> categorical) {
    Map<String, Set<String>> out = new LinkedHashMap<>();
    for (PipelineModel model : ensemble.models()) {
      for (Transformer stage : model.stages()) {
        if (!(stage instanceof StringIndexerModel indexer)) {
          continue;
        }
        String[] inputs = indexer.isSet(indexer.inputCols()) ? indexer.getInputCols()
            : new String[] {indexer.getInputCol()};
        String[][] labels = indexer.labelsArray();
        for (int i = 0; i < inputs.length; i++) {
          String column = original(inputs[i], categorical);
          if (column == null) {
            continue;
          }
          Set<String> values = new LinkedHashSet<>(Arrays.asList(labels[i]));
          out.merge(column, values, (a, b) -> {
            a.retainAll(b);
            return a;
          });
        }
      }
    }
    return out;
  }

  /**
   * @return the categorical column an indexer input comes from: the column itself, or the
   *     string cast {@code <voter>__str_<column>} that CandidatePipeline indexes; else null
   */
  private static String original(String input, List<String> categorical) {
    if (categorical.contains(input)) {
      return input;
    }
    int at = input.indexOf("__str_");
    if (at > 0) {
      String column = input.substring(at + "__str_".length());
      return categorical.contains(column) ? column : null;
    }
    return null;
  }

  /**
   * The aggregates that count unseen values, to run in another aggregation pass over the rows
   * (the score job adds them to its validation pass): per column, the number of rows with a
   * non-null value not in {@code known}. Only fixed-width sums, so that pass keeps Spark's hash
   * aggregation (a string {@code min} there forces a sort-based one: 34 s instead of 16-20 s for
   * 10M rows in the scoring benchmark).
   *
   * @param known the known values per column (from {@link #known}), named as in the rows
   * @return one aggregate column per entry of {@code known}, in its order
   */
  public static List<Column> aggregates(Map<String, Set<String>> known) {
    List<Column> aggs = new ArrayList<>();
    known.forEach((column, values) -> aggs.add(sum(when(unseen(column, values), 1L)
        .otherwise(0L))));
    return aggs;
  }

  /**
   * @param r the values of {@link #aggregates} for the same {@code known}, in order
   * @param rows the rows they were computed over: read again, only when a column has unseen
   *     values, for one example value of each such column (the smallest)
   * @return per column, the rows with a value not in {@code known}, and an example
   */
  public static Map<String, Count> read(Row r, Map<String, Set<String>> known,
      Dataset<Row> rows) {
    Map<String, Long> counts = new LinkedHashMap<>();
    int i = 0;
    for (String c : known.keySet()) {
      counts.put(c, r.isNullAt(i) ? 0L : r.getLong(i));
      i++;
    }
    List<String> withUnseen = counts.entrySet().stream().filter(e -> e.getValue() > 0)
        .map(Map.Entry::getKey).toList();
    Map<String, String> examples = new LinkedHashMap<>();
    if (!withUnseen.isEmpty()) {
      List<Column> mins = withUnseen.stream().map(c -> min(when(unseen(c, known.get(c)),
          col(c).cast("string")))).toList();
      Row e = rows.agg(mins.get(0), mins.subList(1, mins.size()).toArray(new Column[0]))
          .first();
      for (int j = 0; j < withUnseen.size(); j++) {
        examples.put(withUnseen.get(j), e.isNullAt(j) ? null : e.getString(j));
      }
    }
    Map<String, Count> out = new LinkedHashMap<>();
    counts.forEach((c, n) -> out.put(c, new Count(n, examples.get(c))));
    return out;
  }

  private static Column unseen(String column, Set<String> values) {
    Column value = col(column).cast("string");
    return value.isNotNull().and(values.isEmpty() ? lit(true) : not(value.isin(values.toArray())));
  }
}
