package dev.mempipe.gpu.check;

import dev.mempipe.core.engine.Engine;
import dev.mempipe.core.placement.Device;
import dev.mempipe.core.placement.DeviceModel;
import dev.mempipe.core.placement.Plan;
import dev.mempipe.core.profile.EnergyMeter;
import dev.mempipe.core.profile.OpCosts;
import dev.mempipe.core.profile.StepRecord;
import dev.mempipe.gpu.GpuBackend;
import dev.mempipe.gpu.GpuDriver;
import dev.mempipe.gpu.GsimDriver;
import dev.mempipe.gpu.KernelArgs;
import dev.mempipe.gpu.KernelCode;
import dev.mempipe.gpu.Nvrtc;
import dev.mempipe.ops.SimdBackend;
import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.Op;
import dev.mempipe.spi.Tensor;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Device faults through the engine, as an application meets them: a {@code dot} step planned on the GPU fails,
 * the engine reruns it on the CPU (the answer must be the CPU's, bit for bit), records the fallback, and after a
 * fatal fault stops using the device.
 * <ul>
 *   <li>{@link #injected}: the next launch fails with CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES (701, injected in
 *       Java by {@link FaultyDriver}): TRANSIENT, so the following step runs on the GPU again;</li>
 *   <li>{@link #fatal} (in a child JVM, so a device that misbehaves cannot take the check down): the test-only
 *       {@code mp_oob} kernel writes 1 TiB past its buffer; the device reports an illegal address (sticky), the
 *       backend calls it DEVICE_LOST, the engine answers on the CPU and drops the device. gsim cannot trap a
 *       wild write, so there gsim's injected sticky illegal-address fault stands in for it.</li>
 * </ul>
 */
final class FaultCheck {
    private static final int N = 300;
    private static final int D = 64;

    private FaultCheck() {
    }

    /** The injected transient fault; returns the details and sets {@code ok[0]}. */
    static Map<String, Object> injected(CheckTarget target, boolean[] ok) throws KernelCode.NoCodeException {
        Map<String, Object> out = new LinkedHashMap<>();
        FaultyDriver driver = new FaultyDriver(target.driver());
        KernelCode.Image image = target.image(driver.delegate(), Nvrtc::load);
        try (GpuBackend gpu = GpuBackend.open(driver, image); SimdBackend cpu = new SimdBackend(); Arena a = Arena.ofConfined()) {
            Engine engine = engine(cpu, gpu);
            float[] expected = cpuAnswer(cpu, a);
            driver.failNextLaunch(701);
            float[] first = dotStep(engine, a);
            float[] second = dotStep(engine, a);
            List<StepRecord> records = engine.report().records();
            StepRecord r1 = records.get(0);
            StepRecord r2 = records.get(1);
            boolean same = Arrays.equals(expected, first);
            boolean recorded = r1.fallback() != null && r1.fallback().fromDevice().equals("gpu") && r1.device().equals("cpu-simd");
            boolean retried = r2.fallback() == null && r2.device().equals("gpu") && engine.lostDevices().isEmpty();
            boolean secondSame = Arrays.equals(expected, second);
            out.put("fault", "cuLaunchKernel failed with 701 (LAUNCH_OUT_OF_RESOURCES), injected by the check");
            out.put("faults_fired", driver.faultsFired());
            out.put("same_answer_as_cpu_bit_for_bit", same);
            out.put("fallback_recorded", recorded ? r1.fallback().reason() : "no: " + r1);
            out.put("next_step_ran_on_gpu", retried);
            out.put("next_step_answer_bit_for_bit", secondSame);
            ok[0] = same && recorded && retried && secondSame && driver.faultsFired() == 1;
        }
        return out;
    }

    /**
     * The fatal fault, run in this (child) JVM; returns its findings as key/value lines for the parent.
     *
     * @param mode {@code oob} (the out-of-bounds kernel, a GPU) or {@code sticky} (gsim's injected fault)
     */
    static Map<String, String> fatal(CheckTarget target, String mode) throws KernelCode.NoCodeException {
        Map<String, String> out = new LinkedHashMap<>();
        FaultyDriver driver = new FaultyDriver(target.driver());
        KernelCode.Image image = target.image(driver.delegate(), Nvrtc::load);
        try (GpuBackend gpu = GpuBackend.open(driver, image); SimdBackend cpu = new SimdBackend(); Arena a = Arena.ofConfined()) {
            Engine engine = engine(cpu, gpu);
            float[] expected = cpuAnswer(cpu, a);
            long victim = 0;
            if (mode.equals("oob")) {
                driver.makeCurrent();
                String origin = loadOutOfBounds(driver.delegate());
                long function = driver.delegate().function("mp_oob");
                victim = driver.alloc(4096);
                KernelArgs args = new KernelArgs(Arena.global()).pointer(victim);
                driver.launchInsteadNext(function, 1, 32, args);
                out.put("fault", "test-only kernel mp_oob (" + origin + ") writes 1 TiB past a 4 KiB buffer");
            } else {
                ((GsimDriver) driver.delegate()).inject(GsimDriver.Fault.STICKY, 0);
                out.put("fault", "gsim's injected sticky CUDA_ERROR_ILLEGAL_ADDRESS (gsim cannot trap a wild write)");
            }
            float[] first = dotStep(engine, a);
            float[] second = dotStep(engine, a);
            List<StepRecord> records = engine.report().records();
            out.put("same_answer_as_cpu_bit_for_bit", Boolean.toString(Arrays.equals(expected, first)));
            out.put("second_answer_bit_for_bit", Boolean.toString(Arrays.equals(expected, second)));
            out.put("fallback_recorded", records.get(0).fallback() == null ? "no" : records.get(0).fallback().reason());
            out.put("device_dropped", engine.lostDevices().toString());
            out.put("later_step", records.get(1).device() + (records.get(1).fallback() == null ? ""
                    : " (fallback: " + records.get(1).fallback().reason() + ")"));
            boolean ok = Arrays.equals(expected, first) && Arrays.equals(expected, second)
                    && records.get(0).fallback() != null && engine.lostDevices().containsKey("gpu")
                    && records.get(1).device().equals("cpu-simd");
            out.put("ok", Boolean.toString(ok));
        }
        return out;
    }

    /** Loads mp_oob into the driver (a second module): NVRTC from the source, else the PTX built by nvcc. */
    private static String loadOutOfBounds(GpuDriver driver) {
        String source = resource("mempipe_oob.cu");
        try {
            Nvrtc nvrtc = Nvrtc.load();
            driver.loadModule(nvrtc.compile(source, "mempipe_oob.cu", driver.info().arch(), true).image());
            return "NVRTC " + driver.info().arch() + " cubin";
        } catch (Nvrtc.UnavailableException e) {
            String ptx = resource("mempipe_oob.compute_90.ptx");
            driver.loadModule(ptx.getBytes(StandardCharsets.US_ASCII));
            return "prebuilt compute_90 PTX";
        }
    }

    private static String resource(String name) {
        try (InputStream in = FaultCheck.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException("the check's jar lacks " + name + " (the PTX needs nvcc at build time)");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Engine engine(SimdBackend cpu, GpuBackend gpu) {
        // declared models: these checks are about faults, not placement, so no calibration run
        return Engine.builder().cpu(new Device(cpu, DeviceModel.declared("cpu-simd", 1e11, 2e10, 1e-7)))
                .device(new Device(gpu, DeviceModel.declared("gpu", 1e13, 1e12, 1e-5)))
                .plan(Plan.allOn("gpu")).energyMeter(EnergyMeter.unavailable("not measured by the fault check")).build();
    }

    private static Tensor query(Arena a) {
        return fill(Tensor.allocate(a, ElementType.F32, 1, D), 1);
    }

    private static Tensor keys(Arena a) {
        return fill(Tensor.allocate(a, ElementType.F32, N, D), 2);
    }

    private static float[] cpuAnswer(SimdBackend cpu, Arena a) {
        Tensor s = Tensor.allocate(a, ElementType.F32, 1, N);
        cpu.relevancy().dot(query(a), keys(a), s);
        return s.data().toArray(ValueLayout.JAVA_FLOAT);
    }

    private static float[] dotStep(Engine engine, Arena a) {
        Tensor q = query(a);
        Tensor m = keys(a);
        Tensor s = Tensor.allocate(a, ElementType.F32, 1, N);
        engine.runVoid(Op.DOT, OpCosts.dot(1, N, D, ElementType.F32, ElementType.F32), b -> b.relevancy().dot(q, m, s));
        return s.data().toArray(ValueLayout.JAVA_FLOAT);
    }

    /**
     * Small integers: every partial sum of the dot products is exact in f32, so every backend and every order of
     * accumulation (the CPU's Vector API reductions change order as the JIT compiles them) gives the same bits,
     * and "the same answer" can be checked bit for bit.
     */
    private static Tensor fill(Tensor t, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        for (long i = 0; i < t.rows() * t.cols(); i++) {
            t.data().setAtIndex(ValueLayout.JAVA_FLOAT, i, r.nextInt(-8, 9));
        }
        return t;
    }
}
