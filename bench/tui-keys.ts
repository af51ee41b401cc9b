/**
 * The live view with N containers, rendered by Ink into an in-memory terminal as on a TTY: the time
 * from a key press to the frame that shows it, and the peak RSS. Bundled by bench.ts (it is JSX-free
 * so no transform beyond TypeScript is needed) and run in its own process.
 */
import type {ContainerFacts} from '../source/core/types.ts';
import {FakeStdin, SizedStdout} from '../test/helpers/render.tsx';

const {render} = await import('ink');
const {createElement} = (await import('react')).default;
const {App} = await import('../source/app/components/App.tsx');
const {LiveModel} = await import('../source/core/live-model.ts');

const count = Number(process.argv[2] ?? 2000);
const presses = Number(process.argv[3] ?? 60);

const digest = (n: number): string => `sha256:${n.toString(16).padStart(64, '0')}`;
const facts: ContainerFacts[] = Array.from({length: count}, (_, index) => ({
	host: 'local',
	kind: 'container',
	labels: {},
	service: null,
	id: index.toString(16).padStart(64, 'a'),
	name: `service-${String(index).padStart(5, '0')}`,
	image: `registry.example/team/service-${index % 300}:1`,
	imageId: digest(index),
	state: index % 7 === 0 ? 'exited' : 'running',
	repoDigests: [],
	imagePresent: true,
	platform: {os: 'linux', architecture: 'amd64'},
}));
const model = new LiveModel('unix:///var/run/docker.sock');
model.onScanEvent({type: 'started', containers: facts, checks: 300, partial: false, unlistedHosts: []});
for (const [index, fact] of facts.entries()) {
	const verdict = index % 4 === 0
		? {status: 'update-available' as const, localDigest: digest(index), remoteDigest: digest(index + 1)}
		: {status: 'up-to-date' as const, localDigest: digest(index), remoteDigest: digest(index)};
	model.onScanEvent({type: 'result', result: {host: fact.host, kind: fact.kind, service: fact.service, id: fact.id, name: fact.name, image: fact.image, state: fact.state, imageId: fact.imageId, platform: fact.platform, reference: fact.image, verdict}});
}

model.onScanEvent({type: 'finished', report: {scannedAt: new Date().toISOString(), hosts: [], durationMs: 0, containers: [], summary: {total: 0, upToDate: 0, updateAvailable: 0, pinned: 0, excluded: 0, unknown: 0, error: 0, newerVersions: 0}}});
const terminal = new SizedStdout(120, 40);
const keyboard = new FakeStdin();
const instance = render(createElement(App, {source: model, color: true, actions: {scanNow() {}, togglePin() {}, exclude() {}, removeExclusionFor() {}}}), {
	stdout: terminal as unknown as NodeJS.WriteStream,
	stdin: keyboard as unknown as NodeJS.ReadStream,
	stderr: new SizedStdout(120, 40) as unknown as NodeJS.WriteStream,
	interactive: true,
	exitOnCtrlC: false,
	patchConsole: false,
});

const nextFrame = async (): Promise<void> => new Promise(resolve => {
	terminal.onWrite = () => {
		terminal.onWrite = undefined;
		resolve();
	};
});

await new Promise(resolve => setTimeout(resolve, 200));
const pattern = ['j', 'j', 'j', 'j', 'G', 'k', 'k', 'k', 'k', 'g'];
const times: number[] = [];
for (let index = 0; index < presses; index++) {
	const frame = nextFrame();
	const started = performance.now();
	// Every key must change the screen (a key that does nothing draws no frame): down, bottom, up, top.
	keyboard.write(pattern[index % pattern.length]!);
	await frame;
	times.push(performance.now() - started);
	// A person does not type 60 keys a second: let each frame settle, as between real key presses.
	await new Promise(resolve => setTimeout(resolve, 40));
}

instance.unmount();
times.sort((a, b) => a - b);
const median = times[Math.floor(times.length / 2)]!;
const p95 = times[Math.floor(times.length * 0.95)]!;
process.stdout.write(`${JSON.stringify({rows: count, presses, medianMs: median, p95Ms: p95, maxMs: times.at(-1), peakRssMb: process.resourceUsage().maxRSS / 1024})}\n`);
