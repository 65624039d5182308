package bertj.readers;

import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/** Lets the fuzz targets in bertj.fuzz run the package-private unpickler and look inside what it built. */
public final class ReadersFuzzAccess {
    private ReadersFuzzAccess() {
    }

    /** Runs a pickle program on {@link RestrictedUnpickler}. */
    public static Object unpickle(String where, byte[] data) {
        return RestrictedUnpickler.load(where, data);
    }

    /** The Python names the unpickler may resolve. */
    public static Set<String> allowedGlobals() {
        return RestrictedUnpickler.ALLOWED;
    }

    /**
     * Every Python global that appears anywhere in an unpickled object graph (dict keys and values, list and tuple
     * items, tensors' storages), qualified as module.name. Visited by identity, so a list that holds itself ends.
     */
    public static Set<String> globals(Object root) {
        Set<String> out = new TreeSet<>();
        Set<Object> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        List<Object> todo = new ArrayList<>();
        todo.add(root);
        while (!todo.isEmpty()) {
            Object o = todo.remove(todo.size() - 1);
            if (o == null || !seen.add(o)) continue;
            switch (o) {
                case RestrictedUnpickler.Global g -> out.add(g.qualified());
                case RestrictedUnpickler.Tuple t -> Collections.addAll(todo, t.items());
                case RestrictedUnpickler.TensorRef t -> todo.add(t.storage());
                case Map<?, ?> m -> m.forEach((k, v) -> {
                    todo.add(k);
                    todo.add(v);
                });
                case List<?> l -> todo.addAll(l);
                default -> {
                }
            }
        }
        return out;
    }
}
