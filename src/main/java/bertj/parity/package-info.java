/**
 * <b>API:</b> numerical parity with a reference: {@link bertj.parity.Parity} (every intermediate of a pass against
 * a reference file, per tensor max-abs and relative L2), {@link bertj.parity.ReferenceFile},
 * {@link bertj.parity.Tolerance}.
 */
package bertj.parity;
