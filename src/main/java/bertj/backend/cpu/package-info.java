/**
 * <b>API:</b> {@link bertj.backend.cpu.CpuBackend} (float32, Vector API, all cores). Its kernels and worker pool are
 * package-private.
 */
package bertj.backend.cpu;
