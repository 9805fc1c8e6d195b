package dev.mempipe.core.pipeline;

/**
 * What a dynamic RAG pipeline did since it was built: the figures FLARE's and DRAGIN's profile rows report per
 * generated token beside the engine's step times.
 *
 * @param keptTokens      tokens generated and kept (the output)
 * @param decodedTokens   tokens decoded, including look-ahead tokens thrown away and regenerated
 * @param lookaheads      look-ahead sentences judged
 * @param triggers        look-aheads whose trigger fired
 * @param retrievals      triggers that retrieved at least one document (and so re-prefilled)
 * @param documents       documents retrieved over all retrievals
 * @param prefilledTokens document tokens prefilled into the context
 */
public record DynamicRagStats(long keptTokens, long decodedTokens, long lookaheads, long triggers, long retrievals,
                              long documents, long prefilledTokens) {
    public static final DynamicRagStats ZERO = new DynamicRagStats(0, 0, 0, 0, 0, 0, 0);

    /** Triggers per kept token; 0 before any token. */
    public double triggersPerToken() {
        return keptTokens == 0 ? 0 : (double) triggers / keptTokens;
    }

    /** Prefilled document tokens per kept token; 0 before any token. */
    public double prefilledPerToken() {
        return keptTokens == 0 ? 0 : (double) prefilledTokens / keptTokens;
    }

    /** The counts accumulated since {@code earlier}. */
    public DynamicRagStats since(DynamicRagStats earlier) {
        return new DynamicRagStats(keptTokens - earlier.keptTokens, decodedTokens - earlier.decodedTokens,
                lookaheads - earlier.lookaheads, triggers - earlier.triggers, retrievals - earlier.retrievals,
                documents - earlier.documents, prefilledTokens - earlier.prefilledTokens);
    }

    DynamicRagStats plus(long kept, long decoded, long lookahead, long trigger, long retrieval, long docs,
                         long prefilled) {
        return new DynamicRagStats(keptTokens + kept, decodedTokens + decoded, lookaheads + lookahead,
                triggers + trigger, retrievals + retrieval, documents + docs, prefilledTokens + prefilled);
    }
}
