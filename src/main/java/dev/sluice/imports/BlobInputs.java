package dev.sluice.imports;

import com.azure.core.credential.TokenCredential;
import com.azure.storage.blob.BlobServiceClient;
import com.azure.storage.blob.BlobServiceClientBuilder;
import java.io.IOException;
import java.io.InputStream;
import java.util.Optional;

/**
 * Inputs in the Azure Blob Storage account the server is configured with (the export store's
 * {@code --azure-connection-string}, or {@code --azure-account-url} with a Microsoft Entra ID
 * credential): {@code [account URL]/container/blob}. Read with the server's own credentials, so
 * a URL of another account is never fetched.
 */
public final class BlobInputs {
  private final BlobServiceClient service;
  private final String accountUrl;

  private BlobInputs(BlobServiceClient service) {
    this.service = service;
    this.accountUrl = service.getAccountUrl().replaceAll("/+$", "");
  }

  public static BlobInputs withConnectionString(String connectionString) {
    return new BlobInputs(new BlobServiceClientBuilder().connectionString(connectionString).buildClient());
  }

  /** The account at {@code accountUrl}, read with Entra ID tokens (a role that may read blobs). */
  public static BlobInputs withEntraId(String accountUrl, TokenCredential credential) {
    return new BlobInputs(new BlobServiceClientBuilder().endpoint(accountUrl).credential(credential).buildClient());
  }

  /** {@code container/blob} of a URL in this account, or empty when the URL is not one of its blobs. */
  Optional<String> locate(String url) {
    String u = url.contains("?") ? url.substring(0, url.indexOf('?')) : url;
    if (!u.startsWith(accountUrl + "/")) {
      return Optional.empty();
    }
    String rest = u.substring(accountUrl.length() + 1);
    int slash = rest.indexOf('/');
    if (slash <= 0 || slash == rest.length() - 1) {
      return Optional.empty();
    }
    for (String segment : rest.split("/")) {
      if (segment.isEmpty() || segment.equals(".") || segment.equals("..")) {
        return Optional.empty();
      }
    }
    return Optional.of(rest);
  }

  /** Opens {@code container/blob}; the caller closes it. */
  InputStream open(String location) throws IOException {
    int slash = location.indexOf('/');
    try {
      return service.getBlobContainerClient(location.substring(0, slash)).getBlobClient(location.substring(slash + 1))
          .openInputStream();
    } catch (RuntimeException e) {
      throw new IOException("blob " + location + " could not be read: " + e.getMessage(), e);
    }
  }
}
