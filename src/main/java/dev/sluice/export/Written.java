package dev.sluice.export;

/** What one attempt of a part wrote. */
record Written(long resources, long bytes, long files) {}
