package bertj.spark;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The batch planner on its own: every input once, within budget, longest first, at most a quarter padding per row. */
class TokenBudgetTest {
    @Test
    void everyInputOnceWithinBudgetLongestFirst() {
        long seed = bertj.testing.PyTorch.seed("token budget lengths");
        Random r = new Random(seed);
        for (int round = 0; round < 200; round++) {
            int n = r.nextInt(300);
            int[] len = new int[n];
            for (int i = 0; i < n; i++) len[i] = 1 + (r.nextInt(8) == 0 ? r.nextInt(600) : r.nextInt(60));
            int budget = 1 + r.nextInt(4000);
            List<int[]> plan = TokenBudget.plan(len, budget);
            int[] seen = new int[n];
            int previousLongest = Integer.MAX_VALUE;
            for (int[] b : plan) {
                assertTrue(b.length >= 1);
                int longest = len[b[0]];
                for (int k = 0; k < b.length; k++) {
                    seen[b[k]]++;
                    if (k > 0) {
                        assertTrue(len[b[k]] <= len[b[k - 1]], "longest first within a batch");
                        if (len[b[k]] == len[b[k - 1]]) assertTrue(b[k] > b[k - 1], "ties keep input order");
                    }
                }
                assertTrue(longest <= previousLongest, "batches longest first");
                previousLongest = longest;
                // Within budget, unless a single input is longer than the budget by itself.
                assertTrue((long) longest * b.length <= budget || b.length == 1, "batch of " + b.length + " x " + longest + " over " + budget);
                // No row more than a quarter padding.
                for (int k : b) assertTrue(4 * len[k] >= 3 * longest);
                // Greedy: a batch ends when it is full or the next input would be more than a quarter padding.
                int next = plan.indexOf(b) + 1;
                if (next < plan.size()) {
                    int nextLength = len[plan.get(next)[0]];
                    assertTrue((long) longest * (b.length + 1) > budget || 4 * nextLength < 3 * longest);
                }
            }
            int[] once = new int[n];
            Arrays.fill(once, 1);
            assertArrayEquals(once, seen);
        }
    }

    @Test
    void sortingCutsPadding() {
        int[] len = new int[1000];
        Random r = new Random(7);
        for (int i = 0; i < len.length; i++) len[i] = 5 + r.nextInt(100);
        List<int[]> plan = TokenBudget.plan(len, 2048);
        long real = Arrays.stream(len).asLongStream().sum();
        double sorted = (double) real / TokenBudget.paddedTokens(len, plan);
        // The same batch sizes taken in input order instead: what a planner that does not sort pads to.
        List<int[]> unsorted = new java.util.ArrayList<>();
        int at = 0;
        for (int[] b : plan) {
            int[] u = new int[b.length];
            for (int k = 0; k < b.length; k++) u[k] = at++;
            unsorted.add(u);
        }
        double inOrder = (double) real / TokenBudget.paddedTokens(len, unsorted);
        System.out.printf("[token budget] real / padded tokens: %.3f sorted, %.3f in input order%n", sorted, inOrder);
        assertTrue(sorted > 0.93, "sorted " + sorted);
        assertTrue(inOrder < 0.7, "in order " + inOrder);
    }

    @Test
    void badArguments() {
        assertEquals("the token budget must be at least 1 (got 0)", assertThrows(IllegalArgumentException.class,
                () -> TokenBudget.plan(new int[] {3}, 0)).getMessage());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> TokenBudget.plan(new int[] {3, 0}, 10)).getMessage()
                .contains("input 1 has length 0"));
        assertEquals(0, TokenBudget.plan(new int[0], 10).size());
    }
}
