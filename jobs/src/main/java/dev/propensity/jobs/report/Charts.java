package dev.propensity.jobs.report;

import java.awt.Color;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Base64;
import java.util.List;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.internal.chartpart.Chart;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

/** Charts of the run report, drawn with XChart into PNG bytes for embedding as data URIs. */
final class Charts {

  static final int WIDTH = 640;
  static final int HEIGHT = 420;

  /** A named line: x and y values. */
  record Line(String name, double[] x, double[] y) {}

  private Charts() {}

  static XYChart lines(String title, String xTitle, String yTitle, List<Line> lines,
      boolean diagonal) {
    XYChart chart = new XYChartBuilder().width(WIDTH).height(HEIGHT).title(title)
        .xAxisTitle(xTitle).yAxisTitle(yTitle).build();
    style(chart.getStyler());
    chart.getStyler().setLegendPosition(Styler.LegendPosition.InsideSE);
    for (Line l : lines) {
      XYSeries s = chart.addSeries(l.name(), l.x(), l.y());
      s.setMarker(SeriesMarkers.NONE);
    }
    if (diagonal) {
      XYSeries d = chart.addSeries("random", new double[] {0, 1}, new double[] {0, 1});
      d.setMarker(SeriesMarkers.NONE);
      d.setLineColor(Color.GRAY);
    }
    return chart;
  }

  static CategoryChart bars(String title, String xTitle, String yTitle, List<String> categories,
      String series, List<Double> values) {
    CategoryChart chart = new CategoryChartBuilder().width(WIDTH).height(HEIGHT).title(title)
        .xAxisTitle(xTitle).yAxisTitle(yTitle).build();
    style(chart.getStyler());
    chart.getStyler().setLegendVisible(false);
    chart.addSeries(series, categories, values);
    return chart;
  }

  /** @return the chart as a PNG data URI */
  static String dataUri(Chart<?, ?> chart) {
    try {
      byte[] png = BitmapEncoder.getBitmapBytes(chart, BitmapEncoder.BitmapFormat.PNG);
      return "data:image/png;base64," + Base64.getEncoder().encodeToString(png);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot render chart " + chart.getTitle(), e);
    }
  }

  private static void style(Styler styler) {
    styler.setChartBackgroundColor(Color.WHITE);
    styler.setAntiAlias(true);
  }
}
