package dev.sluice.store;

import dev.sluice.fhir.PatientCompartment;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import org.hl7.fhir.instance.model.api.IBaseResource;

/**
 * Writes the search index and Patient compartment rows of resources inside the caller's
 * write transaction, so that the index never disagrees with the stored versions.
 */
public final class SearchIndexWriter {
  private static final String DELETE_COMPARTMENT = "delete from compartment where res_pk = ?";
  private static final String INSERT_COMPARTMENT =
      "insert into compartment (patient_id, res_pk, res_type) values (?, ?, ?) on conflict do nothing";

  private final PatientCompartment compartment;

  public SearchIndexWriter(PatientCompartment compartment) {
    this.compartment = compartment;
  }

  /** Index rows of one write transaction; flushed before it commits. */
  public final class Batch {
    private final Connection connection;

    private Batch(Connection connection) {
      this.connection = connection;
    }

    /** Replaces whatever was indexed for {@code pk} by the values of {@code resource}. */
    public void replace(long pk, String type, IBaseResource resource) throws SQLException {
      remove(pk);
      var patients = compartment.patientIds(type, resource);
      if (patients.isEmpty()) {
        return;
      }
      try (PreparedStatement ps = connection.prepareStatement(INSERT_COMPARTMENT)) {
        for (String patient : patients) {
          ps.setString(1, patient);
          ps.setLong(2, pk);
          ps.setString(3, type);
          ps.addBatch();
        }
        ps.executeBatch();
      }
    }

    public void remove(long pk) throws SQLException {
      try (PreparedStatement ps = connection.prepareStatement(DELETE_COMPARTMENT)) {
        ps.setLong(1, pk);
        ps.executeUpdate();
      }
    }

    public void flush() throws SQLException {
      // rows are written as they come; the search engine may buffer here
    }
  }

  public Batch begin(Connection connection) {
    return new Batch(connection);
  }
}
