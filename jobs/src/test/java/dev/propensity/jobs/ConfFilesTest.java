package dev.propensity.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.propensity.common.config.ConfigLoader;
import dev.propensity.common.config.JobConfig;
import dev.propensity.jobs.cli.Jobs;
import java.io.File;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Every shipped conf file loads against reference.conf: no key drifts out of the code. */
class ConfFilesTest {

  @Test
  void everyConfFileLoadsWithKnownKeysOnly() {
    File[] files = new File("../conf").listFiles((d, n) -> n.endsWith(".conf"));
    assertThat(files).isNotEmpty();
    for (File f : files) {
      JobConfig c = ConfigLoader.load(f, List.of(), Map.of());
      assertThat(c.string("propensity.warehouse")).as(f.getName()).isNotBlank();
      assertThat(Jobs.all().keySet()).containsAll(c.strings("propensity.pipeline.steps"));
    }
    assertThat(Arrays.stream(files).map(File::getName)).contains("demo.conf", "local.conf");
  }
}
