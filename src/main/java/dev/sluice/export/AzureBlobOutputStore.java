package dev.sluice.export;

import com.azure.core.util.Context;
import com.azure.storage.blob.BlobClient;
import com.azure.storage.blob.BlobContainerClient;
import com.azure.storage.blob.BlobServiceClient;
import com.azure.storage.blob.BlobServiceClientBuilder;
import com.azure.storage.blob.models.BlobDownloadContentResponse;
import com.azure.storage.blob.models.BlobHttpHeaders;
import com.azure.storage.blob.models.BlobProperties;
import com.azure.storage.blob.models.BlobRequestConditions;
import com.azure.storage.blob.models.BlobStorageException;
import com.azure.storage.blob.models.DownloadRetryOptions;
import com.azure.storage.blob.models.ListBlobsOptions;
import com.azure.storage.blob.models.ParallelTransferOptions;
import com.azure.storage.blob.sas.BlobSasPermission;
import com.azure.storage.blob.sas.BlobServiceSasSignatureValues;
import java.io.IOException;
import java.io.OutputStream;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Files as block blobs {@code <job id>/<name>} in the container, which is created when
 * missing. The manifest gives read-only SAS URLs valid until the export expires (when the
 * connection string holds an account key), so downloads need no FHIR token.
 */
public final class AzureBlobOutputStore implements OutputStore {
  private final BlobServiceClient service;
  private final ParallelTransferOptions transfer;
  private final Set<String> knownContainers = ConcurrentHashMap.newKeySet();

  /**
   * @param blockBytes size of each uploaded block; a file being written holds at most
   *     {@code blockBytes * (concurrency + 1)} in memory
   */
  public AzureBlobOutputStore(String connectionString, long blockBytes, int concurrency) {
    this.service = new BlobServiceClientBuilder().connectionString(connectionString).buildClient();
    this.transfer = new ParallelTransferOptions().setBlockSizeLong(blockBytes).setMaxConcurrency(concurrency);
  }

  private BlobContainerClient container(String name) {
    BlobContainerClient c = service.getBlobContainerClient(name);
    if (knownContainers.add(name)) {
      c.createIfNotExists();
    }
    return c;
  }

  @Override
  public OutputStream create(String container, UUID jobId, String name) throws IOException {
    return container(container).getBlobClient(blob(jobId, name)).getBlockBlobClient()
        .getBlobOutputStream(transfer, new BlobHttpHeaders().setContentType("application/fhir+ndjson"), null, null, null);
  }

  @Override
  public void delete(String container, UUID jobId, String name) {
    service.getBlobContainerClient(container).getBlobClient(blob(jobId, name)).deleteIfExists();
  }

  @Override
  public void deleteJob(String container, UUID jobId) {
    BlobContainerClient c = service.getBlobContainerClient(container);
    if (!c.exists()) {
      return;
    }
    c.listBlobs(new ListBlobsOptions().setPrefix(jobId + "/"), null)
        .forEach(b -> c.getBlobClient(b.getName()).deleteIfExists());
  }

  /**
   * Blob {@code <name>} of the container {@code anonymization}. Its properties are read first
   * (size, ETag, and the {@code If-Match} check), then its content under {@code If-Match} of the
   * ETag just seen, so the bytes are exactly those of that ETag even if the blob is replaced.
   */
  @Override
  public ConfigRead readConfig(String name, String ifMatch, long maxBytes) {
    String place = "in the container '" + ExportNames.ANONYMIZATION_CONTAINER + "' of the Azure Blob store";
    if (!ExportNames.isConfigName(name)) {
      return new ConfigRead.Missing(place);
    }
    BlobClient blob = service.getBlobContainerClient(ExportNames.ANONYMIZATION_CONTAINER).getBlobClient(name);
    try {
      BlobRequestConditions condition = ifMatch == null ? null
          : new BlobRequestConditions().setIfMatch(LocalOutputStore.quoted(ifMatch));
      BlobProperties properties = blob.getPropertiesWithResponse(condition, null, Context.NONE).getValue();
      if (properties.getBlobSize() > maxBytes) {
        return new ConfigRead.TooLarge(properties.getBlobSize());
      }
      String etag = properties.getETag();
      BlobDownloadContentResponse content = blob.downloadContentWithResponse(new DownloadRetryOptions(),
          new BlobRequestConditions().setIfMatch(etag), null, Context.NONE);
      return new ConfigRead.Found(content.getValue().toBytes(), etag);
    } catch (BlobStorageException e) {
      return switch (e.getStatusCode()) {
        case 404 -> new ConfigRead.Missing(place);
        case 412 -> new ConfigRead.Changed();
        default -> throw e;
      };
    }
  }

  @Override
  public String url(String fhirBase, String container, UUID jobId, String name, Instant expires) {
    BlobContainerClient c = service.getBlobContainerClient(container);
    var blob = c.getBlobClient(blob(jobId, name));
    // the SDK's blob URL encodes the '/' of the name; the readable form is the same blob
    String url = c.getBlobContainerUrl() + "/" + jobId + "/" + name;
    try {
      String sas = blob.generateSas(new BlobServiceSasSignatureValues(
          expires.atOffset(ZoneOffset.UTC), new BlobSasPermission().setReadPermission(true)));
      return url + "?" + sas;
    } catch (RuntimeException e) {
      // no account key in the connection string (a SAS or token credential): plain URL
      return url;
    }
  }

  @Override
  public boolean requiresAccessToken() {
    return false;
  }

  private static String blob(UUID jobId, String name) {
    if (!ExportNames.isFileName(name)) {
      throw new IllegalArgumentException("not an export file name: " + name);
    }
    return jobId + "/" + name;
  }
}
