package bertj.qa;

import bertj.testing.Cli;
import bertj.testing.PyTorch;
import bertj.tokenizer.BertTokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The names and fields other tools rely on: tokenize, qa and squad output. */
class CliContractTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path dir;
    static Path model, vocab;

    @BeforeAll
    static void setUp() throws IOException {
        model = QaFixtures.smallModelDir(dir.resolve("model"), PyTorch.seed("CLI contract model"), true, true);
        vocab = model.resolve("vocab.txt");
    }

    private static List<String> fields(JsonNode n) {
        List<String> out = new ArrayList<>();
        Iterator<String> it = n.fieldNames();
        it.forEachRemaining(out::add);
        return out;
    }

    @Test
    void tokenizeJson() throws IOException {
        Cli.Result r = Cli.run("tokenize", "--vocab", vocab.toString(), "--json", "Hello, World! unaffable");
        assertEquals(0, r.code(), r.err());
        assertEquals("{\"tokens\":[\"hello\",\",\",\"world\",\"!\",\"una\",\"##ffa\",\"##ble\"],\"ids\":[7592,1010,2088,999,14477,20961,3468]}\n",
                r.out());
        Cli.Result cased = Cli.run("tokenize", "--vocab", vocab.toString(), "--json", "--cased", "Hello");
        assertEquals("[UNK]", JSON.readTree(cased.out()).get("tokens").get(0).asText(), "the uncased vocabulary has no 'Hello'");
    }

    /** --offsets: code point [start, end) of each token in the text, null for a special token written in it. */
    @Test
    void tokenizeOffsets() throws IOException {
        Cli.Result r = Cli.run("tokenize", "--vocab", vocab.toString(), "--json", "--offsets", "Café [SEP] 😀 unaffable");
        assertEquals(0, r.code(), r.err());
        assertEquals("{\"tokens\":[\"cafe\",\"[SEP]\",\"[UNK]\",\"una\",\"##ffa\",\"##ble\"],\"ids\":[7668,102,100,14477,20961,3468],"
                + "\"offsets\":[[0,4],null,[11,12],[13,16],[16,19],[19,22]]}\n", r.out());
        Cli.Result text = Cli.run("tokenize", "--vocab", vocab.toString(), "--offsets", "Café [SEP]");
        assertEquals("cafe\t7668\t0\t4\n[SEP]\t102\t-\t-\n", text.out());
        // without --offsets the output is what it always was
        Cli.Result plain = Cli.run("tokenize", "--vocab", vocab.toString(), "--json", "Café");
        assertEquals(List.of("tokens", "ids"), fields(JSON.readTree(plain.out())));
    }

    @Test
    void tokenizeLowerCasing() throws IOException {
        Cli.Result hf = Cli.run("tokenize", "--vocab", vocab.toString(), "--json", "ΟΔΟΣ");
        assertEquals("[\"ο\",\"##δ\",\"##ο\",\"##σ\"]", JSON.readTree(hf.out()).get("tokens").toString(), "Hugging Face's, the default");
        Cli.Result py = Cli.run("tokenize", "--vocab", vocab.toString(), "--json", "--lowercasing", "python", "ΟΔΟΣ");
        assertEquals("[\"ο\",\"##δ\",\"##ος\"]", JSON.readTree(py.out()).get("tokens").toString(), "NVIDIA's tokenization.py");
    }

    @Test
    void tokenizeJsonLinesInOrder() throws IOException {
        List<String> texts = List.of("First line.", "", "Ünïcödé 😀 [SEP] x", "a\nb\tc", "last");
        StringBuilder sb = new StringBuilder();
        for (String t : texts) sb.append(JSON.writeValueAsString(JSON.createObjectNode().put("text", t))).append("\r\n");
        Path f = dir.resolve("in.jsonl");
        Files.writeString(f, sb);
        Cli.Result r = Cli.run("tokenize", "--vocab", vocab.toString(), "--input-file", f.toString());
        assertEquals(0, r.code(), r.err());
        String[] lines = r.out().split("\n");
        assertEquals(texts.size(), lines.length);
        BertTokenizer tok = BertTokenizer.load(vocab, null);
        for (int i = 0; i < texts.size(); i++) {
            JsonNode n = JSON.readTree(lines[i]);
            assertEquals(List.of("tokens", "ids"), fields(n));
            var e = tok.encode(texts.get(i));
            assertEquals(JSON.valueToTree(e.tokens()), n.get("tokens"));
            assertEquals(JSON.valueToTree(e.ids()), n.get("ids"));
        }
    }

    @Test
    void qaJsonFields() throws IOException {
        String ctx = QaFixtures.HISTORY;
        Cli.Result one = Cli.run("qa", "--model", model.toString(), "--question", "Who founded the town?", "--context", ctx, "--json");
        assertEquals(0, one.code(), one.err());
        JsonNode a = JSON.readTree(one.out());
        assertTrue(a.isObject());
        assertTrue(fields(a).containsAll(List.of("answer", "score", "start", "end")), fields(a).toString());
        SquadReferenceTest.checkOffsets("qa", ctx, new Answer(a.get("answer").asText(), a.get("start_logit").asDouble(),
                a.get("end_logit").asDouble(), a.get("probability").asDouble(), a.get("start").asInt(), a.get("end").asInt(),
                a.get("start").asInt(), a.get("end").asInt()));
        assertEquals(a.get("start_logit").asDouble() + a.get("end_logit").asDouble(), a.get("score").asDouble(), 1e-12);

        Cli.Result three = Cli.run("qa", "--model", model.toString(), "--question", "Who founded the town?", "--context", ctx,
                "--json", "--top-k", "3");
        JsonNode list = JSON.readTree(three.out());
        assertTrue(list.isArray());
        assertEquals(3, list.size());
        assertEquals(a, list.get(0));

        Cli.Result text = Cli.run("qa", "--model", model.toString(), "--question", "Who founded the town?", "--context", ctx);
        assertEquals(a.get("answer").asText(), text.out().split("\n")[0]);
        assertTrue(text.out().split("\n")[1].contains("score"), text.out());
    }

    @Test
    void squadProgressBarAndLines() throws IOException {
        StringBuilder data = new StringBuilder("{\"version\": \"1.1\", \"data\": [{\"title\": \"t\", \"paragraphs\": [");
        for (int i = 0; i < 6; i++) {
            data.append(i > 0 ? "," : "").append("{\"context\": ").append(JSON.writeValueAsString(QaFixtures.longPassage(20 + 10 * i, i)))
                    .append(", \"qas\": [{\"id\": \"q").append(i).append("\", \"question\": \"How many units?\", \"answers\": [{\"text\": \"units\", \"answer_start\": 0}]}]}");
        }
        data.append("]}]}");
        Path f = dir.resolve("six.json");
        Files.writeString(f, data);
        Cli.Result bar = Cli.run("squad", "--model", model.toString(), "--data", f.toString(), "--out", dir.resolve("p1.json").toString(),
                "--progress", "bar", "--batch", "2");
        assertEquals(0, bar.code(), bar.err());
        assertTrue(bar.err().contains("\r[") && bar.err().contains("100%") && bar.err().contains("/s") && bar.err().contains("took"), bar.err());
        JsonNode metrics = JSON.readTree(bar.out());
        assertEquals(List.of("exact_match", "f1"), fields(metrics));
        assertTrue(bar.err().contains("decoding nvidia (every window padded to 384, lower-casing python)"), bar.err());
        Cli.Result json = Cli.run("squad", "--model", model.toString(), "--data", f.toString(), "--out", dir.resolve("p3.json").toString(),
                "--progress", "none", "--json");
        assertEquals(0, json.code(), json.err());
        JsonNode summary = JSON.readTree(json.out());
        assertEquals(List.of("exact_match", "f1", "decoding", "lowercasing", "questions", "windows", "tokens", "padding_among_best", "empty",
                "no_prediction", "seconds"), fields(summary));
        assertEquals(metrics, JSON.readTree("{\"exact_match\": " + summary.get("exact_match") + ", \"f1\": " + summary.get("f1") + "}"));
        assertEquals("nvidia", summary.get("decoding").asText());
        assertEquals("", json.err(), "--progress none prints nothing");
        Cli.Result masked = Cli.run("squad", "--model", model.toString(), "--data", f.toString(), "--out", dir.resolve("p4.json").toString(),
                "--progress", "none", "--json", "--decoding", "masked");
        JsonNode m = JSON.readTree(masked.out());
        assertEquals("masked", m.get("decoding").asText());
        assertEquals("hf", m.get("lowercasing").asText());
        assertEquals(0, m.get("padding_among_best").asInt());
        Cli.Result lines = Cli.run("squad", "--model", model.toString(), "--data", f.toString(), "--out", dir.resolve("p2.json").toString(),
                "--progress", "lines", "--batch", "2");
        assertTrue(!lines.err().contains("\r") && lines.err().contains("windows (100%)") && lines.err().contains("ETA"), lines.err());
        assertEquals(Files.readString(dir.resolve("p1.json")), Files.readString(dir.resolve("p2.json")));
        JsonNode preds = JSON.readTree(dir.resolve("p1.json").toFile());
        assertEquals(List.of("q0", "q1", "q2", "q3", "q4", "q5"), fields(preds));
        for (JsonNode p : preds) assertTrue(p.isTextual());
    }
}
