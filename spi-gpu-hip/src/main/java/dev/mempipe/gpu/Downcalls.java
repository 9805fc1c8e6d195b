package dev.mempipe.gpu;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.util.NoSuchElementException;

/**
 * Binds a native library's functions as typed downcall handles, once, for {@code invokeExact} call sites (the
 * driver bindings call them on every op: {@code invokeWithArguments} would box every argument of every call).
 *
 * <p>Thread-safety: immutable.
 */
final class Downcalls {
    private static final Linker LINKER = Linker.nativeLinker();

    private final SymbolLookup library;
    private final String what;

    /**
     * @param library the loaded library
     * @param what    its name in messages ({@code the cuda driver library}, {@code libnvrtc.so.13}, ...)
     */
    Downcalls(SymbolLookup library, String what) {
        this.library = library;
        this.what = what;
    }

    /**
     * The handle of {@code symbol} with {@code descriptor}.
     *
     * @throws NoSuchElementException naming the library and the symbol when the library lacks it
     */
    MethodHandle bind(String symbol, FunctionDescriptor descriptor) {
        return LINKER.downcallHandle(library.find(symbol).orElseThrow(
                () -> new NoSuchElementException(what + " has no symbol " + symbol)), descriptor);
    }

    /** Whether the library exports {@code symbol}. */
    boolean has(String symbol) {
        return library.find(symbol).isPresent();
    }

    /**
     * What a downcall's {@code invokeExact} may throw beyond runtime exceptions and errors (nothing, for a
     * downcall of matching types; the compiler cannot know that), as an unchecked exception.
     */
    static RuntimeException failed(String symbol, Throwable t) {
        if (t instanceof RuntimeException r) {
            return r;
        }
        if (t instanceof Error e) {
            throw e;
        }
        return new IllegalStateException("calling " + symbol + " failed", t);
    }
}
