/**
 * Curvature diagnostics over any engine: {@link io.github.agnosticsam.diagnostics.Curvature} measures
 * the largest Hessian eigenvalues (power iteration), the Hessian's trace (Hutchinson) and ρ-sharpness
 * of a network's training loss on a set of batches, from gradients alone (Hessian-vector products by
 * central differences), with every result's cost in gradient evaluations. What each computes, the
 * step rule and the error measured per activation: docs/diagnostics.md.
 */
package io.github.agnosticsam.diagnostics;
