package dev.sluice.fhir;

/** The wire formats the API speaks. Resources are stored as JSON; XML is converted at the edge. */
public enum Format {
  JSON("application/fhir+json"),
  XML("application/fhir+xml");

  private final String mediaType;

  Format(String mediaType) {
    this.mediaType = mediaType;
  }

  public String mediaType() {
    return mediaType;
  }
}
