'use strict';
// The reference engine works on a mutable tree of typed nodes (the .NET SDK's ElementNode): every JSON property
// value is a node with an element name, a FHIR type, a primitive value or children, and a parent. This is that tree
// for JSON resources, and its way back to JSON.

const model = require('./model');

class Node {
  constructor(name, key, type, parent, index) {
    this.name = name;          // element name: "value" for valueQuantity, as ITypedElement.Name
    this.key = key;            // JSON property name
    this.type = type;          // FHIR type (InstanceType); the resourceType for resources
    this.parent = parent;
    this.index = index;        // position in its JSON array, or null
    this.value = null;         // primitive value (string, number or boolean), null when none
    this.children = [];
    this.isResource = false;
    this.primitive = false;
    this.array = false;        // written as a JSON array (the definition repeats)
    this.json = null;          // the JSON object a complex node was read from (to map fhirpath.js results back)
  }

  childrenNamed(name) {
    return this.children.filter((c) => c.name === name);
  }

  root() {
    let n = this;
    while (n.parent) {
      n = n.parent;
    }
    return n;
  }
}

// The reference reads an instant into .NET's DateTimeOffset and writes it back with the SDK's round-trip format
// yyyy-MM-dd'T'HH:mm:ss.FFFFFFFK (firely-net-common PrimitiveTypeConverter.FMT_FULL): "Z" becomes "+00:00" and
// trailing zeros of the fraction go (".260" is ".26", ".000" nothing). Its own test data shows the zone
// (test-resources/bundle-without-entry-resource-target.json: 01:43:30Z -> T00:00:00+00:00).
function netInstant(text) {
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})$/.exec(text);
  if (!m) {
    return text;
  }
  const fraction = (m[2] || '').slice(0, 7).replace(/0+$/, '');
  const zone = m[3] === 'Z' || m[3] === '-00:00' ? '+00:00' : m[3];
  return m[1] + (fraction ? '.' + fraction : '') + zone;
}

function readResource(json, name, key, parent, index) {
  const node = new Node(name, key, json.resourceType, parent, index);
  node.isResource = true;
  node.json = json;
  readProperties(node, json, json.resourceType);
  return node;
}

function readProperties(node, json, base) {
  for (const key of Object.keys(json)) {
    if (key === 'resourceType' && node.isResource) {
      continue;
    }
    if (key.startsWith('_')) {
      if (!(key.slice(1) in json)) {
        readProperty(node, key.slice(1), undefined, json[key], base);
      }
      continue;
    }
    readProperty(node, key, json[key], json['_' + key], base);
  }
}

function readProperty(parent, key, value, extra, base) {
  const def = base ? model.element(base, key) : null;
  const array = Array.isArray(value) || (value === undefined && Array.isArray(extra));
  // the reference writes a list where the definition has one, whatever the input's shape
  const repeating = def ? def.repeating : array;
  const values = array ? (value || extra.map(() => null)) : [value];
  const extras = array ? (Array.isArray(extra) ? extra : []) : [extra];
  values.forEach((v, i) => {
    const e = extras[i];
    const index = array ? i : null;
    if (v !== null && typeof v === 'object' && v.resourceType) {
      const resource = readResource(v, def ? def.name : key, key, parent, index);
      resource.array = repeating;
      parent.children.push(resource);
      return;
    }
    const node = new Node(def ? def.name : key, key, def ? def.type : null, parent, index);
    node.array = repeating;
    parent.children.push(node);
    if (v !== null && v !== undefined && typeof v === 'object') {
      node.json = v;
      readProperties(node, v, def ? def.base : null);
    } else {
      node.primitive = true;
      node.value = v === undefined ? null : v;
      if (node.type === 'instant' && typeof node.value === 'string') {
        node.value = netInstant(node.value);
      }
      if (e && typeof e === 'object') {
        node.json = e;
        readProperties(node, e, 'Element');
      }
    }
  });
}

function parse(json) {
  return readResource(json, json.resourceType, null, null, null);
}

function write(node) {
  const out = node.isResource ? { resourceType: node.type } : {};
  const byKey = new Map();
  for (const child of node.children) {
    if (!byKey.has(child.key)) {
      byKey.set(child.key, []);
    }
    byKey.get(child.key).push(child);
  }
  for (const [key, nodes] of byKey) {
    const array = nodes.length > 1 || nodes[0].array;
    if (nodes[0].primitive) {
      const values = nodes.map((n) => n.value);
      const extras = nodes.map((n) => (n.children.length ? write(n) : null));
      if (values.some((v) => v !== null)) {
        out[key] = array ? values : values[0];
      }
      if (extras.some((x) => x !== null)) {
        out['_' + key] = array ? extras : extras[0];
      }
    } else {
      const written = nodes.map(write);
      out[key] = array ? written : written[0];
    }
  }
  return out;
}

module.exports = { Node, parse, write, netInstant };
