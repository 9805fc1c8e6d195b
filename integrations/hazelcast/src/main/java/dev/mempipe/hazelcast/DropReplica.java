package dev.mempipe.hazelcast;

import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.core.HazelcastInstanceAware;

import java.io.Serial;
import java.io.Serializable;
import java.util.concurrent.Callable;

/** Closes a member's replica of a destroyed memory. */
final class DropReplica implements Callable<Boolean>, Serializable, HazelcastInstanceAware {
    @Serial
    private static final long serialVersionUID = 1L;
    private final String replicaKey;
    private transient HazelcastInstance hz;

    DropReplica(String replicaKey) {
        this.replicaKey = replicaKey;
    }

    @Override
    public void setHazelcastInstance(HazelcastInstance hazelcastInstance) {
        this.hz = hazelcastInstance;
    }

    @Override
    public Boolean call() {
        MemberReplica.drop(hz, replicaKey);
        return Boolean.TRUE;
    }
}
