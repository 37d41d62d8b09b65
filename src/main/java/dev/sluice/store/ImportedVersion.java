package dev.sluice.store;

import java.time.Instant;

/**
 * One line of an import input, checked: a version of a resource to store as given.
 *
 * @param line the line's number in its input (from 1)
 * @param version the line's {@code meta.versionId}, or null for "the next version"
 * @param lastUpdated its {@code meta.lastUpdated} to the millisecond, or null for the write's clock
 * @param deleted true for Azure's soft-delete marker: a deleted version (stored without content)
 * @param index its search index and compartment rows, computed from the strictly parsed model
 *     (which is not kept: see {@link ResourceIndexRows}); null for a deleted version
 * @param json the line as sent (its versionId and lastUpdated are replaced when it is stored)
 */
public record ImportedVersion(long line, String type, String id, Integer version, Instant lastUpdated,
    boolean deleted, ResourceIndexRows index, byte[] json) {}
