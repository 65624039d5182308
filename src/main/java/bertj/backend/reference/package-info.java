/** <b>API:</b> {@link bertj.backend.reference.ReferenceBackend}, the float64 oracle every other backend is measured against. */
package bertj.backend.reference;
