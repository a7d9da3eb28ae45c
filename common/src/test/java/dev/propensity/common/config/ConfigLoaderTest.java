package dev.propensity.common.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.propensity.common.PropensityException;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigLoaderTest {

  @TempDir
  Path dir;

  private File file(String hocon) throws IOException {
    Path f = dir.resolve("test.conf");
    Files.writeString(f, hocon);
    return f.toFile();
  }

  @Test
  void defaultsComeFromReferenceConf() {
    JobConfig c = JobConfig.defaults();
    assertThat(c.string("propensity.warehouse")).isEqualTo("./warehouse");
    assertThat(c.longValue("propensity.generate.customers")).isEqualTo(50_000L);
    assertThat(c.integer("propensity.features.label-horizon-days")).isEqualTo(30);
    assertThat(c.integer("propensity.bins.count")).isEqualTo(10);
    assertThat(c.string("propensity.score.run")).isEqualTo("latest");
    assertThat(c.sources()).containsExactly("reference.conf");
  }

  @Test
  void layersApplyInOrderFileThenArgumentsThenEnvironment() throws IOException {
    File f = file("propensity { warehouse = \"/from/file\", generate.customers = 10, bins.count = 5 }");
    JobConfig c = ConfigLoader.load(f, List.of("generate.customers=20", "propensity.bins.count=7"),
        Map.of("PROPENSITY_WAREHOUSE", "s3a://bucket/from-env"));
    assertThat(c.string("propensity.warehouse")).isEqualTo("s3a://bucket/from-env");
    assertThat(c.longValue("propensity.generate.customers")).isEqualTo(20L);
    assertThat(c.integer("propensity.bins.count")).isEqualTo(7);
    // untouched keys keep the reference default
    assertThat(c.integer("propensity.train.cv.num-folds")).isEqualTo(3);

    JobConfig fileOnly = ConfigLoader.load(f, List.of(), Map.of());
    assertThat(fileOnly.string("propensity.warehouse")).isEqualTo("/from/file");
    assertThat(fileOnly.longValue("propensity.generate.customers")).isEqualTo(10L);
  }

  @Test
  void argumentsKeepHoconTypesForLists() {
    JobConfig c = ConfigLoader.load(null,
        List.of("features.snapshot-dates=[\"2026-01-31\", \"2026-02-28\"]"), Map.of());
    assertThat(c.strings("propensity.features.snapshot-dates"))
        .containsExactly("2026-01-31", "2026-02-28");
  }

  @Test
  void unknownKeysAreRejectedWithTheKnownOnes() throws IOException {
    File f = file("propensity { bins { cuont = 5 } }");
    assertThatThrownBy(() -> ConfigLoader.load(f, List.of(), Map.of()))
        .isInstanceOf(PropensityException.class)
        .hasMessageContaining("Unknown config key(s): propensity.bins.cuont")
        .hasMessageContaining("propensity.bins.count")
        .hasMessageContaining("propensity.warehouse");
    assertThatThrownBy(() -> ConfigLoader.load(null, List.of("train.cv=5"), Map.of()))
        .hasMessageContaining("propensity.train.cv")
        .hasMessageContaining("propensity.train.cv.num-folds");
  }

  @Test
  void sparkConfSectionTakesAnyKey() {
    JobConfig c = ConfigLoader.load(null,
        List.of("spark.conf.\"spark.executor.memory\"=4g"), Map.of());
    assertThat(c.section("propensity.spark.conf")).containsEntry("spark.executor.memory", "4g");
  }

  @Test
  void readerOptionsAndCategoryAliasesTakeAnyKeyButTheirSiblingsDoNot() {
    JobConfig c = ConfigLoader.load(null, List.of(
        "features.input.order-lines.options.delimiter=\";\"",
        "schema.options.header=true",
        "features.cleaning.category-aliases.\"tv & audio\"=electronics"), Map.of());
    assertThat(c.section("propensity.features.input.order-lines.options"))
        .containsEntry("delimiter", ";");
    assertThat(c.section("propensity.schema.options")).containsEntry("header", "true");
    assertThat(c.section("propensity.features.cleaning.category-aliases"))
        .containsEntry("tv & audio", "electronics").containsEntry("home & garden", "home");
    assertThatThrownBy(() -> ConfigLoader.load(null,
        List.of("features.input.orders.delimiter=x"), Map.of()))
        .hasMessageContaining("Unknown config key(s): propensity.features.input.orders.delimiter")
        .hasMessageContaining("propensity.features.input.*.options.*");
    assertThat(ConfigLoader.inSection("propensity.features.input.order-lines.options.header",
        "propensity.features.input.*.options")).isTrue();
    assertThat(ConfigLoader.inSection("propensity.features.input.a.b.options.header",
        "propensity.features.input.*.options")).isFalse();
  }

  @Test
  void malformedArgumentsAndMissingFilesSayHowToFix() {
    assertThatThrownBy(() -> ConfigLoader.load(null, List.of("customers"), Map.of()))
        .hasMessageContaining("key=value");
    assertThatThrownBy(() -> ConfigLoader.load(new File(dir.toFile(), "nope.conf"), List.of(),
        Map.of()))
        .hasMessageContaining("nope.conf").hasMessageContaining("existing config file");
    JobConfig c = ConfigLoader.load(null, List.of("bins.count=many"), Map.of());
    assertThatThrownBy(() -> c.integer("propensity.bins.count"))
        .hasMessageContaining("propensity.bins.count").hasMessageContaining("many")
        .hasMessageContaining("an integer");
  }

  @Test
  void oneOfRejectsUnknownNamesWithTheKnownOnes() {
    JobConfig c = ConfigLoader.load(null, List.of("score.missing-customers=drop"), Map.of());
    assertThatThrownBy(() -> c.oneOf("propensity.score.missing-customers",
        List.of("keep", "delete")))
        .hasMessage("Unknown missing-customers 'drop'; known: keep, delete "
            + "(config key 'propensity.score.missing-customers')");
  }

  @Test
  void renderedSettingsRedactSecrets() {
    JobConfig c = ConfigLoader.load(null, List.of(
        "spark.conf.\"spark.hadoop.fs.s3a.secret.key\"=hunter2",
        "spark.conf.\"spark.hadoop.fs.s3a.access.key\"=AKIAEXAMPLE",
        "spark.conf.\"spark.executor.memory\"=4g"), Map.of());
    String rendered = c.renderRedacted();
    assertThat(rendered).doesNotContain("hunter2").doesNotContain("AKIAEXAMPLE")
        .contains("***").contains("4g");
  }

  @Test
  void withAppliesOverridesAndStillRejectsUnknownKeys() {
    JobConfig c = JobConfig.defaults().with("bins.count=4");
    assertThat(c.integer("propensity.bins.count")).isEqualTo(4);
    assertThatThrownBy(() -> c.with("bins.nope=1")).hasMessageContaining("propensity.bins.nope");
  }

  @Test
  void aFileUriIsReadThroughHadoopsFileSystem() throws IOException {
    File f = file("propensity { warehouse = \"s3a://bucket/wh\", bins.count = 6 }");
    String uri = f.toURI().toString();
    assertThat(uri).startsWith("file:/");
    JobConfig c = ConfigLoader.loadFrom(uri, List.of(), Map.of());
    assertThat(c.string("propensity.warehouse")).isEqualTo("s3a://bucket/wh");
    assertThat(c.integer("propensity.bins.count")).isEqualTo(6);
    assertThat(c.sources()).containsExactly("reference.conf", uri);
    assertThat(ConfigFiles.readHadoop(uri)).contains("bins.count = 6");
  }

  @Test
  void aMissingHadoopUriSaysWhatItAccepts() {
    String uri = dir.resolve("absent.conf").toUri().toString();
    assertThatThrownBy(() -> ConfigLoader.loadFrom(uri, List.of(), Map.of()))
        .isInstanceOf(PropensityException.class)
        .hasMessageContaining(uri).hasMessageContaining("readable through Hadoop's FileSystem")
        .hasMessageContaining("FileNotFoundException");
  }

  @Test
  void aFileShippedWithFilesIsFoundByNameInTheWorkingDirectory() throws IOException {
    // spark-submit --files /etc/propensity/cluster.conf puts cluster.conf in the driver's cwd
    File shipped = new File("propensity-shipped-" + System.nanoTime() + ".conf");
    Files.writeString(shipped.toPath(), "propensity.bins.count = 4");
    try {
      JobConfig c = ConfigLoader.loadFrom("/etc/propensity/" + shipped.getName(), List.of(),
          Map.of());
      assertThat(c.integer("propensity.bins.count")).isEqualTo(4);
      assertThat(c.sources()).containsExactly("reference.conf", shipped.getName());
    } finally {
      Files.delete(shipped.toPath());
    }
    assertThatThrownBy(() -> ConfigLoader.loadFrom("/etc/propensity/" + shipped.getName(),
        List.of(), Map.of())).isInstanceOf(PropensityException.class)
        .hasMessageContaining("spark-submit --files").hasMessageContaining("Hadoop URI");
  }
}
