/**
 * Run in a child process by test/adversarial: the real registry client against a registry (argv[2])
 * whose every body is endless, one request each for the ping, a token and a manifest; prints the
 * error codes and how far the requests raised the process's peak RSS (over the peak of loading the
 * modules, which is most of it) as JSON.
 */
import {parseReference} from '../../source/core/reference.ts';
import {RegistryAuth} from '../../source/registry/auth.ts';
import {HttpRegistryClient} from '../../source/registry/client.ts';
import {RegistryHttp} from '../../source/registry/http.ts';

const peakKiB = (): number => process.resourceUsage().maxRSS;
const host = process.argv[2] ?? '';
const loaded = peakKiB();
const codes: string[] = [];
for (const repository of ['ping/app', 'token/app', 'manifest/app']) {
	const http = new RegistryHttp({timeoutMs: 60_000, connectionsPerHost: 2, userAgent: 'updock-rss', env: {}});
	const client = new HttpRegistryClient(http, new RegistryAuth(http, {source: 'none', get: async () => undefined}));
	// eslint-disable-next-line no-await-in-loop -- one hostile body at a time, as a scan meets them
	const code = await client.headTag(parseReference(`${host}/${repository}:1`)).then(() => 'ok', (error: unknown) => (error instanceof Error && 'code' in error ? String(error.code) : String(error)));
	codes.push(code);
	// eslint-disable-next-line no-await-in-loop
	await http.close();
}

process.stdout.write(JSON.stringify({codes, peakBytes: peakKiB() * 1024, growthBytes: (peakKiB() - loaded) * 1024}));
