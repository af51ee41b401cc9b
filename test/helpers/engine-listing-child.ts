/**
 * Run in a child process by test/adversarial/engine-memory.test.ts: DockerEngine lists the containers
 * of the engine at the unix socket argv[2], as a scan does; prints how many rows it made or the error,
 * the process's peak RSS, and how far the listing raised it over the peak of loading the modules.
 */
import {DockerEngine} from '../../source/docker/engine.ts';

const peakKiB = (): number => process.resourceUsage().maxRSS;
const socketPath = process.argv[2] ?? '';
const engine = new DockerEngine({name: 'local', address: {kind: 'unix', socketPath, display: `unix://${socketPath}`, origin: 'DOCKER_HOST'}, timeoutMs: 120_000});
await engine.dockerode();
const loaded = peakKiB();
const outcome = await engine.listContainers().then(rows => ({rows: rows.length, error: null}), (error: unknown) => ({rows: 0, error: String(error)}));
await engine.close();
process.stdout.write(JSON.stringify({...outcome, peakBytes: peakKiB() * 1024, growthBytes: (peakKiB() - loaded) * 1024}));
