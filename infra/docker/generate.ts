/** Writes infra/docker/<service>.Dockerfile for every workspace service, and tools.Dockerfile: `node --import tsx infra/docker/generate.ts`. */
import { writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { dockerfilePath, renderDockerfile, renderToolsDockerfile, REPO_ROOT, serviceDirs, serviceFacts } from './dockerfiles.js';

const files: [string, string][] = [];
for (const dir of serviceDirs()) files.push([dockerfilePath(dir), renderDockerfile(await serviceFacts(dir))]);
files.push([join(REPO_ROOT, 'infra', 'docker', 'tools.Dockerfile'), renderToolsDockerfile()]);
for (const [path, text] of files) {
  writeFileSync(path, text);
  process.stdout.write(`wrote ${relative(REPO_ROOT, path)}\n`);
}
