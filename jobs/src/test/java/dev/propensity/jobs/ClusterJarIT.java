package dev.propensity.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarFile;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * The two cluster jars (README "Running on a cluster") hold what a runtime may not ship,
 * relocate what it may ship in another version, and leave out what nothing uses. Runs after
 * {@code package} (failsafe).
 */
class ClusterJarIT {

  private static final String SHADED = "dev/propensity/shaded/";

  private static List<String> entries(String classifier) throws Exception {
    File[] jars = new File("target").listFiles((d, n) -> n.startsWith("propensity-jobs-")
        && n.endsWith("-" + classifier + ".jar"));
    assertThat(jars).as("target/propensity-jobs-*-" + classifier + ".jar (mvn package)")
        .hasSize(1);
    try (JarFile jar = new JarFile(jars[0])) {
      return jar.stream().map(e -> e.getName()).collect(Collectors.toList());
    }
  }

  private static void assertCommonLayout(List<String> entries) {
    assertThat(entries).contains("dev/propensity/jobs/cli/Main.class",
        SHADED + "com/typesafe/config/ConfigFactory.class", "reference.conf");
    for (String unwanted : List.of("com/typesafe/", "org/apache/pdfbox/", "org/apache/fontbox/",
        "de/rototor/", "org/locationtech/jts/", "org/apache/commons/logging/",
        "com/fasterxml/jackson/datatype/", "org/apache/spark/sql/SparkSession",
        "org/apache/hadoop/", "scala/")) {
      assertThat(entries).as("nothing under " + unwanted).noneMatch(e -> e.startsWith(unwanted));
    }
  }

  @Test
  void clusterJarCarriesDeltaAndRelocatesWhatRuntimesShip() throws Exception {
    List<String> entries = entries("cluster");
    assertCommonLayout(entries);
    assertThat(entries).contains("io/delta/sql/DeltaSparkSessionExtension.class",
        SHADED + "com/fasterxml/jackson/datatype/jdk8/Jdk8Module.class");
  }

  @Test
  void deltaProvidedJarHasNoDelta() throws Exception {
    List<String> entries = entries("cluster-delta-provided");
    assertCommonLayout(entries);
    assertThat(entries).noneMatch(e -> e.startsWith("io/delta/") || e.startsWith("io/unitycatalog/")
        || e.startsWith(SHADED + "com/fasterxml/"));
  }

  /** The relocated Typesafe Config reads the jar's reference.conf and rejects unknown keys. */
  @Test
  void relocatedConfigLoadsWithoutTypesafeConfigOnTheClasspath() throws Exception {
    File jar = new File("target").listFiles((d, n) -> n.endsWith("-cluster.jar"))[0];
    String runtime = Arrays.stream(Files.readString(Path.of("target/local-classpath.txt")).trim()
            .split(File.pathSeparator))
        .filter(p -> !p.contains("/com/typesafe/config/") && !p.contains("/io/delta/")
            && !p.contains("common/target") && !p.contains("propensity-common"))
        .collect(Collectors.joining(File.pathSeparator));
    List<String> cmd = new ArrayList<>(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", jar.getAbsolutePath() + File.pathSeparator + runtime,
        "dev.propensity.jobs.cli.Main", "features", "bins.count=7", "no.such-key=1"));
    Path out = Files.createTempFile("cluster-jar", ".log");
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile())
        .start();
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    String log = Files.readString(out);
    assertThat(p.exitValue()).as(log).isEqualTo(2);
    assertThat(log).contains("propensity.no.such-key").doesNotContain("NoClassDefFoundError");
  }
}
