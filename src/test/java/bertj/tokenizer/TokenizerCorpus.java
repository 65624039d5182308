package bertj.tokenizer;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * The texts the tokenizer is checked on against Hugging Face tokenizers: hand-written cases for every rule
 * (scripts, casing, accents, emoji, control and zero-width characters, spaces, punctuation, numbers, URLs,
 * special tokens, very long words, long paragraphs) and random strings drawn from a seed.
 * <p>
 * No text holds a lone UTF-16 surrogate: Rust strings cannot, and DJL's conversion of such a Java string garbles
 * more than the surrogate, so the comparison would test the binding, not the tokenizer. Our handling of them
 * (dropped, like other invalid characters) is checked on its own in TokenizerTest.
 */
public final class TokenizerCorpus {
    private TokenizerCorpus() {
    }

    static String cp(int... cps) {
        return new String(cps, 0, cps.length);
    }

    static final List<String> SCRIPTS = List.of(
            "The quick brown fox jumps over the lazy dog.",
            "Where did Super Bowl 50 take place? Levi's Stadium in Santa Clara, California.",
            "Ça m'étonne qu'il soit déjà là : « Voilà ! » dit-elle, à l'hôpital Saint-Étienne.",
            "Größere Straßen führen über die Brücke; ÄÖÜ äöü ß ẞ.",
            "¿Dónde está el niño? ¡Mañana será otro día!",
            "Ação, coração, pão e limões; João viu a irmã.",
            "Tiếng Việt có nhiều dấu: Trường Đại học Bách khoa Hà Nội.",
            "Zażółć gęślą jaźń. Łódź, Kraków i Gdańsk.",
            "Příliš žluťoučký kůň úpěl ďábelské ódy.",
            "İstanbul'da ılık bir gün; IĞDIR ve ıspanak. Şişli, Çankaya.",
            "ΟΔΟΣ σοφίας: Η γλώσσα μου έδωσαν ελληνική. ΣΊΣΥΦΟΣ ΆΡΗΣ",
            "Съешь же ещё этих мягких французских булок, да выпей чаю.",
            "Гей, не пиймо з ґлеків їжака! Україна, Київ.",
            "العربية لغة جميلة، أليس كذلك؟ ١٢٣ كتابٌ",
            "עברית: שָׁלוֹם עֲלֵיכֶם, מה שלומך?",
            "فارسی: من به مدرسه می‌روم.",
            "हिन्दी भाषा बहुत सुंदर है। क्षत्रिय, ज्ञान।",
            "বাংলা ভাষা আমার মাতৃভাষা।",
            "தமிழ் ஒரு செம்மொழி ஆகும்.",
            "ภาษาไทยไม่มีการเว้นวรรคระหว่างคำ ๑๒๓",
            "ພາສາລາວ ແມ່ນພາສາທີ່ສວຍງາມ",
            "ភាសាខ្មែរ គឺជាភាសាផ្លូវការ",
            "မြန်မာဘာသာစကား",
            "ქართული ენა ძალიან ლამაზია",
            "Հայերենը հնդեվրոպական լեզու է",
            "አማርኛ የኢትዮጵያ ቋንቋ ነው።",
            "中文分词：我爱北京天安门。繁體中文：臺灣、香港。",
            "日本語の文章：東京タワーは赤い。ｶﾀｶﾅ ひらがな カタカナ。",
            "한국어 문장: 서울은 대한민국의 수도입니다. ㄱㄴㄷ",
            "ᠮᠣᠩᠭᠣᠯ ᠪᠢᠴᠢᠭ᠌ ᠠ᠋ ᠡ",
            "བོད་ཡིག་ནི་སྐད་ཡིག་ཅིག་ཡིན།",
            "ᏣᎳᎩ ᎦᏬᏂᎯᏍᏗ",
            "ᐃᓄᒃᑎᑐᑦ ᑎᑎᕋᐅᓯᖅ",
            "ꦧꦱꦗꦮ ꦲꦏ꧀ꦱꦫ",
            "𐌰𐌱𐌲 Gothic, 𐐀𐐨 Deseret, 𓀀𓀁 hieroglyphs, 𝐀𝐁𝐂 𝔸𝔹ℂ mathematical.",
            "CJK extensions: 𠀀𠀁 𪜀 𫝀 𫠠 𫡠 𬺰 𮯠 丽 兀 㐀㐁 豈 更");

    static final List<String> EMOJI = List.of(
            "I ❤️ NY 😀😃😄 👍🏽 👩‍💻 👨‍👩‍👧‍👦 🏳️‍🌈 🇫🇷🇯🇵 #️⃣ 1️⃣",
            "family👨‍👩‍👧‍👦emoji inside words😀end",
            "🥰 🫠 🫶🏾 🪿 🐦‍🔥 🙂‍↔️ — newer emoji",
            "⌚⌛⏰☀☁☂ ✂✈✉ ★☆ ♠♣♥♦ ☮☯ ⚽⚾",
            "🧑🏻‍🤝‍🧑🏿 🏴󠁧󠁢󠁳󠁣󠁴󠁿 tag sequence flag",
            "text\uFE0F variation\uFE0E selectors \u20E3 keycap");

    static final List<String> MARKS = List.of(
            "cafe\u0301 vs café; nai\u0308ve vs naïve; A\u030A vs Å vs \u212B",
            "Z\u0351\u0352a\u0317\u0316l\u0325g\u034Do\u0328 t\u0301e\u0300x\u0302t\u0303",
            "Vie\u0323\u0302t Nam; ph\u01A1\u0309 bo\u0300",
            "\u0301\u0302\u0303 leading marks; a\u0489b enclosing; \u0903 spacing mark",
            "ǅ ǈ ǋ ǲ titlecase; ﬁ ﬂ ﬀ ligatures; \u212A Kelvin \u2126 Ohm",
            "ÀÁÂÃÄÅÆÇÈÉÊËÌÍÎÏÐÑÒÓÔÕÖØÙÚÛÜÝÞßàáâãäåæçèéêëìíîïðñòóôõöøùúûüýþÿ",
            "ĀāĂăĄąĆćĈĉĊċČčĎďĐđĒēĔĕĖėĘęĚěĜĝĞğĠġĢģĤĥĦħĨĩĪīĬĭĮįİıĲĳĴĵĶķĸĹĺĻļĽľĿŀŁł");

    static final List<String> CONTROL = List.of(
            "nul\u0000in\u0000side", "bell\u0007 escape\u001B[31m red\u001B[0m", "del\u007Fete",
            "tab\tnew\nline\rcr\u000Bvt\u000Cff\u001Cfs\u001Dgs\u001Eu\u001Fus",
            "next\u0085line c1\u0080\u0090\u009F", "soft\u00ADhyphen", "zero\u200Bwidth\u200Cnon\u200Djoiner\u2060word\uFEFFbom",
            "bidi \u200E\u200F\u202A\u202B\u202C\u202D\u202E\u2066\u2067\u2068\u2069 marks",
            "arabic \u0600\u0601\u061C\u06DD format", "mongolian\u180Evs", "tags " + cp(0xE0001, 0xE0041, 0xE0042, 0xE007F) + " end",
            "private " + cp(0xE000, 0xF8FF, 0xF0000, 0x10FFFD) + " use",
            "replacement \uFFFD char", "nonchar \uFFFE\uFFFF " + cp(0x1FFFE, 0x10FFFF),
            "unassigned " + cp(0x0378, 0x0379, 0x2FFFF, 0xE0080), "\u0000", "\uFEFF", "\u200B\u200B");

    static final List<String> SPACES = List.of(
            "a\u00A0b\u1680c\u2000d\u2001e\u2002f\u2003g\u2004h\u2005i\u2006j\u2007k\u2008l\u2009m\u200An",
            "o\u2028p\u2029q\u202Fr\u205Fs\u3000t", "   leading and trailing   ", "\t\n\r ", "", " ", "a  \u3000  b",
            "ideographic\u3000space、and。punct");

    static final List<String> PUNCTUATION = List.of(
            "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~", "a+b=c<d>e^f`g|h~i$j",
            "‐‑‒–—―‖‗‘’‚‛“”„‟†‡•‣․‥…‧‰‱′″‴‵‶‷‸‹›※‼‽‾‿⁀⁁⁂⁃⁄⁅⁆⁇⁈⁉⁊⁋⁌⁍⁎⁏⁐⁑⁒⁓⁔⁕⁖⁗⁘⁙⁚⁛⁜⁝⁞",
            "、。〃〈〉《》「」『』【】〔〕〖〗〘〙〚〛〜〝〞〟〰〽゠・", "！＂＃＄％＆＇（）＊＋，－．／：；＜＝＞？＠［＼］＾＿｀｛｜｝～",
            "، ؛ ؟ ۔ । ॥ ၊ ။ ។ ៕ ። ፣ ፤", "⸀⸁⸂⸃⸄⸅⸆⸇⸈⸉⸊⸋⸌⸍⸎⸏⸐⸗⸚⸜⸝⸞⸟⸠⸡⸨⸩⸮⸰⸱⸺⸻⹀⹁⹂ ⹃⹄⹅⹉⹏⹒⹓⹝ (newer)",
            "¡¿§¶·«»¦¨¬¯°±´µ¸¹²³¼½¾×÷", "€£¥₹₽₿ ∑∏∫√∞≈≠≤≥ ←↑→↓ ©®™ ℃ ℉",
            "he said \"no\"—then left... (really?!) [sic] {x} <tag/> 'quoted'", "don't won't it's ma'am o'clock rock'n'roll",
            "«quoted» „German“ 「Japanese」 ‹single› ‘curly’ “double”", "...?!?!...", "@@@ ### $$$", "_under_score_ __init__");

    static final List<String> NUMBERS = List.of(
            "3.14159 1,000,000 -42 +7 1e-9 6.02×10²³ 0x1F 0b1010 007", "½ ¼ ¾ ⅓ ⅔ ⅛ ² ³ ¹ ⁰ ₀ ₁ Ⅻ ⅻ ⑩ ⒈ ㈠",
            "٠١٢٣٤٥٦٧٨٩ ०१२३४५६७८९ ০১২ ๐๑๒ ０１２３４５６７８９", "1st 2nd 3rd 4th 21st 100% 50°C 9:30am 2024-01-31 12/25/2023",
            "$1,234.56 €99,99 ¥10000 £5", "1234567890123456789012345678901234567890", "v1.2.3-rc.4+build.5");

    static final List<String> URLS = List.of(
            "https://www.example.com/path/to/page.html?query=value&other=1#section",
            "Visit http://example.org:8080/a_b-c~d/%20space or ftp://files.example.net/pub/",
            "mailto:someone.else+tag@sub.example.co.uk and user@example.com",
            "C:\\Windows\\System32\\drivers\\etc\\hosts /usr/local/bin/python3 ~/.bashrc ../../etc/passwd",
            "x += y[i] * 2; if (a && b || !c) { return f(x)->y::z; } // comment /* block */",
            "#hashtag @mention $TICKER r/subreddit https://t.co/AbC123xYz", "data:text/plain;base64,SGVsbG8sIFdvcmxkIQ==");

    static final List<String> SPECIALS = List.of(
            "[CLS] question [SEP] context [SEP]", "x[SEP]y", "[UNK] [PAD] [MASK]", "[cls] [Sep] [ SEP ] [SEP", "[[SEP]]",
            "[SEP][SEP][CLS]", "before[MASK]after", "[UNKNOWN] [MASKED] [CLS]X");

    static List<String> longWords() {
        List<String> out = new ArrayList<>();
        out.add("a".repeat(99));
        out.add("a".repeat(100));
        out.add("a".repeat(101));
        out.add("b".repeat(100) + " ok " + "c".repeat(101));
        out.add("x".repeat(500));
        out.add("é".repeat(100));
        out.add("e\u0301".repeat(100));
        out.add("e\u0301".repeat(101));
        out.add("𝐀".repeat(100));
        out.add("𝐀".repeat(101));
        out.add("😀".repeat(120));
        out.add("supercalifragilisticexpialidocious pneumonoultramicroscopicsilicovolcanoconiosis");
        out.add("antidisestablishmentarianism".repeat(4));
        out.add("Donaudampfschifffahrtselektrizitätenhauptbetriebswerkbauunterbeamtengesellschaft");
        out.add("http://" + "long-".repeat(40) + "url.example.com");
        out.add("ab".repeat(50) + "," + "cd".repeat(51));
        out.add("ΣΣΣ".repeat(40));
        out.add("İ".repeat(99));
        return out;
    }

    public static List<String> handWritten() {
        List<String> out = new ArrayList<>();
        for (List<String> l : List.of(SCRIPTS, EMOJI, MARKS, CONTROL, SPACES, PUNCTUATION, NUMBERS, URLS, SPECIALS)) out.addAll(l);
        out.addAll(longWords());
        // Long paragraphs: the hand-written lines joined in several orders, up to ~40,000 characters.
        List<String> all = new ArrayList<>(out);
        Random r = new Random(1);
        for (int p = 0; p < 12; p++) {
            StringBuilder sb = new StringBuilder();
            int target = 2000 << (p % 5);
            while (sb.length() < target) sb.append(all.get(r.nextInt(all.size()))).append(p % 2 == 0 ? " " : "\n");
            out.add(sb.toString());
        }
        return out;
    }

    /**
     * Random strings: lengths 0–300 code points, each drawn from a mix of pools — ASCII, Latin, whitespace of all
     * kinds, controls and format characters, combining marks, punctuation, CJK, emoji (with ZWJ and skin tones),
     * any code point of the BMP, any code point at all (surrogates excluded) — with runs of one pool so words form.
     */
    public static List<String> random(long seed, int count) {
        Random r = new Random(seed);
        int[][] pools = {
                range(0x20, 0x7E), range(0xA0, 0x24F), {9, 10, 11, 12, 13, 0x20, 0xA0, 0x1680, 0x2000, 0x2005, 0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000, 0x85},
                {0, 1, 7, 0x1B, 0x7F, 0x80, 0x9F, 0xAD, 0x200B, 0x200C, 0x200D, 0x200E, 0x2060, 0xFEFF, 0xFFFD, 0xE0001, 0xE000, 0x061C, 0x180E},
                range(0x300, 0x36F), range(0x2010, 0x205E), range(0x4E00, 0x4FFF), range(0x1F300, 0x1F6FF),
                range(0x3040, 0x30FF), range(0x0400, 0x04FF), range(0x0590, 0x06FF), range(0x0900, 0x0DFF), range(0xAC00, 0xAC7F),
                range(0x2E00, 0x2E7F), {0x200D, 0x1F3FB, 0x1F3FF, 0xFE0F, 0x1F468, 0x1F469, 0x1F467}
        };
        List<String> out = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            int len = r.nextInt(i % 10 == 0 ? 300 : 60);
            StringBuilder sb = new StringBuilder();
            while (sb.codePointCount(0, sb.length()) < len) {
                int kind = r.nextInt(pools.length + 2);
                int run = 1 + r.nextInt(8);
                for (int k = 0; k < run; k++) {
                    int c;
                    if (kind < pools.length) c = pools[kind][r.nextInt(pools[kind].length)];
                    else if (kind == pools.length) c = r.nextInt(0x10000);
                    else c = r.nextInt(0x110000);
                    if (c >= 0xD800 && c <= 0xDFFF) c = 'x';
                    sb.appendCodePoint(c);
                }
            }
            out.add(sb.toString());
        }
        return out;
    }

    /**
     * Combining marks in every order: short words of letters, precomposed letters (é, ǖ, Hangul, ᾂ), marks of many
     * combining classes (1 … 240), marks that decompose into two (U+0344, U+0F73, U+0F75, U+0F81), marks a Unicode
     * 9.0 NFD does not know (U+1DF9, U+08D3, U+0C3C, U+10EFD), marks Unicode 8.0 does not call Mn (U+08D9), spacing
     * marks with a combining class (U+1D165), İ, Σ, a joiner and a control. NFD reorders such runs and strips most of
     * them, so this is where the normalizer's alignment shows.
     */
    public static List<String> marks(long seed, int count) {
        int[] pool = {0x61, 0x62, 0x49, 0x130, 0x3A3, 0x3B1, 0xE9, 0x1D6, 0x1EE5, 0x1E09, 0x1F82, 0xAC00, 0x11938,
                0x334, 0x5B0, 0x93C, 0x94D, 0xE38, 0xF71, 0xF72, 0x316, 0x347, 0x301, 0x307, 0x312, 0x35C, 0x345, 0x364,
                0x344, 0xF73, 0xF75, 0xF81, 0x1DF9, 0x1DFA, 0x8D3, 0xC3C, 0x10EFD, 0x8D4, 0x8D9, 0x8E0, 0x1D165, 0x1D16E,
                0x302A, 0x302E, 0x3099, 0x1133C, 0x200D, 0x7, 0x20, 0x2C};
        Random r = new Random(seed);
        List<String> out = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            StringBuilder sb = new StringBuilder();
            for (int k = 1 + r.nextInt(10); k > 0; k--) sb.appendCodePoint(pool[r.nextInt(pool.length)]);
            out.add(sb.toString());
        }
        return out;
    }

    private static int[] range(int first, int last) {
        int[] a = new int[last - first + 1];
        for (int i = 0; i < a.length; i++) a[i] = first + i;
        return a;
    }
}
