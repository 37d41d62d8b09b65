package dev.sluice.http;

import dev.sluice.fhir.FhirModel;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import org.hl7.fhir.r4.model.CapabilityStatement;
import org.hl7.fhir.r4.model.CapabilityStatement.CapabilityStatementKind;
import org.hl7.fhir.r4.model.CapabilityStatement.CapabilityStatementRestComponent;
import org.hl7.fhir.r4.model.CapabilityStatement.CapabilityStatementRestResourceComponent;
import org.hl7.fhir.r4.model.CapabilityStatement.ConditionalDeleteStatus;
import org.hl7.fhir.r4.model.CapabilityStatement.ConditionalReadStatus;
import org.hl7.fhir.r4.model.CapabilityStatement.ResourceVersionPolicy;
import org.hl7.fhir.r4.model.CapabilityStatement.RestfulCapabilityMode;
import org.hl7.fhir.r4.model.CapabilityStatement.SystemRestfulInteraction;
import org.hl7.fhir.r4.model.CapabilityStatement.TypeRestfulInteraction;
import org.hl7.fhir.r4.model.Enumerations.FHIRVersion;
import org.hl7.fhir.r4.model.Enumerations.PublicationStatus;

/**
 * The CapabilityStatement, built once at start-up from what the server really does. Other
 * parts (search, export) add what they provide through contributors.
 */
final class Capabilities {
  /** Bases remembered with their statement; requests under more (odd Host headers) are answered uncached. */
  private static final int BASES_CACHED = 16;

  private final FhirModel fhir;
  private final CapabilityStatement statement;
  private final List<BiConsumer<CapabilityStatement, String>> perBase;
  private final byte[] json;
  private final Map<String, byte[]> byBase = new ConcurrentHashMap<>();

  /**
   * @param perBase contributors that write absolute URLs (the SMART {@code oauth-uris}), given
   *     the FHIR base the request came under
   */
  Capabilities(FhirModel fhir, String version, List<Consumer<CapabilityStatement>> contributors,
      List<BiConsumer<CapabilityStatement, String>> perBase) {
    this.fhir = fhir;
    this.perBase = List.copyOf(perBase);
    CapabilityStatement cs = new CapabilityStatement();
    cs.setStatus(PublicationStatus.ACTIVE);
    cs.setDate(new Date());
    cs.setKind(CapabilityStatementKind.INSTANCE);
    cs.setFhirVersion(FHIRVersion._4_0_1);
    cs.addFormat("application/fhir+json");
    cs.addFormat("application/fhir+xml");
    cs.getSoftware().setName("Sluice").setVersion(version);
    cs.getImplementation().setDescription("Sluice FHIR R4 server");
    CapabilityStatementRestComponent rest = cs.addRest().setMode(RestfulCapabilityMode.SERVER);
    rest.addInteraction().setCode(SystemRestfulInteraction.TRANSACTION);
    rest.addInteraction().setCode(SystemRestfulInteraction.BATCH);
    rest.addInteraction().setCode(SystemRestfulInteraction.HISTORYSYSTEM);
    for (String type : fhir.resourceTypes()) {
      CapabilityStatementRestResourceComponent r = rest.addResource().setType(type);
      r.setVersioning(ResourceVersionPolicy.VERSIONED);
      r.setReadHistory(true);
      r.setUpdateCreate(true);
      r.setConditionalCreate(true);
      r.setConditionalUpdate(true);
      // several matches answer 412 rather than deleting them all
      r.setConditionalDelete(ConditionalDeleteStatus.SINGLE);
      r.setConditionalRead(ConditionalReadStatus.NOTSUPPORTED);
      for (TypeRestfulInteraction i : List.of(TypeRestfulInteraction.READ, TypeRestfulInteraction.VREAD,
          TypeRestfulInteraction.UPDATE, TypeRestfulInteraction.DELETE, TypeRestfulInteraction.HISTORYINSTANCE,
          TypeRestfulInteraction.HISTORYTYPE, TypeRestfulInteraction.CREATE, TypeRestfulInteraction.SEARCHTYPE)) {
        r.addInteraction().setCode(i);
      }
    }
    contributors.forEach(c -> c.accept(cs));
    this.statement = cs;
    this.json = perBase.isEmpty() ? fhir.encodeJson(cs) : null;
  }

  /** The statement as seen from {@code base}. */
  byte[] json(String base) {
    if (json != null) {
      return json;
    }
    byte[] cached = byBase.get(base);
    if (cached != null) {
      return cached;
    }
    CapabilityStatement cs;
    synchronized (statement) {
      cs = statement.copy();
    }
    perBase.forEach(c -> c.accept(cs, base));
    byte[] made = fhir.encodeJson(cs);
    if (byBase.size() < BASES_CACHED) {
      byBase.put(base, made);
    }
    return made;
  }
}
