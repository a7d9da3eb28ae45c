package dev.propensity.common.run;

import dev.propensity.common.Errors;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.regex.Pattern;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * The model runs under {@code <warehouse>/runs/}. Run ids sort by creation time. Which run serves
 * ({@code latest}) is the {@link ModelRegistry}'s to say: open {@code latest} through it. A
 * warehouse from before the registry may still have a {@code runs/LATEST} file;
 * {@link #legacyLatestId} reads it.
 */
public final class ModelRuns {

  /** The word that selects the newest completed run. */
  public static final String LATEST = "latest";

  private static final DateTimeFormatter ID_TIME = DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss");
  private static final Pattern VALID_ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]*");

  private final Path root;
  private final Configuration hadoop;

  /**
   * @param warehouseRoot the warehouse root URI
   * @param hadoop the Hadoop configuration (from the SparkContext, for s3a settings)
   */
  public ModelRuns(String warehouseRoot, Configuration hadoop) {
    this.root = new Path(warehouseRoot, "runs");
    this.hadoop = hadoop;
  }

  /** @return the runs folder */
  public String root() {
    return root.toString();
  }

  /** @return a new run id: UTC time then 4 random hex digits, e.g. 20261122-031500-a1b2 */
  public static String newRunId() {
    return LocalDateTime.now(ZoneOffset.UTC).format(ID_TIME) + "-"
        + UUID.randomUUID().toString().substring(0, 4);
  }

  /**
   * Creates a run folder.
   *
   * @param requestedId an id to use (e.g. from a scheduler), or blank for a new time-based id
   * @throws dev.propensity.common.PropensityException if the id is malformed or already used
   */
  public ModelRun create(String requestedId) {
    String id = requestedId == null || requestedId.isBlank() ? newRunId() : requestedId.trim();
    if (!VALID_ID.matcher(id).matches() || LATEST.equals(id)) {
      throw Errors.invalidConfig("propensity.train.run-id", id,
          "letters, digits, '.', '_' or '-' (and not 'latest')");
    }
    Path dir = new Path(root, id);
    try {
      FileSystem fs = dir.getFileSystem(hadoop);
      if (fs.exists(dir)) {
        throw Errors.invalidConfig("propensity.train.run-id", id,
            "a run id not used before (" + dir + " exists)");
      }
      fs.mkdirs(dir);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot create run folder " + dir, e);
    }
    // every later log line of this job names the run (conf/log4j2.properties: %X{run_id})
    org.slf4j.MDC.put("run_id", id);
    return new ModelRun(id, dir, hadoop);
  }

  /**
   * @param id a run id ({@code latest} is resolved by {@link ModelRegistry#open})
   * @throws dev.propensity.common.PropensityException listing the available runs if not found, or
   *     when the id is not a valid run id (e.g. a path such as {@code ../..})
   */
  public ModelRun open(String id) {
    if (id == null || !VALID_ID.matcher(id).matches() || LATEST.equals(id)) {
      throw Errors.runNotFound(String.valueOf(id), root.toString(), list());
    }
    Path dir = new Path(root, id);
    if (!exists(dir)) {
      throw Errors.runNotFound(id, root.toString(), list());
    }
    return new ModelRun(id, dir, hadoop);
  }

  /**
   * @param idOrBlank a run id, or blank for the newest run (completed or not)
   * @return that run
   */
  public ModelRun openOrNewest(String idOrBlank) {
    if (idOrBlank != null && !idOrBlank.isBlank()) {
      return open(idOrBlank.trim());
    }
    List<String> runs = list();
    if (runs.isEmpty()) {
      throw Errors.runNotFound("(newest)", root.toString(), runs);
    }
    return open(runs.get(runs.size() - 1));
  }

  /** @return the run ids, oldest first */
  public List<String> list() {
    List<String> ids = new ArrayList<>();
    try {
      FileSystem fs = root.getFileSystem(hadoop);
      if (!fs.exists(root)) {
        return ids;
      }
      for (FileStatus st : fs.listStatus(root)) {
        if (st.isDirectory() && !st.getPath().getName().startsWith(".")) {
          ids.add(st.getPath().getName());
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot list " + root, e);
    }
    ids.sort(null);
    return ids;
  }

  /**
   * @return the id in {@code runs/LATEST}, the pointer of warehouses from before the registry, or
   *     null when there is none
   */
  String legacyLatestId() {
    Path pointer = new Path(root, "LATEST");
    return exists(pointer) ? ModelRun.readText(pointer, hadoop).trim() : null;
  }

  private boolean exists(Path p) {
    try {
      return p.getFileSystem(hadoop).exists(p);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
