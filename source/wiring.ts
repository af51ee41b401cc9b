import type {Config} from './config.ts';
import type {DockerEngine} from './docker/engine.ts';
import {RegistryAuth} from './registry/auth.ts';
import {HttpRegistryClient} from './registry/client.ts';
import {DockerConfigCredentials} from './registry/credentials.ts';
import {RegistryHttp, userAgent} from './registry/http.ts';
import {RegistryTrust} from './registry/trust.ts';

/** The registry side, configured: trust from certs.d and the engine, credentials, HTTP, the client. */
export function registryStack(config: Config, engine: DockerEngine): {client: HttpRegistryClient; http: RegistryHttp} {
	const trust = new RegistryTrust({certsDir: config.certsDir, insecure: async () => engine.insecureRegistries()});
	const http = new RegistryHttp({timeoutMs: config.timeoutMs, connectionsPerHost: config.concurrency, userAgent, trust});
	const credentials = new DockerConfigCredentials(config.dockerConfigPath, {envJson: config.dockerAuthConfig});
	return {client: new HttpRegistryClient(http, new RegistryAuth(http, credentials)), http};
}
