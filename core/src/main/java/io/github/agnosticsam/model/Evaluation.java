package io.github.agnosticsam.model;

/** Mean loss and number of correct argmax predictions of a model on a batch. */
public record Evaluation(double loss, int correct, int count) {
    public double accuracy() {
        return count == 0 ? 0 : (double) correct / count;
    }
}
