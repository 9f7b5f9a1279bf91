package llmq.modelsim;

import llmq.common.lifecycle.ServiceMain;

/** Runs the model simulator as its own process, configured by {@code modelsim.*} keys (see {@link ModelSimConfig}). */
public final class ModelSimMain {

    private ModelSimMain() {
    }

    public static void main(String[] args) {
        ServiceMain.run("llmq-model-sim", args, settings -> ModelSimulator.start(ModelSimConfig.from(settings)));
    }
}
