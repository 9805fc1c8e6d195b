package dev.mempipe.cli.op;

import dev.mempipe.goldentests.GoldenCase;
import dev.mempipe.goldentests.npy.NpyArray;
import dev.mempipe.spi.Op;

import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/**
 * Builds a {@link GoldenCase} from arrays in memory, so that {@code mempipe op} runs an op through the kit's
 * own mapping from op names and parameters to calls ({@link GoldenCase#run}) instead of a second copy of it.
 *
 * <p>TEMPORARY SHIM: {@code GoldenCase} can so far only be loaded from class-path resources, and its
 * constructor is private, so this calls that constructor reflectively. Once golden-tests has
 * {@code public static GoldenCase of(String name, Properties props, Map<String, NpyArray> arrays)} (the body of
 * {@code load} after the resources are read), {@link #goldenCase} becomes that call and this class goes away.
 */
final class KitAccess {
    private KitAccess() {
    }

    /**
     * A golden case named {@code name} whose {@code case.properties} are {@code props} ({@code op},
     * {@code inputs}, {@code outputs}, parameters, {@code type.<output>}) and whose .npy files are
     * {@code arrays}; outputs that {@link GoldenCase#run} sizes from the expected array need an array of the
     * right shape there (its contents are not read).
     */
    static GoldenCase goldenCase(String name, Properties props, Map<String, NpyArray> arrays) {
        Op op = Op.byContractName(props.getProperty("op"));
        List<String> inputs = list(props.getProperty("inputs", ""));
        List<String> outputs = list(props.getProperty("outputs", ""));
        try {
            Constructor<GoldenCase> constructor = GoldenCase.class.getDeclaredConstructor(String.class, Op.class,
                    Properties.class, List.class, List.class, Map.class);
            constructor.setAccessible(true);
            return constructor.newInstance(name, op, props, inputs, outputs, arrays);
        } catch (InvocationTargetException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            throw new IllegalStateException("GoldenCase constructor failed", e.getCause());
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("golden-tests' GoldenCase no longer has the constructor "
                    + "(String, Op, Properties, List, List, Map) this shim calls; use GoldenCase.of", e);
        }
    }

    private static List<String> list(String csv) {
        return csv.isBlank() ? List.of() : Arrays.stream(csv.split(",")).map(String::strip).toList();
    }
}
