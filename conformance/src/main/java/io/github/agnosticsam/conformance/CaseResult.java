package io.github.agnosticsam.conformance;

import java.util.Locale;

/**
 * How a case went on an engine: PASS, FAIL or SKIP (the engine does not support a feature the
 * case needs), the worst error as a fraction of the tolerance, and for FAIL and SKIP the reason.
 * The worst error covers every value checked within the tolerance (losses, parameters, running
 * statistics, the evaluation loss); the evaluation's correct count is checked exactly and shows
 * only in the reason.
 */
public record CaseResult(String name, Outcome outcome, double worstRatio, String detail) {

    public enum Outcome { PASS, FAIL, SKIP }

    public boolean passed() {
        return outcome == Outcome.PASS;
    }

    /** One line: name, outcome, worst error / tolerance, and the detail. */
    public String line() {
        StringBuilder sb = new StringBuilder(name).append(' ').append(outcome);
        if (outcome != Outcome.SKIP && !Double.isNaN(worstRatio)) {
            sb.append(String.format(Locale.ROOT, " worst %.3g of tolerance", worstRatio));
        }
        if (detail != null && !detail.isEmpty()) {
            sb.append(" — ").append(detail);
        }
        return sb.toString();
    }
}
