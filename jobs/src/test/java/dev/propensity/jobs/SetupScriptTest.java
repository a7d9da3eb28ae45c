package dev.propensity.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's test command is the one that works on a fresh machine: CI runs exactly it, and it
 * installs the Debian packages whose programs the tests start before it runs Maven. The script
 * runs here on a PATH of stand-ins for apt-get and mvn (and, in the second case, for the
 * programs), so nothing is installed.
 */
class SetupScriptTest {

  private static final File ROOT = new File("..");

  @Test
  void readmeTestCommandIsWhatCiRuns() throws Exception {
    String readme = Files.readString(ROOT.toPath().resolve("README.md"));
    Matcher m = Pattern.compile("(?m)^(\\S+)\\s+# builds and runs every test").matcher(readme);
    assertThat(m.find()).as("README 'The two commands' names the test command").isTrue();
    String command = m.group(1);
    assertThat(command).isEqualTo("./verify.sh");
    List<String> ci = Files.readAllLines(ROOT.toPath().resolve(".ci/run")).stream()
        .map(String::strip).filter(l -> !l.isEmpty() && !l.startsWith("#")).toList();
    assertThat(ci.get(ci.size() - 1)).as(".ci/run ends with the README's command")
        .isEqualTo(command);
    assertThat(String.join("\n", ci)).as(".ci/run does nothing else that matters")
        .doesNotContain("apt-get", "mvn");
  }

  @Test
  void installsMissingPackagesThenRunsMavenVerify(@TempDir Path dir) throws Exception {
    Path calls = dir.resolve("calls.txt");
    stub(dir, "apt-get", calls);
    stub(dir, "mvn", calls);
    assertThat(runScript(dir, "-Dfoo=bar")).isEqualTo(0);
    assertThat(Files.readAllLines(calls)).containsExactly(
        "apt-get update -qq",
        "apt-get install -y -qq chromium prometheus-pushgateway prometheus",
        "mvn -B verify -Dfoo=bar");
  }

  @Test
  void installsNothingWhenTheProgramsArePresent(@TempDir Path dir) throws Exception {
    Path calls = dir.resolve("calls.txt");
    for (String p : List.of("apt-get", "mvn", "chromium", "prometheus-pushgateway", "promtool")) {
      stub(dir, p, calls);
    }
    assertThat(runScript(dir)).isEqualTo(0);
    assertThat(Files.readAllLines(calls)).containsExactly("mvn -B verify");
  }

  private static int runScript(Path bin, String... args) throws Exception {
    List<String> command = new java.util.ArrayList<>(List.of("/bin/bash",
        new File(ROOT, "verify.sh").getCanonicalPath()));
    command.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true)
        .redirectOutput(bin.resolve("out.txt").toFile());
    pb.environment().clear();
    pb.environment().put("PATH", bin.toString());
    Process p = pb.start();
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    if (p.exitValue() != 0) {
      System.err.println(Files.readString(bin.resolve("out.txt")));
    }
    return p.exitValue();
  }

  /** A stand-in program that records its name and arguments. */
  private static void stub(Path dir, String name, Path calls) throws Exception {
    Path f = dir.resolve(name);
    Files.writeString(f, "#!/bin/bash\necho \"" + name + " $*\" >> '" + calls + "'\n");
    f.toFile().setExecutable(true);
  }
}
