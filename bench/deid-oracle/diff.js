'use strict';
// Compares two folders of NDJSON files resource by resource and field by field: the oracle's output (expected)
// and Sluice's (actual). Resources are matched by file, type and id (both sides hash ids the same way when they
// agree), or by file and line for resources without an id.
// Prints resources and fields compared, every kind of difference with a count and an example, and exits 1 on any.
//   node diff.js <expected folder> <actual folder>
const fs = require('fs');
const path = require('path');
const { diff, fieldCount } = require('./compare');

function readAll(dir) {
  const byKey = new Map();
  for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.ndjson')).sort()) {
    fs.readFileSync(path.join(dir, file), 'utf8').split('\n').filter((l) => l.trim()).forEach((line, i) => {
      const r = JSON.parse(line);
      byKey.set(`${file}:${r.resourceType}/${r.id === undefined ? '#' + (i + 1) : r.id}`, r);
    });
  }
  return byKey;
}

const [expectedDir, actualDir] = process.argv.slice(2);
const expected = readAll(expectedDir);
const actual = readAll(actualDir);
const typeOf = (key) => key.slice(key.indexOf(':') + 1).split('/')[0];
let resources = 0;
let fields = 0;
let differences = 0;
const kinds = new Map();
const note = (kind, example) => {
  differences++;
  const k = kinds.get(kind) || { count: 0, example };
  k.count++;
  kinds.set(kind, k);
};
for (const [key, e] of expected) {
  const a = actual.get(key);
  if (!a) {
    note(`${typeOf(key)}: missing from Sluice's export`, key);
    continue;
  }
  resources++;
  fields += Math.max(fieldCount(e), fieldCount(a));
  for (const d of diff(e, a)) {
    // one kind per resource type and path without array positions, e.g. "Observation .meta.lastUpdated"
    const p = d.slice(0, d.indexOf(': '));
    note(`${typeOf(key)} ${p.replace(/\[\d+\]/g, '[]')}`, `${key.slice(key.indexOf(':') + 1)} ${d}`);
  }
}
for (const key of actual.keys()) {
  if (!expected.has(key)) {
    note(`${typeOf(key)}: in Sluice's export only`, key);
  }
}
console.log(`compared ${resources} resources (oracle ${expected.size}, Sluice ${actual.size}), ${fields} fields`);
for (const [kind, { count, example }] of [...kinds].sort((x, y) => y[1].count - x[1].count)) {
  console.log(`  ${count} x ${kind}\n      e.g. ${example}`);
}
console.log(`${differences} differences`);
process.exit(differences ? 1 : 0);
