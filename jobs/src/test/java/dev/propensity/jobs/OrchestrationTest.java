package dev.propensity.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.propensity.common.config.ConfigLoader;
import dev.propensity.common.config.JobConfig;
import dev.propensity.jobs.cli.Jobs;
import dev.propensity.jobs.loop.RetrainPolicy;
import java.io.File;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.xml.XMLConstants;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.transform.Source;
import javax.xml.transform.stream.StreamSource;
import javax.xml.validation.SchemaFactory;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

/**
 * The scheduler files in conf/ implement the weekly loop (README "Weekly operation") with the
 * code's jobs, keys and exit codes: the Oozie coordinator and workflow are validated against
 * Oozie's schemas and walked; the Airflow DAG is loaded against a stand-in of the Airflow modules
 * it uses (Airflow cannot be installed here) that records its tasks, arguments and edges.
 */
class OrchestrationTest {

  private static final File WORKFLOW = new File("../conf/oozie/workflow.xml");
  private static final File DAG = new File("../conf/airflow/propensity_dag.py");
  private static final File COORDINATOR = new File("../conf/oozie/coordinator.xml");
  private static final File STANDIN = new File("src/test/resources/airflow_standin");

  /** The loop's task graph, as both schedulers must wire it. */
  private static final List<List<String>> LOOP_EDGES = List.of(
      List.of("features", "score"), List.of("score", "performance"),
      List.of("performance", "drift"), List.of("drift", "retrain_policy"),
      List.of("retrain_policy", "train"), List.of("retrain_policy", "no_retrain"),
      List.of("train", "select"), List.of("select", "bins"), List.of("bins", "promote"),
      List.of("promote", "publish"), List.of("publish", "segments"),
      List.of("no_retrain", "segments"), List.of("segments", "maintain"));

  private static Source xsd(String name) {
    URL url = OrchestrationTest.class.getClassLoader().getResource(name);
    assertThat(url).as(name + " on the test classpath (oozie-client)").isNotNull();
    return new StreamSource(url.toExternalForm());
  }

  @Test
  void oozieFilesValidateAgainstTheOozieSchemas() throws Exception {
    SchemaFactory factory = SchemaFactory.newInstance(XMLConstants.W3C_XML_SCHEMA_NS_URI);
    factory.newSchema(new Source[] {xsd("oozie-workflow-1.0.xsd"), xsd("spark-action-1.0.xsd")})
        .newValidator().validate(new StreamSource(WORKFLOW));
    factory.newSchema(xsd("oozie-coordinator-0.5.xsd")).newValidator()
        .validate(new StreamSource(COORDINATOR));
  }

  @Test
  void oozieWorkflowIsTheLoopWithADecisionOnThePolicyExitCodes() throws Exception {
    DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
    f.setNamespaceAware(true);
    Document doc = f.newDocumentBuilder().parse(WORKFLOW);
    Map<String, String> jobOf = new TreeMap<>();
    Set<List<String>> edges = new TreeSet<>(Comparator.comparing(Object::toString));
    NodeList actions = doc.getElementsByTagNameNS("*", "action");
    for (int i = 0; i < actions.getLength(); i++) {
      Element a = (Element) actions.item(i);
      String name = a.getAttribute("name");
      NodeList args = a.getElementsByTagNameNS("*", "arg");
      List<String> values = new ArrayList<>();
      for (int j = 0; j < args.getLength(); j++) {
        values.add(args.item(j).getTextContent());
      }
      jobOf.put(name, values.get(0));
      checkArguments(name, values.subList(1, values.size()), "${cycleDate}", "${maturedDate}");
      String ok = ((Element) a.getElementsByTagNameNS("*", "ok").item(0)).getAttribute("to");
      String error = ((Element) a.getElementsByTagNameNS("*", "error").item(0))
          .getAttribute("to");
      if (!"end".equals(ok)) {
        edges.add(List.of(name, "policy".equals(name) ? "no_retrain" : ok));
      }
      if ("policy".equals(name)) {
        assertThat(error).isEqualTo("policy-decision");
        assertThat(((Element) a.getElementsByTagNameNS("*", "mode").item(0)).getTextContent())
            .as("the policy's exit code reaches Oozie in client mode").isEqualTo("client");
      } else {
        assertThat(error).as(name).isEqualTo("fail");
      }
    }
    // the policy's ok transition (exit 0) goes straight to segments, like Airflow's no_retrain
    edges.remove(List.of("policy", "no_retrain"));
    edges.add(List.of("retrain_policy", "no_retrain"));
    edges.add(List.of("no_retrain", "segments"));
    Element decision = (Element) doc.getElementsByTagNameNS("*", "decision").item(0);
    Element retrain = (Element) decision.getElementsByTagNameNS("*", "case").item(0);
    edges.add(List.of("retrain_policy", retrain.getAttribute("to")));
    Set<String> codes = new TreeSet<>();
    Matcher m = Pattern.compile("errorCode\\('policy'\\) eq '(\\d+)'")
        .matcher(retrain.getTextContent());
    while (m.find()) {
      codes.add(m.group(1));
    }
    assertThat(codes).isEqualTo(retrainExitCodes());
    String start = ((Element) doc.getElementsByTagNameNS("*", "start").item(0)).getAttribute("to");
    assertThat(start).isEqualTo("features");
    List<List<String>> renamed = edges.stream().map(e -> e.stream()
        .map(n -> "policy".equals(n) ? "retrain_policy" : n).toList()).toList();
    assertThat(renamed).containsExactlyInAnyOrderElementsOf(LOOP_EDGES);
    assertThat(jobOf).containsEntry("publish", "score").containsEntry("policy", "policy");
  }

  @Test
  void airflowDagIsTheLoopWithTheCodesJobsAndKeys() throws Exception {
    Map<String, Object> dag = inspectDag();
    assertThat(dag.get("module_level_variable_calls")).as("nothing read at parse time")
        .isEqualTo(0);
    assertThat(dag.get("max_active_runs")).isEqualTo(1);
    assertThat((Double) dag.get("dagrun_timeout_s")).isPositive();
    assertThat((Double) dag.get("execution_timeout_s")).isPositive();
    @SuppressWarnings("unchecked")
    List<List<String>> edges = (List<List<String>>) dag.get("edges");
    assertThat(edges).containsExactlyInAnyOrderElementsOf(LOOP_EDGES);
    @SuppressWarnings("unchecked")
    Map<String, Map<String, Object>> tasks = (Map<String, Map<String, Object>>) dag.get("tasks");
    for (Map.Entry<String, Map<String, Object>> t : tasks.entrySet()) {
      @SuppressWarnings("unchecked")
      List<String> args = (List<String>) t.getValue().get("args");
      if (args == null) {
        assertThat(t.getKey()).isEqualTo("no_retrain");
        continue;
      }
      assertThat(args.subList(1, 3)).as(t.getKey()).containsExactly("-c",
          "/opt/propensity/conf/cluster-s3.conf");
      checkArguments(t.getKey(), args.subList(3, args.size()), "2026-07-05", "2026-06-05");
      if (!"retrain_policy".equals(t.getKey())) {
        assertThat(t.getValue().get("deploy_mode")).as(t.getKey()).isEqualTo("client");
      }
    }
    assertThat(tasks.get("publish").get("args")).asList().startsWith("score");
    assertThat(tasks.get("retrain_policy").get("args")).asList().startsWith("policy");
    assertThat(tasks.get("segments").get("trigger_rule"))
        .isEqualTo("none_failed_min_one_success");
  }

  @Test
  void airflowBranchFollowsThePolicyExitCode() throws Exception {
    for (String code : retrainExitCodes()) {
      assertThat(python(DAG.getPath(), "branch", code)).as("exit " + code).isEqualTo("train");
    }
    assertThat(python(DAG.getPath(), "branch", "0")).isEqualTo("no_retrain");
    assertThat(python(DAG.getPath(), "branch", "1")).as("a crash is a failure, not a branch")
        .isEqualTo("raised: AirflowException");
    assertThat(python(DAG.getPath(), "branch", "2")).isEqualTo("raised: AirflowException");
  }

  /** The policy's exit codes that mean "retrain", from the code. */
  private static Set<String> retrainExitCodes() {
    Set<String> codes = new TreeSet<>();
    for (RetrainPolicy.Reason r : RetrainPolicy.Reason.values()) {
      if (r != RetrainPolicy.Reason.NONE) {
        codes.add(String.valueOf(r.exitCode()));
      }
    }
    return codes;
  }

  /**
   * A task's job arguments are the code's: the job exists and its key=value arguments load as
   * config (unknown keys are rejected), with the scheduler's dates filled in.
   */
  private static void checkArguments(String task, List<String> args, String cycle,
      String matured) {
    List<String> overrides = args.stream().filter(a -> a.contains("="))
        .map(a -> a.replace(cycle, "2026-07-05").replace(matured, "2026-06-05")).toList();
    assertThat(args.stream().filter(a -> !a.contains("=")).toList()).as(task)
        .isSubsetOf(List.of("-c", "${propensityConf}"));
    JobConfig c = ConfigLoader.load(null, overrides, Map.of());
    if (overrides.stream().anyMatch(o -> o.startsWith("loop.date="))) {
      assertThat(c.string("propensity.loop.date")).as(task).isEqualTo("2026-07-05");
    }
    if (overrides.stream().anyMatch(o -> o.startsWith("features.snapshot-dates="))) {
      assertThat(c.strings("propensity.features.snapshot-dates")).as(task)
          .containsExactly("2026-06-05", "2026-07-05");
      assertThat(c.string("propensity.features.as-of")).isEqualTo("2026-07-05");
    }
  }

  @Test
  void everySchedulerTaskRunsAJobTheCodeKnows() throws Exception {
    Map<String, Object> dag = inspectDag();
    @SuppressWarnings("unchecked")
    Map<String, Map<String, Object>> tasks = (Map<String, Map<String, Object>>) dag.get("tasks");
    tasks.values().stream().map(t -> (List<?>) t.get("args")).filter(a -> a != null)
        .forEach(a -> assertThat(Jobs.all()).containsKey((String) a.get(0)));
  }

  private static Map<String, Object> inspectDag() throws Exception {
    String json = python(DAG.getPath());
    return new com.fasterxml.jackson.databind.ObjectMapper().readValue(json,
        new com.fasterxml.jackson.core.type.TypeReference<>() {});
  }

  private static String python(String... args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of("python3",
        new File(STANDIN, "inspect_dag.py").getPath()));
    cmd.addAll(Arrays.asList(args));
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    pb.environment().put("PYTHONPATH", STANDIN.getAbsolutePath());
    pb.environment().put("PYTHONDONTWRITEBYTECODE", "1");
    Process p = pb.start();
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
    assertThat(p.exitValue()).as(out).isZero();
    List<String> lines = out.lines().toList();
    return lines.get(lines.size() - 1);
  }
}
