package dev.sluice.store;

import org.hl7.fhir.instance.model.api.IBaseResource;

/**
 * One resource to write with a known id, as many of them go in one bulk write.
 *
 * @param resource the checked HAPI model (the search index reads it)
 * @param json the JSON it was parsed from, or null to encode the model (XML input, rewritten
 *     references)
 * @param mustBeNew true for a create: an existing resource with this id is a conflict
 */
public record ResourcePut(String type, String id, IBaseResource resource, byte[] json, boolean mustBeNew) {}
