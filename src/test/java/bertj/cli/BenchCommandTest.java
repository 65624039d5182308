package bertj.cli;

import bertj.readers.SafeTensors;
import bertj.testing.Cli;
import bertj.testing.RandomBert;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code bertj bench}: the JSON contract other tools rely on, the text report, the profile and usage errors. */
class BenchCommandTest {
    @TempDir
    Path dir;

    private Path tiny() throws Exception {
        Path p = dir.resolve("tiny.safetensors");
        if (!Files.exists(p)) SafeTensors.write(p, RandomBert.tensors(RandomBert.TINY, 5), Map.of());
        return p;
    }

    @Test
    void jsonHasTheContractFieldsForEveryCpuSideBackend() throws Exception {
        // opencl takes the same path (BackendOptions.create); its run belongs with the OpenCL tests.
        for (String backend : List.of("reference", "cpu", "opencl")) {
            // --threads is the cpu backend's; reference computes on one thread, opencl's host thread only enqueues
            List<String> args = new java.util.ArrayList<>(List.of("bench", "--model", tiny().toString(), "--heads", "4", "--backend", backend,
                    "--batch", "3", "--seq", "7", "--warmup", "1", "--runs", "4", "--json"));
            if (backend.equals("cpu")) args.addAll(List.of("--threads", "2"));
            Cli.Result r = Cli.run(args.toArray(String[]::new));
            assertEquals(0, r.code(), r.err());
            JsonNode j = new ObjectMapper().readTree(r.out());
            assertEquals(backend, j.get("backend").asText());
            assertEquals(3, j.get("batch").asInt());
            assertEquals(7, j.get("seq").asInt());
            int threads = backend.equals("cpu") ? 2 : 1;
            assertTrue(j.get("threads").isInt() && j.get("threads").asInt() == threads, j.toString());
            assertEquals(backend.equals("opencl"), j.has("device"), j.toString());
            double ms = j.get("ms_per_batch_median").asDouble(), perS = j.get("seq_per_s").asDouble();
            assertTrue(ms > 0 && Double.isFinite(ms), j.toString());
            // seq/s is the batch over the median time, not some other statistic
            assertEquals(3 / (ms / 1e3), perS, 1e-9 * perS, j.toString());
            assertTrue(j.get("ms_per_batch_min").asDouble() <= ms && ms <= j.get("ms_per_batch_max").asDouble(), j.toString());
            assertEquals(4, j.get("runs").asInt());
            if (backend.equals("opencl")) {
                // which kernels ran and why, and the launches: 1 + 5 per layer + 1 (TINY has 2 layers)
                assertTrue(List.of("portable", "tensor-core").contains(j.get("kernels").asText()), j.toString());
                assertTrue(!j.get("kernels_reason").asText().isBlank(), j.toString());
                assertEquals(12.0, j.get("launches_per_pass").asDouble(), j.toString());
                assertTrue(j.get("host_us_per_launch").asDouble() > 0, j.toString());
                assertEquals(0.0, j.get("kernel_args_set_per_pass").asDouble(), "repeated passes of one shape set no kernel arguments: " + j);
            }
        }
    }

    @Test
    void kernelsOptionChoosesTheOpenclKernels() throws Exception {
        String m = tiny().toString();
        Cli.Result r = Cli.run("bench", "--model", m, "--heads", "4", "--backend", "opencl", "--kernels", "portable",
                "--batch", "1", "--seq", "5", "--warmup", "0", "--runs", "1", "--json");
        assertEquals(0, r.code(), r.err());
        JsonNode j = new ObjectMapper().readTree(r.out());
        assertEquals("portable", j.get("kernels").asText());
        assertEquals("--kernels portable", j.get("kernels_reason").asText());
        // an unknown name is a usage error
        r = Cli.run("bench", "--model", m, "--heads", "4", "--backend", "opencl", "--kernels", "fast", "--seq", "5");
        assertEquals(2, r.code(), r.err());
        assertEquals(1, r.errLines().length, r.err());
        assertTrue(r.err().contains("unknown --kernels 'fast' (choose from auto, portable, tensor-core)"), r.err());
    }

    @Test
    void textReportAndProfile() throws Exception {
        Cli.Result r = Cli.run("bench", "--model", tiny().toString(), "--heads", "4", "--batch", "2", "--seq", "9",
                "--warmup", "0", "--runs", "2", "--profile");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("seq/s") && r.out().contains("batch 2 x seq 9"), r.out());
        // TINY: hidden 32, FFN 64, 2 layers; the GELU rides on the first FFN matmul
        assertTrue(r.out().contains("linear 32→64 +gelu") && r.out().contains("attention") && r.out().contains("add + LayerNorm"), r.out());
    }

    @Test
    void badNumbersAreUsageErrors() throws Exception {
        String m = tiny().toString();
        for (String[] bad : new String[][] {{"--batch", "0"}, {"--seq", "0"}, {"--runs", "0"}, {"--warmup", "-1"}, {"--seq", "17"},
                {"--threads", "-1"}}) {
            String[] args = {"bench", "--model", m, "--heads", "4", bad[0], bad[1]};
            Cli.Result r = Cli.run(args);
            assertEquals(2, r.code(), String.join(" ", bad) + ": " + r.err());
            assertEquals(1, r.errLines().length, r.err());
        }
    }

    @Test
    void withoutTheVectorModuleTheCpuBackendFallsBackToScalarKernels() throws Exception {
        // A JVM started without --add-modules jdk.incubator.vector (java -jar bertj.jar) must still run, on the
        // plain-Java kernels, and say so.
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"), "bertj.cli.Main", "bench",
                "--model", tiny().toString(), "--heads", "4", "--batch", "2", "--seq", "5", "--warmup", "0", "--runs", "1", "--json")
                .redirectErrorStream(false).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), err);
        JsonNode j = new ObjectMapper().readTree(out);
        assertTrue(j.get("kernels").asText().startsWith("scalar"), j.toString());
        assertTrue(!err.contains("incubator"), "no incubator module was loaded: " + err);
    }

    /**
     * Activation memory follows liveness, not the number of ops: 256 sequences of 512 tokens on the 4L-288D
     * shape run in a JVM capped at 2 GB (the workspace then holds 2304 floats, 9 KB, per token: 1.2 GB). Before
     * matrices were released within a pass, this ran out of memory even at 6 GB, and 64 × 512 needed 2 GB.
     */
    @Test
    void fullLengthBatchOf256x512RunsWithin2GbOfHeap() throws Exception {
        bertj.model.BertConfig c = new bertj.model.BertConfig(1000, 288, 4, 12, 1152, 512, 2, 1e-12, bertj.model.GeluForm.TANH);
        Path model = dir.resolve("4l288d.safetensors");
        SafeTensors.write(model, RandomBert.tensors(c, 3), Map.of());
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        ProcessBuilder pb = new ProcessBuilder(java.toString(), "-Xmx2g", "--enable-native-access=ALL-UNNAMED",
                "--add-modules", "jdk.incubator.vector", "-cp", System.getProperty("java.class.path"), "bertj.cli.Main",
                "bench", "--model", model.toString(), "--heads", "12", "--backend", "cpu", "--batch", "256", "--seq", "512",
                "--warmup", "0", "--runs", "1", "--json");
        pb.redirectError(ProcessBuilder.Redirect.DISCARD);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(10, TimeUnit.MINUTES), "bench did not finish");
        assertEquals(0, p.exitValue(), "256 x 512 within -Xmx2g: " + out);
        JsonNode j = new ObjectMapper().readTree(out);
        System.out.printf("[memory] bench 256 x 512, cpu, -Xmx2g: peak heap %.0f MB, peak RSS %.0f MB, workspace %.0f MB%n",
                j.get("peak_heap_mb").asDouble(), j.path("peak_rss_mb").asDouble(), j.path("workspace_mb").asDouble());
        assertEquals(256, j.get("batch").asInt());
    }
}
