package bertj.explain;

/**
 * The one sequential colour scale of every heatmap in bertj's reports: white at 0, then pale yellow, orange,
 * red and crimson to a dark purple at 1. Luminance falls monotonically along it, so it reads in grey print and
 * for colour-blind readers, and white means "nothing" as on paper. Colours are interpolated linearly in sRGB
 * between the anchors below and quantised to {@link #LEVELS} levels: a heatmap PNG stores the level of each
 * cell as a palette index, so level ↔ colour is exact and a test can read values back from pixels.
 */
public final class Colormap {
    private Colormap() {
    }

    /** Palette entries; level 0 is t = 0, level 255 is t = 1. */
    public static final int LEVELS = 256;

    /** Anchor colours at t = 0, 0.2, 0.4, 0.6, 0.8, 1 (chosen for this project). */
    private static final int[][] ANCHORS = {
            {255, 255, 255}, {255, 234, 150}, {252, 168, 72}, {226, 80, 48}, {150, 22, 78}, {46, 8, 58}};

    private static final int[] PALETTE = new int[LEVELS];

    static {
        for (int k = 0; k < LEVELS; k++) PALETTE[k] = interpolate((double) k / (LEVELS - 1));
    }

    private static int interpolate(double t) {
        double x = t * (ANCHORS.length - 1);
        int i = Math.min((int) x, ANCHORS.length - 2);
        double f = x - i;
        int rgb = 0;
        for (int c = 0; c < 3; c++) {
            int v = (int) Math.round(ANCHORS[i][c] + f * (ANCHORS[i + 1][c] - ANCHORS[i][c]));
            rgb = (rgb << 8) | v;
        }
        return rgb;
    }

    /** The level of t ∈ [0, 1] (values outside are clamped; NaN is level 0). */
    public static int level(double t) {
        if (!(t > 0)) return 0;
        if (t >= 1) return LEVELS - 1;
        return (int) Math.round(t * (LEVELS - 1));
    }

    /** 0xRRGGBB of a level. */
    public static int rgb(int level) {
        return PALETTE[level];
    }

    /** 0xRRGGBB of t ∈ [0, 1], quantised as a heatmap stores it. */
    public static int rgbOf(double t) {
        return PALETTE[level(t)];
    }

    /** "#rrggbb" of t. */
    public static String css(double t) {
        return String.format("#%06x", rgbOf(t));
    }

    /** A copy of the palette (0xRRGGBB per level). */
    public static int[] palette() {
        return PALETTE.clone();
    }

    /**
     * Where an attention probability p sits on the scale: t = √p. Most weights of a row are small (uniform
     * attention over 384 tokens is 0.0026 each), so a linear scale would leave the picture white; the square root
     * shows 0.01 at t = 0.1 and 0.25 at t = 0.5 while 0 and 1 stay at the ends. The legend gives the p values.
     */
    public static double attentionScale(double p) {
        return Math.sqrt(Math.max(0, Math.min(1, p)));
    }
}
