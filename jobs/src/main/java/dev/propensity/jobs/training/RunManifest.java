package dev.propensity.jobs.training;

import dev.propensity.jobs.model.RunLayout;

import dev.propensity.jobs.model.CandidatePipeline;
import dev.propensity.jobs.model.Splits;

import com.typesafe.config.ConfigFactory;
import dev.propensity.common.Version;
import dev.propensity.common.config.JobConfig;
import dev.propensity.common.run.ModelRun;
import dev.propensity.common.table.Warehouse;
import dev.propensity.jobs.FeatureInput;
import dev.propensity.jobs.model.CandidatePipeline.FeatureSelection;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.SparkSession;

/** The run's manifest.json, rewritten as the run progresses. */
final class RunManifest {
  private final Map<String, Object> m = new LinkedHashMap<>();
  private final Map<String, Object> results = new LinkedHashMap<>();
  private final ModelRun run;

  RunManifest(SparkSession spark, JobConfig config, ModelRun run, FeatureInput input,
      Splits splits, TrainJob.TrainSettings s) {
    this.run = run;
    m.put("run_id", run.id());
    m.put("status", "running");
    m.put("created_at", Instant.now().toString());
    Map<String, Object> in = new LinkedHashMap<>();
    in.put("table", input.table());
    in.put("path", Warehouse.of(spark, config).path(input.table()));
    in.put("version", input.version());
    in.put("snapshot", input.snapshot().orElse(""));
    m.put("input", in);
    Map<String, Object> sp = new LinkedHashMap<>();
    sp.put("train", splits.train());
    sp.put("validation", splits.validation());
    sp.put("test", splits.test());
    sp.put("seed", splits.seed());
    sp.put("method", "stratified by label: seed-fixed hash order within each class");
    m.put("splits", sp);
    Map<String, Object> cv = new LinkedHashMap<>();
    cv.put("folds", s.folds());
    cv.put("metric", s.metric());
    cv.put("stratified", true);
    cv.put("parallelism", s.parallelism());
    cv.put("time_budget_seconds", s.budgetSeconds());
    m.put("cv", cv);
    m.put("seed", s.seed());
    m.put("candidates", config.strings("propensity.train.candidates"));
    m.put("candidate_results", results);
    m.put("warnings", List.of());
    m.put("spark_version", spark.version());
    m.put("delta_version", io.delta.tables.DeltaTable.class.getPackage()
        .getImplementationVersion());
    m.put("java_version", System.getProperty("java.version"));
    m.put("propensity_version", Version.get());
    m.put("settings_file", RunLayout.SETTINGS);
    m.put("settings", ConfigFactory.parseString(config.renderRedacted()).root().unwrapped());
  }

  /**
   * Records where the split cut each class, so later jobs rebuild the splits without sorting
   * (ids other than strings and integers are not recorded: those jobs sort again).
   */
  @SuppressWarnings("unchecked")
  void splitCuts(List<Splits.Cut> cuts) {
    if (Splits.Cut.recordable(cuts)) {
      ((Map<String, Object>) m.get("splits")).put("cuts", Splits.Cut.toManifest(cuts));
    }
  }

  @SuppressWarnings("unchecked")
  void describeData(Map<String, long[]> counts, List<Map<String, Object>> folds,
      FeatureChecks.Result features, FeatureSelection selection, double wNeg, double wPos,
      boolean weights) {
    Map<String, Object> c = new LinkedHashMap<>();
    counts.forEach((split, n) -> c.put(split, Map.of("rows", n[0] + n[1], "positives", n[1],
        "positive_rate", n[1] / (double) (n[0] + n[1]))));
    ((Map<String, Object>) m.get("splits")).put("counts", c);
    ((Map<String, Object>) m.get("cv")).put("fold_counts", folds);
    Map<String, Object> f = new LinkedHashMap<>();
    f.put("numeric", features.schema().numeric());
    f.put("categorical", features.schema().categorical());
    f.put("dropped", features.dropped());
    f.put("selection", selection);
    m.put("features", f);
    Map<String, Object> w = new LinkedHashMap<>();
    w.put("instance_weights", weights);
    w.put("negative", wNeg);
    w.put("positive", wPos);
    m.put("class_weights", w);
  }

  /** Records the rows the final models are fitted on ({@code propensity.train.refit}). */
  void refit(dev.propensity.jobs.model.Modes.Refit refit) {
    m.put("refit", dev.propensity.jobs.model.Modes.name(refit));
  }

  /** Records the snapshot held out whole for out-of-time evaluation (the promotion gate's). */
  @SuppressWarnings("unchecked")
  void holdoutSnapshot(String snapshot) {
    ((Map<String, Object>) m.get("input")).put("holdout_snapshot", snapshot);
  }

  void warnings(List<String> warnings) {
    m.put("warnings", List.copyOf(warnings));
  }

  void candidate(String name, Map<String, Object> result) {
    results.put(name, result);
    write("running");
  }

  void write(String status) {
    m.put("status", status);
    if (!"running".equals(status)) {
      m.put("finished_at", Instant.now().toString());
    }
    run.writeJson(RunLayout.MANIFEST, m);
  }

  void failed(RuntimeException e) {
    m.put("error", String.valueOf(e.getMessage()));
    try {
      write("failed");
    } catch (RuntimeException suppressed) {
      e.addSuppressed(suppressed);
    }
  }
}
