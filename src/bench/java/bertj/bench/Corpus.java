package bertj.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Generated English-like text for the benchmarks (no downloaded data): sentences of common words with
 * capitals, commas, numbers and full stops, so that WordPiece sees ordinary words, some split into pieces.
 * The mix of lengths follows docs/performance.md: 40% queries of 5–15 words, 40% texts of 30–120 words and 20%
 * passages of 150–300 words.
 */
final class Corpus {
    private Corpus() {
    }

    private static final String[] WORDS = ("the of and to in is was for on that with as by at from his her an be this which or "
            + "are it were had have not but their they one all also been has new more first two its after who time years year "
            + "city people world state war government school university team season music film river church house family "
            + "century during between under against system number group company north south east west water life local "
            + "history national series album song game player league club population village district county region area "
            + "building station line road bridge island mountain lake park market energy power engine design computer network "
            + "language science physics chemistry biology medicine hospital doctor patient study research report result model "
            + "question answer problem method process data table figure paper theory experiment evidence value price money bank "
            + "trade industry production farm food bread horse violin drums guitar orchestra theatre museum painting artist "
            + "writer novel poem story character author editor newspaper magazine television radio broadcast channel program "
            + "election president minister parliament court law police army navy battle treaty empire kingdom king queen prince "
            + "emperor castle tower wall gate garden forest desert ocean coast harbour port ship train airport flight passenger "
            + "travelled arrived returned founded established completed announced released published recorded performed "
            + "described considered remained became reached included increased reduced developed produced received continued "
            + "approximately originally eventually especially significantly traditionally internationally unfortunately "
            + "although however because while where when before since until through across around within without toward").split(" ");

    /** One sentence of 6–20 words. */
    private static String sentence(Random r, int words) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < words; i++) {
            String w = r.nextInt(40) == 0 ? Integer.toString(1800 + r.nextInt(230)) : WORDS[r.nextInt(WORDS.length)];
            if (i == 0) w = Character.toUpperCase(w.charAt(0)) + w.substring(1);
            sb.append(i == 0 ? "" : " ").append(w);
            if (i > 2 && i < words - 2 && r.nextInt(9) == 0) sb.append(',');
        }
        return sb.append('.').toString();
    }

    /** A text of about {@code words} words, in sentences. */
    static String text(Random r, int words) {
        StringBuilder sb = new StringBuilder();
        int left = words;
        while (left > 0) {
            int n = Math.min(left, 6 + r.nextInt(15));
            if (left - n > 0 && left - n < 4) n = left; // no sentence shorter than 4 words at the end
            sb.append(sb.isEmpty() ? "" : " ").append(sentence(r, n));
            left -= n;
        }
        return sb.toString();
    }

    /** {@code n} texts: 40% of 5–15 words, 40% of 30–120 words, 20% of 150–300 words, in random order. */
    static List<String> mixed(int n, long seed) {
        Random r = new Random(seed);
        List<String> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            double u = r.nextDouble();
            int words = u < 0.4 ? 5 + r.nextInt(11) : u < 0.8 ? 30 + r.nextInt(91) : 150 + r.nextInt(151);
            out.add(text(r, words));
        }
        return out;
    }
}
