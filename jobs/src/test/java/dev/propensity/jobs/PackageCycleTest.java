package dev.propensity.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The packages form a tree: jobs on top, the model layer ({@code jobs.model}) below them,
 * {@code common} at the bottom. A small scan of the sources (imports and fully qualified names)
 * instead of a bytecode tool: it fails on the first cycle and names it.
 */
class PackageCycleTest {

  private static final Pattern PACKAGE = Pattern.compile("^package\\s+([\\w.]+);",
      Pattern.MULTILINE);
  private static final Pattern REFERENCE = Pattern.compile(
      "\\b(dev\\.propensity(?:\\.[a-z]\\w*)*)\\.[A-Z]");
  private static final String MODEL = "dev.propensity.jobs.model";

  @Test
  void thereIsNoPackageCycle() {
    Map<String, Set<String>> graph = dependencies();
    assertThat(graph).containsKey(MODEL);
    assertThat(cycles(graph)).isEmpty();
  }

  @Test
  void theModelLayerDependsOnNoJobAndCommonOnNothingAbove() {
    Map<String, Set<String>> graph = dependencies();
    graph.forEach((p, deps) -> {
      if (p.startsWith(MODEL)) {
        assertThat(deps).as(p).allMatch(d -> d.startsWith(MODEL)
            || d.startsWith("dev.propensity.common"));
      }
      if (p.startsWith("dev.propensity.common")) {
        assertThat(deps).as(p).allMatch(d -> d.startsWith("dev.propensity.common"));
      }
    });
  }

  /** @return package -> the project packages its sources refer to */
  static Map<String, Set<String>> dependencies() {
    Map<String, Set<String>> graph = new TreeMap<>();
    for (Path root : List.of(Path.of("src/main/java"), Path.of("../common/src/main/java"))) {
      try (Stream<Path> files = Files.walk(root)) {
        for (Path f : (Iterable<Path>) files.filter(p -> p.toString().endsWith(".java"))::iterator) {
          String src = Files.readString(f);
          Matcher pm = PACKAGE.matcher(src);
          if (!pm.find()) {
            continue;
          }
          String pkg = pm.group(1);
          Set<String> deps = graph.computeIfAbsent(pkg, k -> new TreeSet<>());
          // comments may name other packages ({@link ...}); only code counts
          Matcher rm = REFERENCE.matcher(src.replaceAll("(?s)/\\*.*?\\*/", "")
              .replaceAll("//[^\n]*", ""));
          while (rm.find()) {
            if (!rm.group(1).equals(pkg)) {
              deps.add(rm.group(1));
            }
          }
        }
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return graph;
  }

  /** @return the strongly connected components with more than one package (Tarjan) */
  static List<Set<String>> cycles(Map<String, Set<String>> graph) {
    Map<String, Integer> index = new HashMap<>();
    Map<String, Integer> low = new HashMap<>();
    Deque<String> stack = new ArrayDeque<>();
    List<Set<String>> out = new ArrayList<>();
    for (String v : graph.keySet()) {
      if (!index.containsKey(v)) {
        visit(v, graph, index, low, stack, out);
      }
    }
    return out;
  }

  private static void visit(String v, Map<String, Set<String>> graph, Map<String, Integer> index,
      Map<String, Integer> low, Deque<String> stack, List<Set<String>> out) {
    index.put(v, index.size());
    low.put(v, index.get(v));
    stack.push(v);
    for (String w : graph.getOrDefault(v, Set.of())) {
      if (!index.containsKey(w)) {
        visit(w, graph, index, low, stack, out);
        low.put(v, Math.min(low.get(v), low.get(w)));
      } else if (stack.contains(w)) {
        low.put(v, Math.min(low.get(v), index.get(w)));
      }
    }
    if (low.get(v).equals(index.get(v))) {
      Set<String> component = new TreeSet<>();
      String w;
      do {
        w = stack.pop();
        component.add(w);
      } while (!w.equals(v));
      if (component.size() > 1) {
        out.add(component);
      }
    }
  }

  @Test
  void theScanFindsACycle() {
    Map<String, Set<String>> graph = Map.of("a", Set.of("b"), "b", Set.of("c"),
        "c", Set.of("a"), "d", Set.of("a"));
    assertThat(cycles(graph)).containsExactly(Set.of("a", "b", "c"));
  }
}
