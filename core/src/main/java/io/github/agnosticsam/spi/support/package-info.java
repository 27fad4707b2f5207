/**
 * Support for engine authors, like JUnit's {@code engine.support}: {@link EagerNetwork} turns the SPI
 * into a handful of primitives an eager engine supplies (its tensors, its forward and backward
 * pass), and owns the plumbing every engine would otherwise write again: host-tensor conversion,
 * chunked evaluation, optimizer-state allocation, scalar feeding, compiling and running step
 * programs, the running-statistics rule and the lifecycle. A graph engine may keep implementing
 * the SPI directly.
 */
package io.github.agnosticsam.spi.support;
