package bertj.cli;

import bertj.readers.ModelFileException;
import bertj.readers.Utf8;
import bertj.tokenizer.BertTokenizer;
import bertj.tokenizer.TokenSpans;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;

@Command(name = "tokenize", description = {
        "Split text into BERT WordPiece tokens and ids, as Hugging Face's BertTokenizer does (no [CLS]/[SEP] added);",
        "with --lowercasing python, uncased words are lower-cased as NVIDIA's tokenization.py does.",
        "With --input-file, each line is a JSON object {\"text\": ...} and each output line is {\"tokens\": [...], \"ids\": [...]}, in order.",
        "--offsets adds where each token came from: [start, end) in code points of the text, as Hugging Face's tokenizers",
        "report them (null for a special token written in the text)."})
public final class TokenizeCommand implements Callable<Integer> {
    @Option(names = "--vocab", required = true, paramLabel = "PATH", description = "vocab.txt (one token per line) or a Hugging Face tokenizer.json.")
    Path vocab;

    @Mixin
    CasingOptions casing;

    @Mixin
    LowerCasingOption lowerCasing;

    @Option(names = "--json", description = "Print {\"tokens\": [...], \"ids\": [...]} (always so with --input-file).")
    boolean json;

    @Option(names = "--offsets", description = "Also print each token's [start, end) code point offsets in the text: a third and fourth "
            + "column, or \"offsets\": [[start, end], ...] in JSON (null for a special token written in the text).")
    boolean offsets;

    @Parameters(arity = "0..1", paramLabel = "TEXT", description = "The text to tokenize.")
    String text;

    @Option(names = "--input-file", paramLabel = "F.jsonl", description = "UTF-8 file with one JSON object {\"text\": ...} per line.")
    Path file;

    @Mixin
    VerboseOption verbose;
    @Spec
    CommandSpec spec;

    private static final ObjectMapper COMPACT = new ObjectMapper();

    @Override
    public Integer call() throws JsonProcessingException {
        if ((text == null) == (file == null)) {
            throw new CommandLine.ParameterException(spec.commandLine(), "give either TEXT or --input-file, not " + (text == null ? "neither" : "both"));
        }
        BertTokenizer tok = BertTokenizer.load(vocab, casing.cased(), lowerCasing.or(spec.commandLine(), bertj.tokenizer.LowerCasing.HF));
        PrintWriter out = spec.commandLine().getOut();
        if (file == null) {
            if (json) {
                out.println(COMPACT.writeValueAsString(encoding(tok, text)));
            } else if (offsets) {
                for (TokenSpans.Span sp : TokenSpans.of(tok, text)) {
                    out.println(sp.token() + "\t" + sp.id() + (sp.special() ? "\t-\t-" : "\t" + sp.start() + "\t" + sp.end()));
                }
            } else {
                BertTokenizer.Encoding e = tok.encode(text);
                for (int i = 0; i < e.ids().length; i++) out.println(e.tokens().get(i) + "\t" + e.ids()[i]);
            }
            return 0;
        }
        String text = Utf8.read(file, "a JSON-lines file of {\"text\": ...} objects");
        String[] lines = text.split("\n", -1);
        int count = lines.length;
        if (count > 0 && lines[count - 1].isEmpty()) count--; // the newline that ends the last line
        // Parse everything first: a bad line is reported before any output is written.
        String[] texts = new String[count];
        for (int i = 0; i < count; i++) {
            String line = lines[i].endsWith("\r") ? lines[i].substring(0, lines[i].length() - 1) : lines[i];
            String where = file + " line " + (i + 1);
            if (line.isBlank()) throw new ModelFileException(where + ": empty line; each line must be a JSON object {\"text\": ...}");
            JsonNode n;
            try {
                n = COMPACT.readTree(line);
            } catch (JsonProcessingException e) {
                throw new ModelFileException(where + ": not valid JSON (" + e.getOriginalMessage() + ")");
            }
            if (n == null || !n.isObject() || !n.path("text").isTextual()) {
                throw new ModelFileException(where + ": expected a JSON object with a string field \"text\"");
            }
            texts[i] = n.get("text").asText();
        }
        for (String t : texts) out.println(COMPACT.writeValueAsString(encoding(tok, t)));
        return 0;
    }

    /** {"tokens", "ids"}, and with --offsets "offsets" (the spans' tokens and ids are encode's, TokenSpansTest). */
    private ObjectNode encoding(BertTokenizer tok, String text) {
        ObjectNode n = COMPACT.createObjectNode();
        var tokens = n.putArray("tokens");
        var ids = n.putArray("ids");
        if (!offsets) {
            BertTokenizer.Encoding e = tok.encode(text);
            e.tokens().forEach(tokens::add);
            for (int id : e.ids()) ids.add(id);
            return n;
        }
        var at = n.putArray("offsets");
        for (TokenSpans.Span sp : TokenSpans.of(tok, text)) {
            tokens.add(sp.token());
            ids.add(sp.id());
            if (sp.special()) at.addNull();
            else at.addArray().add(sp.start()).add(sp.end());
        }
        return n;
    }
}
