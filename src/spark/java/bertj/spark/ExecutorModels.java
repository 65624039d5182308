package bertj.spark;

import bertj.backend.Backend;
import bertj.backend.Backends;
import bertj.encoder.BertEncoder;
import bertj.model.GeluForm;
import bertj.model.LoadedModel;
import bertj.model.ModelLoader;
import bertj.tokenizer.BertTokenizer;
import org.apache.spark.SparkEnv;

import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One loaded model per executor JVM and {@link ModelSpec}, shared by all the tasks that run there: the first task
 * loads it, the others wait for it and then use the same encoder, whose forward passes take turns (BertEncoder is
 * safe for concurrent callers). Tokenizing, batching and decoding run in each task's own thread. Models stay loaded
 * for the JVM's life: an executor runs one application, and the next job in it finds the model ready.
 *
 * <p>A load that fails is not remembered: the task fails with the loader's message, and Spark's retry (or the next
 * job) tries again.
 */
public final class ExecutorModels {
    private ExecutorModels() {
    }

    /**
     * A model ready for tasks: the encoder (on its backend) and tokenizer, and what it was loaded from.
     *
     * @param format as {@link LoadedModel#format()}
     * @param source the local file or directory read
     */
    public record Shared(ModelSpec spec, String format, Path source, BertEncoder encoder, BertTokenizer tokenizer) {
    }

    private static final class Slot {
        private Shared shared;
        private final AtomicInteger loads = new AtomicInteger(), uses = new AtomicInteger();

        synchronized Shared get(ModelSpec spec) {
            uses.incrementAndGet();
            if (shared == null) {
                loads.incrementAndGet();
                shared = load(spec);
            }
            return shared;
        }
    }

    private static final Map<ModelSpec, Slot> SLOTS = new ConcurrentHashMap<>();

    /** The model of this spec in this JVM, loaded on first use. */
    public static Shared get(ModelSpec spec) {
        return SLOTS.computeIfAbsent(spec, k -> new Slot()).get(spec);
    }

    /** How many times this JVM has loaded the spec's model (1 once used, however many tasks used it). */
    public static int loads(ModelSpec spec) {
        Slot s = SLOTS.get(spec);
        return s == null ? 0 : s.loads.get();
    }

    /** How many times tasks (and the driver's check) in this JVM have asked for the spec's model. */
    public static int uses(ModelSpec spec) {
        Slot s = SLOTS.get(spec);
        return s == null ? 0 : s.uses.get();
    }

    private static Shared load(ModelSpec s) {
        Path model = ModelFiles.local(s.model());
        Path vocab = ModelFiles.local(s.vocab());
        Path config = ModelFiles.local(s.config());
        LoadedModel m = ModelLoader.load(model, new ModelLoader.Options(s.gelu() == null ? null : GeluForm.parse(s.gelu()), s.heads(), config));
        BertTokenizer tok = BertTokenizer.load(m.vocabulary(vocab), s.cased(),
                s.lowerCasing() == null ? bertj.tokenizer.LowerCasing.HF : bertj.tokenizer.LowerCasing.parse(s.lowerCasing()));
        Backend backend = Backends.create(s.backend(), new Backends.Options(s.device(), threads(s)));
        try {
            return new Shared(s, m.format(), m.source(), new BertEncoder(m.weights(), backend), tok);
        } catch (RuntimeException | Error e) {
            backend.close();
            throw e;
        }
    }

    /** 0: the cores Spark gives an executor (spark.executor.cores) when set, else all of the machine's (the backend's 0). */
    static int threads(ModelSpec s) {
        if (s.threads() > 0) return s.threads();
        SparkEnv env = SparkEnv.get();
        return env == null ? 0 : Math.max(0, env.conf().getInt("spark.executor.cores", 0));
    }
}
