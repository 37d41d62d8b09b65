'use strict';
// An independent re-implementation of the FHIR Tools for Anonymization engine (microsoft/Tools-for-Health-Data-
// Anonymization, FHIR/src/Microsoft.Health.Fhir.Anonymizer.Shared.Core), written from its C# source for the methods
// the HIPAA Safe Harbor sample uses: keep, redact (partial dates, ages, zip codes), dateShift, cryptoHash, and the
// meta.security labels. Files named below are under that Core folder. Rule paths run on HL7's fhirpath.js.

const crypto = require('crypto');
const fhirpath = require('fhirpath');
const r4 = require('fhirpath/fhir-context/r4');
const tree = require('./tree');
const model = require('./model');

// AnonymizerConfigurations/AnonymizationFhirPathRule.cs
const TYPE_RULE = /^nodesByType\(['|"](?<type>[A-Za-z0-9]+)['|"]\)(\.(?<expression>[A-Za-z0-9]+))?$/;
const NAME_RULE = /^nodesByName\(['|"](?<name>[A-Za-z0-9]+)['|"]\)(\.(?<expression>[A-Za-z0-9]+))?$/;
const PATH = /^(?<resourceType>[A-Z][a-zA-Z]*)?(\.)?(?<expression>.*?)$/;

// Processors/AnonymizationOperations.cs and Models/SecurityLabels.cs, in the order
// Extensions/ElementNodeOperationExtensions.cs AddSecurityTag adds them.
const OBSERVATION_VALUE = 'http://terminology.hl7.org/CodeSystem/v3-ObservationValue';
const LABELS = [
  ['REDACT', { system: OBSERVATION_VALUE, code: 'REDACTED', display: 'redacted' }],
  ['ABSTRACT', { system: OBSERVATION_VALUE, code: 'ABSTRED', display: 'abstracted' }],
  ['CRYPTOHASH', { system: OBSERVATION_VALUE, code: 'CRYTOHASH', display: 'cryptographic hash function' }],
  ['ENCRYPT', { code: 'ENCRYPT', display: 'exact value is transformed into ciphertext' }],
  ['PERTURB', { code: 'PERTURBED', display: 'exact value is replaced with another exact value' }],
  ['SUBSTITUTE', { code: 'SUBSTITUTED', display: 'exact value is replaced with a predefined value' }],
  ['GENERALIZE', { code: 'GENERALIZED', display: 'exact value is replaced with a general value' }],
];

// Utility/DateTimeUtility.cs: the FHIR date and dateTime grammars, unanchored (Regex.Match finds the first match).
const DATE = /([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)(-(0[1-9]|1[0-2])(-(0[1-9]|[1-2][0-9]|3[0-1]))?)?/;
const DATE_TIME = /([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)(-(0[1-9]|1[0-2])(-(0[1-9]|[1-2][0-9]|3[0-1])(T([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?(Z|(\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00)))?)?)?/;
const TIME = /([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?/;
const YEAR = 1;
const MONTH = 5;
const DAY = 7;
const TIME_PART = 8;

class Engine {
  /**
   * @param config the parsed configuration JSON
   * @param options {today: 'YYYY-MM-DD' (the reference uses DateTime.Now), dateShiftKeyPrefix: '' (file/folder scope)}
   */
  constructor(config, options = {}) {
    const p = config.parameters || {};
    const methods = new Set(config.fhirPathRules.map((r) => String(r.method).toUpperCase()));
    for (const [key, method] of [['dateShiftKey', 'DATESHIFT'], ['cryptoHashKey', 'CRYPTOHASH']]) {
      // AnonymizerConfiguration.GenerateDefaultParametersIfNotConfigured draws a random key when it is empty;
      // an oracle needs the key to be known.
      if (methods.has(method) && !p[key]) {
        throw new Error(`the oracle needs parameters.${key} to be set (the reference would draw a random one)`);
      }
    }
    this.dateShiftKey = p.dateShiftKey;
    this.cryptoHashKey = p.cryptoHashKey;
    this.dateShiftKeyPrefix = options.dateShiftKeyPrefix || '';
    const scope = String(p.dateShiftScope || 'resource').toLowerCase();
    if (scope !== 'resource' && !this.dateShiftKeyPrefix) {
      // AnonymizerEngine.CreateWithFileContext: the file or folder name is the prefix; the caller must give it
      throw new Error(`dateShiftScope ${scope} needs the dateShiftKeyPrefix option`);
    }
    this.partialDates = !!p.enablePartialDatesForRedact;
    this.partialAges = !!p.enablePartialAgesForRedact;
    this.partialZip = !!p.enablePartialZipCodesForRedact;
    this.restrictedZip = p.restrictedZipCodeTabulationAreas || [];
    this.today = options.today ? new Date(options.today + 'T00:00:00Z') : new Date();
    this.rules = config.fhirPathRules.map((r) => this.compileRule(r));
    const references = model.RESOURCE_TYPES.join('|');
    // Utility/ReferenceUtility.cs
    this.literalReferences = [
      new RegExp('^(?<prefix>((http|https)://([A-Za-z0-9\\\\\\/\\.\\:\\%\\$])*)?(' + references
        + ')\\/)(?<id>[A-Za-z0-9\\-\\.]{1,64})(?<suffix>\\/_history\\/[A-Za-z0-9\\-\\.]{1,64})?$'),
      /^(?<prefix>urn:oid:)(?<id>[0-2](\.(0|[1-9][0-9]*))+)(?<suffix>)$/,
      /^(?<prefix>urn:uuid:)(?<id>[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})(?<suffix>)$/,
    ];
  }

  compileRule(config) {
    const path = String(config.path);
    const m = PATH.exec(path);
    const resourceType = m && m.groups.resourceType ? m.groups.resourceType : '';
    let expression = m ? m.groups.expression : '';
    if (!expression) {
      expression = path;
    }
    const rule = { path, method: String(config.method).toUpperCase(), resourceType, expression, settings: config };
    rule.isResourceTypeRule = path === resourceType;
    rule.typeMatch = TYPE_RULE.exec(path);
    rule.nameMatch = NAME_RULE.exec(path);
    if (!rule.typeMatch && !rule.nameMatch && !rule.isResourceTypeRule) {
      rule.compiled = fhirpath.compile(expression, r4, { resolveInternalTypes: false, userInvocationTable: this.functions() });
    }
    return rule;
  }

  // Extensions/FhirPathSymbolExtensions.cs: nodesByType and nodesByName, for paths that use them inside a longer
  // expression (the sample's uses all take the look-up path in GetMatchNodes instead).
  functions() {
    const self = this;
    const pick = (test) => function (inputs, arg) {
      return inputs.flatMap((input) => self.selfAndDescendants(input).filter((n) => test(n, arg)));
    };
    const typeOf = (n) => (isResNode(n) ? (n.data && n.data.resourceType) || n.fhirNodeDataType : n.resourceType);
    const nameOf = (n) => (isResNode(n) ? n.propName : null);
    return {
      nodesByType: { fn: pick((n, type) => typeOf(n) === type), arity: { 1: ['String'] } },
      nodesByName: { fn: pick((n, name) => nameOf(n) === name), arity: { 1: ['String'] } },
    };
  }

  // fhirpath.js hands a function the resource itself (a plain object) at the root, result nodes elsewhere.
  selfAndDescendants(input) {
    const data = isResNode(input) ? input.data : input;
    if (data === null || typeof data !== 'object') {
      return [input];
    }
    const base = isResNode(input) ? input.path : data.resourceType;
    const below = fhirpath.evaluate(data, { base, expression: 'descendants()' }, null, r4, { resolveInternalTypes: false });
    // fhirpath.js's descendants() enters nested resources; the reference stops at them (ElementNodeNavExtensions.cs)
    const inNested = (n) => {
      for (let p = n; p; p = p.parentResNode) {
        if (p.data && p.data.resourceType && p.data !== data) {
          return true;
        }
      }
      return false;
    };
    return [input, ...below.filter((n) => !inNested(n))];
  }

  /** Anonymizes one resource (JSON object); returns the anonymized JSON object. */
  anonymize(json) {
    const root = tree.parse(json);
    const state = { visited: new Set(), objects: new Map() };
    // processingErrors (raise/skip) concerns the methods that throw processing errors (generalize, perturb...),
    // which the oracle does not implement: whatever it cannot follow throws.
    this.visit(root, state, null);
    removeNullChildren(root);
    return tree.write(root);
  }

  // Visitors/AnonymizationVisitor.cs: resources are processed before their descendants (Visit), results flow up
  // to the enclosing resource and labels are added when a resource ends (EndVisit), except on contained ones.
  visit(node, state, enclosing) {
    if (!node.isResource) {
      [...node.children].forEach((child) => this.visit(child, state, enclosing));
      return;
    }
    const result = this.processResource(node, state);
    [...node.children].forEach((child) => this.visit(child, state, result));
    if (enclosing) {
      result.forEach((op) => enclosing.add(op));
    }
    if (node.name !== 'contained') {
      addSecurityTags(node, result);
    }
  }

  processResource(node, state) {
    const cache = { types: new Map(), names: new Map() };
    indexNodes(node, cache);
    indexObjects(node, state.objects);
    const result = new Set();
    for (const rule of this.rules) {
      if (!(rule.resourceType === node.type || rule.resourceType === '' || rule.resourceType === 'Resource'
        || rule.resourceType === 'DomainResource')) {
        continue;
      }
      const processor = this.processor(rule.method);
      if (!processor) {
        continue;
      }
      for (const match of this.matchNodes(rule, node, cache, state)) {
        this.processRecursive(match, processor, rule, state).forEach((op) => result.add(op));
      }
    }
    return result;
  }

  matchNodes(rule, node, cache, state) {
    if (rule.typeMatch) {
      return lookUp(cache.types, rule.typeMatch.groups.type, rule.typeMatch.groups.expression);
    }
    if (rule.nameMatch) {
      return lookUp(cache.names, rule.nameMatch.groups.name, rule.nameMatch.groups.expression);
    }
    if (rule.isResourceTypeRule) {
      return [node];
    }
    return rule.compiled(node.json).map((resNode) => toTreeNode(resNode, state.objects));
  }

  processRecursive(node, processor, rule, state) {
    const ops = new Set();
    if (state.visited.has(node)) {
      return ops;
    }
    const op = processor.call(this, node, rule, state);
    if (op) {
      ops.add(op);
    }
    state.visited.add(node);
    for (const child of [...node.children]) {
      if (!child.isResource) {
        this.processRecursive(child, processor, rule, state).forEach((o) => ops.add(o));
      }
    }
    return ops;
  }

  processor(method) {
    switch (method) {
      case 'KEEP': return () => null;
      case 'REDACT': return this.redact;
      case 'DATESHIFT': return this.dateShift;
      case 'CRYPTOHASH': return this.cryptoHash;
      case 'PERTURB': return this.perturb;
      case 'ENCRYPT':
      case 'SUBSTITUTE':
      case 'GENERALIZE':
        return (node, rule) => {
          if (isEmpty(node.value)) {
            return null;
          }
          throw new Error(`the oracle does not implement ${rule.method} (rule '${rule.path}' matched a value)`);
        };
      default:
        // the reference skips rules whose method has no processor (AnonymizationVisitor.ProcessResourceNode)
        return null;
    }
  }

  // Processors/RedactProcessor.cs
  redact(node) {
    if (isEmpty(node.value)) {
      return null;
    }
    if (node.type === 'date') {
      return this.redactDate(node, DATE);
    }
    if (node.type === 'dateTime' || node.type === 'instant') {
      return this.redactDate(node, DATE_TIME);
    }
    if (node.type === 'decimal' && node.parent && node.parent.type === 'Age') {
      return this.redactAge(node);
    }
    if (node.name.toLowerCase() === 'postalcode') {
      return this.redactPostalCode(node);
    }
    node.value = null;
    return 'REDACT';
  }

  // Utility/DateTimeUtility.cs RedactDateNode / RedactDateTimeAndInstantNode
  redactDate(node, grammar) {
    if (this.partialDates) {
      const m = grammar.exec(String(node.value));
      if (m && m[YEAR] !== undefined) {
        node.value = this.overAge89(m) ? null : m[YEAR];
      }
    } else {
      node.value = null;
    }
    return 'REDACT';
  }

  // Utility/DateTimeUtility.cs RedactAgeDecimalNode: int.Parse of the decimal's text, which throws a
  // FormatException (not a processing error) for a value with a fraction or a decimal point.
  redactAge(node) {
    if (this.partialAges) {
      const text = String(node.value);
      if (!/^[+-]?\d+$/.test(text)) {
        throw new Error(`the reference fails on Age value '${text}' (int.Parse)`);
      }
      if (parseInt(text, 10) > 89) {
        node.value = null;
      }
    } else {
      node.value = null;
    }
    return 'REDACT';
  }

  // Utility/PostalCodeUtility.cs
  redactPostalCode(node) {
    const value = String(node.value);
    if (!this.partialZip) {
      node.value = null;
      return 'REDACT';
    }
    if (this.restrictedZip.some((prefix) => value.startsWith(prefix))) {
      node.value = value.replace(/\d/g, '0');
    } else if (value.length >= 3) {
      node.value = value.slice(0, 3) + value.slice(3).replace(/\d/g, '0');
    }
    return 'ABSTRACT';
  }

  // Processors/DateShiftProcessor.cs and Utility/DateTimeUtility.cs ShiftDateNode / ShiftDateTimeAndInstantNode
  dateShift(node) {
    if (isEmpty(node.value)) {
      return null;
    }
    const isDate = node.type === 'date';
    if (!isDate && node.type !== 'dateTime' && node.type !== 'instant') {
      return null;
    }
    const value = String(node.value);
    const m = (isDate ? DATE : DATE_TIME).exec(value);
    if (!(m && m[DAY] !== undefined && !this.overAge89(m))) {
      return this.redactDate(node, isDate ? DATE : DATE_TIME);
    }
    const offset = this.dateShiftOffset(node);
    // DateTime.Parse / DateTimeOffset.Parse keep the value's own offset, so the day shifted is the day written.
    const day = new Date(Date.UTC(+m[YEAR], +m[MONTH] - 1, +m[DAY]) + offset * 86400000);
    const shifted = day.toISOString().slice(0, 10);
    if (!isDate && m[TIME_PART] !== undefined) {
      let timestamp = m[TIME_PART];
      const t = TIME.exec(timestamp);
      if (t) {
        timestamp = timestamp.split(t[0]).join(t[0].replace(/\d/g, '0'));
      }
      node.value = shifted + timestamp;
    } else {
      node.value = shifted;
    }
    return 'PERTURB';
  }

  // Utility/DateTimeUtility.cs GetDateShiftValue: the prefix is the file or folder name for those scopes, else
  // the id of the root resource as it is now (Resource.id may already be hashed by an earlier rule).
  dateShiftOffset(node) {
    let prefix = this.dateShiftKeyPrefix;
    if (!prefix) {
      const id = node.root().childrenNamed('id')[0];
      prefix = id && id.value !== null ? String(id.value) : '';
    }
    let offset = 0;
    for (const b of Buffer.from(prefix + this.dateShiftKey, 'utf8')) {
      offset = (offset * 131 + b) % 101;
    }
    return offset - 50;
  }

  // IndicateAgeOverThreshold: the age someone born on that date would have today, over 89.
  overAge89(m) {
    const year = parseInt(m[YEAR], 10);
    const month = m[MONTH] !== undefined ? parseInt(m[MONTH], 10) : 1;
    const day = m[DAY] !== undefined ? parseInt(m[DAY], 10) : 1;
    const nowMonth = this.today.getUTCMonth() + 1;
    const nowDay = this.today.getUTCDate();
    const age = this.today.getUTCFullYear() - year - (nowMonth < month || (nowMonth === month && nowDay < day) ? 1 : 0);
    return age > 89;
  }

  // Processors/PerturbProcessor.cs (and R4.Core's part of it for the quantity types), Settings/PerturbSetting.cs.
  // The noise is random, so the value becomes a range for diff.js: [value - span/2, value + span/2] rounded to
  // roundTo places (half to even), positiveInt at least 1, unsignedInt at least 0.
  perturb(node, rule, state) {
    let valueNode = null;
    if (PERTURB_NUMBERS.has(node.type)) {
      valueNode = node;
    } else if (PERTURB_QUANTITIES.has(node.type)) {
      valueNode = node.childrenNamed('value')[0] || null;
    }
    if (!valueNode || valueNode.value === null || state.visited.has(valueNode)) {
      return null;
    }
    const settings = rule.settings;
    let roundTo = settings.roundTo !== undefined ? parseInt(String(settings.roundTo), 10) : 2;
    if (valueNode.type !== 'decimal') {
      roundTo = 0;
    }
    const original = Number(valueNode.value);
    let span = settings.span !== undefined ? Number(String(settings.span)) : 0;
    if (String(settings.rangeType || '').toLowerCase() === 'proportional') {
      span = original * span;
    }
    if (span < 0) {
      throw new Error(`the reference fails on a negative span (${span}) at '${rule.path}' (ContinuousUniform.Sample)`);
    }
    valueNode.value = {
      $perturbed: { original, min: original - span / 2, max: original + span / 2, roundTo, type: valueNode.type },
    };
    descendants(node).forEach((d) => state.visited.add(d));
    return 'PERTURB';
  }

  // Processors/CryptoHashProcessor.cs, Utility/CryptoHashUtility.cs, Utility/ReferenceUtility.cs
  cryptoHash(node) {
    if (isEmpty(node.value)) {
      return null;
    }
    const input = String(node.value);
    const isReference = node.name.toLowerCase() === 'reference' && node.parent && node.parent.type === 'Reference';
    node.value = isReference ? this.transformReference(input) : this.hash(input);
    return 'CRYPTOHASH';
  }

  hash(input) {
    if (!input) {
      return input;
    }
    return crypto.createHmac('sha256', Buffer.from(this.cryptoHashKey, 'utf8')).update(input, 'utf8').digest('hex');
  }

  transformReference(reference) {
    if (reference.startsWith('#')) {
      return '#' + this.hash(reference.slice(1));
    }
    for (const regex of this.literalReferences) {
      const m = regex.exec(reference);
      if (m) {
        return m.groups.prefix + this.hash(m.groups.id) + (m.groups.suffix || '');
      }
    }
    return this.hash(reference);
  }
}

const PERTURB_NUMBERS = new Set(['decimal', 'integer', 'positiveInt', 'unsignedInt']);
const PERTURB_QUANTITIES = new Set(['Age', 'Count', 'Duration', 'Distance', 'Money', 'MoneyQuantity', 'Quantity',
  'SimpleQuantity']);

function descendants(node) {
  return node.children.flatMap((c) => [c, ...descendants(c)]);
}

function isResNode(x) {
  return x !== null && typeof x === 'object' && 'parentResNode' in x && 'data' in x;
}

function isEmpty(value) {
  return value === null || value === undefined || String(value) === '';
}

// AnonymizationVisitor.InitializeNodeCacheRecursive: every descendant by type and by name, nested resources
// included as nodes but not entered.
function indexNodes(node, cache) {
  for (const child of node.children) {
    add(cache.types, child.type, child);
    add(cache.names, child.name, child);
    if (!child.isResource) {
      indexNodes(child, cache);
    }
  }
}

function add(map, key, node) {
  if (!map.has(key)) {
    map.set(key, []);
  }
  map.get(key).push(node);
}

function indexObjects(node, objects) {
  if (node.json) {
    objects.set(node.json, node);
  }
  node.children.forEach((c) => indexObjects(c, objects));
}

// AnonymizationVisitor.GetMatchNodesFromLookUp; the expression after the function is one element name.
function lookUp(map, key, expression) {
  const nodes = map.get(key) || [];
  if (!expression) {
    return nodes;
  }
  return nodes.flatMap((n) => n.childrenNamed(expression));
}

// A fhirpath.js result node back to the tree node it stands for: complex values by their JSON object,
// primitives through their parent, element name and array index.
function toTreeNode(resNode, objects) {
  if (!isResNode(resNode)) {
    return objects.get(resNode);
  }
  const data = resNode.data;
  if (data !== null && typeof data === 'object' && objects.has(data)) {
    return objects.get(data);
  }
  const parent = toTreeNode(resNode.parentResNode, objects);
  const found = parent.children.find((c) => c.name === resNode.propName
    && (resNode.index === null || resNode.index === undefined || c.index === resNode.index));
  if (!found) {
    throw new Error(`cannot map the fhirpath.js result ${resNode.path} (${resNode.propName}) to the resource`);
  }
  return found;
}

// Extensions/ElementNodeOperationExtensions.cs AddSecurityTag: labels for the operations performed, each once.
function addSecurityTags(resource, result) {
  if (!result || result.size === 0) {
    return;
  }
  let meta = resource.childrenNamed('meta')[0];
  if (!meta) {
    meta = new tree.Node('meta', 'meta', 'Meta', resource, null);
    resource.children.push(meta);
  }
  // ToPoco<Meta> and back: the instant meta.lastUpdated is re-read and re-written in the SDK's format.
  for (const lastUpdated of meta.childrenNamed('lastUpdated')) {
    if (typeof lastUpdated.value === 'string') {
      lastUpdated.value = tree.netInstant(lastUpdated.value);
    }
  }
  const codes = () => meta.childrenNamed('security')
    .map((s) => s.childrenNamed('code')[0])
    .filter((c) => c && c.value !== null)
    .map((c) => String(c.value).toUpperCase());
  for (const [op, label] of LABELS) {
    if (result.has(op) && !codes().includes(label.code)) {
      const coding = new tree.Node('security', 'security', 'Coding', meta, meta.childrenNamed('security').length);
      coding.array = true;
      for (const [k, v] of Object.entries(label)) {
        const c = new tree.Node(k, k, k === 'system' ? 'uri' : (k === 'code' ? 'code' : 'string'), coding, null);
        c.primitive = true;
        c.value = v;
        coding.children.push(c);
      }
      meta.children.push(coding);
    }
  }
}

// Extensions/ElementNodeOperationExtensions.cs RemoveNullChildren: nodes without value and children go, bottom up.
function removeNullChildren(node) {
  for (const child of [...node.children]) {
    removeNullChildren(child);
    if (child.children.length === 0 && child.value === null && !child.isResource) {
      node.children.splice(node.children.indexOf(child), 1);
    }
  }
}

module.exports = { Engine };
