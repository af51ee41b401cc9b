/** Where the engine is, parsed from DOCKER_HOST. */
export type EngineAddress =
	| {readonly kind: 'unix'; readonly socketPath: string; readonly display: string}
	| {readonly kind: 'tcp'; readonly host: string; readonly port: number; readonly display: string};

/** Parse DOCKER_HOST: `unix:///path`, `tcp://host:port` (default /var/run/docker.sock). */
export function parseDockerHost(value: string | undefined): EngineAddress | {error: string} {
	const text = value === undefined || value.trim() === '' ? 'unix:///var/run/docker.sock' : value.trim();
	if (text.startsWith('unix://')) {
		const socketPath = text.slice('unix://'.length);
		if (!socketPath.startsWith('/')) {
			return {error: `DOCKER_HOST=${text} needs an absolute socket path, like unix:///var/run/docker.sock.`};
		}

		return {kind: 'unix', socketPath, display: text};
	}

	if (text.startsWith('tcp://') || text.startsWith('http://')) {
		let url: URL;
		try {
			url = new URL(text.replace(/^tcp:/, 'http:'));
		} catch {
			return {error: `DOCKER_HOST=${text} is not a valid tcp://host:port address.`};
		}

		const port = url.port === '' ? 2375 : Number(url.port);
		return {kind: 'tcp', host: url.hostname.replace(/^\[|\]$/g, ''), port, display: `tcp://${url.host}${url.port === '' ? ':2375' : ''}`};
	}

	return {error: `DOCKER_HOST=${text} is not supported: use unix:///path/to/docker.sock or tcp://host:port (TLS and ssh:// are not supported yet).`};
}
