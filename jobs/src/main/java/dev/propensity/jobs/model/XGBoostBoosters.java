package dev.propensity.jobs.model;

import dev.propensity.common.PropensityException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import ml.dmlc.xgboost4j.java.Booster;
import ml.dmlc.xgboost4j.java.XGBoost;
import ml.dmlc.xgboost4j.java.XGBoostError;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * A fitted XGBoost stage's booster as bytes: read as JSON for {@link XGBoostJson}, loaded as a
 * native booster, saved with the pipeline under {@code data/booster.ubj} (XGBoost's own UBJSON
 * model format), because xgboost4j-spark's Spark ML persistence fails on Spark 4 (see {@code
 * ../shared/PLATFORM.md}). Shared by {@link XGBoostTreesModel} and {@link XGBoostForestModel}.
 */
final class XGBoostBoosters {

  /** Where a stage's booster lies under the stage's saved folder. */
  static final String DATA = "data/booster.ubj";

  private XGBoostBoosters() {}

  /** @return the booster XGBoost trained, as UBJSON bytes; disposes of it */
  static byte[] take(ml.dmlc.xgboost4j.scala.Booster fitted, String name) {
    try {
      return fitted.toByteArray("ubj");
    } catch (XGBoostError e) {
      throw new PropensityException("Cannot read the booster XGBoost trained for candidate '"
          + name + "': " + e.getMessage(), PropensityException.EXIT_USER_ERROR, e);
    } finally {
      fitted.dispose();
    }
  }

  /** @return the JSON model of a UBJSON booster */
  static String json(byte[] ubjson, String name) {
    Booster b = null;
    try {
      b = XGBoost.loadModel(ubjson);
      return new String(b.toByteArray("json"), StandardCharsets.UTF_8);
    } catch (XGBoostError | IOException e) {
      throw new PropensityException("Cannot read the XGBoost booster of candidate '" + name
          + "': " + e.getMessage(),
          PropensityException.EXIT_USER_ERROR, e);
    } finally {
      if (b != null) {
        b.dispose();
      }
    }
  }

  /** @return a new native booster; the caller disposes of it */
  static Booster load(byte[] ubjson, String uid) {
    try {
      return XGBoost.loadModel(ubjson);
    } catch (XGBoostError | IOException e) {
      throw new PropensityException("Cannot load the XGBoost booster of stage " + uid + ": "
          + e.getMessage(),
          PropensityException.EXIT_USER_ERROR, e);
    }
  }

  /** Writes the booster under a saved stage's folder. */
  static void save(byte[] ubjson, String stagePath, Configuration hadoop) {
    Path data = new Path(stagePath, DATA);
    try {
      FileSystem fs = data.getFileSystem(hadoop);
      try (OutputStream out = fs.create(data, true)) {
        out.write(ubjson);
      }
    } catch (IOException e) {
      throw new PropensityException("Cannot save the XGBoost booster to " + data + ": "
          + e.getMessage(),
          PropensityException.EXIT_USER_ERROR, e);
    }
  }

  /** @return the booster saved under a stage's folder by {@link #save} */
  static byte[] read(String stagePath, Configuration hadoop) {
    Path data = new Path(stagePath, DATA);
    try {
      FileSystem fs = data.getFileSystem(hadoop);
      try (InputStream in = fs.open(data); ByteArrayOutputStream out =
          new ByteArrayOutputStream()) {
        in.transferTo(out);
        return out.toByteArray();
      }
    } catch (IOException e) {
      throw new PropensityException("Cannot load the XGBoost booster " + data + " (saved by"
          + " the xgboost or xgboost-rf candidate with its pipeline): " + e.getMessage(),
          PropensityException.EXIT_USER_ERROR, e);
    }
  }
}
