package dev.propensity.jobs.selection;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.map;

import com.fasterxml.jackson.core.type.TypeReference;
import dev.propensity.common.Errors;
import dev.propensity.common.run.ModelRun;
import dev.propensity.jobs.training.CandidatePipeline;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * The voters chosen for a run and their soft vote: {@code propensity} is the weighted mean of the
 * voters' positive-class probabilities; each voter's own probability is kept in
 * {@code voter_probabilities}.
 */
public final class Ensemble {

  /** A voter: a candidate of the run and its weight in the vote. */
  public record Voter(String name, double weight, double metric) {}

  /** Where the voters are recorded in the run folder. */
  public static final String VOTERS_FILE = "voters.json";

  private final List<Voter> voters;
  private final List<PipelineModel> models;

  private Ensemble(List<Voter> voters, List<PipelineModel> models) {
    this.voters = List.copyOf(voters);
    this.models = List.copyOf(models);
  }

  /** @return the folder of a candidate's fitted pipeline in a run */
  public static String modelPath(ModelRun run, String candidate) {
    return run.path("candidates/" + candidate + "/model");
  }

  /** Records the voters in the run folder. */
  public static void save(ModelRun run, String method, String metric, List<Voter> voters) {
    run.writeJson(VOTERS_FILE, Map.of("method", method, "metric", metric, "voters", voters));
  }

  /**
   * @return the run's ensemble with the voters' fitted pipelines loaded
   * @throws dev.propensity.common.PropensityException if the run has no voters yet
   */
  public static Ensemble load(ModelRun run) {
    if (!run.exists(VOTERS_FILE)) {
      throw Errors.invalidConfig("propensity.score.run", run.id(),
          "a run whose voters are selected (run the select job for it first)");
    }
    Map<String, Object> file = run.readJson(VOTERS_FILE, new TypeReference<>() {});
    List<Voter> voters = ModelRun.JSON.convertValue(file.get("voters"),
        new TypeReference<List<Voter>>() {});
    List<PipelineModel> models = new ArrayList<>();
    for (Voter v : voters) {
      models.add(PipelineModel.load(modelPath(run, v.name())));
    }
    return new Ensemble(voters, models);
  }

  /** Builds an ensemble from models in memory (the select job, before saving). */
  public static Ensemble of(List<Voter> voters, List<PipelineModel> models) {
    return new Ensemble(voters, models);
  }

  public List<Voter> voters() {
    return voters;
  }

  /** @return the voters' fitted pipelines, in the order of {@link #voters()} */
  public List<PipelineModel> models() {
    return models;
  }

  /**
   * @param df rows with the feature columns
   * @return {@code df} plus {@code voter_probabilities} (map voter to probability) and
   *     {@code propensity} (weighted mean of the voters)
   */
  public Dataset<Row> score(Dataset<Row> df) {
    Dataset<Row> out = df;
    List<String> original = Arrays.asList(df.columns());
    List<Column> mapEntries = new ArrayList<>();
    Column weighted = lit(0.0);
    double total = voters.stream().mapToDouble(Voter::weight).sum();
    for (int i = 0; i < voters.size(); i++) {
      String name = voters.get(i).name();
      String p = "__p_" + name;
      out = models.get(i).transform(out)
          .withColumn(p, CandidatePipeline.positiveProbability(name));
      String prefix = name + "__";
      out = out.drop(Arrays.stream(out.columns()).filter(c -> c.startsWith(prefix))
          .toArray(String[]::new));
      mapEntries.add(lit(name));
      mapEntries.add(col(p));
      weighted = weighted.plus(col(p).multiply(voters.get(i).weight() / total));
    }
    List<Column> select = new ArrayList<>(original.stream().map(c -> col(c)).toList());
    select.add(map(mapEntries.toArray(new Column[0])).as("voter_probabilities"));
    select.add(weighted.as("propensity"));
    return out.select(select.toArray(new Column[0]));
  }
}
