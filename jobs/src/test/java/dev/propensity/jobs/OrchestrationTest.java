package dev.propensity.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.propensity.jobs.cli.Jobs;
import java.io.File;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
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
 * The Oozie workflow and the Airflow DAG in conf/ follow the job order the code exposes, so a
 * scheduler cannot drift from the jobs.
 */
class OrchestrationTest {

  private static final File WORKFLOW = new File("../conf/oozie/workflow.xml");
  private static final File DAG = new File("../conf/airflow/propensity_dag.py");

  @Test
  void oozieWorkflowValidatesAgainstTheOozieSchemas() throws Exception {
    // the XSDs ship in org.apache.oozie:oozie-client; system ids let their includes resolve
    Source[] xsds = Arrays.stream(new String[] {"oozie-workflow-1.0.xsd", "spark-action-1.0.xsd"})
        .map(name -> {
          URL url = getClass().getClassLoader().getResource(name);
          assertThat(url).as(name + " on the test classpath (oozie-client)").isNotNull();
          return (Source) new StreamSource(url.toExternalForm());
        })
        .toArray(Source[]::new);
    SchemaFactory factory = SchemaFactory.newInstance(XMLConstants.W3C_XML_SCHEMA_NS_URI);
    factory.newSchema(xsds).newValidator().validate(new StreamSource(WORKFLOW));
  }

  @Test
  void oozieActionsRunInTheCodesJobOrder() throws Exception {
    DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
    f.setNamespaceAware(true);
    Document doc = f.newDocumentBuilder().parse(WORKFLOW);
    String next = ((Element) doc.getElementsByTagNameNS("*", "start").item(0)).getAttribute("to");
    List<String> order = new ArrayList<>();
    NodeList actions = doc.getElementsByTagNameNS("*", "action");
    while (!"end".equals(next)) {
      Element action = null;
      for (int i = 0; i < actions.getLength(); i++) {
        if (((Element) actions.item(i)).getAttribute("name").equals(next)) {
          action = (Element) actions.item(i);
        }
      }
      assertThat(action).as("action " + next).isNotNull();
      String arg = action.getElementsByTagNameNS("*", "arg").item(0).getTextContent();
      assertThat(arg).as("first arg of action " + next).isEqualTo(next);
      order.add(next);
      next = ((Element) action.getElementsByTagNameNS("*", "ok").item(0)).getAttribute("to");
    }
    assertThat(order).isEqualTo(Jobs.scheduled());
  }

  @Test
  void airflowDagParsesAndFollowsTheCodesJobOrder() throws Exception {
    // Airflow itself cannot be installed here; Python parses the file and reads its JOBS list
    String script = String.join("\n",
        "import ast, sys",
        "src = open(sys.argv[1]).read()",
        "tree = ast.parse(src)",
        "compile(src, sys.argv[1], 'exec')",
        "jobs = [n.value for n in tree.body if isinstance(n, ast.Assign)",
        "        and getattr(n.targets[0], 'id', '') == 'JOBS'][0]",
        "print(','.join(ast.literal_eval(jobs)))",
        "ops = [c for c in ast.walk(tree) if isinstance(c, ast.Call)",
        "       and getattr(c.func, 'id', '') == 'SparkSubmitOperator']",
        "print(len(ops))");
    Process p = new ProcessBuilder("python3", "-c", script, DAG.getPath())
        .redirectErrorStream(true).start();
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.exitValue()).as(out).isZero();
    List<String> lines = out.lines().toList();
    assertThat(Arrays.asList(lines.get(0).split(","))).isEqualTo(Jobs.scheduled());
    assertThat(lines.get(1)).as("one SparkSubmitOperator call, made per job in a loop")
        .isEqualTo("1");
  }
}
