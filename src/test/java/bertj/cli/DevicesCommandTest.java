package bertj.cli;

import bertj.readers.SafeTensors;
import bertj.testing.Cli;
import bertj.testing.RandomBert;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/** `bertj devices`: lists this machine's OpenCL devices (PoCL in CI); with no platform, one line and exit 1. */
class DevicesCommandTest {

    @Test
    void listsAtLeastOneDeviceWithItsLimits() throws Exception {
        Cli.Result text = Cli.run("devices");
        assertEquals(0, text.code(), text.err());
        assertTrue(text.out().startsWith("device 0: "), text.out());
        assertTrue(text.out().contains("fp16") && text.out().contains("compute units") && text.out().contains("global memory"), text.out());

        Cli.Result json = Cli.run("devices", "--json");
        assertEquals(0, json.code(), json.err());
        JsonNode d = new ObjectMapper().readTree(json.out()).get("devices").get(0);
        assertEquals(0, d.get("index").asInt());
        assertTrue(d.get("compute_units").asInt() > 0);
        assertTrue(d.get("max_work_group_size").asLong() > 0);
        assertTrue(d.get("global_mem_bytes").asLong() > 0);
        assertTrue(d.get("local_mem_bytes").asLong() > 0);
        assertTrue(d.get("fp16").isBoolean());
        // which kernels --kernels auto runs there, and why
        assertTrue(List.of("portable", "tensor-core").contains(d.get("kernels").asText()), d.toString());
        assertFalse(d.get("kernels_reason").asText().isBlank(), d.toString());
        assertTrue(text.out().contains("  kernels        " + d.get("kernels").asText() + ": "), text.out());
        if (d.get("compute_capability").isNull()) {
            assertEquals("portable", d.get("kernels").asText(), "tensor cores on a device that reports no compute capability");
        }
    }

    /** Where the tensor-core kernels cannot run, asking for them is one line and exit 1 (PoCL: not an NVIDIA GPU). */
    @Test
    void askingForTensorCoresWhereTheyCannotRunIsOneLineAndExitOne(@TempDir Path dir) throws Exception {
        Cli.Result devices = Cli.run("devices", "--json");
        JsonNode d = new ObjectMapper().readTree(devices.out()).get("devices").get(0);
        if (d.get("kernels").asText().equals("tensor-core")) return; // a GPU that takes them
        Path model = dir.resolve("tiny.safetensors");
        bertj.readers.SafeTensors.write(model, bertj.testing.RandomBert.tensors(bertj.testing.RandomBert.TINY, 3), java.util.Map.of());
        Cli.Result r = Cli.run("bench", "--model", model.toString(), "--heads", "4", "--backend", "opencl", "--kernels", "tensor-core",
                "--seq", "5", "--runs", "1", "--warmup", "0");
        assertEquals(1, r.code(), r.err());
        assertEquals(1, r.errLines().length, r.err());
        assertTrue(r.err().contains("--kernels tensor-core cannot run here: "), r.err());
    }

    /**
     * A real model and a run that works on device 0: the same run on device 42 fails because of the device number,
     * with the line that says so (not because some file is missing).
     */
    @Test
    void aDeviceNumberThatDoesNotExistIsAOneLineErrorWithExitOne(@TempDir Path dir) throws Exception {
        Path model = dir.resolve("tiny.safetensors");
        SafeTensors.write(model, RandomBert.tensors(RandomBert.TINY, 3), Map.of());
        List<String> run = List.of("bench", "--model", model.toString(), "--heads", "4", "--batch", "1", "--seq", "4",
                "--warmup", "0", "--runs", "1", "--backend", "opencl", "--device");
        Cli.Result ok = Cli.run(with(run, "0"));
        assertEquals(0, ok.code(), ok.err());
        int devices = new ObjectMapper().readTree(Cli.run("devices", "--json").out()).get("devices").size();
        Cli.Result r = Cli.run(with(run, Integer.toString(devices)));
        assertEquals(1, r.code(), r.err());
        assertEquals(1, r.errLines().length, r.err());
        assertTrue(r.err().startsWith("bertj: OpenCL device " + devices + " does not exist: this machine has " + devices), r.err());
        assertEquals("", r.out());
    }

    private static String[] with(List<String> args, String last) {
        List<String> all = new java.util.ArrayList<>(args);
        all.add(last);
        return all.toArray(String[]::new);
    }

    /** The ICD loader reads OCL_ICD_VENDORS once per process, so this runs bertj in a child JVM. */
    @Test
    void noOpenClPlatformIsOneLineAndExitOne(@TempDir Path emptyVendors) throws Exception {
        String java = ProcessHandle.current().info().command().orElse("java");
        ProcessBuilder pb = new ProcessBuilder(List.of(java, "--enable-native-access=ALL-UNNAMED", "-cp",
                System.getProperty("java.class.path"), "bertj.cli.Main", "devices"));
        pb.environment().put("OCL_ICD_VENDORS", emptyVendors.toString());
        pb.redirectErrorStream(false);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(1, p.exitValue(), out + err);
        assertEquals("", out);
        assertEquals(1, err.strip().lines().count(), err);
        assertTrue(err.startsWith("bertj: no OpenCL platform found: "), err);
    }
}
