package bertj.spark;

import bertj.backend.BackendException;
import bertj.readers.ModelFileException;

/** The text of a row's error column: a sentence for the errors bertj raises, the exception's type for anything else. */
final class RowErrors {
    private RowErrors() {
    }

    static String describe(Throwable e) {
        String m = e.getMessage() == null ? "" : e.getMessage().replace('\n', ' ').replace('\r', ' ').trim();
        if (e instanceof IllegalArgumentException || e instanceof ModelFileException || e instanceof BackendException) {
            return m.isEmpty() ? e.getClass().getSimpleName() : m;
        }
        return e.getClass().getSimpleName() + (m.isEmpty() ? "" : ": " + m);
    }
}
