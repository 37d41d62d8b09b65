'use strict';
// Runs one system $export against a Sluice (or any Bulk Data) server and downloads its files into a folder,
// one <Type>.ndjson per type (the parts of a type concatenated).
//   node export.js <FHIR base URL> <output folder> [query string, e.g. _container=c&_anonymizationConfig=f.json]
const fs = require('fs');
const path = require('path');

async function main([base, out, query]) {
  const kick = await fetch(`${base}/$export${query ? '?' + query : ''}`, {
    headers: { Accept: 'application/fhir+json', Prefer: 'respond-async' },
  });
  if (kick.status !== 202) {
    throw new Error(`kick-off answered ${kick.status}: ${await kick.text()}`);
  }
  const status = kick.headers.get('content-location');
  let r;
  while ((r = await fetch(status)).status === 202) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const body = await r.text();
  if (r.status !== 200) {
    throw new Error(`export answered ${r.status}: ${body}`);
  }
  const manifest = JSON.parse(body);
  if (manifest.error && manifest.error.length) {
    throw new Error(`export reported errors: ${JSON.stringify(manifest.error)}`);
  }
  fs.mkdirSync(out, { recursive: true });
  let count = 0;
  for (const file of manifest.output) {
    const text = await (await fetch(file.url)).text();
    fs.appendFileSync(path.join(out, `${file.type}.ndjson`), text);
    count += file.count;
  }
  console.log(`export: ${count} resources in ${manifest.output.length} files into ${out}`);
}

main(process.argv.slice(2)).catch((e) => {
  console.error(e.message);
  process.exit(1);
});
