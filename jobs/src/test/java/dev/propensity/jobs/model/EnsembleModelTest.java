package dev.propensity.jobs.model;


import static org.apache.spark.sql.functions.col;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.propensity.common.SparkTestBase;
import dev.propensity.common.schema.FeatureSchema;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.classification.LogisticRegression;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class EnsembleModelTest extends SparkTestBase {

  private static final FeatureSchema SCHEMA = new FeatureSchema("t", "id", Optional.empty(),
      "label", List.of("x1", "x2"), List.of("cat"), Optional.empty(), Optional.empty());
  private static Dataset<Row> data;
  private static PipelineModel a;
  private static PipelineModel b;

  @BeforeAll
  static void fitVoters() {
    Random rnd = new Random(7);
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < 400; i++) {
      double x1 = rnd.nextGaussian();
      double x2 = rnd.nextGaussian();
      String cat = rnd.nextBoolean() ? "u" : "v";
      double p = 1 / (1 + Math.exp(-(1.5 * x1 - x2 + ("u".equals(cat) ? 0.5 : 0) - 1)));
      rows.add(RowFactory.create("c" + i, x1, x2, cat, rnd.nextDouble() < p ? 1.0 : 0.0));
    }
    StructType t = new StructType().add("id", DataTypes.StringType)
        .add("x1", DataTypes.DoubleType).add("x2", DataTypes.DoubleType)
        .add("cat", DataTypes.StringType).add(CandidatePipeline.LABEL, DataTypes.DoubleType);
    data = spark().createDataFrame(rows, t).cache();
    a = CandidatePipeline.build("a", "logistic", SCHEMA,
        new LogisticRegression().setRegParam(0.0), true).fit(data);
    b = CandidatePipeline.build("b", "logistic", SCHEMA,
        new LogisticRegression().setRegParam(0.5), true).fit(data);
  }

  private static Map<String, Double> probability(PipelineModel m, String name) {
    Map<String, Double> out = new HashMap<>();
    m.transform(data).select(col("id"), CandidatePipeline.positiveProbability(name))
        .collectAsList().forEach(r -> out.put(r.getString(0), r.getDouble(1)));
    return out;
  }

  private static Map<String, Double> propensity(EnsembleModel m) {
    Map<String, Double> out = new HashMap<>();
    m.transform(data).select("id", "propensity").collectAsList()
        .forEach(r -> out.put(r.getString(0), r.getDouble(1)));
    return out;
  }

  private static List<EnsembleModel.Voter> voters(double wa, double wb) {
    return List.of(new EnsembleModel.Voter("a", wa, a), new EnsembleModel.Voter("b", wb, b));
  }

  @Test
  void softVoteIsTheMeanOfTheVotersAndKeepsEachVotersProbability() {
    Map<String, Double> pa = probability(a, "a");
    Map<String, Double> pb = probability(b, "b");
    Map<String, Double> mean = propensity(EnsembleModel.softVote(voters(1, 1), Modes.Combine.MEAN));
    Map<String, Double> weighted = propensity(EnsembleModel.softVote(voters(3, 1), Modes.Combine.WEIGHTED));
    assertThat(mean).hasSize(400);
    for (String id : mean.keySet()) {
      assertThat(mean.get(id)).isCloseTo((pa.get(id) + pb.get(id)) / 2, within(1e-12));
      assertThat(weighted.get(id)).isCloseTo((3 * pa.get(id) + pb.get(id)) / 4, within(1e-12));
    }
    Row first = EnsembleModel.softVote(voters(1, 1), Modes.Combine.MEAN).transform(data)
        .where(col("id").equalTo("c0")).first();
    Map<String, Double> byVoter = first.getJavaMap(first.fieldIndex("voter_probabilities"));
    assertThat(byVoter.get("a")).isCloseTo(pa.get("c0"), within(1e-12));
    assertThat(byVoter.get("b")).isCloseTo(pb.get("c0"), within(1e-12));
  }

  @Test
  void givenVoterProbabilitiesAreCombinedAndCalibratedLikeTheVotersOwn() {
    EnsembleModel plain = EnsembleModel.softVote(voters(3, 1), Modes.Combine.WEIGHTED);
    double[] platt = Calibration.fitPlatt(plain.transform(data), EnsembleModel.RAW,
        CandidatePipeline.LABEL);
    EnsembleModel m = plain.withPlatt(platt[0], platt[1]);
    Map<String, Double> pa = probability(a, "a");
    Map<String, Double> pb = probability(b, "b");
    List<Row> rows = new ArrayList<>();
    pa.forEach((id, p) -> rows.add(RowFactory.create(id, p, pb.get(id))));
    Dataset<Row> given = spark().createDataFrame(rows, new StructType()
        .add("id", DataTypes.StringType)
        .add(EnsembleModel.voterColumn("a"), DataTypes.DoubleType)
        .add(EnsembleModel.voterColumn("b"), DataTypes.DoubleType));
    Dataset<Row> out = m.fromVoterProbabilities(given);
    assertThat(out.columns()).containsExactly("id", EnsembleModel.VOTER_PROBABILITIES,
        EnsembleModel.RAW, EnsembleModel.PROPENSITY);
    Map<String, Double> own = propensity(m);
    Map<String, Double> fromGiven = new HashMap<>();
    out.select("id", "propensity").collectAsList()
        .forEach(r -> fromGiven.put(r.getString(0), r.getDouble(1)));
    assertThat(fromGiven).hasSize(400);
    for (String id : own.keySet()) {
      assertThat(fromGiven.get(id)).isCloseTo(own.get(id), within(1e-12));
    }
  }

  @Test
  void saveAndLoadGiveIdenticalScores() throws Exception {
    EnsembleModel plain = EnsembleModel.softVote(voters(2, 1), Modes.Combine.WEIGHTED);
    double[] platt = Calibration.fitPlatt(plain.transform(data), EnsembleModel.RAW,
        CandidatePipeline.LABEL);
    for (EnsembleModel m : List.of(plain, plain.withPlatt(platt[0], platt[1]),
        plain.withIsotonic(Calibration.fitIsotonic(plain.transform(data), EnsembleModel.RAW,
            CandidatePipeline.LABEL)))) {
      String path = Files.createTempDirectory("ensemble").resolve("model").toString();
      m.write().save(path);
      EnsembleModel loaded = EnsembleModel.load(path);
      assertThat(loaded.calibration()).isEqualTo(m.calibration());
      assertThat(loaded.combine()).isEqualTo(m.combine());
      assertThat(loaded.voters()).extracting(EnsembleModel.Voter::name, EnsembleModel.Voter::weight)
          .containsExactly(org.assertj.core.groups.Tuple.tuple("a", 2.0),
              org.assertj.core.groups.Tuple.tuple("b", 1.0));
      assertThat(loaded.voters()).allSatisfy(v -> assertThat(
          CandidateDescription.of(v.model()).family()).isEqualTo("logistic"));
      assertThat(propensity(loaded)).isEqualTo(propensity(m));
      // Spark ML's params persistence, not a hand-written file
      assertThat(Files.isDirectory(java.nio.file.Path.of(path, "metadata"))).isTrue();
      assertThat(Files.exists(java.nio.file.Path.of(path, "metadata.json"))).isFalse();
    }
  }

  @Test
  void votersCopiedFromWhereTheyWereSavedLoadAsTheEnsembleSavedWhole() throws Exception {
    java.nio.file.Path dir = Files.createTempDirectory("ensemble-copy");
    Map<String, String> saved = Map.of("a", dir.resolve("candidates/a").toString(),
        "b", dir.resolve("candidates/b").toString());
    a.write().save(saved.get("a"));
    b.write().save(saved.get("b"));
    EnsembleModel m = EnsembleModel.softVote(voters(2, 1), Modes.Combine.WEIGHTED);
    String copied = dir.resolve("copied").toString();
    m.writeCopyingVoters(saved::get).save(copied);
    EnsembleModel loaded = EnsembleModel.load(copied);
    assertThat(propensity(loaded)).isEqualTo(propensity(m));
    // the voters' folders hold the saved pipelines' files, byte for byte
    for (String name : List.of("a", "b")) {
      java.nio.file.Path from = java.nio.file.Path.of(saved.get(name));
      java.nio.file.Path to = java.nio.file.Path.of(copied, "voters", name);
      List<java.nio.file.Path> files;
      try (var walk = Files.walk(from)) {
        files = walk.filter(Files::isRegularFile).map(from::relativize).toList();
      }
      assertThat(files).isNotEmpty();
      for (java.nio.file.Path f : files) {
        assertThat(Files.readAllBytes(to.resolve(f))).isEqualTo(Files.readAllBytes(from.resolve(f)));
      }
    }
    // a folder that is not a saved model is named
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> m.writeCopyingVoters(
            name -> dir.resolve("nowhere").toString()).save(dir.resolve("other").toString()))
        .isInstanceOf(dev.propensity.common.PropensityException.class)
        .hasMessageContaining(dir.resolve("nowhere").toString())
        .hasMessageContaining("train");
  }

  @Test
  void anEnsembleSavedInTheOldFormatIsRefusedWithWhatToDo() throws Exception {
    java.nio.file.Path dir = Files.createTempDirectory("ensemble").resolve("model");
    Files.createDirectories(dir);
    Files.writeString(dir.resolve("metadata.json"), "{\"class\": \""
        + EnsembleModel.class.getName() + "\", \"combine\": \"mean\", \"voters\": []}");
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> EnsembleModel.load(dir.toString()))
        .isInstanceOf(dev.propensity.common.PropensityException.class)
        .hasMessageContaining("Cannot load the ensemble model at " + dir)
        .hasMessageContaining("train the run again (train, select, bins)");
  }

  @Test
  void calibrationKeepsTheRankingAndMatchesObservedRates() {
    EnsembleModel plain = EnsembleModel.softVote(voters(1, 1), Modes.Combine.MEAN);
    Dataset<Row> scored = plain.transform(data);
    double[] platt = Calibration.fitPlatt(scored, EnsembleModel.RAW, CandidatePipeline.LABEL);
    Dataset<Row> calibrated = plain.withPlatt(platt[0], platt[1]).transform(data);
    // Platt is monotone in the raw score: same order of customers
    List<String> byRaw = calibrated.orderBy(col(EnsembleModel.RAW)).select("id").as(
        org.apache.spark.sql.Encoders.STRING()).collectAsList();
    List<String> byCalibrated = calibrated.orderBy(col("propensity")).select("id").as(
        org.apache.spark.sql.Encoders.STRING()).collectAsList();
    assertThat(byCalibrated).isEqualTo(byRaw);
    // a fitted logistic calibration reproduces the overall rate on the rows it was fitted on
    double rate = data.agg(org.apache.spark.sql.functions.avg(CandidatePipeline.LABEL)).first()
        .getDouble(0);
    double meanCalibrated = calibrated.agg(org.apache.spark.sql.functions.avg("propensity"))
        .first().getDouble(0);
    assertThat(meanCalibrated).isCloseTo(rate, within(1e-4));
  }
}
