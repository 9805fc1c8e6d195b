/**
 * Where each pipeline step runs. A {@link dev.mempipe.core.placement.DeviceModel} (a declared or calibrated
 * roofline) predicts how long a step's ops take on a device, a {@link dev.mempipe.core.placement.TransferModel}
 * (latency plus size over bandwidth, piecewise by size) how long moving data between devices takes, and the
 * {@link dev.mempipe.core.placement.Planner} tries every assignment of the steps of a
 * {@link dev.mempipe.core.placement.WorkloadShape} to the devices that declare their ops, fusing consecutive
 * steps on one device, and returns the cheapest {@link dev.mempipe.core.placement.Plan}, which can
 * {@link dev.mempipe.core.placement.Plan#explain() explain} itself.
 *
 * <pre>{@code
 * Device cpu = Device.calibrated(new SimdBackend());
 * Device gpu = new Device(gpuBackend, DeviceModel.declared("hip", 181e12, 1.6e12, 8e-6));
 * Links links = Links.builder().link("cpu-simd", "hip", TransferModel.of(10e-6, 25e9)).build();
 * Plan plan = new Planner(cpu, List.of(gpu), links).plan(shape);
 * System.out.println(plan.explain());
 * }</pre>
 *
 * Every number a plan shows is a model's estimate; the profiler ({@code dev.mempipe.core.profile}) measures
 * what really happened.
 */
package dev.mempipe.core.placement;
