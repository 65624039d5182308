package bertj.explain;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.awt.image.IndexColorModel;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;

/** An explain report read back the way a browser would: its data block decoded, its heatmap PNGs decoded to levels. */
final class ReportData {
    final String html;
    final JsonNode data;
    final int seq, layers, heads;

    private ReportData(String html) throws IOException {
        this.html = html;
        Matcher m = Pattern.compile("<script type=\"application/json\" id=\"bertj-data\">(.*?)</script>", Pattern.DOTALL).matcher(html);
        if (!m.find()) throw new AssertionError("the report has no bertj-data block");
        data = new ObjectMapper().readTree(m.group(1));
        seq = data.get("seq").asInt();
        layers = data.get("layers").asInt();
        heads = data.get("heads").asInt();
    }

    static ReportData read(Path file) throws IOException {
        return new ReportData(Files.readString(file, StandardCharsets.UTF_8));
    }

    List<String> tokens() {
        List<String> t = new ArrayList<>();
        data.get("tokens").forEach(n -> t.add(n.asText()));
        return t;
    }

    int[] ints(String field) {
        JsonNode a = data.get(field);
        int[] v = new int[a.size()];
        for (int i = 0; i < v.length; i++) v[i] = a.get(i).asInt();
        return v;
    }

    double[] doubles(String field) {
        JsonNode a = data.get(field);
        if (a == null || a.isNull()) return null;
        double[] v = new double[a.size()];
        for (int i = 0; i < v.length; i++) v[i] = a.get(i).asDouble();
        return v;
    }

    double[][] hiddenNorms() {
        JsonNode a = data.get("hidden_norms");
        double[][] out = new double[a.size()][];
        for (int r = 0; r < out.length; r++) {
            out[r] = new double[a.get(r).size()];
            for (int t = 0; t < out[r].length; t++) out[r][t] = a.get(r).get(t).asDouble();
        }
        return out;
    }

    /** Attention of layer l, head h as the page decodes it: q / scale, row-major [query][key]. */
    double[] attention(int l, int h) {
        byte[] z = Base64.getDecoder().decode(data.get("attention").get(l * heads + h).asText());
        Inflater inf = new Inflater();
        inf.setInput(z);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buf = new byte[1 << 16];
        try {
            while (!inf.finished()) {
                int k = inf.inflate(buf);
                if (k == 0 && (inf.needsInput() || inf.needsDictionary())) throw new AssertionError("truncated attention data");
                out.write(buf, 0, k);
            }
        } catch (DataFormatException e) {
            throw new AssertionError("attention data is not zlib: " + e.getMessage(), e);
        } finally {
            inf.end();
        }
        byte[] b = out.toByteArray();
        int n = seq * seq;
        if (b.length != 2 * n) throw new AssertionError("attention data has " + b.length + " bytes, expected " + 2 * n);
        double scale = data.get("attention_scale").asDouble();
        double[] v = new double[n];
        for (int i = 0; i < n; i++) v[i] = (((b[i] & 0xff) << 8) | (b[n + i] & 0xff)) / scale;
        return v;
    }

    /** The full-size heatmap of layer l, head h (the JSON's, or the thumbnail's where that is full size). */
    BufferedImage heatmap(int l, int h) throws IOException {
        JsonNode uri = data.get("heatmaps").get(l * heads + h);
        String src = uri.isNull() ? thumbnailSrc(l, h) : uri.asText();
        return png(src);
    }

    String thumbnailSrc(int l, int h) {
        Matcher m = Pattern.compile("<button class=\"thumb\" data-l=\"" + l + "\" data-h=\"" + h + "\"[^>]*><img [^>]*src=\"([^\"]+)\"")
                .matcher(html);
        if (!m.find()) throw new AssertionError("no thumbnail for layer " + l + " head " + h);
        return m.group(1);
    }

    static BufferedImage png(String dataUri) throws IOException {
        String prefix = "data:image/png;base64,";
        if (!dataUri.startsWith(prefix)) throw new AssertionError("not a PNG data URI: " + dataUri.substring(0, 40));
        return ImageIO.read(new ByteArrayInputStream(Base64.getDecoder().decode(dataUri.substring(prefix.length()))));
    }

    /** The palette indices (levels) of an indexed PNG, row-major. */
    static int[] levels(BufferedImage img) {
        if (!(img.getColorModel() instanceof IndexColorModel)) throw new AssertionError("the heatmap is not an indexed PNG");
        int w = img.getWidth(), h = img.getHeight();
        int[] out = new int[w * h];
        img.getRaster().getSamples(0, 0, w, h, 0, out);
        return out;
    }
}
