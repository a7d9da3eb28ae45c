package dev.propensity.serve;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The loader's JSON writer: escaping from UTF-8 bytes, and numbers that read back exactly. */
class JsonBytesTest {

  private static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void aStringWrittenFromItsUtf8BytesReadsBackAsTheStringAndEqualsTheCharWriter()
      throws Exception {
    for (String s : List.of("", "plain", "quo\"te", "back\\slash", "tab\tnew\nline\u0001",
        "café", "emoji \uD83D\uDE00", "\u00e9\"\\\u001f\u4e2d")) {
      String fromBytes = text(new JsonBytes().utf8(s.getBytes(StandardCharsets.UTF_8)));
      assertThat(JSON.readValue(fromBytes, String.class)).as(s).isEqualTo(s);
      assertThat(fromBytes).isEqualTo(text(new JsonBytes().string(s)));
    }
  }

  @Test
  void everyDoubleReadsBackAsItselfAndKeepsJavasNotation() throws Exception {
    SplittableRandom random = new SplittableRandom(7);
    for (int i = 0; i < 200_000; i++) {
      double d = switch (i % 4) {
        case 0 -> random.nextDouble();
        case 1 -> -random.nextDouble() * Math.pow(10, random.nextInt(-300, 300));
        case 2 -> Double.longBitsToDouble(random.nextLong()); // any bits, subnormals too
        default -> random.nextInt(-1000, 1000) / 8.0;
      };
      if (Double.isNaN(d) || Double.isInfinite(d)) {
        continue;
      }
      String text = text(new JsonBytes().number(d));
      assertThat(Double.parseDouble(text)).as(text).isEqualTo(d);
      assertThat(JSON.readTree(text).asDouble()).isEqualTo(d);
    }
    assertThat(text(new JsonBytes().number(365.0))).isEqualTo("365.0");
    assertThat(text(new JsonBytes().number(1e-4))).isEqualTo("1.0E-4");
    assertThat(text(new JsonBytes().number(0.1 + 0.2))).isEqualTo("0.30000000000000004");
    assertThat(text(new JsonBytes().number(Double.NaN))).isEqualTo("\"NaN\"");
  }

  private static String text(JsonBytes json) {
    return new String(json.buffer(), 0, json.length(), StandardCharsets.UTF_8);
  }
}
