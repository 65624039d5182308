package bertj.model;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

class ErfTest {
    /** erf values to 17 significant digits (from high-precision tables). */
    private static final double[][] KNOWN = {
            {0.0, 0.0},
            {1e-8, 1.1283791670955126e-8},
            {0.1, 0.11246291601828490},
            {0.5, 0.52049987781304654},
            {1.0, 0.84270079294971487},
            {1.5, 0.96610514647531073},
            {2.0, 0.99532226501895273},
            {3.0, 0.99997790950300141},
            {4.0, 0.99999998458274210},
            {5.5, 0.99999999999999257},
    };

    @Test
    void matchesTablesToAFewUlps() {
        for (double[] k : KNOWN) {
            assertEquals(k[1], Erf.erf(k[0]), 4 * Math.ulp(k[1]) + 1e-300, "erf(" + k[0] + ")");
            assertEquals(-k[1], Erf.erf(-k[0]), 4 * Math.ulp(k[1]) + 1e-300, "erf(-" + k[0] + ")");
        }
        assertEquals(1.0, Erf.erf(7.0));
        assertEquals(-1.0, Erf.erf(Double.NEGATIVE_INFINITY));
        assertEquals(Double.NaN, Erf.erf(Double.NaN));
    }

    @Test
    void geluFormsDifferWhereExpected() {
        // at x = 1: erf form 0.8413447460685429, tanh form 0.8411919906082768
        assertEquals(0.8413447460685429, GeluForm.ERF.apply(1.0), 1e-15);
        assertEquals(0.8411919906082768, GeluForm.TANH.apply(1.0), 1e-15);
    }
}
