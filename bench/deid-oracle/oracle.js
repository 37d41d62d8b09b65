'use strict';
// The oracle's command line: anonymizes NDJSON files (one resource a line) with a configuration, the way the
// reference engine would, into a folder of NDJSON files of the same names.
//   node oracle.js --config <configuration.json> [--today YYYY-MM-DD] <input.ndjson>... <output folder>
const fs = require('fs');
const path = require('path');
const { Engine } = require('./engine');

function main(argv) {
  const args = [];
  const options = {};
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--config') {
      options.config = argv[++i];
    } else if (argv[i] === '--today') {
      options.today = argv[++i];
    } else {
      args.push(argv[i]);
    }
  }
  if (!options.config || args.length < 2) {
    console.error('usage: node oracle.js --config <configuration.json> [--today YYYY-MM-DD] <input.ndjson>... <output folder>');
    process.exit(2);
  }
  const out = args.pop();
  const engine = new Engine(JSON.parse(fs.readFileSync(options.config, 'utf8').replace(/^\uFEFF/, '')), { today: options.today });
  fs.mkdirSync(out, { recursive: true });
  let count = 0;
  for (const file of args) {
    const lines = fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.trim());
    const written = lines.map((line) => {
      const resource = JSON.parse(line);
      try {
        return JSON.stringify(engine.anonymize(resource));
      } catch (e) {
        // where the reference itself would fail (or the oracle cannot follow): a line that cannot equal Sluice's
        return JSON.stringify({ resourceType: resource.resourceType, id: resource.id, oracleError: e.message });
      }
    });
    fs.writeFileSync(path.join(out, path.basename(file)), written.join('\n') + (written.length ? '\n' : ''));
    count += written.length;
  }
  console.log(`oracle: ${count} resources anonymized into ${out}`);
}

main(process.argv.slice(2));
