package dev.mempipe.hazelcast;

import com.hazelcast.client.config.ClientConfig;
import com.hazelcast.core.HazelcastInstance;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * One three-member loopback cluster for every test class that only reads and writes (no member is killed): started
 * on first use, terminated when the test JVM exits. Failure tests start clusters of their own.
 */
final class SharedCluster {
    private static final AtomicInteger NAMES = new AtomicInteger();
    private static LoopbackCluster cluster;

    private SharedCluster() {
    }

    static HazelcastInstance member(int index) {
        return cluster().member(index);
    }

    static ClientConfig clientConfig() {
        return cluster().clientConfig();
    }

    private static synchronized LoopbackCluster cluster() {
        if (cluster == null) {
            cluster = new LoopbackCluster(3);
            Runtime.getRuntime().addShutdownHook(new Thread(cluster::close, "loopback-cluster-stop"));
        }
        return cluster;
    }

    /** A name no other test uses. */
    static String uniqueName(String prefix) {
        return prefix + NAMES.incrementAndGet();
    }
}
