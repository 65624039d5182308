/**
 * <b>Internal:</b> the HTML report of {@code bertj explain} and the chart of {@code bertj parity --report/--plot},
 * drawn from one forward pass's taps (see docs/explain.md). Not part of the library's API.
 */
package bertj.explain;
