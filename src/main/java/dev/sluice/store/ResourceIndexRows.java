package dev.sluice.store;

import java.util.List;
import java.util.Set;

/**
 * The search index and Patient compartment rows of one resource, computed ahead of its write.
 * An import computes them on its reading side, in parallel, right after the strict parse, so
 * that the parsed model can go at once: a batch then carries rows, a fraction of the model's
 * size, which kept the 512 MB heap's collector busy (bench/README.md, "Import"). None of the
 * rows read {@code meta.versionId} or {@code meta.lastUpdated}, which the write sets later.
 *
 * @param patients the ids of the patients whose compartment holds the resource
 */
public record ResourceIndexRows(List<IndexRow> rows, Set<String> patients) {}
