package dev.propensity.common.schema;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.propensity.common.config.JobConfig;
import dev.propensity.common.schema.FeatureSpec.Kind;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The feature catalogue: well formed, switchable by family, and listed in the README. */
class FeatureCatalogTest {

  @Test
  void namesAreUniqueEveryFamilyHasFeaturesAndDescriptionsAreOneLine() {
    assertThat(FeatureCatalog.ALL).hasSizeGreaterThanOrEqualTo(50);
    assertThat(new HashSet<>(FeatureCatalog.ALL.stream().map(FeatureSpec::name).toList()))
        .hasSameSizeAs(FeatureCatalog.ALL);
    for (FeatureFamily f : FeatureFamily.values()) {
      assertThat(FeatureCatalog.of(EnumSet.of(f))).as(f.configName()).isNotEmpty();
    }
    for (FeatureSpec f : FeatureCatalog.ALL) {
      assertThat(f.name()).matches("[a-z][a-z0-9_]*");
      assertThat(f.description()).as(f.name()).isNotBlank().doesNotContain("\n")
          .hasSizeLessThan(200);
      assertThat(f.sparkType()).isEqualTo(f.kind() == Kind.NUMERIC ? "double" : "string");
    }
    assertThat(FeatureCatalog.byName("recency_days")).get()
        .extracting(FeatureSpec::family).isEqualTo(FeatureFamily.RFM);
    assertThat(FeatureCatalog.byName("nope")).isEmpty();
  }

  @Test
  void familiesFollowConfigAndTheSchemaDefaultsToTheEnabledOnes() {
    JobConfig all = JobConfig.defaults();
    assertThat(FeatureCatalog.enabled(all)).isEqualTo(FeatureCatalog.ALL);
    FeatureSchema schema = FeatureSchema.fromConfig(all);
    assertThat(schema.catalog()).isEqualTo(FeatureCatalog.ALL);
    assertThat(schema.categorical()).contains("region", "lifecycle_stage", "age_group")
        .doesNotContain("recency_days");
    assertThat(schema.numeric()).contains("recency_days", "engagement_score")
        .doesNotContain("region");
    assertThat(schema.format().isDelta()).isTrue();

    JobConfig noTrends = all.with("features.families.trends=false",
        "features.families.bins=false");
    FeatureSchema fewer = FeatureSchema.fromConfig(noTrends);
    assertThat(fewer.features()).doesNotContain("revenue_growth_30d", "age_group")
        .contains("recency_days", "region");
    assertThat(fewer.features()).hasSize(FeatureCatalog.ALL.size()
        - FeatureCatalog.of(EnumSet.of(FeatureFamily.TRENDS, FeatureFamily.BINS)).size());

    // your own columns: exactly those, no catalogue checks
    FeatureSchema own = FeatureSchema.fromConfig(all.with("schema.numeric=[spend]",
        "schema.categorical=[]", "schema.format=csv", "schema.options.header=true"));
    assertThat(own.features()).containsExactly("spend");
    assertThat(own.catalog()).isEmpty();
    assertThat(own.format().format()).isEqualTo("csv");
    assertThat(own.format().options()).containsEntry("header", "true");

    String[] off = java.util.Arrays.stream(FeatureFamily.values())
        .map(f -> "features.families." + f.configName() + "=false").toArray(String[]::new);
    assertThatThrownBy(() -> FeatureSchema.fromConfig(all.with(off)))
        .hasMessageContaining("Invalid config 'propensity.features.families'")
        .hasMessageContaining("at least one family switched on");
    assertThatThrownBy(() -> FeatureSchema.fromConfig(all.with("schema.format=orc")))
        .hasMessage("Unknown format 'orc'; known: delta, parquet, csv (config key"
            + " 'propensity.schema.format')");
  }

  @Test
  void readmeListsEveryFeatureWithItsFamilyTypeAndDescription() throws IOException {
    List<String> readme = Files.readAllLines(Path.of("../README.md"));
    for (FeatureSpec f : FeatureCatalog.ALL) {
      String line = "| `" + f.name() + "` | " + f.family().configName() + " | " + f.sparkType()
          + " | " + f.description() + " |";
      assertThat(readme).as("README line for " + f.name()).contains(line);
    }
    assertThat(readme.stream().filter(l -> l.startsWith("| `") && l.split("\\|").length == 5
        && (l.contains(" | double | ") || l.contains(" | string | "))).count())
        .isEqualTo(FeatureCatalog.ALL.size());
  }
}
