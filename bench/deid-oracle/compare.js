'use strict';
// Field-by-field comparison of two JSON values: every path whose value differs, or that one side lacks.
// Numbers compare as numbers (both sides are parsed), arrays element by element, objects key by key.

function leaves(value, path, out) {
  if (value !== null && typeof value === 'object') {
    const entries = Array.isArray(value) ? value.map((v, i) => [`[${i}]`, v]) : Object.entries(value).map(([k, v]) => [`.${k}`, v]);
    if (entries.length === 0) {
      out.set(path, JSON.stringify(value));
    }
    for (const [step, v] of entries) {
      leaves(v, path + step, out);
    }
  } else {
    out.set(path, value);
  }
  return out;
}

/** The differences between expected and actual, one line each: `path: expected -> actual`. */
function diff(expected, actual) {
  const e = leaves(expected, '', new Map());
  const a = leaves(actual, '', new Map());
  const out = [];
  for (const [p, v] of e) {
    if (!a.has(p)) {
      out.push(`${p}: ${JSON.stringify(v)} -> (missing)`);
    } else if (a.get(p) !== v) {
      out.push(`${p}: ${JSON.stringify(v)} -> ${JSON.stringify(a.get(p))}`);
    }
  }
  for (const [p, v] of a) {
    if (!e.has(p)) {
      out.push(`${p}: (missing) -> ${JSON.stringify(v)}`);
    }
  }
  return out;
}

/** The number of leaf fields of a JSON value. */
function fieldCount(value) {
  return leaves(value, '', new Map()).size;
}

module.exports = { diff, fieldCount };
