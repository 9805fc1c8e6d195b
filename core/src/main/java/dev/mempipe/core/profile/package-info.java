/**
 * What each step cost. {@link dev.mempipe.core.profile.OpCosts} gives the analytic bytes and FLOPs of every
 * op; the engine times each run, reads the energy counter ({@link dev.mempipe.core.profile.EnergyMeter},
 * Linux RAPL, or "unavailable", never a guess), classifies the run as memory- or compute-bound against the
 * device's ridge point, and records a {@link dev.mempipe.core.profile.StepRecord}. Records are collected into
 * a {@link dev.mempipe.core.profile.ProfileReport} (JSON and a text table) and emitted as JDK Flight Recorder
 * events, one type per step ({@code dev.mempipe.Prepare}, {@code dev.mempipe.Relevancy},
 * {@code dev.mempipe.Retrieval}, {@code dev.mempipe.Apply}), which JDK Mission Control shows as lanes.
 */
package dev.mempipe.core.profile;
