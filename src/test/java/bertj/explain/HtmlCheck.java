package bertj.explain;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Checks on the HTML bertj writes, strict enough for the one writer it serves (no HTML validator is available
 * offline): a doctype, every element closed in order (void elements never, SVG elements may self-close), quoted
 * attributes without '<', character references that exist, unique ids; and self-containment: nothing that makes
 * a browser load anything (every src/href a data: URI or a #fragment, no url() but data:, no @import, no
 * link/iframe/object/embed elements, no script src, no network APIs in scripts).
 */
final class HtmlCheck {
    private HtmlCheck() {
    }

    private static final Set<String> VOID = Set.of("area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta",
            "source", "track", "wbr");
    private static final Set<String> ENTITIES = Set.of("amp", "lt", "gt", "quot", "apos", "nbsp");
    private static final Pattern ATTR = Pattern.compile("\\s*([a-zA-Z_:][-a-zA-Z0-9_:.]*)(?:\\s*=\\s*(\"[^\"<]*\"|'[^'<]*'|[^\\s\"'=<>`]+))?");

    /** Well-formedness problems, empty when none. */
    static List<String> problems(String html) {
        return scan(html, new int[1]);
    }

    /**
     * The number of elements the page's tags make (start tags, doctype and comments aside). A browser's parser
     * makes exactly these from valid HTML with every element written out; a stray or misnested tag makes it add
     * or drop some, so comparing with document.getElementsByTagName('*').length is a second opinion.
     */
    static int elements(String html) {
        int[] n = new int[1];
        scan(html, n);
        return n[0];
    }

    private static List<String> scan(String html, int[] elements) {
        List<String> out = new ArrayList<>();
        if (!html.startsWith("<!DOCTYPE html>")) out.add("does not start with <!DOCTYPE html>");
        Deque<String> open = new ArrayDeque<>();
        Set<String> ids = new HashSet<>();
        int counts[] = new int[4];
        int i = html.indexOf('>') + 1;
        while (i < html.length() && out.size() < 20) {
            char c = html.charAt(i);
            if (c == '&') {
                int semi = html.indexOf(';', i);
                String ref = semi < 0 || semi - i > 12 ? null : html.substring(i + 1, semi);
                if (ref == null || !(ENTITIES.contains(ref) || ref.matches("#[0-9]{1,7}|#x[0-9a-fA-F]{1,6}"))) {
                    out.add("bad character reference at " + i + ": " + snippet(html, i));
                }
                i++;
                continue;
            }
            if (c != '<') {
                i++;
                continue;
            }
            if (html.startsWith("<!--", i)) {
                int end = html.indexOf("-->", i);
                if (end < 0) {
                    out.add("unclosed comment at " + i);
                    break;
                }
                i = end + 3;
                continue;
            }
            int close = html.indexOf('>', i);
            if (close < 0) {
                out.add("unclosed tag at " + i);
                break;
            }
            String tag = html.substring(i + 1, close);
            if (tag.startsWith("/")) {
                String name = tag.substring(1).trim().toLowerCase(Locale.ROOT);
                if (open.isEmpty() || !open.peek().equals(name)) {
                    out.add("</" + name + "> at " + i + " closes " + (open.isEmpty() ? "nothing" : "<" + open.peek() + ">"));
                } else {
                    open.pop();
                }
                i = close + 1;
                continue;
            }
            Matcher nm = Pattern.compile("^([a-zA-Z][a-zA-Z0-9-]*)").matcher(tag);
            if (!nm.find()) {
                out.add("'<' that starts no tag at " + i + ": " + snippet(html, i));
                i++;
                continue;
            }
            String name = nm.group(1).toLowerCase(Locale.ROOT);
            elements[0]++;
            boolean selfClosing = tag.endsWith("/");
            String attrs = tag.substring(nm.end(), selfClosing ? tag.length() - 1 : tag.length());
            Matcher am = ATTR.matcher(attrs);
            int at = 0;
            Set<String> seen = new HashSet<>();
            while (at < attrs.length() && am.find(at) && am.start() == at) {
                if (am.end() == at) break;
                String an = am.group(1).toLowerCase(Locale.ROOT);
                if (!seen.add(an)) out.add("attribute " + an + " twice in <" + name + "> at " + i);
                if (an.equals("id") && am.group(2) != null && !ids.add(unquote(am.group(2)))) out.add("duplicate id " + am.group(2));
                at = am.end();
            }
            if (!attrs.substring(at).isBlank()) out.add("bad attributes in <" + name + "> at " + i + ": " + snippet(html, i + 1 + nm.end() + at));
            boolean inSvg = open.contains("svg");
            if (selfClosing && !inSvg && !VOID.contains(name)) out.add("<" + name + "/> self-closes outside SVG at " + i);
            if (!inSvg) switch (name) {
                case "html" -> counts[0]++;
                case "head" -> counts[1]++;
                case "body" -> counts[2]++;
                case "title" -> counts[3]++;
                default -> {
                }
            }
            i = close + 1;
            if (name.equals("script") || name.equals("style")) {
                int end = html.toLowerCase(Locale.ROOT).indexOf("</" + name, i);
                if (end < 0) {
                    out.add("unclosed <" + name + ">");
                    break;
                }
                i = end;
                open.push(name);
                continue;
            }
            if (!VOID.contains(name) && !selfClosing) open.push(name);
        }
        if (!open.isEmpty()) out.add("unclosed elements at the end: " + open);
        if (counts[0] != 1 || counts[1] != 1 || counts[2] != 1 || counts[3] != 1) out.add("html/head/body/title counts " + java.util.Arrays.toString(counts));
        return out;
    }

    private static final Pattern URL_ATTR = Pattern.compile("(?i)\\s(src|href|xlink:href|action|formaction|poster|srcset|background|data|manifest)\\s*=\\s*(\"[^\"]*\"|'[^']*'|[^\\s>]+)");
    private static final Pattern CSS_URL = Pattern.compile("(?i)url\\(\\s*['\"]?([^)'\"]*)");

    /** Everything in the page that could make a browser fetch something; empty when self-contained. */
    static List<String> externalReferences(String html) {
        List<String> out = new ArrayList<>();
        Matcher m = URL_ATTR.matcher(html);
        while (m.find()) {
            String v = unquote(m.group(2)).trim();
            if (!(v.startsWith("data:") || v.startsWith("#"))) out.add(m.group(1) + "=" + abbreviate(v));
        }
        Matcher u = CSS_URL.matcher(html);
        while (u.find()) {
            if (!u.group(1).startsWith("data:") && !u.group(1).startsWith("#")) out.add("url(" + abbreviate(u.group(1)) + ")");
        }
        String lower = html.toLowerCase(Locale.ROOT);
        for (String bad : new String[] {"@import", "<link", "<iframe", "<object", "<embed", "<base", "<script src", "<meta http-equiv"}) {
            if (lower.contains(bad)) out.add(bad);
        }
        Matcher s = Pattern.compile("(?is)<script[^>]*>(.*?)</script>").matcher(html);
        while (s.find()) {
            String js = s.group(1);
            for (String api : new String[] {"fetch(", "XMLHttpRequest", "WebSocket", "EventSource", "sendBeacon", "import(", "importScripts",
                    "location.href =", "window.open("}) {
                if (js.contains(api)) out.add("script uses " + api);
            }
        }
        return out;
    }

    /**
     * The page without its base64 payloads (data URIs and the attention strings), whose letters can spell
     * anything, "http" included: what remains is what a person or a browser would read as text or markup.
     */
    static String withoutPayloads(String html) {
        return html.replaceAll("data:image/png;base64,[A-Za-z0-9+/=]+", "data:image/png;base64,...")
                .replaceAll("\"[A-Za-z0-9+/=]{64,}\"", "\"...\"");
    }

    private static String unquote(String v) {
        return (v.startsWith("\"") || v.startsWith("'")) ? v.substring(1, v.length() - 1) : v;
    }

    private static String abbreviate(String s) {
        return s.length() > 60 ? s.substring(0, 60) + "..." : s;
    }

    private static String snippet(String s, int at) {
        return s.substring(Math.max(0, at), Math.min(s.length(), at + 40)).replace('\n', ' ');
    }
}
