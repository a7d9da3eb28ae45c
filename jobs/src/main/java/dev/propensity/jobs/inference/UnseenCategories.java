package dev.propensity.jobs.inference;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.min;
import static org.apache.spark.sql.functions.not;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.when;

import dev.propensity.jobs.model.CandidateDescription;
import dev.propensity.jobs.model.Ensemble;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.spark.ml.PipelineModel;
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
      int at = CandidateDescription.of(model).indexerStage();
      if (at >= 0) {
        StringIndexerModel indexer = (StringIndexerModel) model.stages()[at];
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
   * Counts in one aggregation pass.
   *
   * @param df rows holding the categorical columns, named {@code prefix + column}
   * @param known the known values per column (from {@link #known})
   * @param prefix the prefix of the columns in {@code df}
   * @return per column, the rows with a non-null value not in {@code known}
   */
  public static Map<String, Count> count(Dataset<Row> df, Map<String, Set<String>> known,
      String prefix) {
    Map<String, Count> out = new LinkedHashMap<>();
    if (known.isEmpty()) {
      return out;
    }
    List<Column> aggs = new ArrayList<>();
    for (Map.Entry<String, Set<String>> e : known.entrySet()) {
      Column value = col(prefix + e.getKey()).cast("string");
      Column unseen = value.isNotNull().and(e.getValue().isEmpty() ? lit(true)
          : not(value.isin(e.getValue().toArray())));
      aggs.add(sum(when(unseen, 1L).otherwise(0L)));
      aggs.add(min(when(unseen, value)));
    }
    Row r = df.agg(aggs.get(0), aggs.subList(1, aggs.size()).toArray(new Column[0])).first();
    int i = 0;
    for (String c : known.keySet()) {
      long rows = r.isNullAt(i) ? 0 : r.getLong(i);
      out.put(c, new Count(rows, r.isNullAt(i + 1) ? null : r.getString(i + 1)));
      i += 2;
    }
    return out;
  }
}
