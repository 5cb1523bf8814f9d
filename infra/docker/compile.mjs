/**
 * Compiles every workspace package to JavaScript in its own dist/ (src/x.ts → dist/x.js, one tsc run over the
 * workspace: tsconfig.build.json), so the images run `node dist/main.js` with no TypeScript loader. Files a package
 * reads beside its code (dict/, public/) sit outside src/, so their relative paths hold from dist/ too.
 *
 *   node infra/docker/compile.mjs                       compile only (what `pnpm build` does)
 *   node infra/docker/compile.mjs --exports-to-dist     also point each package.json's exports at dist/ (image builds
 *                                                       only: pnpm deploy copies manifests as they are, and ignores
 *                                                       publishConfig, pnpm/pnpm#6693)
 *
 * Plain JavaScript on purpose: it runs before anything is compiled.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const outDir = join(root, '.build', 'tsc');
const exportsToDist = process.argv.includes('--exports-to-dist');

/** Every workspace package directory (pnpm-workspace.yaml: packages/*, services/*). */
function workspaceDirs() {
  return ['packages', 'services'].flatMap((group) =>
    readdirSync(join(root, group), { withFileTypes: true })
      .filter((d) => d.isDirectory() && existsSync(join(root, group, d.name, 'package.json')))
      .map((d) => join(group, d.name)),
  );
}

/** `./src/a/b.ts` → `./dist/a/b.js`; anything else unchanged. */
function toDist(target) {
  return typeof target === 'string' ? target.replace(/^\.\/src\/(.+)\.ts$/, './dist/$1.js') : target;
}

function mapTargets(value) {
  if (typeof value === 'string') return toDist(value);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mapTargets(v)]));
  return value;
}

const started = Date.now();
rmSync(outDir, { recursive: true, force: true });
execFileSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(root, 'tsconfig.build.json')], {
  cwd: root,
  stdio: 'inherit',
});

let packages = 0;
for (const dir of workspaceDirs()) {
  const emitted = join(outDir, dir, 'src');
  const dist = join(root, dir, 'dist');
  rmSync(dist, { recursive: true, force: true });
  if (existsSync(emitted)) {
    renameSync(emitted, dist);
    packages += 1;
  }
  if (!exportsToDist) continue;
  const manifestPath = join(root, dir, 'package.json');
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
  for (const field of ['exports', 'main', 'bin']) if (manifest[field] !== undefined) manifest[field] = mapTargets(manifest[field]);
  const left = JSON.stringify([manifest.exports, manifest.main, manifest.bin]).match(/\.\/src\/[^"]+\.ts/g);
  if (left) throw new Error(`${dir}/package.json still points at TypeScript: ${left.join(', ')}`);
  for (const target of JSON.stringify([manifest.exports ?? null, manifest.main ?? null]).match(/\.\/dist\/[^"]+\.js/g) ?? []) {
    if (!existsSync(join(root, dir, target))) throw new Error(`${dir}/package.json points at ${target}, which tsc did not emit`);
  }
  writeFileSync(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
}
rmSync(join(root, '.build'), { recursive: true, force: true });
process.stdout.write(`compile: ${packages} packages compiled to <package>/dist in ${((Date.now() - started) / 1000).toFixed(1)}s${exportsToDist ? ', exports pointed at dist/' : ''} (${relative(process.cwd(), root) || '.'})\n`);
