/**
 * The mempipe conformance kit: a scalar oracle ({@link dev.mempipe.goldentests.ScalarBackend}), SPEC.md's
 * tolerances ({@link dev.mempipe.goldentests.Tolerances}), golden cases, and one abstract JUnit 5 contract per
 * pipeline step that any {@link dev.mempipe.spi.Backend} can be run against.
 *
 * <h2>How to test your backend</h2>
 * <ol>
 *   <li>Depend on {@code dev.mempipe:mempipe-golden-tests} in test scope (it brings JUnit 5).</li>
 *   <li>Add one small class per pipeline step your backend implements; each overrides the only abstract
 *       method, which returns the backend under test (called once per class and closed after it):
 * <pre>{@code
 * class HipRelevancyConformanceTest extends RelevancyContract {
 *     protected Backend backend() { return new HipBackend(); }
 * }
 * }</pre>
 *       The contracts are {@link dev.mempipe.goldentests.PrepareContract},
 *       {@link dev.mempipe.goldentests.RelevancyContract}, {@link dev.mempipe.goldentests.RetrievalContract}
 *       and {@link dev.mempipe.goldentests.ApplyContract} (the ops), {@link dev.mempipe.goldentests.DeviceContract}
 *       (fused ops, residency, limits), {@link dev.mempipe.goldentests.HardwareEdgeContract} (positions past 2^16
 *       and 2^24, accumulator widths, extreme codes, block and tile edges),
 *       {@link dev.mempipe.goldentests.ConcurrencyContract} (calls from several threads, confined memory),
 *       {@link dev.mempipe.goldentests.LifecycleContract} (ops after close) and
 *       {@link dev.mempipe.goldentests.GoldenCasesContract} (the checked-in golden cases). To replace one op of an
 *       existing backend, extend {@link dev.mempipe.goldentests.ForwardingBackend}.</li>
 *   <li>Run your tests as usual. Every op gets seeded random cases compared with the oracle within SPEC.md's
 *       derived error bounds (bit-exact where the contract is exact), metamorphic properties (Quest bound,
 *       incremental page summaries, sparse equals dense attention, topK's total order, quantization error,
 *       BM25 by hand) and the bad-input contract (exception type, message naming the argument, outputs left
 *       untouched). Tests of ops or element types your {@link dev.mempipe.spi.Capabilities} do not declare
 *       are reported as <em>skipped</em> with that as the reason, never passed.</li>
 * </ol>
 *
 * <h2>Knobs</h2>
 * <ul>
 *   <li>{@code -Dmempipe.kit.scale=N}: N times the trials, {@code sqrt(N)} times the shapes. 1 (the default)
 *       keeps a whole step in seconds for CI; a hardware lab's nightly run might use 10 to 100.</li>
 *   <li>{@code -Dmempipe.kit.seed=S|random}: the base seed (fixed by default so CI is repeatable; every contract
 *       class prints it).</li>
 *   <li>{@code -Dmempipe.kit.trials=N}: the trials of every property.</li>
 *   <li>{@code -Dmempipe.kit.case=SEED}, {@code -Dmempipe.kit.type=T}, {@code -Dmempipe.kit.shrink=r,c}: written
 *       by the rerun command below (one case, one element type's invocation, the shrink level).</li>
 * </ul>
 *
 * <h2>Reading a failure</h2>
 * A failing property throws a {@link dev.mempipe.goldentests.Counterexample} after shrinking the case (halving
 * row counts and row widths while it still fails). Its message names the op, the first differing position
 * with both values (and their bits), the allowed tolerance and its formula, the case seed, shapes, element
 * types, layouts (row stride, byte offset) and parameters, and ends with a command that reruns just that case:
 * <pre>
 * ./mvnw -pl ops test -Dtest='SimdRelevancyConformanceTest#dot_should_match_the_oracle_within_the_error_bound'
 *     -Dmempipe.kit.case=123456 -Dmempipe.kit.type=I8 -Dmempipe.kit.shrink=2,1
 * </pre>
 *
 * <p>Memory the kit passes in starts at odd byte offsets and has padded rows; outputs are pre-filled with a
 * sentinel (NaN in float types, -1 in integer types) and guarded on both sides, so an unwritten element, a
 * write past a row, a write past the count a prefix-writing op returns and a modified input are all reported.
 * The kit's README (golden-tests/README.md) lists every planted bug the kit is tested against and what it cannot
 * check.
 */
package dev.mempipe.goldentests;
