'use strict';
// FHIR R4 element types for the oracle's tree, from fhirpath.js's R4 model (HL7's own data), not from Sluice.
// The reference engine types every node with the .NET SDK's R4 definitions (ITypedElement.InstanceType); this file
// gives the same answers for what the rules ask: the type of an element, its element name (a choice element
// valueQuantity is named "value" with type Quantity), and whether it holds a resource.

const r4 = require('fhirpath/fhir-context/r4');

const PRIMITIVES = new Set(['boolean', 'integer', 'integer64', 'string', 'decimal', 'uri', 'url', 'canonical',
  'base64Binary', 'instant', 'date', 'dateTime', 'time', 'code', 'oid', 'id', 'markdown', 'unsignedInt',
  'positiveInt', 'uuid', 'xhtml']);

function isResourceType(type) {
  for (let t = type; t; t = r4.type2Parent[t]) {
    if (t === 'Resource') {
      return true;
    }
  }
  return false;
}

// Concrete resource types, for the reference's literal-reference regex (ModelInfo.SupportedResources).
const RESOURCE_TYPES = Object.keys(r4.type2Parent)
  .filter((t) => isResourceType(t) && t !== 'Resource' && t !== 'DomainResource');

// The model writes the FHIRPath system types for Element.id, Resource.id and Extension.url; the .NET POCO model
// (which the reference uses) types them id (Resource.id), uri (Extension.url) and string (everything else).
function fhirType(systemOrFhir, path, base) {
  const m = /^System\.(.*)$/.exec(systemOrFhir);
  if (!m) {
    return systemOrFhir;
  }
  if (path.endsWith('.id') && isResourceType(base)) {
    return 'id';
  }
  if (path === 'Extension.url') {
    return 'uri';
  }
  const system = m[1];
  return system === 'String' ? 'string' : system.charAt(0).toLowerCase() + system.slice(1);
}

function choiceType(name) {
  const lower = name.charAt(0).toLowerCase() + name.slice(1);
  return PRIMITIVES.has(lower) ? lower : name;
}

function parentBase(base) {
  if (base.includes('.')) {
    return 'BackboneElement';
  }
  return r4.type2Parent[base];
}

/**
 * The definition of JSON property `key` of an element whose type (or, for a backbone element, whose path) is
 * `base`: {name, type, base (of its own children), repeating}, or null when the model does not know it.
 */
function element(base, key) {
  for (let b = base; b; b = parentBase(b)) {
    const path = b + '.' + key;
    const elsewhere = r4.pathsDefinedElsewhere[path];
    if (elsewhere) {
      return { name: key, type: 'BackboneElement', base: elsewhere, repeating: !!(r4.path2Repeating[path] || r4.path2Repeating[elsewhere]) };
    }
    // choice elements first: the model also lists their typed names (Condition.onsetDateTime)
    for (let i = key.length - 1; i > 0; i--) {
      const choices = r4.choiceTypePaths[b + '.' + key.slice(0, i)];
      if (choices) {
        const suffix = key.slice(i);
        const match = choices.find((c) => c.toLowerCase() === suffix.toLowerCase());
        if (match) {
          const t = choiceType(match);
          return { name: key.slice(0, i), type: t, base: t, repeating: false };
        }
      }
    }
    const type = r4.path2Type[path];
    if (type) {
      const t = fhirType(type, path, b);
      const inline = t === 'BackboneElement' || t === 'Element';
      return { name: key, type: t, base: inline ? path : t, repeating: !!r4.path2Repeating[path] };
    }
  }
  return null;
}

module.exports = { element, isResourceType, isPrimitive: (t) => PRIMITIVES.has(t), RESOURCE_TYPES };
