package dev.mempipe.goldentests.example;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The main README's "Testing your backend" shows {@link ThreeOpBackend} and {@link ThreeOpBackendConformanceTest}
 * as they are in this folder: the example on the page is the one that compiles and passes the kit.
 */
class ReadmeExampleTest {
    private static final Path EXAMPLE = Path.of("src/test/java/dev/mempipe/goldentests/example");

    @Test
    void readme_should_show_the_example_backend_and_its_tests_as_they_are() throws IOException {
        String readme = Files.readString(Path.of("../README.md"));
        for (String[] part : new String[][] {{"ThreeOpBackend.java", "public final class ThreeOpBackend"},
            {"ThreeOpBackendConformanceTest.java", "class ThreeOpBackendConformanceTest"}}) {
            String source = Files.readString(EXAMPLE.resolve(part[0]));
            String shown = source.substring(source.indexOf(part[1])).strip();
            assertTrue(readme.contains("```java\n" + shown + "\n```"), () -> "README.md does not show " + part[0]
                    + " as it is; copy the class from '" + part[1] + "' to its end into the README");
        }
    }
}
