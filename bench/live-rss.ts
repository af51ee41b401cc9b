import {readFile} from 'node:fs/promises';
import {join} from 'node:path';
import {must} from '../test/helpers/process.ts';
import {accessLog} from '../test/helpers/registry.ts';
import {Terminal} from '../test/helpers/tmux.ts';

/** What the live view did and weighed while it scanned on its interval. */
export interface LiveFigures {
	readonly seconds: number;
	/** Full scans seen at the registry: updock's HEADs over the number of unique references. */
	readonly scans: number;
	readonly heads: number;
	/** Tag listings over the whole run: one per repository at most if later scans reuse them. */
	readonly lists: number;
	readonly rss: {
		readonly peakSampledMb: number;
		/** The kernel's high-water mark, which catches peaks between two samples. */
		readonly vmHwmMb: number;
		readonly firstQuarterMedianMb: number;
		readonly lastQuarterMedianMb: number;
		readonly growthMb: number;
		readonly samples: number;
		/** One sample in five (one every five seconds), for a look at the curve. */
		readonly everyFifthMb: number[];
	};
	readonly cpuSeconds: number;
	readonly exitCode: number;
	readonly headerLine: string;
}

const median = (values: readonly number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;

async function statusField(pid: number, field: string): Promise<number | undefined> {
	const text = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => undefined);
	const match = text === undefined ? null : new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text);
	return match === null ? undefined : Number(match[1]) / 1024;
}

/** utime + stime of a process, in seconds. */
async function cpuSeconds(pid: number): Promise<number> {
	const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
	// The command name may hold spaces and parentheses: the fields start after the last ')'.
	const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
	const ticks = Number((await must('getconf', ['CLK_TCK'])).trim());
	return (Number(fields[11]) + Number(fields[12])) / ticks;
}

/**
 * Run the live view in tmux with `args` until it has done `maxScans` full scans or `maxSeconds` have
 * passed, sampling its RSS every second from /proc. `track` receives a stop function at once, so the
 * caller can end the terminal and the process even when this throws halfway.
 */
export async function measureLive(options: {
	dir: string;
	env: NodeJS.ProcessEnv;
	args: readonly string[];
	registryLog: string;
	uniqueReferences: number;
	maxScans: number;
	maxSeconds: number;
	track: (stop: () => Promise<void>) => void;
	say: (text: string) => void;
	/** How updock is started, before `args`: `[bin]` runs it as a user does (its shebang), `[node, ...flags, bin]` with flags. */
	command: readonly string[];
}): Promise<LiveFigures> {
	const pidFile = join(options.dir, 'live.pid');
	const before = (await accessLog(options.registryLog)).length;
	const counts = async (): Promise<{heads: number; lists: number}> => {
		const mine = (await accessLog(options.registryLog)).slice(before).filter(entry => entry.userAgent.startsWith('updock/'));
		return {heads: mine.filter(entry => entry.method === 'HEAD').length, lists: mine.filter(entry => entry.path.includes('/tags/list')).length};
	};

	// The shell writes its own pid and then becomes node, so the pid is updock's.
	const terminal = await Terminal.start(options.dir, ['/bin/sh', '-c', 'printf %s $$ > "$0"; exec "$@"', pidFile, ...options.command, ...options.args], options.env, 120, 40);
	let pid = 0;
	options.track(async () => {
		await terminal.kill();
		if (pid > 0) {
			try {
				process.kill(pid, 'SIGKILL');
			} catch {
				// Already gone.
			}
		}
	});
	for (let waited = 0; pid === 0; waited += 100) {
		pid = Number(await readFile(pidFile, 'utf8').catch(() => '0'));
		if (waited > 10_000) {
			throw new Error(`the live view did not start; the screen was:\n${await terminal.screen()}`);
		}

		await new Promise(resolve => setTimeout(resolve, 100));
	}

	const started = performance.now();
	const samples: number[] = [];
	let seen = {heads: 0, lists: 0};
	for (let tick = 1; ; tick++) {
		const next = started + tick * 1000;
		await new Promise(resolve => setTimeout(resolve, Math.max(0, next - performance.now())));
		const rss = await statusField(pid, 'VmRSS');
		if (rss === undefined) {
			throw new Error(`the live view exited after ${tick} s; the screen was:\n${await terminal.screen()}`);
		}

		samples.push(rss);
		if (tick % 10 === 0) {
			seen = await counts();
			options.say(`live view: ${tick} s, ${Math.floor(seen.heads / options.uniqueReferences)} scans, RSS ${rss.toFixed(0)} MB`);
			if (seen.heads >= options.maxScans * options.uniqueReferences || tick >= options.maxSeconds) {
				break;
			}
		}
	}

	const seconds = (performance.now() - started) / 1000;
	const vmHwmMb = await statusField(pid, 'VmHWM') ?? Number.NaN;
	const cpu = await cpuSeconds(pid);
	const headerLine = (await terminal.screen()).split('\n')[0] ?? '';
	await terminal.keys('q');
	const exitCode = await terminal.exitCode(30_000);
	await terminal.kill();
	seen = await counts();
	const quarter = Math.max(1, Math.floor(samples.length / 4));
	const first = median(samples.slice(0, quarter));
	const last = median(samples.slice(-quarter));
	return {
		seconds,
		scans: Math.floor(seen.heads / options.uniqueReferences),
		heads: seen.heads,
		lists: seen.lists,
		rss: {
			peakSampledMb: Math.max(...samples),
			vmHwmMb,
			firstQuarterMedianMb: first,
			lastQuarterMedianMb: last,
			growthMb: last - first,
			samples: samples.length,
			everyFifthMb: samples.filter((_, index) => index % 5 === 4).map(value => Math.round(value * 10) / 10),
		},
		cpuSeconds: cpu,
		exitCode,
		headerLine,
	};
}
