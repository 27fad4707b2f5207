/**
 * Curvature diagnostics and loss landscapes over any engine, from gradients alone: {@link
 * io.github.agnosticsam.diagnostics.Curvature} measures the largest Hessian eigenvalues (Lanczos; power
 * iteration for the largest in magnitude), the Hessian's trace (Hutchinson) and ρ-sharpness of a
 * network's training loss on a set of batches (Hessian-vector products by central differences), each
 * with its cost in gradient evaluations; {@link io.github.agnosticsam.diagnostics.Landscape} evaluates
 * that loss between two parameter vectors and along filter-normalised random directions. What each
 * computes, the step rule and the error measured per activation: docs/diagnostics.md.
 */
package io.github.agnosticsam.diagnostics;
