/**
 * The {@link dev.mempipe.core.engine.Engine}: runs each op of a pipeline step on the backend its plan names,
 * falls back to the CPU backend when a device fails, and profiles every run.
 *
 * <pre>{@code
 * Engine engine = Engine.builder().device(gpu).build();        // CPU: the SIMD provider, calibrated once
 * Engine auto = Engine.builder().build();    // devices from Backends: -Dmempipe.backend=NAME is the device
 * engine.usePlan(new Planner(engine.cpu(), engine.deviceBackends(), links).plan(shape));
 * engine.runVoid(Op.QUEST_BOUND, OpCosts.questBound(pages, d, F32, F32, F32),
 *         b -> b.relevancy().questBound(q, min, max, s));
 * int k = engine.run(Op.TOP_K, OpCosts.topK(pages, 64), b -> b.retrieval().topK(s, 64, idx, null));
 * System.out.println(engine.report().toText());
 * }</pre>
 */
package dev.mempipe.core.engine;
