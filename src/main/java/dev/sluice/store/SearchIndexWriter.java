package dev.sluice.store;

import java.sql.Connection;
import java.sql.SQLException;
import org.hl7.fhir.instance.model.api.IBaseResource;

/**
 * Writes the search index and Patient compartment rows of resources inside the caller's
 * write transaction, so that the index never disagrees with the stored versions.
 */
public final class SearchIndexWriter {

  /** Index rows of one write transaction; flushed before it commits. */
  public final class Batch {
    private final Connection connection;

    private Batch(Connection connection) {
      this.connection = connection;
    }

    /** Replaces whatever was indexed for {@code pk} by the values of {@code resource}. */
    public void replace(long pk, String type, IBaseResource resource) throws SQLException {
      // filled by the search engine (issue #3)
    }

    public void remove(long pk) throws SQLException {
      // filled by the search engine (issue #3)
    }

    public void flush() throws SQLException {
      // filled by the search engine (issue #3)
    }
  }

  public Batch begin(Connection connection) {
    return new Batch(connection);
  }
}
