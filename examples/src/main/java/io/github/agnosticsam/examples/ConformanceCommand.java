package io.github.agnosticsam.examples;

import io.github.agnosticsam.EngineNotFoundException;
import io.github.agnosticsam.conformance.CaseResult;
import io.github.agnosticsam.conformance.CaseRunner;
import io.github.agnosticsam.conformance.GoldenCases;
import io.github.agnosticsam.conformance.TensorsContract;
import io.github.agnosticsam.spi.Engine;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** Runs conformance case files on an engine. */
@Command(name = "conformance", mixinStandardHelpOptions = true,
        description = {"Runs conformance cases (docs/conformance-case.md) on an engine and compares every loss and "
                + "parameter after every step with the case's expected values.",
                "Exit status: 0 nothing failed, 1 a case failed, 2 usage error (unknown engine, no case found)."})
final class ConformanceCommand implements Callable<Integer> {

    @Option(names = "--engine", required = true, paramLabel = "NAME", description = "The engine to check, e.g. reference.")
    String engineName;

    @Mixin
    EngineOptionsMixin engineOptions;

    @ArgGroup(exclusive = false, multiplicity = "1")
    Sources sources;

    static final class Sources {
        @Option(names = "--golden", description = "Also run the golden cases shipped in the conformance kit.")
        boolean golden;

        @Option(names = "--contract", description = "Also check every tensor operation of the engine on its own "
                + "(NaN, ±Inf, −0, huge values, scalar on either side).")
        boolean contract;

        @Parameters(paramLabel = "PATH", arity = "0..*",
                description = "Case files, or folders whose *.json files (not sub-folders) are run.")
        List<Path> paths = new ArrayList<>();
    }

    @Option(names = "--precision", paramLabel = "float32|float64", defaultValue = "float32",
            description = "The engine's arithmetic, for --contract's rounding allowance and extreme values "
                    + "(default float32; the reference engine is float64).")
    String precision;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        List<Path> files = new ArrayList<>();
        for (Path p : sources.paths) {
            if (Files.isDirectory(p)) {
                try (Stream<Path> list = Files.list(p)) {
                    list.filter(f -> f.getFileName().toString().endsWith(".json") && Files.isRegularFile(f))
                            .forEach(files::add);
                } catch (IOException e) {
                    err.println("agnostic-sam conformance: cannot list " + p + ": " + e.getMessage());
                    return 2;
                }
            } else if (Files.exists(p)) {
                files.add(p);
            } else {
                err.println("agnostic-sam conformance: no such file or folder: " + p);
                return 2;
            }
        }
        files.sort(Comparator.comparing(f -> f.getFileName().toString()));
        if (!precision.equals("float32") && !precision.equals("float64")) {
            err.println("agnostic-sam conformance: --precision must be float32 or float64, got '" + precision + "'");
            return 2;
        }
        if (files.isEmpty() && !sources.golden && !sources.contract) {
            err.println("agnostic-sam conformance: no case found (no *.json in " + sources.paths + ")");
            return 2;
        }
        Engine engine;
        try {
            engine = engineOptions.create(engineName);
        } catch (EngineNotFoundException | IllegalArgumentException e) {
            err.println("agnostic-sam conformance: " + e.getMessage());
            return 2;
        }
        int passed = 0;
        int failed = 0;
        int skipped = 0;
        try (engine) {
            List<CaseResult> results = new ArrayList<>();
            if (sources.golden) {
                for (String name : GoldenCases.names()) {
                    results.add(report(out, CaseRunner.run(engine, GoldenCases.load(name))));
                }
            }
            for (Path f : files) {
                results.add(report(out, CaseRunner.run(engine, f)));
            }
            if (sources.contract) {
                for (CaseResult r : TensorsContract.run(engine, precision.equals("float64") ? 1e-12 : 1e-6)) {
                    results.add(report(out, r));
                }
            }
            for (CaseResult r : results) {
                switch (r.outcome()) {
                    case PASS -> passed++;
                    case FAIL -> failed++;
                    case SKIP -> skipped++;
                }
            }
        }
        out.println(passed + " passed, " + failed + " failed, " + skipped + " skipped");
        out.flush();
        return failed == 0 ? 0 : 1;
    }

    private static CaseResult report(PrintWriter out, CaseResult r) {
        out.println(r.line());
        out.flush();
        return r;
    }
}
