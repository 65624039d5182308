package bertj.qa;

import java.io.IOException;
import java.nio.file.Path;

/** {@link QaFixtures} for tests in other packages. */
public final class QaFixturesAccess {
    private QaFixturesAccess() {
    }

    /** A small random QA model directory (config, weights, vocab.txt). */
    public static Path smallModelDir(Path dir, long seed) throws IOException {
        return QaFixtures.smallModelDir(dir, seed, true, true);
    }

    /** A short history passage with several answerable questions. */
    public static String history() {
        return QaFixtures.HISTORY;
    }
}
