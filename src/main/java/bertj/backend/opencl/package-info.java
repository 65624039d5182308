/**
 * <b>API:</b> {@link bertj.backend.opencl.OpenClBackend} (fp16 OpenCL kernels, through JOCL: add
 * {@code org.jocl:jocl} to use it, bertj declares it optional), {@link bertj.backend.opencl.OpenCl} (the devices
 * there are) and {@link bertj.backend.opencl.DeviceInfo}. <b>Internal:</b> Half.
 */
package bertj.backend.opencl;
