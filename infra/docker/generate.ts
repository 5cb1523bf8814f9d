/** Writes infra/docker/<service>.Dockerfile for every workspace service: `node --import tsx infra/docker/generate.ts`. */
import { writeFileSync } from 'node:fs';
import { relative } from 'node:path';
import { dockerfilePath, renderDockerfile, REPO_ROOT, serviceDirs, serviceFacts } from './dockerfiles.js';

for (const dir of serviceDirs()) {
  const path = dockerfilePath(dir);
  writeFileSync(path, renderDockerfile(await serviceFacts(dir)));
  process.stdout.write(`wrote ${relative(REPO_ROOT, path)}\n`);
}
