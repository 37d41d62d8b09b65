package dev.sluice.store;

import java.util.List;

/** One page of history, newest first; {@code next} is null on the last page. */
public record HistoryPage(List<HistoryEntry> entries, HistoryCursor next) {
  public HistoryPage {
    entries = List.copyOf(entries);
  }

  public record HistoryEntry(long pk, StoredResource resource) {}
}
