package dev.propensity.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The example alert rules and Grafana dashboard in conf/: the rules pass {@code promtool check
 * rules} (Debian package {@code prometheus}; ./verify.sh installs it), and both use only metrics
 * the code pushes.
 */
class PrometheusRulesTest {

  private static final File RULES = new File("../conf/prometheus/propensity-alerts.yml");
  private static final File DASHBOARD = new File("../conf/grafana/propensity-dashboard.json");

  @Test
  void alertRulesPassPromtool() throws Exception {
    File promtool = new File("/usr/bin/promtool");
    Assumptions.assumeTrue(promtool.canExecute(), "promtool is not installed (Debian package"
        + " 'prometheus'; ./verify.sh installs it): alert rules not checked");
    Process p = new ProcessBuilder(promtool.getPath(), "check", "rules", RULES.getPath())
        .redirectErrorStream(true).start();
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.exitValue()).as(out).isZero();
    assertThat(out).contains("SUCCESS: 6 rules found");
  }

  @Test
  void rulesAndDashboardUseOnlyMetricsTheJobsPush() throws Exception {
    StringBuilder code = new StringBuilder();
    for (String root : new String[] {"src/main/java", "../common/src/main/java"}) {
      try (Stream<Path> files = Files.walk(Path.of(root))) {
        for (Path f : files.filter(f -> f.toString().endsWith(".java")).toList()) {
          code.append(Files.readString(f));
        }
      }
    }
    Set<String> used = new TreeSet<>();
    for (File f : new File[] {RULES, DASHBOARD}) {
      Matcher m = Pattern.compile("propensity_[a-z_]+").matcher(Files.readString(f.toPath()));
      while (m.find()) {
        used.add(m.group());
      }
    }
    assertThat(used).contains("propensity_job_success",
        "propensity_job_last_success_timestamp_seconds", "propensity_drift_max_psi");
    for (String metric : used) {
      assertThat(code.toString()).as(metric + " is pushed by the code").contains("\"" + metric
          + "\"");
    }
    new com.fasterxml.jackson.databind.ObjectMapper().readTree(DASHBOARD);
  }
}
