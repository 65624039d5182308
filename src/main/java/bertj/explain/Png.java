package bertj.explain;

import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.ImageOutputStream;
import java.awt.image.BufferedImage;
import java.awt.image.IndexColorModel;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Base64;

/** PNG encoding with the JDK's ImageIO, and data URIs for embedding images in a self-contained HTML file. */
public final class Png {
    private Png() {
    }

    static {
        // Drawing into a BufferedImage needs no display; say so before AWT decides for itself.
        if (System.getProperty("java.awt.headless") == null) System.setProperty("java.awt.headless", "true");
    }

    /** Makes sure AWT runs headless (call before creating any image). */
    public static void headless() {
        // the static initialiser has run by now
    }

    public static byte[] encode(BufferedImage image) {
        return encode(image, COMPRESSION);
    }

    /**
     * ImageIO's PNG compression "quality" (0: deflate level 9). 0.5 makes a 384 × 384 heatmap 2% larger than 0
     * does, in a third of the time (measured: 82 kB in 81 ms against 80 kB in 231 ms).
     */
    static final float COMPRESSION = 0.5f;

    static byte[] encode(BufferedImage image, float quality) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImageWriter writer = ImageIO.getImageWritersByFormatName("png").next();
        try (ImageOutputStream ios = ImageIO.createImageOutputStream(out)) {
            ImageWriteParam param = writer.getDefaultWriteParam();
            param.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
            param.setCompressionQuality(quality);
            writer.setOutput(ios);
            writer.write(null, new IIOImage(image, null, null), param);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            writer.dispose();
        }
        return out.toByteArray();
    }

    /**
     * A width × height image of palette levels (one byte per pixel, row-major) in {@link Colormap}'s colours:
     * an 8-bit indexed PNG, which stores each pixel as its level, so that it is small and exact.
     */
    public static byte[] indexed(int width, int height, byte[] levels) {
        int[] pal = Colormap.palette();
        byte[] r = new byte[pal.length], g = new byte[pal.length], b = new byte[pal.length];
        for (int i = 0; i < pal.length; i++) {
            r[i] = (byte) (pal[i] >> 16);
            g[i] = (byte) (pal[i] >> 8);
            b[i] = (byte) pal[i];
        }
        BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_BYTE_INDEXED,
                new IndexColorModel(8, pal.length, r, g, b));
        img.getRaster().setDataElements(0, 0, width, height, levels);
        return encode(img);
    }

    public static String dataUri(byte[] png) {
        return "data:image/png;base64," + Base64.getEncoder().encodeToString(png);
    }
}
