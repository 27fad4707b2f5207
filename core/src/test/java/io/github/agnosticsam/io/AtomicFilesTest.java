package io.github.agnosticsam.io;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AtomicFilesTest {

    @Test
    void aWriteReplacesTheTargetAndLeavesNoOtherFile(@TempDir Path dir) throws IOException {
        Path target = dir.resolve("report.json");
        Files.writeString(target, "old");
        AtomicFiles.write(target, out -> out.write("new".getBytes()));
        assertThat(target).hasContent("new");
        try (var files = Files.list(dir)) {
            assertThat(files).containsExactly(target);
        }
    }

    @Test
    void theTemporaryFileOfAWriteIsKnownByItsTarget(@TempDir Path dir) throws IOException {
        // What a write killed midway leaves behind is the file newFile made for it.
        Path temporary = AtomicFiles.newFile(dir, dir.resolve("step-0000000008.safetensors"), ".tmp");
        assertThat(AtomicFiles.interruptedWriteOf(temporary.getFileName().toString()))
                .isEqualTo("step-0000000008.safetensors");
        assertThat(AtomicFiles.interruptedWriteOf("step-0000000008.safetensors")).isNull();
        assertThat(AtomicFiles.interruptedWriteOf(".step-0000000008.safetensors.tmp")).isNull();
        assertThat(AtomicFiles.interruptedWriteOf(".notes.txt.xyz.tmp")).isNull();
    }
}
