package dev.propensity.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.propensity.common.SparkTestBase;
import dev.propensity.common.config.JobConfig;
import dev.propensity.common.run.ModelRun;
import dev.propensity.common.run.ModelRegistry;
import dev.propensity.jobs.cli.Main;
import dev.propensity.jobs.cli.PipelineJob;
import dev.propensity.jobs.report.ReportJob;
import dev.propensity.common.table.Warehouse;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Row;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The whole pipeline in local[2] on a small generated data set, on local Delta tables, run once;
 * then the tables, the sql command and the run report are checked against it.
 */
class PipelineIT extends SparkTestBase {

  private static Path warehouse;
  private static JobConfig config;

  /** A small, quick pipeline: also what the cluster test submits as key=value arguments. */
  static final List<String> SMALL = List.of("generate.customers=3000",
      "train.cv.num-folds=2", "train.candidates=[logistic, gbt]",
      "train.logistic.reg-param=[0.01]", "train.logistic.elastic-net-param=[0.0]",
      "train.logistic.max-iter=25", "train.gbt.max-depth=[3]", "train.gbt.max-iter=10");

  static JobConfig small(String warehouse) {
    List<String> args = new java.util.ArrayList<>(SMALL);
    args.add("warehouse=" + warehouse);
    return JobConfig.defaults().with(args.toArray(new String[0]));
  }

  /** Job group and description of every Spark job the pipeline started. */
  private static final List<String[]> SPARK_JOBS =
      java.util.Collections.synchronizedList(new java.util.ArrayList<>());

  @BeforeAll
  static void runPipeline() throws Exception {
    warehouse = tempWarehouse("pipeline");
    config = small(warehouse.toString());
    org.apache.spark.scheduler.SparkListener listener =
        new org.apache.spark.scheduler.SparkListener() {
          @Override
          public void onJobStart(org.apache.spark.scheduler.SparkListenerJobStart start) {
            java.util.Properties p = start.properties();
            SPARK_JOBS.add(new String[] {p == null ? null : p.getProperty("spark.jobGroup.id"),
                p == null ? null : p.getProperty("spark.job.description")});
          }
        };
    spark().sparkContext().addSparkListener(listener);
    try {
      new PipelineJob().run(spark(), config);
    } finally {
      spark().sparkContext().listenerBus().waitUntilEmpty();
      spark().sparkContext().removeSparkListener(listener);
    }
  }

  @Test
  void everySparkJobCarriesItsStepAsGroupAndADescription() {
    List<String> steps = new java.util.ArrayList<>(config.strings("propensity.pipeline.steps"));
    steps.add("report");
    assertThat(SPARK_JOBS).isNotEmpty().allSatisfy(j -> {
      assertThat(steps).as("group of a job described '%s'", j[1]).contains(j[0]);
      // Delta's own jobs prefix the caller's description ("Delta: <ours>: Filtering files...")
      assertThat(j[1].replaceFirst("^(Delta: )+", "")).startsWith(j[0]);
    });
    List<String> described = SPARK_JOBS.stream().map(j -> j[1]).toList();
    assertThat(described)
        .anySatisfy(d -> assertThat(d).startsWith("score: write customer_scores (replace where"))
        .anySatisfy(d -> assertThat(d).matches("train: gbt grid point 1/1 fold \\d/2"))
        .anySatisfy(d -> assertThat(d).isEqualTo("features: check and count the input tables"));
  }

  @Test
  void pipelineWritesEveryTableAndScoresEveryCustomer() {
    PipelineChecks.assertComplete(spark(), config);
  }

  @Test
  void sqlCommandPrintsTheBinsOfTheLookupTable() {
    // the README's check, through the command line the sql job uses
    PrintStream stdout = System.out;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    int code;
    try {
      System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
      code = Main.run(new String[] {"sql", "SELECT 1 AS one; SELECT bin, count(*) AS n FROM"
          + " customer_propensity GROUP BY bin ORDER BY bin", "--csv", "warehouse=" + warehouse});
    } finally {
      System.setOut(stdout);
    }
    assertThat(code).isZero();
    String csv = out.toString(StandardCharsets.UTF_8);
    assertThat(csv).startsWith("bin,n\n1,");
    assertThat(csv.lines().count()).isEqualTo(11);
  }

  @Test
  void runReportRendersInHeadlessChromiumWithEveryChart() throws Exception {
    ModelRun run = new ModelRegistry(new Warehouse(spark(), "file:" + warehouse))
        .open("latest");
    // written by the pipeline at its end, after score, segments and drift
    Path report = warehouse.resolve("runs").resolve(run.id()).resolve(ReportJob.FILE);
    String html = Files.readString(report);
    assertThat(html).doesNotContain("http://").doesNotContain("https://") // self-contained
        .doesNotContain("<script").doesNotContain("NaN");

    // a copy with checks run after load; the report itself has no scripts
    Path work = Files.createTempDirectory("report-check");
    Path page = work.resolve("report.html");
    Files.writeString(page, html.replace("</body>", "<script>window.addEventListener('load',"
        + "()=>{const i=[...document.images];document.body.dataset.images=i.length;"
        + "document.body.dataset.decoded=i.filter(x=>x.complete&&x.naturalWidth>0).length;"
        + "const bad=[];let n=0;"
        + "for(const s of document.querySelectorAll('svg[data-kind=horizontal]')){n++;"
        + "const name=s.dataset.chart;const bars=s.querySelectorAll('rect.bar');"
        + "const labels=[...s.querySelectorAll('text.category')];"
        + "if(name.startsWith('importance-')&&bars.length!==labels.length)bad.push(name+':count');"
        + "const boxes=labels.map(t=>t.getBBox());"
        + "for(let k=0;k<boxes.length;k++){const b=boxes[k];"
        + "if(b.x<0||b.width<1)bad.push(name+':clipped '+k);"
        + "if(k>0&&b.y<boxes[k-1].y+boxes[k-1].height-0.5)bad.push(name+':overlap '+k);}}"
        + "document.body.dataset.svgs=n;document.body.dataset.bad=bad.join(',')||'none';"
        + "});</script></body>"));
    HeadlessChromium.Rendered r = HeadlessChromium.render(page, work);

    Matcher m = Pattern.compile("data-images=\"(\\d+)\" data-decoded=\"(\\d+)\""
        + " data-svgs=\"(\\d+)\" data-bad=\"([^\"]*)\"").matcher(r.dom());
    assertThat(m.find()).as("check script ran; DOM:\n" + r.dom()).isTrue();
    int images = countOf(html, "<img class=\"chart\"");
    assertThat(Integer.parseInt(m.group(1))).isEqualTo(images);
    assertThat(Integer.parseInt(m.group(2))).as("decoded chart images").isEqualTo(images);
    assertThat(Integer.parseInt(m.group(3))).as("horizontal SVG charts")
        .isEqualTo(countOf(html, "data-kind=\"horizontal\""));
    assertThat(m.group(4)).as("labels: one per bar, inside the chart, none over another")
        .isEqualTo("none");
    for (String chart : new String[] {"roc", "precision-recall", "calibration", "lift", "gain",
        "importance-logistic", "importance-gbt", "importance-ensemble", "shap-importance",
        "shap-summary", "segments", "psi"}) {
      assertThat(html).contains("data-chart=\"" + chart + "\"");
    }
    assertThat(html).contains("data-chart=\"dependence-").contains("data-kind=\"waterfall\"")
        .contains("data-table=\"contributions-by-group\"")
        .contains("data-table=\"contributions-by-segment\"")
        .doesNotContain("No scoring run has computed drift");
    // every example waterfall: base value + contributions = the customer's explained score
    Matcher w = Pattern.compile("data-base=\"([^\"]+)\" data-output=\"([^\"]+)\"(.*?)</svg>",
        Pattern.DOTALL).matcher(html);
    int waterfalls = 0;
    while (w.find()) {
      double sum = Double.parseDouble(w.group(1));
      Matcher c = Pattern.compile("data-contribution=\"([^\"]+)\"").matcher(w.group(3));
      while (c.find()) {
        sum += Double.parseDouble(c.group(1));
      }
      assertThat(sum).isCloseTo(Double.parseDouble(w.group(2)),
          org.assertj.core.data.Offset.offset(1e-9));
      waterfalls++;
    }
    assertThat(waterfalls).isBetween(1, 3);
    assertThat(r.log()).doesNotContain("Uncaught").doesNotContain(":ERROR:CONSOLE");
    assertThat(r.colours()).as("screenshot is not blank").isGreaterThan(20);
  }

  @Test
  void everyNotebookQueryRunsAgainstThePipelinesTables() throws Exception {
    List<NotebookQueries.Notebook> notebooks = NotebookQueries.read(new File("../notebooks"));
    assertThat(notebooks).extracting(NotebookQueries.Notebook::name)
        .contains("lookup_table.ipynb", "latest_run.ipynb", "segments_and_drift.ipynb");
    Warehouse wh = Warehouse.of(spark(), config);
    // values for the notebooks' named parameters, taken from the run's own tables
    Map<String, String> params = Map.of("CUSTOMER_ID",
        wh.read("customer_propensity").orderBy("customer_id").first().getString(0));
    int ran = 0;
    for (NotebookQueries.Notebook nb : notebooks) {
      assertThat(nb.tables()).as(nb.name() + " registers its tables").isNotEmpty();
      for (String table : nb.tables()) {
        wh.read(table).createOrReplaceTempView(table);
      }
      assertThat(nb.queries()).as(nb.name() + " has query cells").isNotEmpty();
      for (NotebookQueries.Query q : nb.queries()) {
        String sql = q.sql();
        for (String p : q.parameters()) {
          assertThat(params).as(q.notebook() + " cell " + q.cell() + " parameter " + p)
              .containsKey(p);
          sql = sql.replace("{" + p + "}", params.get(p));
        }
        List<Row> rows = spark().sql(sql).collectAsList();
        assertThat(rows).as(q.notebook() + " cell " + q.cell() + " returns rows:\n" + q.sql())
            .isNotEmpty();
        ran++;
      }
    }
    assertThat(ran).isGreaterThanOrEqualTo(9);
  }

  private static int countOf(String s, String part) {
    return s.split(Pattern.quote(part), -1).length - 1;
  }
}
