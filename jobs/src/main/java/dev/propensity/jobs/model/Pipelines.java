package dev.propensity.jobs.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.ml.Pipeline;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.Transformer;
import org.apache.spark.ml.util.DefaultParamsReader$;
import org.apache.spark.ml.util.DefaultParamsWriter$;
import org.apache.spark.ml.util.MLWritable;
import org.apache.spark.sql.SparkSession;
import org.json4s.JArray;
import org.json4s.JObject;
import org.json4s.JString;
import org.json4s.JValue;
import scala.Option;
import scala.Tuple2;
import scala.jdk.javaapi.CollectionConverters;

/**
 * A {@link PipelineModel} saved and loaded in the folder layout of its own writer and reader
 * ({@code metadata} with the stage uids, {@code stages/IDX_UID}), so that either reads what the
 * other wrote, but with the stages side by side: each stage is a few one-task Spark jobs
 * (metadata, data), which MLlib runs one stage after the other.
 */
public final class Pipelines {

  private static final int THREADS = 4;

  private Pipelines() {}

  /** Saves {@code model} at {@code path}, replacing what is there (MLlib's overwrite). */
  public static void save(PipelineModel model, String path) {
    SparkSession spark = SparkSession.active();
    Path target = new Path(path);
    try {
      FileSystem fs = target.getFileSystem(spark.sparkContext().hadoopConfiguration());
      if (fs.exists(target)) {
        fs.delete(target, true);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot replace the model at " + path, e);
    }
    Transformer[] stages = model.stages();
    List<JValue> uids = new ArrayList<>();
    for (Transformer stage : stages) {
      uids.add(new JString(stage.uid()));
    }
    JValue params = new JObject(CollectionConverters.asScala(List.of(
        new Tuple2<String, JValue>("stageUids", new JArray(
            CollectionConverters.asScala(uids).toList())))).toList());
    DefaultParamsWriter$.MODULE$.saveMetadata(model, path, spark, Option.empty(),
        Option.apply(params));
    String stagesDir = new Path(path, "stages").toString();
    List<Callable<Void>> saves = new ArrayList<>();
    for (int i = 0; i < stages.length; i++) {
      Transformer stage = stages[i];
      String stagePath = stagePath(stage.uid(), i, stages.length, stagesDir);
      saves.add(() -> {
        ((MLWritable) stage).write().save(stagePath);
        return null;
      });
    }
    inParallel(saves, "save the model at " + path);
  }

  /** @return the pipeline model at {@code path}, as {@link PipelineModel#load} reads it */
  public static PipelineModel load(String path) {
    SparkSession spark = SparkSession.active();
    String json = DefaultParamsReader$.MODULE$.loadMetadata(path, spark,
        PipelineModel.class.getName()).metadataJson();
    JsonNode metadata;
    try {
      metadata = new ObjectMapper().readTree(json);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read the model metadata at " + path, e);
    }
    JsonNode uids = metadata.path("paramMap").path("stageUids");
    String stagesDir = new Path(path, "stages").toString();
    List<Callable<Transformer>> loads = new ArrayList<>();
    for (int i = 0; i < uids.size(); i++) {
      String stagePath = stagePath(uids.get(i).asText(), i, uids.size(), stagesDir);
      loads.add(() -> DefaultParamsReader$.MODULE$.<Transformer>loadParamsInstance(stagePath,
          spark));
    }
    return new PipelineModel(metadata.path("uid").asText(),
        inParallel(loads, "load the model at " + path).toArray(Transformer[]::new));
  }

  /** MLlib's stage folder name: the index zero-padded to the digits of the stage count. */
  private static String stagePath(String uid, int index, int count, String stagesDir) {
    return Pipeline.SharedReadWrite$.MODULE$.getStagePath(uid, index, count, stagesDir);
  }

  private static <T> List<T> inParallel(List<Callable<T>> tasks, String what) {
    ExecutorService pool = Executors.newFixedThreadPool(Math.max(1, Math.min(THREADS,
        tasks.size())));
    try {
      List<Future<T>> futures = new ArrayList<>();
      for (Callable<T> t : tasks) {
        futures.add(pool.submit(t));
      }
      List<T> out = new ArrayList<>();
      for (Future<T> f : futures) {
        out.add(f.get());
      }
      return out;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("Interrupted while trying to " + what, e);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof RuntimeException re) {
        throw re;
      }
      throw new IllegalStateException("Cannot " + what, e.getCause());
    } finally {
      pool.shutdownNow();
    }
  }
}
