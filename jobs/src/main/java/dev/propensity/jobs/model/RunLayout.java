package dev.propensity.jobs.model;

import dev.propensity.common.run.ModelRun;
import java.util.Objects;

/**
 * The paths inside a run folder, in one place: jobs ask it for a candidate's model or
 * out-of-fold table, the ensemble's files, the bins' files, and nobody concatenates paths.
 * Relative paths ({@code String} constants and the static methods) are for {@link ModelRun}'s
 * {@code readJson} / {@code writeJson} / {@code exists}; the instance methods return absolute
 * paths for Spark's readers and writers. The run's state (status, {@code LATEST}) belongs to
 * {@link dev.propensity.common.run.ModelRuns}, not to this class.
 *
 * <pre>
 * manifest.json, settings.conf, voters.json, report.html
 * candidates/&lt;name&gt;/model, oof, metrics.json, params.json, importance.json
 * ensemble/model, metrics.json, calibration.json, threshold.json, importance.json
 * bins/bin_edges.json, bin_stats.json
 * serving/model.json
 * drift/baseline.json
 * </pre>
 */
public final class RunLayout {

  /** The run's manifest: input, splits, settings, status. */
  public static final String MANIFEST = "manifest.json";
  /** The effective configuration of the training job, secrets redacted. */
  public static final String SETTINGS = "settings.conf";
  /** The selected voters (the file select's success is read by). */
  public static final String VOTERS = "voters.json";
  /** The run's HTML report. */
  public static final String REPORT = "report.html";
  /** The bin edges and labels inference assigns bins with. */
  public static final String BIN_EDGES = "bins/bin_edges.json";
  /** Per-bin statistics of the reference population. */
  public static final String BIN_STATS = "bins/bin_stats.json";
  /** What the real-time service scores with: the voters, ensemble and bins as plain numbers. */
  public static final String SERVING_MODEL = "serving/model.json";
  /** The drift baseline (feature and score distributions of the training rows). */
  public static final String DRIFT_BASELINE = "drift/baseline.json";

  /** A candidate's or the ensemble's global importance file name. */
  public static final String IMPORTANCE = "importance.json";
  /** A candidate's or the ensemble's metrics file name. */
  public static final String METRICS = "metrics.json";
  /** A candidate's best grid point. */
  public static final String PARAMS = "params.json";
  /** The ensemble's calibration tables. */
  public static final String CALIBRATION = "calibration.json";
  /** The ensemble's decision threshold. */
  public static final String THRESHOLD = "threshold.json";

  /** A candidate's out-of-fold predictions (a Delta folder in its folder). */
  public static final String OUT_OF_FOLD = "oof";

  private static final String CANDIDATES = "candidates/";
  private static final String ENSEMBLE = "ensemble/";
  private static final String MODEL = "model";

  private final ModelRun run;

  private RunLayout(ModelRun run) {
    this.run = Objects.requireNonNull(run, "run");
  }

  /** @return the layout of {@code run}'s folder */
  public static RunLayout of(ModelRun run) {
    return new RunLayout(run);
  }

  /** @return the run this layout belongs to */
  public ModelRun run() {
    return run;
  }

  /** @return the relative path of {@code file} in a candidate's folder */
  public static String candidate(String name, String file) {
    return CANDIDATES + name + "/" + file;
  }

  /** @return the relative path of {@code file} in the ensemble's folder */
  public static String ensemble(String file) {
    return ENSEMBLE + file;
  }

  /** @return the absolute folder of a candidate's fitted pipeline */
  public String candidateModel(String name) {
    return run.path(candidate(name, MODEL));
  }

  /** @return whether the run holds a fitted pipeline of that candidate */
  public boolean hasCandidateModel(String name) {
    return run.exists(candidate(name, MODEL));
  }

  /** @return the absolute folder of a candidate's out-of-fold predictions (a Delta table) */
  public String outOfFold(String name) {
    return run.path(candidate(name, OUT_OF_FOLD));
  }

  /** @return whether a candidate's out-of-fold table was written */
  public boolean hasOutOfFold(String name) {
    return run.exists(candidate(name, OUT_OF_FOLD) + "/_delta_log");
  }

  /** @return the absolute folder of the saved ensemble model */
  public String ensembleModel() {
    return run.path(ensemble(MODEL));
  }

  /** @return whether the ensemble model was saved (runs selected before it existed have none) */
  public boolean hasEnsembleModel() {
    return run.exists(ensemble(MODEL));
  }

  /** @return the absolute path of a relative path of this run */
  public String path(String relative) {
    return run.path(relative);
  }
}
