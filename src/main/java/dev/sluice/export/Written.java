package dev.sluice.export;

/** What one attempt of a part wrote. */
record Written(long resources, long bytes, long files) {
  Written plus(Written other) {
    return new Written(resources + other.resources, bytes + other.bytes, files + other.files);
  }
}
