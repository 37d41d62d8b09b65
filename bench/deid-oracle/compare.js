'use strict';
// Field-by-field comparison of two JSON values: every path whose value differs, or that one side lacks.
// Numbers compare as numbers (both sides are parsed), arrays element by element, objects key by key. An expected
// {"$perturbed": {min, max, roundTo, type}} (the oracle's perturb) accepts any number in that range, widened by half
// a unit of the last place for the rounding, with at most roundTo decimals (clamped to 1 or 0 for positiveInt and
// unsignedInt, as the reference does).

function isPerturbed(value) {
  return value !== null && typeof value === 'object' && '$perturbed' in value;
}

function inRange(expected, actual) {
  const { min, max, roundTo, type } = expected.$perturbed;
  if (typeof actual !== 'number') {
    return false;
  }
  const half = 0.5 * 10 ** -roundTo;
  const decimals = (String(actual).split('.')[1] || '').length;
  const clamped = (type === 'positiveInt' && actual === 1 && min - half <= 1)
    || (type === 'unsignedInt' && actual === 0 && min - half <= 0);
  return decimals <= roundTo && (clamped || (actual >= min - half && actual <= max + half));
}

function leaves(value, path, out) {
  if (value !== null && typeof value === 'object' && !isPerturbed(value)) {
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
    } else if (isPerturbed(v) ? !inRange(v, a.get(p)) : a.get(p) !== v) {
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
