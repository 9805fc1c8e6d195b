package dev.mempipe.hazelcast;

import com.hazelcast.map.EntryProcessor;
import com.hazelcast.query.Predicate;
import dev.langchain4j.store.embedding.filter.Filter;

import java.io.Serial;
import java.util.Map;

/** Entry processors and the predicate the cluster store runs where its entries are. */
final class StoreUpdates {
    private StoreUpdates() {
    }

    /** Stores the entry unless the id is taken; returns whether it stored it. Atomic per id, backed up. */
    static final class InsertIfAbsent implements EntryProcessor<String, byte[], Boolean> {
        @Serial
        private static final long serialVersionUID = 1L;
        private final byte[] entry;

        InsertIfAbsent(byte[] entry) {
            this.entry = entry;
        }

        @Override
        public Boolean process(Map.Entry<String, byte[]> current) {
            if (current.getValue() != null) {
                return false;
            }
            current.setValue(entry);
            return true;
        }
    }

    /** Removes the entry (backed up like any write). */
    static final class Delete implements EntryProcessor<String, byte[], Void> {
        @Serial
        private static final long serialVersionUID = 1L;

        @Override
        public Void process(Map.Entry<String, byte[]> current) {
            current.setValue(null);
            return null;
        }
    }

    /** Accepts the entries whose metadata a LangChain4j filter accepts; runs on the members holding them. */
    static final class Matching implements Predicate<String, byte[]> {
        @Serial
        private static final long serialVersionUID = 1L;
        private final byte[] filter;
        private transient Filter decoded;

        Matching(byte[] filter) {
            this.filter = filter;
        }

        @Override
        public boolean apply(Map.Entry<String, byte[]> entry) {
            if (decoded == null) {
                decoded = FilterCodec.decode(filter);
            }
            return decoded.test(EntryCodec.metadata(entry.getValue()));
        }
    }
}
