package dev.mempipe.hazelcast;

import com.hazelcast.client.config.ClientConfig;
import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.config.NetworkConfig;
import com.hazelcast.core.Hazelcast;
import com.hazelcast.core.HazelcastInstance;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Embedded Hazelcast members in this JVM, on loopback only: TCP-IP join on 127.0.0.1, no multicast, no phone-home,
 * a cluster name of its own (so concurrent builds on the machine never join each other) and 23 partitions (fewer
 * partitions, faster migrations; enough that three members each own several).
 *
 * <p>Each cluster takes a block of ports no other cluster of this JVM has used, and each member it starts the next
 * port of the block: a member joining after a kill never takes over the dead member's address, and no join list
 * names another cluster's member. With ports drawn at random per cluster, a CI run (session 11) saw the master of a
 * cluster treat a member's address as its own right after a kill ("Connecting to self!" from Hazelcast 5.7's
 * heartbeat and from {@code isClusterSafe}), which failed {@link FailoverTest}.
 */
final class LoopbackCluster implements AutoCloseable {
    static final int PARTITIONS = 23;
    private static final Logger HAZELCAST_LOG = Logger.getLogger("com.hazelcast");

    static {
        HAZELCAST_LOG.setLevel(Level.SEVERE); // members log every join and migration at INFO
    }

    /** Ports a cluster may use: its members listen on the first ones, in start order, and join through all. */
    private static final int PORTS_PER_CLUSTER = 8;
    /** The next free block; the first at random, so that concurrent builds on the machine seldom meet. */
    private static final AtomicInteger NEXT_BLOCK = new AtomicInteger(
            20000 + PORTS_PER_CLUSTER * ThreadLocalRandom.current().nextInt(2500));

    private final String clusterName = "mempipe-test-" + UUID.randomUUID();
    private final int basePort = NEXT_BLOCK.getAndAdd(PORTS_PER_CLUSTER);
    private final List<HazelcastInstance> members = new ArrayList<>();
    private int started; // members started so far: the next listens on basePort + started

    LoopbackCluster(int size) {
        for (int i = 0; i < size; i++) {
            start();
        }
    }

    /** Starts one more member and waits until the cluster is safe (every partition's backups in place). */
    HazelcastInstance start() {
        if (started == PORTS_PER_CLUSTER) {
            throw new IllegalStateException("a loopback cluster starts at most " + PORTS_PER_CLUSTER + " members");
        }
        HazelcastInstance member = Hazelcast.newHazelcastInstance(config(basePort + started++));
        members.add(member);
        awaitSafe();
        return member;
    }

    /** Kills member {@code index} as a crash would: no migration, no goodbye (Hazelcast's {@code terminate}). */
    void terminate(int index) {
        members.remove(index).getLifecycleService().terminate();
    }

    HazelcastInstance member(int index) {
        return members.get(index);
    }

    int size() {
        return members.size();
    }

    /** Waits (up to 20 s) until every partition is owned and backed up as configured. */
    void awaitSafe() {
        long deadline = System.nanoTime() + 20_000_000_000L;
        // the member count first: isClusterSafe asks every member in the view, and waits out a killed one
        RuntimeException[] lastFault = new RuntimeException[1];
        while (members.stream().anyMatch(m -> !safe(m, lastFault))) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("cluster " + clusterName + " not safe after 20 s: " + members.stream()
                        .map(m -> m.getCluster().getMembers().size() + " members").toList(), lastFault[0]);
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }
    }

    /**
     * Whether {@code member} sees every member of the list and its partitions backed up. {@code isClusterSafe} asks
     * every member it sees, and while the view changes that can fail; such a failure means "not yet" (it is kept for
     * the timeout's message).
     */
    private boolean safe(HazelcastInstance member, RuntimeException[] lastFault) {
        try {
            return member.getCluster().getMembers().size() == members.size()
                    && member.getPartitionService().isClusterSafe();
        } catch (RuntimeException changing) {
            lastFault[0] = changing;
            return false;
        }
    }

    /** A client of this cluster (loopback only, no phone-home). */
    ClientConfig clientConfig() {
        ClientConfig config = new ClientConfig();
        config.setClusterName(clusterName);
        config.setProperty("hazelcast.phone.home.enabled", "false");
        config.setProperty("hazelcast.logging.type", "jdk");
        for (HazelcastInstance member : members) {
            InetSocketAddress address = (InetSocketAddress) member.getLocalEndpoint().getSocketAddress();
            config.getNetworkConfig().addAddress("127.0.0.1:" + address.getPort());
        }
        return config;
    }

    private Config config(int port) {
        Config config = new Config();
        config.setClusterName(clusterName);
        config.setProperty("hazelcast.phone.home.enabled", "false");
        config.setProperty("hazelcast.partition.count", Integer.toString(PARTITIONS));
        config.setProperty("hazelcast.wait.seconds.before.join", "0");
        config.setProperty("hazelcast.socket.bind.any", "false");
        config.setProperty("hazelcast.logging.type", "jdk");
        config.setProperty("hazelcast.heartbeat.interval.seconds", "1");
        config.setProperty("hazelcast.max.no.heartbeat.seconds", "10");
        NetworkConfig network = config.getNetworkConfig();
        // the member's own port; if another process holds it, the next ones of the block
        network.setPort(port).setPortAutoIncrement(true).setPortCount(basePort + PORTS_PER_CLUSTER - port);
        network.getInterfaces().setEnabled(true).addInterface("127.0.0.1");
        JoinConfig join = network.getJoin();
        join.getMulticastConfig().setEnabled(false);
        join.getAutoDetectionConfig().setEnabled(false);
        for (int p = basePort; p < basePort + PORTS_PER_CLUSTER; p++) {
            join.getTcpIpConfig().setEnabled(true).addMember("127.0.0.1:" + p);
        }
        return config;
    }

    @Override
    public void close() {
        for (HazelcastInstance member : members) {
            member.getLifecycleService().terminate(); // fast: nothing to hand over when everything stops
        }
        members.clear();
    }
}
