package bertj.qa;

import bertj.model.BertConfig;
import bertj.model.GeluForm;
import bertj.model.TensorNames;
import bertj.readers.SafeTensors;
import bertj.readers.Tensor;
import bertj.testing.RandomBert;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

/** Passages and questions for the QA tests, and the real BERT-uncased vocabulary as a vocab.txt. */
final class QaFixtures {
    private QaFixtures() {
    }

    /** A question about a context, with an id. */
    record Example(String id, String question, String context) {
    }

    /**
     * Writes the BERT-uncased vocabulary (from all-MiniLM-L6-v2's tokenizer.json in the langchain4j test dependency)
     * as vocab.txt, one token per line in id order.
     */
    static Path vocabTxt(Path dir) throws IOException {
        String json;
        try (InputStream in = QaFixtures.class.getClassLoader().getResourceAsStream("all-minilm-l6-v2-tokenizer.json")) {
            if (in == null) throw new AssertionError("all-minilm-l6-v2-tokenizer.json is not on the test class path");
            json = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        JsonNode vocab = new ObjectMapper().readTree(json).get("model").get("vocab");
        String[] byId = new String[vocab.size()];
        vocab.properties().forEach(e -> byId[e.getValue().asInt()] = e.getKey());
        Path p = dir.resolve("vocab.txt");
        Files.writeString(p, String.join("\n", byId) + "\n");
        return p;
    }

    /** A small random BERT over the real vocabulary (30,522 rows; hidden 32, 2 layers, 4 heads, 512 positions). */
    static final BertConfig SMALL = new BertConfig(30522, 32, 2, 4, 64, 512, 2, 1e-12, GeluForm.ERF);

    /**
     * A Hugging Face style directory: model.safetensors and config.json of {@link #SMALL} with random weights,
     * plus vocab.txt when asked, and without the QA head when asked.
     */
    static Path smallModelDir(Path dir, long seed, boolean withVocab, boolean withQaHead) throws IOException {
        Files.createDirectories(dir);
        Map<String, Tensor> t = RandomBert.tensors(SMALL, seed);
        if (!withQaHead) {
            t.remove(TensorNames.QA_OUTPUTS + ".weight");
            t.remove(TensorNames.QA_OUTPUTS + ".bias");
        }
        SafeTensors.write(dir.resolve("model.safetensors"), t, Map.of());
        Files.writeString(dir.resolve("config.json"), """
                {"vocab_size": 30522, "hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 4,
                 "intermediate_size": 64, "max_position_embeddings": 512, "type_vocab_size": 2, "hidden_act": "gelu"}
                """);
        if (withVocab) vocabTxt(dir);
        return dir;
    }

    static final String HISTORY = """
            The town of Millbrook was founded in 1794 by settlers who came up the river from the coast. Its first \
            mill, built by Josiah Whitcombe, ground corn for the farms of the valley until a flood destroyed it in \
            1832. The second mill, of stone, still stands beside the falls; it was restored in 1978 and now houses \
            a museum of local history. In the nineteenth century the town grew around the textile trade: by 1860 \
            there were four factories employing more than two thousand workers, many of them immigrants from \
            Ireland, Quebec and later Italy. The railway reached Millbrook in 1851, and the station, designed by \
            the architect Harriet Vale, was praised for its iron roof. After the factories closed in the 1950s the \
            population fell from 14,200 to under 9,000, but the town recovered as a home for commuters and for the \
            state college, founded in 1967, which today enrols about 6,500 students. The annual Harvest Fair, held \
            on the second Saturday of October since 1889, draws visitors from across the region. Millbrook's \
            library holds the diaries of Whitcombe's daughter, Prudence, who recorded the weather every day for \
            forty-one years; climatologists have used her notes to reconstruct the winters of the 1820s. The mayor \
            is elected every four years, and the council meets on the first Tuesday of each month in the old \
            courthouse on Market Square.""";

    /** A passage of about {@code sentences} sentences with numbered facts, long enough to need many windows. */
    static String longPassage(int sentences, long seed) {
        String[] subjects = {"The northern bridge", "A committee of engineers", "The harbour master", "Professor Okafor",
                "The old lighthouse", "A team from the university", "The ferry company", "Dr. Lindqvist"};
        String[] verbs = {"was inspected", "reported", "measured", "recorded", "was repainted", "counted", "announced", "surveyed"};
        String[] objects = {"the tides", "the number of ships", "the depth of the channel", "the cost of repairs",
                "the height of the waves", "the salinity", "the traffic on the quay", "the migrating birds"};
        Random r = new Random(seed);
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < sentences; i++) {
            sb.append(subjects[r.nextInt(subjects.length)]).append(' ').append(verbs[r.nextInt(verbs.length)]).append(' ')
                    .append(objects[r.nextInt(objects.length)]).append(" in ").append(1900 + r.nextInt(120))
                    .append(", finding ").append(r.nextInt(10_000)).append(i % 3 == 0 ? " units; " : " units. ");
        }
        return sb.toString().trim();
    }

    /** The tricky cases the Python reference and the Java must agree on. */
    static List<Example> tricky() {
        List<Example> out = new ArrayList<>();
        out.add(new Example("history-when", "When was the railway station built?", HISTORY));
        out.add(new Example("history-who", "Who recorded the weather every day?", HISTORY));
        out.add(new Example("long-many-windows", "How many units did the harbour master find?", longPassage(160, 7)));
        out.add(new Example("long-boundary", "What did Dr. Lindqvist survey in 1950?", longPassage(60, 11)));
        out.add(new Example("accents", "Who wrote «Le Café de Flore»?",
                "«Le Café de Flore» (1923) was written by José Peña-Núñez, the naïve poet of Saint-Étienne; "
                        + "his rival, Zoë Ångström-O'Brien, called it \"très médiocre\"! Later critics — e.g. Ælfric "
                        + "Müller — disagreed: «chef-d'œuvre».  Peña-Núñez's next book, Über die Brücke, appeared in 1931."));
        out.add(new Example("punctuation", "What is the price?",
                "The price was $1,299.99 (excluding V.A.T.), i.e. €1.100,50 -- or ¥150,000!? See: https://example.com/price?id=42#eur."));
        out.add(new Example("whitespace", "Which river flows north?",
                "The\tRiver   Alder\nflows north;\r\nthe River\u202FBrent flows\u00A0south,  and  the  Colne flows east.\n\n"));
        out.add(new Example("long-question",
                "Considering everything that happened in the nineteenth century with the textile trade, the "
                        + "factories, the workers who came from Ireland and Quebec and Italy, the railway that reached the "
                        + "town, the station with its iron roof praised by everyone, and the floods that destroyed the first "
                        + "mill built by Josiah Whitcombe, in which year was the state college founded, and how many "
                        + "students does it enrol today according to the passage?", HISTORY));
        out.add(new Example("cjk-emoji", "Where is the museum? 博物馆在哪里？",
                "博物馆位于老磨坊里。The museum 🏛️ is in the stone mill 🏭 beside the falls, 北京 is far away. "
                        + "Visitors 👨‍👩‍👧 love it."));
        out.add(new Example("long-word", "What is the code?",
                "The code is " + "x".repeat(130) + " and the backup code is ABC-123-" + "q".repeat(99) + "."));
        out.add(new Example("apostrophes", "What didn't the committee approve?",
                "The committee didn't approve the state-of-the-art plan; it's the mayor's idea, and the O'Neills' "
                        + "proposal (rock'n'roll festival) won instead."));
        out.add(new Example("short", "Who?", "Ann."));
        // Final_Sigma: a capital sigma that ends a word lower-cases to ς with Python's str.lower() (NVIDIA's tokenizer),
        // to σ character by character (Hugging Face's); before an apostrophe or a digit the rule looks further.
        out.add(new Example("final-sigma", "ΠΟΙΟΣ ΕΊΝΑΙ Ο ΔΡΌΜΟΣ ΤΟΥ ΝΌΜΟΥ;",
                "Ο ΔΡΌΜΟΣ ΤΗΣ ΟΔΟΥ ΕΡΜΟΥ είναι στην ΑΘΗΝΑ. Ο ΆΝΘΡΩΠΟΣ ΕΊΠΕ: «ΟΔΟΣ»! Η ΟΔΟΣ'Α, το Α1Σ και ο ΣΟΦΟΣ-ΔΆΣΚΑΛΟΣ "
                        + "ΠΕΡΠΑΤΟΎΣΑΝ ΣΤΗΝ ΠΌΛΗ ΤΟΥΣ, ΌΠΩΣ Ο ΝΌΜΟΣ ΛΈΕΙ."));
        return out;
    }

    /**
     * Questions whose windows are mostly padding at max_seq_length 384 (so that with NVIDIA's decoding padding ranks
     * among the 20 best positions): short passages of 1 to 40 words, long questions of 3 to 70 words, a few passages
     * long enough for two or more windows, and a Greek one for Final_Sigma. Each has as ground truth its passage's
     * first three words.
     */
    static List<Example> paddingHeavy(long seed, int count) {
        Random r = new Random(seed);
        String[] words = ("harbour master river mill town station railway factory college museum winter flood stone iron roof "
                + "fair library diary weather council mayor market square Whitcombe Prudence Millbrook 1794 1832 Harriet Vale "
                + "José Peña-Núñez café naïve O'Brien state-of-the-art 14,200 ΟΔΟΣ ΆΝΘΡΩΠΟΣ").split(" ");
        List<Example> out = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            int passageWords = i % 10 == 9 ? 250 + r.nextInt(200) : 1 + r.nextInt(40);
            int questionWords = 3 + r.nextInt(68);
            StringBuilder ctx = new StringBuilder(), q = new StringBuilder();
            for (int k = 0; k < passageWords; k++) {
                String w = words[r.nextInt(words.length)];
                ctx.append(k == 0 ? "" : r.nextInt(8) == 0 ? ". " : r.nextInt(10) == 0 ? ", " : " ")
                        .append(r.nextInt(5) == 0 ? Character.toUpperCase(w.charAt(0)) + w.substring(1) : w);
            }
            ctx.append('.');
            q.append(r.nextBoolean() ? "What" : "Who");
            for (int k = 0; k < questionWords; k++) q.append(' ').append(words[r.nextInt(words.length)]);
            q.append('?');
            out.add(new Example("pad" + i, q.toString(), ctx.toString()));
        }
        return out;
    }
}
