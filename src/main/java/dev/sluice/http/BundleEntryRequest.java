package dev.sluice.http;

import dev.sluice.store.StoredResource;
import org.hl7.fhir.instance.model.api.IBaseResource;

/** What one entry of a batch or transaction asks for: a closed set of interactions. */
sealed interface BundleEntryRequest {
  int index();

  /** Processing order inside a transaction, as FHIR R4 http.html#trules prescribes. */
  int transactionOrder();

  /** {@code json}: the entry's resource as sent, or null once the model was changed (references resolved). */
  record Create(int index, String type, String id, IBaseResource resource, byte[] json) implements BundleEntryRequest {
    public int transactionOrder() {
      return 1;
    }
  }

  record Update(int index, String type, String id, IBaseResource resource, Integer ifMatch, byte[] json)
      implements BundleEntryRequest {
    public int transactionOrder() {
      return 2;
    }
  }

  record Delete(int index, String type, String id, Integer ifMatch) implements BundleEntryRequest {
    public int transactionOrder() {
      return 0;
    }
  }

  record Read(int index, String type, String id, Integer version) implements BundleEntryRequest {
    public int transactionOrder() {
      return 3;
    }
  }

  /** A conditional create whose criteria matched {@code existing}: nothing is written, the answer is that resource. */
  record Matched(int index, StoredResource existing) implements BundleEntryRequest {
    public int transactionOrder() {
      return 1;
    }
  }

  /**
   * A conditional create of a transaction with the same criteria as an earlier entry that
   * creates: it stands for the resource entry {@code first} creates (nothing else is written),
   * so the transaction does not create the same resource twice.
   */
  record SameAs(int index, int first) implements BundleEntryRequest {
    public int transactionOrder() {
      return 1;
    }
  }

  /** A conditional delete whose criteria matched nothing: nothing is written. */
  record NoMatch(int index) implements BundleEntryRequest {
    public int transactionOrder() {
      return 0;
    }
  }
}
