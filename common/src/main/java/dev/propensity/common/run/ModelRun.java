package dev.propensity.common.run;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.EnumSet;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.CreateFlag;
import org.apache.hadoop.fs.FileContext;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Options;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.permission.FsPermission;

/**
 * One training run's folder, {@code <warehouse>/runs/<run_id>/}: fitted models, the settings
 * snapshot, metrics, bin edges and the manifest. Files are written whole: a reader never sees a
 * half-written JSON file (temp file and rename on a file system, a single PUT on object stores).
 */
public final class ModelRun {

  /** JSON as the run folder stores it: pretty, stable field order from maps given. */
  public static final ObjectMapper JSON =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private final String id;
  private final Path path;
  private final Configuration hadoop;

  ModelRun(String id, Path path, Configuration hadoop) {
    this.id = id;
    this.path = path;
    this.hadoop = hadoop;
  }

  /** Manifest status of a run whose training, selection and bins are all written. */
  public static final String COMPLETED = "completed";
  /** Manifest status of a run whose training failed. */
  public static final String FAILED = "failed";
  /** The run's manifest file. */
  public static final String MANIFEST = "manifest.json";

  /** @return the run id, e.g. {@code 20261122-031500-a1b2} */
  public String id() {
    return id;
  }

  /** @return the run folder as a URI string */
  public String path() {
    return path.toString();
  }

  /** @return a path inside the run folder, e.g. {@code candidates/logistic/model} */
  public String path(String relative) {
    return new Path(path, relative).toString();
  }

  /** @return whether a file or folder exists in the run folder */
  public boolean exists(String relative) {
    try {
      Path p = new Path(path, relative);
      return p.getFileSystem(hadoop).exists(p);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * @return the manifest's {@code status} ({@code running}, {@code trained}, {@code selected},
   *     {@code completed}, {@code failed}), or {@code missing} when the run has no manifest
   */
  public String status() {
    if (!exists(MANIFEST)) {
      return "missing";
    }
    Object status = readJson(MANIFEST, new TypeReference<java.util.Map<String, Object>>() {})
        .get("status");
    return status == null ? "missing" : status.toString();
  }

  /**
   * Moves the run to a new status: the manifest is rewritten whole with {@code status} and, for
   * {@code completed}, {@code completed_at}.
   *
   * @throws dev.propensity.common.PropensityException when the run has failed or has no manifest
   */
  public void setStatus(String status) {
    String current = status();
    if (FAILED.equals(current) || "missing".equals(current)) {
      throw new dev.propensity.common.PropensityException(String.format("Cannot mark run %s"
          + " '%s': its manifest (%s) says '%s'. A failed or incomplete run is never completed"
          + " or promoted: train a new run.", id, status, path(MANIFEST), current));
    }
    java.util.Map<String, Object> manifest = new java.util.LinkedHashMap<>(
        readJson(MANIFEST, new TypeReference<java.util.Map<String, Object>>() {}));
    manifest.put("status", status);
    if (COMPLETED.equals(status)) {
      manifest.put("completed_at", java.time.Instant.now().toString());
    }
    writeJson(MANIFEST, manifest);
  }

  /** Writes {@code value} as JSON to a file in the run folder, atomically. */
  public void writeJson(String relative, Object value) {
    try {
      writeText(relative, JSON.writeValueAsString(value));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** @return the JSON file read as {@code type} */
  public <T> T readJson(String relative, TypeReference<T> type) {
    try {
      return JSON.readValue(readText(relative), type);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read " + path(relative), e);
    }
  }

  /** Writes a text file in the run folder, atomically. */
  public void writeText(String relative, String text) {
    writeAtomically(new Path(path, relative), text.getBytes(StandardCharsets.UTF_8), hadoop);
  }

  /** @return a text file of the run folder */
  public String readText(String relative) {
    return readText(new Path(path, relative), hadoop);
  }

  static String readText(Path file, Configuration hadoop) {
    try (InputStream in = file.getFileSystem(hadoop).open(file)) {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      in.transferTo(out);
      return out.toString(StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read " + file, e);
    }
  }

  /**
   * Writes a small file so that readers see the old content or the new, never a partial one:
   * object stores make an object visible only when its upload completes; other file systems get
   * a temp file renamed over the target.
   */
  static void writeAtomically(Path file, byte[] bytes, Configuration hadoop) {
    try {
      FileSystem fs = file.getFileSystem(hadoop);
      String scheme = fs.getUri().getScheme();
      if ("s3a".equals(scheme) || "gs".equals(scheme) || "abfs".equals(scheme)) {
        try (var out = fs.create(file, true)) {
          out.write(bytes);
        }
        return;
      }
      Path tmp = new Path(file.getParent(), "." + file.getName() + "." + System.nanoTime() + ".tmp");
      FileContext fc = FileContext.getFileContext(fs.getUri(), hadoop);
      try (var out = fc.create(tmp, EnumSet.of(CreateFlag.CREATE, CreateFlag.OVERWRITE),
          Options.CreateOpts.createParent(), Options.CreateOpts.perms(FsPermission.getFileDefault()))) {
        out.write(bytes);
      }
      fc.rename(tmp, file, Options.Rename.OVERWRITE);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot write " + file, e);
    }
  }
}
