package bertj.spark;

import org.apache.spark.sql.Row;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.function.Function;

/**
 * A partition's rows taken {@code size} at a time, each chunk turned into output rows (in the chunk's order)
 * before the next is read: a partition of any size is sorted and batched in bounded memory, and its rows come out
 * in the order they went in.
 */
final class Chunks implements Iterator<Row> {
    private final Iterator<Row> in;
    private final int size;
    private final Function<List<Row>, List<Row>> process;
    private Iterator<Row> current = Collections.emptyIterator();

    Chunks(Iterator<Row> in, int size, Function<List<Row>, List<Row>> process) {
        this.in = in;
        this.size = size;
        this.process = process;
    }

    @Override
    public boolean hasNext() {
        while (!current.hasNext() && in.hasNext()) {
            List<Row> chunk = new ArrayList<>(Math.min(size, 1024));
            while (chunk.size() < size && in.hasNext()) chunk.add(in.next());
            current = process.apply(chunk).iterator();
        }
        return current.hasNext();
    }

    @Override
    public Row next() {
        if (!hasNext()) throw new NoSuchElementException();
        return current.next();
    }
}
