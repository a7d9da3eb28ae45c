package dev.propensity.jobs.training;

import dev.propensity.common.Errors;
import dev.propensity.common.config.JobConfig;
import dev.propensity.common.schema.FeatureSchema;
import java.util.List;
import java.util.Map;
import java.util.function.BiFunction;
import org.apache.spark.ml.Pipeline;
import org.apache.spark.ml.classification.LogisticRegression;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.tuning.ParamGridBuilder;

/**
 * The classifier families a run can train, by config name. Each builds its pipeline and its
 * parameter grid from {@code propensity.train.<name>.*}.
 */
public final class Candidates {

  /** A candidate ready to cross-validate: its pipeline and the grid to search. */
  public record Candidate(String name, Pipeline pipeline, ParamMap[] grid) {}

  private static final Map<String, BiFunction<JobConfig, FeatureSchema, Candidate>> FACTORIES =
      Map.of("logistic", Candidates::logistic);

  private Candidates() {}

  /** @return the known candidate names, sorted */
  public static List<String> known() {
    return FACTORIES.keySet().stream().sorted().toList();
  }

  /**
   * @return the candidates named by {@code propensity.train.candidates}
   * @throws dev.propensity.common.PropensityException for an unknown name, listing known ones
   */
  public static List<Candidate> fromConfig(JobConfig config, FeatureSchema schema) {
    List<String> names = config.strings("propensity.train.candidates");
    if (names.isEmpty()) {
      throw Errors.invalidConfig("propensity.train.candidates", "[]",
          "at least one of " + known());
    }
    for (String name : names) {
      if (!FACTORIES.containsKey(name)) {
        throw Errors.unknownName("propensity.train.candidates", name, known());
      }
    }
    return names.stream().map(n -> FACTORIES.get(n).apply(config, schema)).toList();
  }

  private static Candidate logistic(JobConfig config, FeatureSchema schema) {
    String key = "propensity.train.logistic.";
    LogisticRegression lr = new LogisticRegression()
        .setMaxIter(config.integer(key + "max-iter"))
        .setFamily("binomial");
    Pipeline pipeline = CandidatePipeline.build("logistic", schema, lr, true);
    ParamMap[] grid = new ParamGridBuilder()
        .addGrid(lr.regParam(), toArray(config.numbers(key + "reg-param")))
        .addGrid(lr.elasticNetParam(), toArray(config.numbers(key + "elastic-net-param")))
        .build();
    return new Candidate("logistic", pipeline, grid);
  }

  private static double[] toArray(List<Double> values) {
    return values.stream().mapToDouble(Double::doubleValue).toArray();
  }
}
