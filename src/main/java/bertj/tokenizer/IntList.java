package bertj.tokenizer;

import java.util.Arrays;

/** A growable int array (token ids without boxing). */
public final class IntList {
    private int[] a = new int[16];
    private int n;

    public void add(int v) {
        if (n == a.length) a = Arrays.copyOf(a, n * 2);
        a[n++] = v;
    }

    public int get(int i) {
        if (i >= n) throw new IndexOutOfBoundsException(i);
        return a[i];
    }

    public int size() {
        return n;
    }

    void truncate(int size) {
        n = size;
    }

    public int[] toArray() {
        return Arrays.copyOf(a, n);
    }
}
