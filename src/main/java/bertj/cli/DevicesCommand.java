package bertj.cli;

import bertj.backend.opencl.DeviceInfo;
import bertj.backend.opencl.OpenCl;
import bertj.backend.opencl.TensorCores;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;

@Command(name = "devices", description = {
        "List the OpenCL platforms and devices the opencl backend can use (--backend opencl --device N),",
        "and which kernels --kernels auto runs on each (tensor-core or portable) and why.",
        "Exit 1 with a one-line error when there is no OpenCL platform."})
public final class DevicesCommand implements Callable<Integer> {
    @Mixin
    VerboseOption verbose;
    @Option(names = "--json", description = "Print JSON: {\"devices\": [...]}.")
    boolean json;
    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        List<DeviceInfo> devices = OpenCl.devices();
        PrintWriter out = spec.commandLine().getOut();
        // Which kernels --kernels auto runs on each device, and why (on NVIDIA GPUs this compiles and runs the probe).
        List<TensorCores.Report> kernels = new java.util.ArrayList<>();
        for (DeviceInfo d : devices) {
            TensorCores.Report r;
            try {
                r = TensorCores.report(d.index());
            } catch (RuntimeException e) {
                r = new TensorCores.Report("portable", "the device could not be opened to decide: " + Main.describe(e), null);
            }
            kernels.add(r);
        }
        if (json) {
            ObjectNode root = Json.object();
            ArrayNode arr = root.putArray("devices");
            for (DeviceInfo d : devices) {
                ObjectNode n = arr.addObject();
                n.put("index", d.index());
                n.put("name", d.name());
                n.put("type", d.type());
                n.put("vendor", d.vendor());
                n.put("platform", d.platform());
                n.put("platform_version", d.platformVersion());
                n.put("version", d.version());
                n.put("driver", d.driver());
                n.put("compute_units", d.computeUnits());
                n.put("clock_mhz", d.clockMhz());
                n.put("global_mem_bytes", d.globalMemBytes());
                n.put("max_alloc_bytes", d.maxAllocBytes());
                n.put("local_mem_bytes", d.localMemBytes());
                n.put("max_work_group_size", d.maxWorkGroupSize());
                ArrayNode sizes = n.putArray("max_work_item_sizes");
                for (long s : d.maxWorkItemSizes()) sizes.add(s);
                n.put("fp16", d.fp16());
                n.put("fp64", d.fp64());
                if (d.computeCapability() != null) n.put("compute_capability", d.computeCapability());
                else n.putNull("compute_capability");
                TensorCores.Report k = kernels.get(d.index());
                n.put("kernels", k.kernels());
                n.put("kernels_reason", k.reason());
                if (k.ptx() != null) n.put("ptx", k.ptx());
                else n.putNull("ptx");
            }
            out.println(Json.write(root));
            return 0;
        }
        for (DeviceInfo d : devices) {
            out.printf("device %d: %s (%s)%n", d.index(), d.name(), d.type());
            out.printf("  platform       %s, %s%n", d.platform(), d.platformVersion());
            out.printf("  vendor         %s, driver %s, %s%n", d.vendor(), d.driver(), d.version());
            out.printf("  compute units  %d at %d MHz%n", d.computeUnits(), d.clockMhz());
            out.printf("  global memory  %s (largest buffer %s)%n", bytes(d.globalMemBytes()), bytes(d.maxAllocBytes()));
            out.printf("  local memory   %s per work-group%n", bytes(d.localMemBytes()));
            StringBuilder items = new StringBuilder();
            for (long s : d.maxWorkItemSizes()) items.append(items.isEmpty() ? "" : " x ").append(s);
            out.printf("  work-group     at most %d work-items (per dimension %s)%n", d.maxWorkGroupSize(), items);
            out.printf("  fp16           %s%n", d.fp16() ? "yes (cl_khr_fp16)"
                    : "no cl_khr_fp16: half storage with float arithmetic (what bertj's kernels use on every device)");
            out.printf("  fp64           %s%n", d.fp64() ? "yes" : "no");
            if (d.computeCapability() != null) out.printf("  compute cap.   %s (NVIDIA)%n", d.computeCapability());
            TensorCores.Report k = kernels.get(d.index());
            out.printf("  kernels        %s: %s%n", k.kernels(), k.reason());
            if (k.ptx() != null) out.printf("  ptx            %s%n", k.ptx());
        }
        return 0;
    }

    static String bytes(long b) {
        if (b >= 1L << 30) return String.format("%.1f GiB", b / (double) (1L << 30));
        if (b >= 1L << 20) return String.format("%.1f MiB", b / (double) (1L << 20));
        if (b >= 1L << 10) return String.format("%.0f KiB", b / (double) (1L << 10));
        return b + " B";
    }
}
