package bertj.fuzz;

import bertj.fuzz.TorchFiles.Pickle;
import bertj.fuzz.TorchFiles.View;
import bertj.readers.ReadersFuzzAccess;
import bertj.readers.ModelFileException;
import com.code_intelligence.jazzer.junit.DictionaryFile;
import com.code_intelligence.jazzer.junit.FuzzTest;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The restricted unpickler on arbitrary pickle programs (data.pkl on its own, no zip around it). Property: only
 * {@link ModelFileException} with a one-line message comes out, and no Python name outside the allowlist ever
 * appears in what the unpickler builds.
 */
class PickleFuzzTest {
    static Map<String, View> twoTensors() {
        Map<String, View> t = new LinkedHashMap<>();
        t.put("bert.embeddings.word_embeddings.weight", View.contiguous("FloatStorage", "0", 2, 3));
        t.put("bert.embeddings.LayerNorm.bias", View.contiguous("HalfStorage", "1", 3));
        return t;
    }

    /** Protocol 4, a transposed view and a view with an offset, wrapped in _rebuild_parameter. */
    static Map<String, View> views() {
        Map<String, View> t = new LinkedHashMap<>();
        t.put("module.w", new View("DoubleStorage", "0", 6, 0, new long[] {3, 2}, new long[] {1, 3}));
        t.put("module.b", new View("LongStorage", "1", 4, 1, new long[] {3}, new long[] {1}));
        t.put("x", new View("BFloat16Storage", "2", 1, 0, new long[] {}, new long[] {}));
        return t;
    }

    /** Opcodes a state dict seldom uses but the unpickler reads: lists, dicts, memo, floats, bytes, NEWOBJ, Size. */
    static byte[] kitchenSink() {
        Pickle p = new Pickle(2);
        p.op('}').put();
        p.str("list").op(']').put().op('(').integer(1).integer(300).integer(70000).integer(-5).integer(1L << 40).op('e');
        p.op('N').op('a').op(0x88).op('a').op(0x89).op('a').op('s');
        p.str("tuple").op('(').op('G').raw(new byte[] {0x3f, (byte) 0xf0, 0, 0, 0, 0, 0, 0}).op('C').raw(new byte[] {2, 'h', 'i'})
                .op('B').raw(new byte[] {1, 0, 0, 0, 'x'}).op('U').raw(new byte[] {1, 'u'})
                .op('T').raw(new byte[] {1, 0, 0, 0, 't'}).op(0x8d).raw(new byte[] {1, 0, 0, 0, 0, 0, 0, 0, 'w'}).op('t').s();
        p.str("memo").op('h').raw(new byte[] {1}).op('j').raw(new byte[] {1, 0, 0, 0}).op(0x86).s();
        p.str("long4").op(0x8b).raw(new byte[] {2, 0, 0, 0, (byte) 0xff, 0x7f}).s();
        p.str("size").global("torch", "Size").op('(').integer(2).integer(3).op('t').op(0x85).op(0x81).s();
        p.str("dict").op('(').str("a").integer(1).op('d').s();
        p.str("dup").integer(7).op('2').op('0').op('(').op('1').s();
        return p.stop();
    }

    /** A pickle that calls module.name(arg), as a malicious __reduce__ writes it. */
    static byte[] call(int protocol, String module, String name, String arg) {
        Pickle p = new Pickle(protocol);
        return p.global(module, name).str(arg).op(0x85).op('R').stop();
    }

    static Stream<Arguments> seeds() {
        return Stream.of(
                Arguments.of(Named.of("state dict, protocol 2", TorchFiles.stateDict(2, twoTensors(), false))),
                Arguments.of(Named.of("parameters, views, protocol 4", TorchFiles.stateDict(4, views(), true))),
                Arguments.of(Named.of("state dict under 'model'", TorchFiles.wrapped("model", TorchFiles.stateDict(2, twoTensors(), false)))),
                Arguments.of(Named.of("kitchen sink", kitchenSink())),
                Arguments.of(Named.of("os.system", call(2, "os", "system", "touch /tmp/pwned"))),
                Arguments.of(Named.of("builtins.eval by STACK_GLOBAL", call(4, "builtins", "eval", "1+1"))));
    }

    @MethodSource("seeds")
    @DictionaryFile(resourcePath = "pickle.dict")
    @FuzzTest
    void unpickle(byte[] input) {
        Contract.holds(() -> {
            Object root = ReadersFuzzAccess.unpickle("data.pkl", input);
            Set<String> outside = new TreeSet<>(ReadersFuzzAccess.globals(root));
            outside.removeAll(ReadersFuzzAccess.allowedGlobals());
            if (!outside.isEmpty()) throw new AssertionError("the unpickler resolved names outside its allowlist: " + outside);
        }, ModelFileException.class);
    }

    /** The seeds are what they claim: the state dicts and the kitchen sink load, the calls are refused by name. */
    @Test
    void seedsAreWhatTheySay() {
        assertInstanceOf(Map.class, ReadersFuzzAccess.unpickle("s", TorchFiles.stateDict(2, twoTensors(), false)));
        assertInstanceOf(Map.class, ReadersFuzzAccess.unpickle("s", TorchFiles.stateDict(4, views(), true)));
        assertInstanceOf(Map.class, ReadersFuzzAccess.unpickle("s", TorchFiles.wrapped("model", TorchFiles.stateDict(2, twoTensors(), false))));
        Map<?, ?> sink = (Map<?, ?>) ReadersFuzzAccess.unpickle("s", kitchenSink());
        assertEquals(Set.of("list", "tuple", "memo", "long4", "size", "dict", "dup"), sink.keySet());
        assertEquals(32767L, sink.get("long4"));
        assertTrue(ReadersFuzzAccess.globals(sink).isEmpty(), "no global survives in the kitchen sink");
        for (String[] c : new String[][] {{"os", "system"}, {"builtins", "eval"}}) {
            var e = assertThrows(ModelFileException.class, () -> ReadersFuzzAccess.unpickle("s", call(4, c[0], c[1], "x")));
            assertTrue(e.getMessage().contains(c[0] + "." + c[1]), e.getMessage());
        }
    }
}
