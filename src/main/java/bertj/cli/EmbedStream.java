package bertj.cli;

import bertj.embed.SentenceEmbedder;
import bertj.embed.SentenceEmbedder.Embedding;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectWriter;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code embed --input-file}: texts read from a file or standard input, embedded a chunk at a time, written as
 * JSON Lines in input order, so that memory stays bounded whatever the length of the input.
 *
 * <p>Input: UTF-8, one text per line, or JSON Lines — one object per line with a string field {@code "text"} (and
 * optionally an {@code "id"}, copied to the output). The first non-blank line decides: a line that starts with
 * {@code {} means JSON Lines. Blank lines are skipped; every output line says which input line it comes from.
 *
 * <p>Output, one line per text: {@code {"line": n, "id": … (when given), "text": …, "tokens": n, "truncated": …,
 * "embedding": [...]}} — the fields of {@code embed --json}'s {@code embeddings} entries, plus the line number.
 */
final class EmbedStream {
    /** Texts embedded per chunk: they are grouped by length within a chunk (see SentenceEmbedder#embed). */
    static final int CHUNK = 1024;

    private final SentenceEmbedder embedder;
    private final int batchSize;
    private final String name;
    private final ObjectWriter writer = Json.MAPPER.writer().without(SerializationFeature.INDENT_OUTPUT);

    /** What went through, for the summary. */
    record Totals(int texts, int truncated, long tokens, double seconds) {
    }

    private record Item(int line, JsonNode id, String text) {
    }

    EmbedStream(SentenceEmbedder embedder, int batchSize, String name) {
        this.embedder = embedder;
        this.batchSize = batchSize;
        this.name = name;
    }

    /**
     * Lines of UTF-8 text, decoded one line at a time so that malformed bytes are reported with their line number
     * (a decoding reader fails a buffer ahead). A line ends at \n; a \r before it is dropped.
     */
    static final class Lines implements AutoCloseable {
        private final InputStream in;
        private final java.nio.charset.CharsetDecoder utf8 = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
        private final java.io.ByteArrayOutputStream line = new java.io.ByteArrayOutputStream();
        private int number;
        /** Longest line accepted, in bytes: a file without line breaks must not take all memory. */
        static final int MAX_LINE = 64 << 20;

        Lines(InputStream in) {
            this.in = in.markSupported() ? in : new java.io.BufferedInputStream(in, 1 << 16);
        }

        /** The next line, or null at the end; its number is {@link #number()}. */
        String next() throws IOException {
            line.reset();
            int b;
            while ((b = in.read()) >= 0 && b != '\n') {
                line.write(b);
                if (line.size() > MAX_LINE) throw new IOException("line " + (number + 1) + " is longer than 64 MiB");
            }
            if (b < 0 && line.size() == 0) return null;
            number++;
            byte[] bytes = line.toByteArray();
            int n = bytes.length > 0 && bytes[bytes.length - 1] == '\r' ? bytes.length - 1 : bytes.length;
            String text = utf8.decode(java.nio.ByteBuffer.wrap(bytes, 0, n)).toString(); // CharacterCodingException if malformed
            return number == 1 && text.startsWith("\uFEFF") ? text.substring(1) : text; // a byte order mark
        }

        int number() {
            return number;
        }

        @Override
        public void close() throws IOException {
            in.close();
        }
    }

    /** Opens F ('-': standard input). */
    static Lines open(String file, InputStream stdin) {
        if (file.equals("-")) return new Lines(stdin);
        Path p = Path.of(file);
        if (Files.isDirectory(p)) throw new Main.UserError(file + " is a directory; --input-file needs a file of texts");
        try {
            return new Lines(Files.newInputStream(p));
        } catch (NoSuchFileException e) {
            throw new Main.UserError(file + ": no such file (--input-file)");
        } catch (IOException e) {
            throw new Main.UserError(file + ": cannot read: " + e.getMessage());
        }
    }

    /** Non-blank lines of a regular file, for the progress total; -1 for standard input or anything else. */
    static int countTexts(String file) {
        if (file.equals("-") || !Files.isRegularFile(Path.of(file))) return -1;
        try (InputStream in = new java.io.BufferedInputStream(Files.newInputStream(Path.of(file)), 1 << 16)) {
            // a line counts when it holds anything but spaces and tabs (blank lines are skipped)
            int n = 0, b;
            boolean text = false;
            while ((b = in.read()) >= 0) {
                if (b == '\n') {
                    if (text) n++;
                    text = false;
                } else if (b != ' ' && b != '\t' && b != '\r') {
                    text = true;
                }
            }
            return text ? n + 1 : n;
        } catch (IOException e) {
            return -1; // reported by the real pass
        }
    }

    Totals run(Lines in, PrintWriter out, Progress progress, int total) {
        long t0 = System.nanoTime();
        int lineNo = 0, done = 0, truncated = 0;
        long tokens = 0;
        Boolean jsonLines = null;
        List<Item> chunk = new ArrayList<>(CHUNK);
        try {
            for (String line; ; ) {
                Main.UserError bad = null;
                try {
                    line = in.next();
                } catch (CharacterCodingException e) {
                    line = null;
                    bad = new Main.UserError(name + ":" + in.number() + ": not valid UTF-8 text");
                }
                if (line != null) {
                    lineNo = in.number();
                    if (line.isBlank()) continue;
                    if (jsonLines == null) jsonLines = line.stripLeading().startsWith("{");
                    try {
                        chunk.add(jsonLines ? parse(line, lineNo) : new Item(lineNo, null, line));
                    } catch (Main.UserError e) {
                        bad = e; // the texts before it are still embedded and written
                    }
                }
                boolean end = line == null || bad != null;
                if (chunk.size() == CHUNK || (end && !chunk.isEmpty())) {
                    List<Embedding> e = embedder.embed(chunk.stream().map(Item::text).toList(), batchSize);
                    for (int i = 0; i < e.size(); i++) {
                        out.println(line(chunk.get(i), e.get(i)));
                        if (e.get(i).truncated()) truncated++;
                        tokens += e.get(i).tokens();
                    }
                    out.flush();
                    done += e.size();
                    chunk.clear();
                    if (progress != null && bad == null) progress.update(done, line == null ? done : Math.max(total, done), 0, 0);
                }
                if (bad != null) throw bad;
                if (line == null) break;
            }
        } catch (IOException e) {
            throw new Main.UserError(name + ": cannot read: " + e.getMessage());
        }
        if (progress != null && done == 0) progress.update(0, 0, 0, 0);
        return new Totals(done, truncated, tokens, (System.nanoTime() - t0) / 1e9);
    }

    private Item parse(String line, int lineNo) {
        JsonNode n;
        try {
            n = Json.MAPPER.readTree(line);
        } catch (JsonProcessingException e) {
            throw new Main.UserError(name + ":" + lineNo + ": not a JSON object (the first line made this JSON Lines): "
                    + e.getOriginalMessage());
        }
        if (n == null || !n.isObject() || !n.has("text") || !n.get("text").isTextual()) {
            throw new Main.UserError(name + ":" + lineNo + ": expected a JSON object with a string field \"text\"");
        }
        return new Item(lineNo, n.get("id"), n.get("text").asText());
    }

    private String line(Item item, Embedding e) {
        ObjectNode n = Json.object();
        n.put("line", item.line());
        if (item.id() != null) n.set("id", item.id());
        n.put("text", e.text());
        n.put("tokens", e.tokens());
        n.put("truncated", e.truncated());
        ArrayNode v = n.putArray("embedding");
        for (double x : e.vector()) v.add((float) x);
        try {
            return writer.writeValueAsString(n);
        } catch (JsonProcessingException ex) {
            throw new IllegalStateException(ex);
        }
    }
}
