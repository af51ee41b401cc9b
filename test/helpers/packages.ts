import {run} from './process.ts';

/** Debian packages the sandbox needs. */
export const sandboxPackages = ['docker.io', 'docker-registry', 'skopeo', 'busybox-static', 'tmux', 'openssl', 'openssh-server'] as const;

async function installed(pkg: string): Promise<boolean> {
	const result = await run('dpkg-query', ['-W', '-f=${Status}', pkg]);
	return result.code === 0 && result.stdout.includes('install ok installed');
}

/**
 * Make sure the sandbox's packages are there: install the missing ones with apt-get when root,
 * otherwise fail naming them.
 */
export async function ensurePackages(packages: readonly string[] = sandboxPackages): Promise<void> {
	const missing: string[] = [];
	for (const pkg of packages) {
		if (!(await installed(pkg))) {
			missing.push(pkg);
		}
	}

	if (missing.length === 0) {
		return;
	}

	if (process.getuid?.() !== 0) {
		throw new Error(`The test sandbox needs the Debian packages ${missing.join(' ')}; install them as root: apt-get install -y ${missing.join(' ')}`);
	}

	const env = {...process.env, DEBIAN_FRONTEND: 'noninteractive'};
	const update = await run('apt-get', ['update'], {env, timeoutMs: 600_000});
	if (update.code !== 0) {
		throw new Error(`apt-get update failed:\n${update.stderr}`);
	}

	const install = await run('apt-get', ['install', '-y', ...missing], {env, timeoutMs: 900_000});
	if (install.code !== 0) {
		throw new Error(`apt-get install -y ${missing.join(' ')} failed:\n${install.stderr}`);
	}
}
