package dev.propensity.jobs;

import java.awt.image.BufferedImage;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import javax.imageio.ImageIO;

/** Debian's chromium, headless, as a real browser for page checks (installed by ./verify.sh). */
final class HeadlessChromium {

  private static final String BINARY = "/usr/bin/chromium";

  /** What the browser made of a page. */
  record Rendered(String dom, String log, BufferedImage screenshot) {

    /** @return distinct colours in the screenshot (a blank page has one or two) */
    int colours() {
      Set<Integer> seen = new HashSet<>();
      for (int y = 0; y < screenshot.getHeight(); y += 3) {
        for (int x = 0; x < screenshot.getWidth(); x += 3) {
          seen.add(screenshot.getRGB(x, y));
        }
      }
      return seen.size();
    }
  }

  private HeadlessChromium() {}

  /**
   * Renders a local page twice: once to dump the DOM after load (scripts run), once for a
   * screenshot. The browser's console log is captured from both runs.
   */
  static Rendered render(Path page, Path work) throws IOException, InterruptedException {
    if (!new File(BINARY).canExecute()) {
      throw new IllegalStateException(BINARY + " is missing: ./verify.sh installs Debian's chromium"
          + " (apt-get install -y chromium)");
    }
    Path shot = work.resolve("screenshot.png");
    Run dom = run(work, "dom", "--dump-dom", page.toUri().toString());
    Run png = run(work, "png", "--screenshot=" + shot, page.toUri().toString());
    return new Rendered(dom.stdout, dom.stderr + png.stderr, ImageIO.read(shot.toFile()));
  }

  private record Run(String stdout, String stderr) {}

  private static Run run(Path work, String name, String... args)
      throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>(List.of(BINARY, "--headless", "--no-sandbox",
        "--disable-gpu", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--disable-quic",
        "--user-data-dir=" + Files.createTempDirectory(work, "profile"),
        "--enable-logging=stderr", "--v=0", "--window-size=1400,3000",
        "--virtual-time-budget=5000"));
    cmd.addAll(List.of(args));
    Path out = work.resolve(name + ".out");
    Path err = work.resolve(name + ".err");
    Process p = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile())
        .start();
    if (!p.waitFor(120, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new IllegalStateException("chromium did not finish: " + Files.readString(err));
    }
    return new Run(Files.readString(out, StandardCharsets.UTF_8),
        Files.readString(err, StandardCharsets.UTF_8));
  }
}
