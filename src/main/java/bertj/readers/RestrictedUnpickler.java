package bertj.readers;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A pickle virtual machine that can build a PyTorch state dict and nothing else.
 *
 * <p>Python's pickle format is a small stack program; {@code GLOBAL} and {@code STACK_GLOBAL} name any Python
 * callable and {@code REDUCE} calls it, which is how a malicious checkpoint runs code. Here no callable exists:
 * a GLOBAL whose name is not in {@link #ALLOWED} stops the load with an error naming it, and the few allowed
 * names are interpreted by Java code (an OrderedDict becomes a {@link LinkedHashMap}, a
 * {@code _rebuild_tensor_v2} call becomes a {@link TensorRef}). Sizes of the stack, memo, marks and strings are
 * bounded, and so is the number of values a program may push in all ({@link #MAX_VALUES}): a list or dict that
 * APPEND and SETITEM fill keeps its items off the stack, so without that budget a 64 MB pickle of {@code ]a} pairs
 * would build 32 million lists (over a gigabyte). A hostile file fails fast instead of exhausting memory.
 */
final class RestrictedUnpickler {
    /** The Python names a state dict needs. Anything else is refused. */
    static final Set<String> ALLOWED = Set.of(
            "collections.OrderedDict",
            "torch._utils._rebuild_tensor_v2",
            "torch._utils._rebuild_tensor",
            "torch._utils._rebuild_parameter",
            "torch._utils._rebuild_parameter_with_state",
            "torch.Size",
            "torch.FloatStorage", "torch.DoubleStorage", "torch.HalfStorage", "torch.BFloat16Storage",
            "torch.LongStorage", "torch.IntStorage",
            "torch.float32", "torch.float64", "torch.float16", "torch.bfloat16", "torch.int64", "torch.int32");

    static final int MAX_STACK = 1_000_000;
    static final int MAX_MARKS = 10_000;
    static final int MAX_MEMO = 1_000_000;
    /**
     * Values pushed in all. A state dict pushes about 25 per tensor (BERT-large: about 10,000 in all), so this
     * allows some 80,000 tensors while bounding what a program can build to roughly 100 bytes a value.
     */
    static final int MAX_VALUES = 2_000_000;

    /** A Python global the unpickler recognised. */
    record Global(String module, String name) {
        String qualified() {
            return module + "." + name;
        }
    }

    /** A tuple: immutable list of values. */
    record Tuple(Object[] items) {
        int size() {
            return items.length;
        }

        Object get(int i) {
            return items[i];
        }
    }

    /** The persistent id of a storage: {@code ('storage', torch.FloatStorage, key, location, numel)}. */
    record StorageRef(DType dtype, String key, long numel) {
    }

    /** A tensor as a view of a storage. */
    record TensorRef(StorageRef storage, long offset, int[] size, long[] stride) {
    }

    /** Python's None. */
    static final Object NONE = new Object() {
        @Override
        public String toString() {
            return "None";
        }
    };

    private static final Object MARK = new Object();

    private final String where;
    private final ByteBuffer in;
    private final ArrayList<Object> stack = new ArrayList<>();
    private final ArrayList<Integer> marks = new ArrayList<>();
    private final HashMap<Long, Object> memo = new HashMap<>();
    private int pushed;

    private RestrictedUnpickler(String where, byte[] data) {
        this.where = where;
        this.in = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
    }

    /** Runs the pickle program in {@code data} and returns the object it builds. */
    static Object load(String where, byte[] data) {
        try {
            return new RestrictedUnpickler(where, data).run();
        } catch (java.nio.BufferUnderflowException e) {
            throw new ModelFileException(where + ": pickle data ends early (truncated file?)");
        } catch (ClassCastException | IndexOutOfBoundsException e) {
            throw new ModelFileException(where + ": pickle data is malformed (an opcode found the wrong kind of value on the stack)");
        }
    }

    private Object run() {
        while (true) {
            int op = in.get() & 0xff;
            switch (op) {
                case 0x80 -> { // PROTO
                    int v = in.get() & 0xff;
                    if (v > 5) fail("pickle protocol " + v + " is not supported");
                }
                case 0x95 -> in.getLong(); // FRAME: framing is advisory
                case '.' -> { // STOP
                    if (stack.size() != 1) fail("pickle program stopped with " + stack.size() + " values on the stack");
                    return stack.get(0);
                }
                case '(' -> { // MARK
                    if (marks.size() >= MAX_MARKS) fail("pickle is nested more than " + MAX_MARKS + " levels deep");
                    marks.add(stack.size());
                }
                case 'N' -> push(NONE);
                case 0x88 -> push(Boolean.TRUE);
                case 0x89 -> push(Boolean.FALSE);
                case 'K' -> push((long) (in.get() & 0xff)); // BININT1
                case 'M' -> push((long) (in.getShort() & 0xffff)); // BININT2
                case 'J' -> push((long) in.getInt()); // BININT
                case 0x8a -> push(readLong(in.get() & 0xff)); // LONG1
                case 0x8b -> push(readLong(checkLen(in.getInt()))); // LONG4
                case 'G' -> push(Double.longBitsToDouble(Long.reverseBytes(in.getLong()))); // BINFLOAT (big-endian)
                case 'X' -> push(readString(checkLen(in.getInt()))); // BINUNICODE
                case 0x8c -> push(readString(in.get() & 0xff)); // SHORT_BINUNICODE
                case 0x8d -> push(readString(checkLen(in.getLong()))); // BINUNICODE8
                case 'U' -> push(readString(in.get() & 0xff)); // SHORT_BINSTRING
                case 'T' -> push(readString(checkLen(in.getInt()))); // BINSTRING
                case 'C' -> push(readBytes(in.get() & 0xff)); // SHORT_BINBYTES
                case 'B' -> push(readBytes(checkLen(in.getInt()))); // BINBYTES
                case '}' -> push(new LinkedHashMap<Object, Object>()); // EMPTY_DICT
                case ']' -> push(new ArrayList<Object>()); // EMPTY_LIST
                case ')' -> push(new Tuple(new Object[0])); // EMPTY_TUPLE
                case 't' -> push(new Tuple(popMark().toArray())); // TUPLE
                case 0x85 -> push(new Tuple(new Object[] {pop()})); // TUPLE1
                case 0x86 -> { // TUPLE2
                    Object b = pop(), a = pop();
                    push(new Tuple(new Object[] {a, b}));
                }
                case 0x87 -> { // TUPLE3
                    Object c = pop(), b = pop(), a = pop();
                    push(new Tuple(new Object[] {a, b, c}));
                }
                case 'l' -> push(new ArrayList<>(popMark())); // LIST
                case 'd' -> { // DICT
                    List<Object> items = popMark();
                    Map<Object, Object> m = new LinkedHashMap<>();
                    putPairs(m, items);
                    push(m);
                }
                case 'a' -> { // APPEND
                    Object v = pop();
                    asList(top()).add(v);
                }
                case 'e' -> { // APPENDS
                    List<Object> items = popMark();
                    asList(top()).addAll(items);
                }
                case 's' -> { // SETITEM
                    Object v = pop(), k = pop();
                    asDict(top()).put(key(k), v);
                }
                case 'u' -> { // SETITEMS
                    List<Object> items = popMark();
                    putPairs(asDict(top()), items);
                }
                case 'q' -> memoPut(in.get() & 0xff); // BINPUT
                case 'r' -> memoPut(in.getInt() & 0xffffffffL); // LONG_BINPUT
                case 0x94 -> memoPut(memo.size()); // MEMOIZE
                case 'h' -> push(memoGet(in.get() & 0xff)); // BINGET
                case 'j' -> push(memoGet(in.getInt() & 0xffffffffL)); // LONG_BINGET
                case 'c' -> { // GLOBAL "module\nname\n"
                    String module = readLine(), name = readLine();
                    push(global(module, name));
                }
                case 0x93 -> { // STACK_GLOBAL
                    Object name = pop(), module = pop();
                    if (!(module instanceof String m) || !(name instanceof String n)) {
                        fail("STACK_GLOBAL needs two strings");
                        return null;
                    }
                    push(global(m, n));
                }
                case 'Q' -> push(persistentLoad(pop())); // BINPERSID
                case 'R' -> { // REDUCE
                    Object args = pop(), fn = pop();
                    push(call(fn, args));
                }
                case 0x81 -> { // NEWOBJ
                    Object args = pop(), cls = pop();
                    push(call(cls, args));
                }
                case 'b' -> { // BUILD: state for an object; an OrderedDict's state is its _metadata attribute.
                    Object state = pop();
                    Object obj = top();
                    if (!(obj instanceof Map) && !(obj instanceof TensorRef)) {
                        fail("BUILD on a value that is not a dict or tensor");
                    }
                    if (state == null) fail("BUILD without state");
                }
                case '0' -> pop(); // POP
                case '2' -> push(top()); // DUP
                case '1' -> popMark(); // POP_MARK
                default -> fail(String.format("pickle opcode 0x%02x is not allowed in a state dict", op));
            }
        }
    }

    private Object global(String module, String name) {
        String q = module + "." + name;
        if (!ALLOWED.contains(q)) {
            fail("pickle names " + q + ", which a state dict never needs; refusing to load it (nothing was executed)");
        }
        return new Global(module, name);
    }

    private Object call(Object fn, Object argsObj) {
        if (!(fn instanceof Global g)) {
            fail("pickle calls something that is not an allowed global");
            return null;
        }
        if (!(argsObj instanceof Tuple args)) {
            fail("pickle calls " + g.qualified() + " without an argument tuple");
            return null;
        }
        switch (g.qualified()) {
            case "collections.OrderedDict" -> {
                Map<Object, Object> m = new LinkedHashMap<>();
                if (args.size() == 1 && args.get(0) instanceof List<?> pairs) {
                    for (Object p : pairs) {
                        if (p instanceof Tuple t && t.size() == 2) m.put(key(t.get(0)), t.get(1));
                        else fail("OrderedDict built from something other than pairs");
                    }
                } else if (args.size() != 0) {
                    fail("OrderedDict called with unexpected arguments");
                }
                return m;
            }
            case "torch.Size" -> {
                if (args.size() == 1 && args.get(0) instanceof Tuple t) return t;
                if (args.size() == 0) return new Tuple(new Object[0]);
                fail("torch.Size called with unexpected arguments");
                return null;
            }
            case "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_tensor" -> {
                if (args.size() < 4) fail(g.qualified() + " needs at least 4 arguments, got " + args.size());
                if (!(args.get(0) instanceof StorageRef s)) {
                    fail(g.qualified() + " is not given a storage");
                    return null;
                }
                long offset = asLong(args.get(1), "storage offset");
                int[] size = intTuple(args.get(2), "size");
                long[] stride = longTuple(args.get(3), "stride");
                if (size.length != stride.length) fail("tensor size " + Arrays.toString(size) + " and stride " + Arrays.toString(stride) + " differ in rank");
                return new TensorRef(s, offset, size, stride);
            }
            case "torch._utils._rebuild_parameter", "torch._utils._rebuild_parameter_with_state" -> {
                if (args.size() < 1 || !(args.get(0) instanceof TensorRef t)) {
                    fail(g.qualified() + " is not given a tensor");
                    return null;
                }
                return t;
            }
            default -> {
                fail("pickle calls " + g.qualified() + ", which is not callable here");
                return null;
            }
        }
    }

    private Object persistentLoad(Object pid) {
        if (!(pid instanceof Tuple t) || t.size() < 5 || !"storage".equals(t.get(0))) {
            fail("persistent id is not a ('storage', type, key, location, numel) tuple");
            return null;
        }
        DType dtype = storageType(t.get(1));
        if (!(t.get(2) instanceof String key) || !key.matches("[A-Za-z0-9_.]{1,64}")) {
            fail("storage key is not a plain name");
            return null;
        }
        long numel = asLong(t.get(4), "storage size");
        if (numel < 0) fail("storage " + key + " has negative size " + numel);
        return new StorageRef(dtype, key, numel);
    }

    private DType storageType(Object o) {
        if (!(o instanceof Global g)) {
            fail("storage type is not a torch storage class");
            return null;
        }
        return switch (g.name()) {
            case "FloatStorage", "float32" -> DType.F32;
            case "DoubleStorage", "float64" -> DType.F64;
            case "HalfStorage", "float16" -> DType.F16;
            case "BFloat16Storage", "bfloat16" -> DType.BF16;
            case "LongStorage", "int64" -> DType.I64;
            case "IntStorage", "int32" -> DType.I32;
            default -> {
                fail("storage type " + g.qualified() + " is not supported");
                yield null;
            }
        };
    }

    private static Object key(Object k) {
        if (k instanceof List || k instanceof Map) {
            throw new ModelFileException("pickle uses a list or dict as a dict key");
        }
        return k;
    }

    private void putPairs(Map<Object, Object> m, List<Object> items) {
        if (items.size() % 2 != 0) fail("dict items come in an odd number");
        for (int i = 0; i < items.size(); i += 2) m.put(key(items.get(i)), items.get(i + 1));
    }

    @SuppressWarnings("unchecked")
    private List<Object> asList(Object o) {
        if (!(o instanceof List)) fail("APPEND to a value that is not a list");
        return (List<Object>) o;
    }

    @SuppressWarnings("unchecked")
    private Map<Object, Object> asDict(Object o) {
        if (!(o instanceof Map)) fail("SETITEM on a value that is not a dict");
        return (Map<Object, Object>) o;
    }

    private long asLong(Object o, String what) {
        if (!(o instanceof Long l)) {
            fail(what + " is not an integer");
            return 0;
        }
        return l;
    }

    private int[] intTuple(Object o, String what) {
        long[] l = longTuple(o, what);
        if (l.length > 8) fail("tensor " + what + " has rank " + l.length + " (more than 8)");
        int[] r = new int[l.length];
        for (int i = 0; i < l.length; i++) {
            if (l[i] < 0 || l[i] > Integer.MAX_VALUE) fail("tensor " + what + " entry " + l[i] + " is out of range");
            r[i] = (int) l[i];
        }
        return r;
    }

    private long[] longTuple(Object o, String what) {
        if (!(o instanceof Tuple t)) {
            fail("tensor " + what + " is not a tuple");
            return null;
        }
        long[] r = new long[t.size()];
        for (int i = 0; i < r.length; i++) r[i] = asLong(t.get(i), "tensor " + what + " entry");
        return r;
    }

    private void push(Object o) {
        if (stack.size() >= MAX_STACK) fail("pickle stack grows past " + MAX_STACK + " values");
        if (++pushed > MAX_VALUES) fail("pickle builds more than " + MAX_VALUES + " values, far more than a state dict needs");
        stack.add(o);
    }

    private Object pop() {
        if (stack.isEmpty() || (!marks.isEmpty() && marks.get(marks.size() - 1) >= stack.size())) {
            fail("pickle pops from an empty stack");
        }
        return stack.remove(stack.size() - 1);
    }

    private Object top() {
        if (stack.isEmpty()) fail("pickle reads from an empty stack");
        return stack.get(stack.size() - 1);
    }

    private List<Object> popMark() {
        if (marks.isEmpty()) fail("pickle closes a mark it never opened");
        int at = marks.remove(marks.size() - 1);
        List<Object> sub = stack.subList(at, stack.size());
        List<Object> items = new ArrayList<>(sub);
        sub.clear();
        return items;
    }

    private void memoPut(long i) {
        if (stack.isEmpty()) fail("pickle memoizes from an empty stack");
        if (memo.size() >= MAX_MEMO && !memo.containsKey(i)) fail("pickle memo grows past " + MAX_MEMO + " entries");
        memo.put(i, top());
    }

    private Object memoGet(long i) {
        Object o = memo.get(i);
        if (o == null) fail("pickle reads memo entry " + i + ", which was never written");
        return o;
    }

    private int checkLen(long n) {
        if (n < 0 || n > in.remaining()) fail("pickle string of " + n + " bytes runs past the end of the data");
        return (int) n;
    }

    private String readString(int n) {
        checkLen(n);
        byte[] b = new byte[n];
        in.get(b);
        return new String(b, StandardCharsets.UTF_8);
    }

    private byte[] readBytes(int n) {
        checkLen(n);
        byte[] b = new byte[n];
        in.get(b);
        return b;
    }

    private long readLong(int n) {
        checkLen(n);
        if (n > 8) fail("pickle integer of " + n + " bytes is too large");
        long v = 0;
        for (int i = 0; i < n; i++) v |= (in.get() & 0xffL) << (8 * i);
        if (n > 0 && n < 8 && (v & (1L << (8 * n - 1))) != 0) v -= 1L << (8 * n); // two's complement sign
        return v;
    }

    private String readLine() {
        StringBuilder sb = new StringBuilder();
        while (true) {
            byte b = in.get();
            if (b == '\n') return sb.toString();
            if (sb.length() > 256) fail("pickle GLOBAL name is too long");
            sb.append((char) (b & 0xff));
        }
    }

    private void fail(String msg) {
        throw new ModelFileException(where + ": " + msg);
    }
}
