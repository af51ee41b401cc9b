import {readdir, readFile} from 'node:fs/promises';
import {run} from './process.ts';

/** Whether a process with this pid exists (a zombie counts: its parent has not reaped it yet). */
export function processAlive(pid: number): boolean {
	try {
		process.kill(pid, 0);
		return true;
	} catch {
		return false;
	}
}

/** Mount points at or below `root`, from this process's mount table. */
export async function mountsUnder(root: string): Promise<string[]> {
	const mountinfo = await readFile('/proc/self/mountinfo', 'utf8');
	return mountinfo.split('\n').map(line => line.split(' ')[4]).filter((point): point is string => point !== undefined && (point === root || point.startsWith(`${root}/`)));
}

/** Whether a network interface with this name exists on the machine. */
export async function linkExists(name: string): Promise<boolean> {
	return (await run('ip', ['link', 'show', 'dev', name])).code === 0;
}

/**
 * The machine's network interfaces by index. The kernel does not reuse an index soon, so a test can tell
 * that the interface it saw is gone even if another run has since made one with the same name.
 */
export async function links(): Promise<Map<number, string>> {
	const out = (await run('ip', ['-o', 'link', 'show'])).stdout;
	const found = new Map<number, string>();
	for (const match of out.matchAll(/^(\d+): ([^:@\s]+)/gm)) {
		found.set(Number(match[1]), match[2] ?? '');
	}

	return found;
}

/**
 * Pids of processes whose command line mentions `path`: dockerd, its containerd and shims, and sshd all
 * name their directory in their arguments, so none should be left once their `stop()` has returned.
 */
export async function processesMentioning(path: string): Promise<number[]> {
	const found: number[] = [];
	for (const entry of await readdir('/proc')) {
		if (!/^\d+$/.test(entry) || Number(entry) === process.pid) {
			continue;
		}

		const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
		if (cmdline.split('\0').some(arg => arg.includes(path))) {
			found.push(Number(entry));
		}
	}

	return found;
}
