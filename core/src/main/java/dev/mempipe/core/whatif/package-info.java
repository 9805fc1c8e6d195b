/**
 * What-if placement: the planner's choices and predicted decode-step time and energy for device combinations
 * this machine does not have (a GPU alone against the GPU with an Alveo U55C beside it), from device
 * <em>descriptions</em>: data-sheet roofs and stated assumptions, every figure labelled {@code model}. Nothing
 * here runs an op; {@code mempipe plan} prints it. docs/fpga.md sets the results beside the published GPU+FPGA
 * comparison.
 */
package dev.mempipe.core.whatif;
