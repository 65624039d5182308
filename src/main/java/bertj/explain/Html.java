package bertj.explain;

/** Escaping for text placed in HTML and SVG. */
final class Html {
    private Html() {
    }

    /** Text content or a double-quoted attribute value. */
    static String esc(String s) {
        StringBuilder b = new StringBuilder(s.length() + 16);
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '&' -> b.append("&amp;");
                case '<' -> b.append("&lt;");
                case '>' -> b.append("&gt;");
                case '"' -> b.append("&quot;");
                case '\'' -> b.append("&#39;");
                default -> {
                    // control characters (a vocabulary can hold them) would make the document invalid
                    if (c < 0x20 && c != '\n' && c != '\t') b.append("&#x").append(Integer.toHexString(0x2400 + c)).append(';');
                    else b.append(c);
                }
            }
        }
        return b.toString();
    }

    /**
     * JSON placed inside a script element: every '<' (which JSON has only inside strings) becomes \u003c, so no
     * "</script>" or "<!--" in a token or an answer can end or change the element, and the JSON stays valid.
     */
    static String scriptJson(String json) {
        return json.replace("<", "\\u003c");
    }

    /** A number for SVG coordinates: at most two decimals, no exponent. */
    static String n(double v) {
        long r = Math.round(v * 100);
        if (r % 100 == 0) return Long.toString(r / 100);
        return java.math.BigDecimal.valueOf(r, 2).stripTrailingZeros().toPlainString();
    }

    /** A value for a label: 4 significant digits. */
    static String num(double v) {
        if (Double.isNaN(v)) return "NaN";
        if (v == 0) return "0";
        double a = Math.abs(v);
        if (a >= 1e-3 && a < 1e5) {
            java.math.BigDecimal d = new java.math.BigDecimal(v).round(new java.math.MathContext(4));
            return d.stripTrailingZeros().toPlainString();
        }
        return String.format(java.util.Locale.ROOT, "%.3e", v);
    }
}
