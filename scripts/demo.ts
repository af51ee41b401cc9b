/**
 * updock on a sandbox: a private dockerd and registries on loopback (the test sandbox), a few
 * containers in every state, then `updock` on them: the live view on a terminal, the table otherwise. Needs root and the Debian packages that
 * scripts/dev.sh installs. `npm run demo -- --keep` leaves the sandbox up until Ctrl-C.
 */
import {spawn} from 'node:child_process';
import {once} from 'node:events';
import {mkdtemp, readFile, writeFile} from 'node:fs/promises';
import {join} from 'node:path';
import {hostPlatform} from '../test/helpers/images.ts';
import {startSandbox} from '../test/helpers/sandbox.ts';
import {Scene} from '../test/helpers/scene.ts';
import {tar} from '../test/helpers/tar.ts';
import {updockBin} from '../test/helpers/updock.ts';

const keep = process.argv.includes('--keep');
const say = (text: string): void => {
	process.stderr.write(`\u001B[2mdemo: ${text}\u001B[22m\n`);
};

say('starting a private Docker engine and registries on loopback…');
const sandbox = await startSandbox();
let exitCode = 0;
try {
	const scene = await Scene.create(sandbox.info, 'demo');
	const registry = sandbox.info.open.host;
	const ref = (repository: string, tag = '1'): string => `${registry}/demo/${repository}:${tag}`;
	const other = {os: 'linux', architecture: hostPlatform.architecture === 'arm64' ? 'amd64' : 'arm64'};

	say('pushing images and starting containers…');
	await scene.push(ref('web'), {marker: 'web-1'});
	await scene.push(ref('api', '2.4'), {marker: 'api-2.4.0'});
	await scene.push(ref('cache'), [{marker: 'cache-1', platform: hostPlatform}, {marker: 'cache-other-1', platform: other}]);
	await scene.push(ref('db', '16'), {marker: 'db-16.1'});
	for (const reference of [ref('web'), ref('api', '2.4'), ref('cache'), ref('db', '16')]) {
		await scene.pull(reference);
	}

	await scene.docker(['run', '-d', '--network', 'none', '--name', 'web', ref('web')]);
	await scene.docker(['run', '-d', '--network', 'none', '--name', 'web-2', ref('web')]);
	await scene.docker(['run', '-d', '--network', 'none', '--name', 'api', ref('api', '2.4')]);
	await scene.docker(['run', '-d', '--network', 'none', '--name', 'cache', ref('cache')]);
	await scene.docker(['run', '-d', '--network', 'none', '--name', 'db', ref('db', '16')]);
	const dbDigest = await scene.docker(['image', 'inspect', '--format', '{{index .RepoDigests 0}}', ref('db', '16')]);
	await scene.docker(['create', '--network', 'none', '--name', 'db-replica', dbDigest]);
	// Built locally: nothing in any registry to compare with.
	const rootfs = join(sandbox.info.root, 'demo-rootfs.tar');
	await writeFile(rootfs, tar([{path: 'bin/'}, {path: 'bin/busybox', content: await readFile('/bin/busybox'), mode: 0o755}]));
	await scene.docker(['import', '--change', 'CMD ["/bin/busybox","sleep","3600"]', rootfs, 'local/tools:dev']);
	await scene.docker(['run', '-d', '--network', 'none', '--name', 'tools', 'local/tools:dev']);

	// New versions land in the registry: api for every platform, cache only for the other platform.
	await scene.push(ref('api', '2.4'), {marker: 'api-2.4.1'});
	await scene.push(ref('cache'), [{marker: 'cache-1', platform: hostPlatform}, {marker: 'cache-other-2', platform: other}]);
	await scene.push(ref('db', '16'), {marker: 'db-16.2'});

	const home = await mkdtemp(join(sandbox.info.root, 'home-'));
	const env = {...process.env, DOCKER_HOST: sandbox.info.dockerHost, UPDOCK_DB: join(home, 'updock.json'), DOCKER_CONFIG: join(home, 'docker'), HOME: home};
	const runUpdock = async (args: string[]): Promise<number> => {
		say(`updock ${args.join(' ')}`);
		const child = spawn(process.execPath, [updockBin, ...args], {stdio: 'inherit', env});
		const [code] = await once(child, 'exit') as [number | null];
		return code ?? 1;
	};

	await runUpdock(['pin', 'db']);
	// On a terminal this opens the live view (q quits); piped, it prints the table like --once.
	exitCode = await runUpdock([]);
	if (keep) {
		say(`the sandbox stays up; try:\n  DOCKER_HOST=${sandbox.info.dockerHost} UPDOCK_DB=${env.UPDOCK_DB} node ${updockBin} --once\nCtrl-C stops it.`);
		await once(process, 'SIGINT');
	}

	await scene.cleanup();
} finally {
	say('stopping the sandbox…');
	await sandbox.stop();
}

process.exitCode = exitCode;
