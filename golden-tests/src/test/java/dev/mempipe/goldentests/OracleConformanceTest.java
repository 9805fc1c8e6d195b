package dev.mempipe.goldentests;

import dev.mempipe.spi.Backend;
import org.junit.jupiter.api.Nested;

/** The kit against its own oracle: every property must hold (this is also how the kit tests itself). */
class OracleConformanceTest {

    @Nested
    class Prepare extends PrepareContract {
        @Override
        protected Backend backend() {
            return new ScalarBackend();
        }
    }

    @Nested
    class Relevancy extends RelevancyContract {
        @Override
        protected Backend backend() {
            return new ScalarBackend();
        }
    }

    @Nested
    class Retrieval extends RetrievalContract {
        @Override
        protected Backend backend() {
            return new ScalarBackend();
        }
    }

    @Nested
    class Apply extends ApplyContract {
        @Override
        protected Backend backend() {
            return new ScalarBackend();
        }
    }
}
