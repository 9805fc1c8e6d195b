package dev.mempipe.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mempipe.spi.Backend;
import dev.mempipe.spi.BackendProvider;
import dev.mempipe.spi.Backends;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The CPU backend is found through ServiceLoader and chosen with a logged reason. */
class SimdBackendProviderTest {

    @Test
    void should_be_found_through_service_loader() {
        List<BackendProvider> providers = Backends.providers();
        assertTrue(providers.stream().anyMatch(p -> p.name().equals(SimdBackend.NAME)),
                "providers found: " + providers.stream().map(BackendProvider::name).toList());
    }

    @Test
    void should_be_chosen_when_it_is_the_only_available_provider() {
        Backends.Selection s = Backends.select(Backends.providers(), null);
        assertEquals(SimdBackend.NAME, s.chosen().name());
        try (Backend b = s.chosen().create()) {
            String line = s.logLine(b);
            assertTrue(line.startsWith("backend=cpu-simd("), line);
        }
    }

    @Test
    void should_fail_listing_reasons_when_an_unknown_backend_is_requested() {
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> Backends.select(Backends.providers(), "hip"));
        assertTrue(e.getMessage().contains("backend 'hip'") && e.getMessage().contains("cpu-simd"), e.getMessage());
    }

    @Test
    void should_report_a_lower_priority_provider_as_skipped_with_its_reason() {
        BackendProvider unavailable = new BackendProvider() {
            @Override
            public String name() {
                return "hip";
            }

            @Override
            public int priority() {
                return 10;
            }

            @Override
            public dev.mempipe.spi.Availability availability() {
                return dev.mempipe.spi.Availability.unavailable("libamdhip64.so not found");
            }

            @Override
            public Backend create() {
                throw new IllegalStateException("unavailable");
            }
        };
        Backends.Selection s = Backends.select(List.of(unavailable, new SimdBackendProvider()), null);
        assertEquals(SimdBackend.NAME, s.chosen().name());
        try (Backend b = s.chosen().create()) {
            assertTrue(s.logLine(b).endsWith("; skipped hip: libamdhip64.so not found"), s.logLine(b));
        }
    }
}
