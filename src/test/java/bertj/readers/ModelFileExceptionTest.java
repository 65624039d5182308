package bertj.readers;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

/** Messages that echo a hostile file's names stay one line a terminal shows as it is. */
class ModelFileExceptionTest {
    @Test
    void controlCharactersBecomeVisibleEscapes() {
        assertEquals("m.pt: tensor a\\nb\\r\\tc\\u0000d\\u001b[31m\\u007f\\u0085 e\\u2028f\\u202eg",
                new ModelFileException("m.pt: tensor a\nb\r\tc\u0000d\u001b[31m\u007f\u0085 e\u2028f\u202Eg").getMessage());
        assertEquals("x\\u2066y\\u200fz", new ModelFileException("x\u2066y\u200Fz", new RuntimeException()).getMessage());
    }

    @Test
    void ordinaryTextIsKeptAsItIs() {
        String s = "bert.pt: tensor «encoder.layer.2» has shape [288, 287], expected [288, 288]; 中文 😀 é";
        assertSame(s, ModelFileException.oneLine(s));
        assertEquals(s, new ModelFileException(s).getMessage());
    }
}
