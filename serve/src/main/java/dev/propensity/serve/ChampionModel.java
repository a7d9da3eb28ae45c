package dev.propensity.serve;

import dev.propensity.common.serving.LiveScorer;
import dev.propensity.common.serving.ServingModel;
import io.delta.kernel.exceptions.TableNotFoundException;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.Optional;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;

/**
 * The champion run as the service scores with it: found in {@code model_registry} (the newest
 * row with stage {@code champion} by {@code decided_at}, as {@code ModelRegistry.championId}
 * reads it with Spark), and its {@code serving/model.json}. When live scoring is not possible
 * (no champion, no exported file, a family without a plain form), {@link #unavailable} says why
 * and the service answers 501 or 503 with it.
 *
 * @param runId the champion run, if any
 * @param scorer the live scorer, if the run could be exported
 * @param unavailable why there is no scorer
 */
record ChampionModel(Optional<String> runId, Optional<LiveScorer> scorer,
    Optional<String> unavailable) {

  /** The registry table's name under the warehouse. */
  static final String REGISTRY = "model_registry";
  /** The exported file in a run folder ({@code RunLayout.SERVING_MODEL}). */
  static final String FILE = "serving/model.json";

  /** @return the champion's id from the registry, or empty when none was promoted yet */
  static Optional<String> championId(KernelTable registry) {
    String[] best = {null};
    Instant[] at = {Instant.MIN};
    try {
      registry.scan(row -> {
        if ("champion".equals(row.get("stage")) && row.get("decided_at") != null) {
          Instant t = Instant.parse((String) row.get("decided_at"));
          if (t.isAfter(at[0])) {
            at[0] = t;
            best[0] = (String) row.get("run_id");
          }
        }
      });
    } catch (TableNotFoundException e) {
      return Optional.empty();
    }
    return Optional.ofNullable(best[0]);
  }

  /**
   * @param settings the warehouse
   * @param hadoop the file system settings
   * @param runId the champion, or empty
   * @return the champion's model, or why it cannot score
   */
  static ChampionModel load(ServeSettings settings, Configuration hadoop,
      Optional<String> runId) {
    if (runId.isEmpty()) {
      return new ChampionModel(runId, Optional.empty(), Optional.of("no run has been promoted"
          + " to champion in " + settings.table(REGISTRY) + " (run the pipeline, or"
          + " ./submit.sh promote RUN)"));
    }
    Path file = new Path(settings.warehouse() + "/runs/" + runId.get() + "/" + FILE);
    byte[] json;
    try (InputStream in = file.getFileSystem(hadoop).open(file)) {
      json = in.readAllBytes();
    } catch (FileNotFoundException e) {
      return new ChampionModel(runId, Optional.empty(), Optional.of("champion run "
          + runId.get() + " has no " + FILE + " (it completed before live scoring existed):"
          + " re-run ./submit.sh bins bins.run-id=" + runId.get() + " to export it"));
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read " + file, e);
    }
    ServingModel model = ServingModel.fromJson(json, file.toString());
    if (!model.exportable()) {
      return new ChampionModel(runId, Optional.empty(), Optional.of("champion run "
          + runId.get() + " cannot be scored live: " + model.reason()));
    }
    return new ChampionModel(runId, Optional.of(new LiveScorer(model, settings.reasonCodes(),
        settings.skipUnsupportedVoters())), Optional.empty());
  }

  /** @return a Hadoop configuration for local and cluster file systems */
  static Configuration hadoop() {
    return new Configuration();
  }
}
