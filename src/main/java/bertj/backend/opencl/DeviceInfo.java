package bertj.backend.opencl;

/**
 * What bertj needs to know about one OpenCL device: what `bertj devices` prints and what the kernels' tile and
 * work-group sizes are chosen from.
 *
 * @param index             the device's number on the command line (--device N): devices of all platforms, in
 *                          the order the ICD loader lists platforms and each platform lists its devices
 * @param platform          platform name, e.g. "NVIDIA CUDA" or "Portable Computing Language"
 * @param platformVersion   e.g. "OpenCL 3.0 CUDA 12.4"
 * @param name              device name
 * @param vendor            device vendor
 * @param version           device OpenCL version string
 * @param driver            driver version
 * @param type              GPU, CPU, ACCELERATOR or OTHER
 * @param computeUnits      CL_DEVICE_MAX_COMPUTE_UNITS
 * @param clockMhz          CL_DEVICE_MAX_CLOCK_FREQUENCY
 * @param globalMemBytes    CL_DEVICE_GLOBAL_MEM_SIZE
 * @param maxAllocBytes     CL_DEVICE_MAX_MEM_ALLOC_SIZE: the largest single buffer
 * @param localMemBytes     CL_DEVICE_LOCAL_MEM_SIZE: shared memory per work-group
 * @param maxWorkGroupSize  CL_DEVICE_MAX_WORK_GROUP_SIZE
 * @param maxWorkItemSizes  CL_DEVICE_MAX_WORK_ITEM_SIZES, per dimension
 * @param fp16              the device reports cl_khr_fp16 (half arithmetic, not just half storage)
 * @param fp64              the device reports cl_khr_fp64
 * @param computeCapability NVIDIA's compute capability "major.minor" (cl_nv_device_attribute_query), null on
 *                          devices that do not report one; the tensor-core kernels need 8.0 or more
 */
public record DeviceInfo(int index, String platform, String platformVersion, String name, String vendor, String version,
                         String driver, String type, int computeUnits, int clockMhz, long globalMemBytes, long maxAllocBytes,
                         long localMemBytes, long maxWorkGroupSize, long[] maxWorkItemSizes, boolean fp16, boolean fp64,
                         String computeCapability) {

    /** "device 0 (pthread-skylake-avx512 on Portable Computing Language)": how errors name a device. */
    public String label() {
        return "OpenCL device " + index + " (" + name + " on " + platform + ")";
    }

    /** The compute capability's major number, or -1 when the device reports none. */
    public int computeCapabilityMajor() {
        return computeCapability == null ? -1 : Integer.parseInt(computeCapability.substring(0, computeCapability.indexOf('.')));
    }
}
