import {z} from 'zod';

const tokenAnswer = z.object({token: z.string()});
const manifestAccept = 'application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json';

/**
 * Put more tags on an image already in a Bearer-token registry: the manifest of `from` is written
 * again under each new tag (no blob moves), so a repository gets something for a tag listing to find
 * at the cost of one request per tag.
 */
export async function addTags(options: {registry: string; tokenServer: string; service: string; credentials: string; repository: string; from: string; tags: readonly string[]}): Promise<void> {
	const basic = `Basic ${Buffer.from(options.credentials).toString('base64')}`;
	const scope = `repository:${options.repository}:pull,push`;
	const tokenResponse = await fetch(`${options.tokenServer}/token?service=${encodeURIComponent(options.service)}&scope=${encodeURIComponent(scope)}`, {headers: {authorization: basic}});
	const {token} = tokenAnswer.parse(await tokenResponse.json());
	const headers = {authorization: `Bearer ${token}`, 'user-agent': 'bench-setup'};
	const source = await fetch(`http://${options.registry}/v2/${options.repository}/manifests/${options.from}`, {headers: {...headers, accept: manifestAccept}});
	if (source.status !== 200) {
		throw new Error(`tagging ${options.repository}: GET ${options.from} answered ${source.status}`);
	}

	const mediaType = source.headers.get('content-type') ?? 'application/vnd.oci.image.manifest.v1+json';
	const bytes = Buffer.from(await source.arrayBuffer());
	for (const tag of options.tags) {
		const put = await fetch(`http://${options.registry}/v2/${options.repository}/manifests/${tag}`, {method: 'PUT', headers: {...headers, 'content-type': mediaType}, body: bytes});
		await put.arrayBuffer();
		if (put.status !== 201) {
			throw new Error(`tagging ${options.repository}:${tag}: PUT answered ${put.status}`);
		}
	}
}
