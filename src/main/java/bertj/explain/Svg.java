package bertj.explain;

import java.util.ArrayList;
import java.util.List;

/** A few helpers for the inline SVG charts: tick positions and text. */
final class Svg {
    private Svg() {
    }

    /** About {@code target} round tick values (1, 2 or 5 × 10ᵏ apart) covering [lo, hi]. */
    static List<Double> ticks(double lo, double hi, int target) {
        List<Double> out = new ArrayList<>();
        if (!(hi > lo)) {
            out.add(lo);
            return out;
        }
        double raw = (hi - lo) / Math.max(1, target), mag = Math.pow(10, Math.floor(Math.log10(raw)));
        double step = raw / mag < 1.5 ? mag : raw / mag < 3.5 ? 2 * mag : raw / mag < 7.5 ? 5 * mag : 10 * mag;
        for (double v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) {
            out.add(Math.abs(v) < step * 1e-9 ? 0.0 : v);
        }
        return out;
    }

    static String text(double x, double y, String cls, String content) {
        return "<text x=\"" + Html.n(x) + "\" y=\"" + Html.n(y) + "\"" + (cls == null ? "" : " class=\"" + cls + "\"") + ">"
                + Html.esc(content) + "</text>";
    }
}
