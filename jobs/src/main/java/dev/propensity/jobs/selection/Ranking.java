package dev.propensity.jobs.selection;

import static org.apache.spark.sql.functions.col;

import com.fasterxml.jackson.core.type.TypeReference;
import dev.propensity.common.run.ModelRun;
import dev.propensity.jobs.RunData;
import dev.propensity.jobs.model.CandidatePipeline;
import dev.propensity.jobs.model.EnsembleModel;
import dev.propensity.jobs.model.EnsembleModel.Voter;
import dev.propensity.jobs.model.Metrics;
import dev.propensity.jobs.model.Pipelines;
import dev.propensity.jobs.model.Modes;
import dev.propensity.jobs.model.Modes.Combine;
import dev.propensity.jobs.model.RunLayout;
import dev.propensity.jobs.model.Splits;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.storage.StorageLevel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The run's candidates ranked by the select metric, on the validation split or on their
 * out-of-fold predictions (the CV mean over every training row), and the voters picked from the
 * top.
 *
 * @param voters the candidates, best first, their pipelines loaded
 * @param rankedOn {@code validation} or {@code out-of-fold}
 */
record Ranking(List<Voter> voters, String rankedOn) {

  private static final Logger LOG = LoggerFactory.getLogger(Ranking.class);

  static final String OUT_OF_FOLD = "out-of-fold";

  /** The metrics {@link Metrics#ranking} computes. */
  private static final List<String> RANKING = List.of("auc_roc", "auc_pr");

  /**
   * @param refit the rows the run's final models were fitted on
   * @param validation the run's validation rows (persisted by the caller)
   * @return the run's trained candidates, best first
   */
  static Ranking of(SparkSession spark, ModelRun run, SelectSettings settings,
      Modes.Refit refit, Dataset<Row> validation, String idColumn) {
    List<String> names = candidates(run);
    boolean outOfFold = rankByOutOfFold(settings, run, names, refit, validation);
    List<Voter> ranked = new ArrayList<>();
    for (String name : names) {
      ranked.add(new Voter(name, 1.0, outOfFold
          ? outOfFoldMetric(spark, run, name, settings.metric(), idColumn)
          : metricOf(run, name, settings.metric()), null));
    }
    ranked.sort(Comparator.comparingDouble(Voter::metric).reversed());
    String rankedOn = outOfFold ? OUT_OF_FOLD : Splits.VALIDATION;
    LOG.info("select: candidates ranked by {} on {}: {}", settings.metric(), rankedOn,
        ranked.stream().map(Voter::describe).toList());
    return new Ranking(loaded(run, ranked), rankedOn);
  }

  /**
   * @return the ranked candidates with their models, loaded side by side: loading a pipeline is
   *     a few dozen one-task Spark jobs (each stage's metadata and data), one after the other
   */
  private static List<Voter> loaded(ModelRun run, List<Voter> ranked) {
    ExecutorService pool = Executors.newFixedThreadPool(Math.max(1, ranked.size()));
    try {
      List<Future<PipelineModel>> models = new ArrayList<>();
      for (Voter v : ranked) {
        models.add(pool.submit(() -> Pipelines.load(RunLayout.of(run)
            .candidateModel(v.name()))));
      }
      List<Voter> out = new ArrayList<>();
      for (int i = 0; i < ranked.size(); i++) {
        Voter v = ranked.get(i);
        out.add(new Voter(v.name(), 1.0, v.metric(), models.get(i).get()));
      }
      return out;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("Interrupted while loading the candidates of run "
          + run.id(), e);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof RuntimeException re) {
        throw re;
      }
      throw new IllegalStateException("Cannot load a candidate of run " + run.id(), e.getCause());
    } finally {
      pool.shutdownNow();
    }
  }

  /**
   * Greedy: best first; a candidate whose validation probabilities correlate above
   * {@code maxCorrelation} with a voter already chosen is skipped.
   */
  static List<Voter> chooseVoters(List<Voter> ranked, Dataset<Row> validation, int topN,
      double maxCorrelation) {
    if (maxCorrelation >= 1.0 || ranked.size() <= 1) {
      return List.copyOf(ranked.subList(0, Math.min(topN, ranked.size())));
    }
    Dataset<Row> probs = EnsembleModel.softVote(ranked, Combine.MEAN).transform(validation);
    List<Column> cols = new ArrayList<>();
    for (Voter v : ranked) {
      cols.add(col(EnsembleModel.VOTER_PROBABILITIES).getItem(v.name()).as(v.name()));
    }
    Dataset<Row> wide = probs.select(cols.toArray(new Column[0]))
        .persist(StorageLevel.MEMORY_AND_DISK());
    List<Voter> chosen = new ArrayList<>();
    for (Voter candidate : ranked) {
      if (chosen.size() == topN) {
        break;
      }
      boolean diverse = true;
      for (Voter v : chosen) {
        double r = wide.stat().corr(candidate.name(), v.name());
        if (r > maxCorrelation) {
          LOG.info("select: skipping {}: correlation {} with voter {} is above {}",
              candidate.name(), r, v.name(), maxCorrelation);
          diverse = false;
          break;
        }
      }
      if (diverse) {
        chosen.add(candidate);
      }
    }
    wide.unpersist();
    return chosen;
  }

  /** The candidates the run's manifest names that have metrics (those whose training ended). */
  private static List<String> candidates(ModelRun run) {
    Map<String, Object> manifest = RunData.manifest(run);
    List<String> names = ModelRun.JSON.convertValue(manifest.get("candidates"),
        new TypeReference<>() {});
    return names.stream().filter(n -> run.exists(RunLayout.candidate(n, RunLayout.METRICS)))
        .toList();
  }

  /**
   * Whether to rank on the out-of-fold predictions: asked for, or (auto) the run was refitted on
   * its validation rows, or the validation split holds too few positives to rank on.
   */
  private static boolean rankByOutOfFold(SelectSettings settings, ModelRun run,
      List<String> names, Modes.Refit refit, Dataset<Row> validation) {
    if (settings.rankBy() != Modes.RankBy.AUTO) {
      return settings.rankBy() == Modes.RankBy.OUT_OF_FOLD;
    }
    int below = settings.outOfFoldBelowPositives();
    long positives = validation.where(col(CandidatePipeline.LABEL).equalTo(1.0)).count();
    boolean want = refit.includesValidation() || positives < below;
    if (want && !names.stream().allMatch(n -> RunLayout.of(run).hasOutOfFold(n))) {
      LOG.warn("select: run {} lacks out-of-fold predictions for some candidates; ranking on"
          + " validation", run.id());
      return false;
    }
    LOG.info("select: rank-by auto: {} ({} validation positives, out-of-fold below {}; refit"
        + " {})", want ? OUT_OF_FOLD : "validation", positives, below, Modes.name(refit));
    return want;
  }

  /** @return the metric (validation_x names metric x) over a candidate's out-of-fold rows */
  private static double outOfFoldMetric(SparkSession spark, ModelRun run, String candidate,
      String metric, String idColumn) {
    Dataset<Row> oof = RunData.outOfFold(spark, run, List.of(candidate), List.of("__p"),
        idColumn, "Set propensity.select.rank-by = validation, or retrain the run.");
    String name = metric.substring(metric.indexOf('_') + 1);
    // the ranking metrics alone when they are asked for: three jobs, not every metric's
    Map<String, ?> metrics = RANKING.contains(name) ? Metrics.ranking(oof, col("__p"), "label")
        : Metrics.evaluate(oof, col("__p"), "label", OptionalDouble.empty());
    Object value = metrics.get(name);
    // without both classes: null from evaluate, NaN from ranking
    return value == null || Double.isNaN(((Number) value).doubleValue())
        ? Double.NEGATIVE_INFINITY : ((Number) value).doubleValue();
  }

  private static double metricOf(ModelRun run, String candidate, String metric) {
    Map<String, Object> m = run.readJson(RunLayout.candidate(candidate, RunLayout.METRICS),
        new TypeReference<>() {});
    String split = metric.substring(0, metric.indexOf('_'));
    @SuppressWarnings("unchecked")
    Map<String, Object> bySplit = (Map<String, Object>) m.get(split);
    Object value = bySplit == null ? null : bySplit.get(metric.substring(split.length() + 1));
    return value == null ? Double.NEGATIVE_INFINITY : ((Number) value).doubleValue();
  }
}
